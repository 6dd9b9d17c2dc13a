#include <kurer/http/range.hpp>

#include <boost/test/unit_test.hpp>

using namespace kurer::http;

BOOST_AUTO_TEST_SUITE(range)

BOOST_AUTO_TEST_CASE(single_ranges_are_clamped_to_the_representation) {
    auto r = parse_range("bytes=0-99", 1000);
    BOOST_TEST((r.kind == range_kind::satisfiable));
    BOOST_TEST(r.range.first == 0u);
    BOOST_TEST(r.range.last == 99u);
    BOOST_TEST(r.range.length() == 100u);

    r = parse_range("bytes=900-", 1000);
    BOOST_TEST((r.kind == range_kind::satisfiable));
    BOOST_TEST(r.range.first == 900u);
    BOOST_TEST(r.range.last == 999u);

    r = parse_range("bytes=990-5000", 1000);
    BOOST_TEST(r.range.last == 999u);

    r = parse_range("bytes=-300", 1000);
    BOOST_TEST(r.range.first == 700u);
    BOOST_TEST(r.range.last == 999u);

    r = parse_range("bytes=-3000", 1000);
    BOOST_TEST(r.range.first == 0u);
    BOOST_TEST(content_range(r.range, 1000) == "bytes 0-999/1000");
}

BOOST_AUTO_TEST_CASE(ranges_past_the_end_are_unsatisfiable) {
    BOOST_TEST((parse_range("bytes=1000-", 1000).kind == range_kind::unsatisfiable));
    BOOST_TEST((parse_range("bytes=-0", 1000).kind == range_kind::unsatisfiable));
    BOOST_TEST((parse_range("bytes=0-", 0).kind == range_kind::unsatisfiable));
}

BOOST_AUTO_TEST_CASE(other_units_several_ranges_and_junk_are_ignored) {
    for (const char* h : {"", "items=0-1", "bytes=0-1,5-6", "bytes=abc", "bytes=5-2", "bytes=-", "bytes 0-1"})
        BOOST_TEST((parse_range(h, 1000).kind == range_kind::none), h);
}

BOOST_AUTO_TEST_CASE(content_range_round_trips) {
    auto v = parse_content_range("bytes 100-199/1000");
    BOOST_TEST_REQUIRE(v.has_value());
    BOOST_TEST(v->range.first == 100u);
    BOOST_TEST(v->range.last == 199u);
    BOOST_TEST(v->size.value() == 1000u);
    BOOST_TEST(!parse_content_range("bytes 100-199/*")->size.has_value());
    BOOST_TEST(!parse_content_range("bytes 200-100/1000").has_value());
    BOOST_TEST(!parse_content_range("bytes 0-1000/1000").has_value());
    BOOST_TEST(range_from(42) == "bytes=42-");
}

BOOST_AUTO_TEST_SUITE_END()

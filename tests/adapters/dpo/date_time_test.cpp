#include "test_support.hpp"

#include <kurer/dpo/date_time.hpp>
#include <kurer/dpo/errors.hpp>

#include <boost/test/unit_test.hpp>

using namespace kurer::dpo;
using namespace std::chrono;

namespace {

instant utc(int y, unsigned m, unsigned d, int h, int mi, int s = 0) {
    return instant{sys_days{year{y} / m / d} + hours{h} + minutes{mi} + seconds{s}};
}

std::string roundtrip(std::string_view text) {
    auto t = parse_date_time(text);
    BOOST_TEST_REQUIRE(t.has_value(), std::string(text));
    return format_date_time(*t);
}

} // namespace

BOOST_AUTO_TEST_SUITE(date_time_format)

BOOST_AUTO_TEST_CASE(writes_like_jackson) {
    BOOST_TEST(format_date_time({utc(2019, 3, 25, 10, 35), minutes{60}}) == "2019-03-25T11:35:00+01:00");
    BOOST_TEST(format_date_time({utc(2019, 3, 25, 10, 35), minutes{0}}) == "2019-03-25T10:35:00Z");
    BOOST_TEST(format_date_time({utc(2016, 4, 11, 13, 29, 58) + milliseconds{753}, minutes{120}}) ==
               "2016-04-11T15:29:58.753+02:00");
    BOOST_TEST(format_date_time({utc(2016, 4, 11, 13, 29, 58) + milliseconds{500}, minutes{0}}) ==
               "2016-04-11T13:29:58.5Z");
    BOOST_TEST(format_date_time({utc(2016, 4, 11, 13, 29, 58) + nanoseconds{1}, minutes{-330}}) ==
               "2016-04-11T07:59:58.000000001-05:30");
}

BOOST_AUTO_TEST_CASE(reads_any_iso_form) {
    BOOST_TEST(roundtrip("2019-03-25T11:35:00+01:00") == "2019-03-25T11:35:00+01:00");
    BOOST_TEST(roundtrip("2019-03-25T11:35+01:00") == "2019-03-25T11:35:00+01:00"); // JAXB drops :00
    BOOST_TEST(roundtrip("2019-03-25T11:35:00+0100") == "2019-03-25T11:35:00+01:00");
    BOOST_TEST(roundtrip("2019-03-25T11:35:00+01") == "2019-03-25T11:35:00+01:00");
    BOOST_TEST(roundtrip("2003-05-10T00:31:52Z") == "2003-05-10T00:31:52Z");
    BOOST_TEST(roundtrip("2016-04-11T15:29:58.753000+02:00") == "2016-04-11T15:29:58.753+02:00");
    auto t = parse_date_time("2019-03-25T11:35:00.25-03:00");
    BOOST_TEST_REQUIRE(t.has_value());
    BOOST_TEST((t->utc == utc(2019, 3, 25, 14, 35) + milliseconds{250}));
}

BOOST_AUTO_TEST_CASE(rejects_what_is_not_a_date_time_with_a_reason) {
    for (std::string_view bad : {"", "2019-03-25", "2019-13-01T00:00:00Z", "2019-02-30T00:00:00Z",
                                 "2019-03-25T24:00:00Z", "2019-03-25T11:35:00+01:00x", "2019-03-25 11:35:00Z",
                                 "2019-03-25T11:35:00.Z", "2019-03-25T11:35:00Q", "yesterday"}) {
        auto t = parse_date_time(bad);
        BOOST_TEST(!t.has_value(), std::string(bad));
        if (!t)
            BOOST_TEST(t.error().code == errc::sbd_invalid_field);
    }
}

// Instants are 64-bit nanoseconds since 1970; a year they cannot hold is refused, not wrapped.
BOOST_AUTO_TEST_CASE(years_an_instant_cannot_hold_are_refused) {
    for (std::string_view far : {"2999-01-01T00:00:00Z", "2262-06-01T00:00Z", "1600-01-01T00:00:00Z"}) {
        auto t = parse_date_time(far);
        BOOST_TEST(!t.has_value(), std::string(far));
        if (!t)
            BOOST_TEST(t.error().message.find("year") != std::string::npos, t.error().message);
    }
    BOOST_TEST(parse_date_time("2261-12-31T23:59:59Z").has_value());
    BOOST_TEST(parse_date_time("1678-01-01T00:00:00Z").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(oslo_time)

BOOST_AUTO_TEST_CASE(summer_time_follows_the_eu_rule) {
    // 2024: summer time from 31 March 01:00 UTC to 27 October 01:00 UTC.
    BOOST_TEST(oslo_offset(utc(2024, 3, 31, 0, 59, 59)).count() == 60);
    BOOST_TEST(oslo_offset(utc(2024, 3, 31, 1, 0)).count() == 120);
    BOOST_TEST(oslo_offset(utc(2024, 10, 27, 0, 59, 59)).count() == 120);
    BOOST_TEST(oslo_offset(utc(2024, 10, 27, 1, 0)).count() == 60);
    BOOST_TEST(oslo_offset(utc(2026, 1, 15, 12, 0)).count() == 60);
    BOOST_TEST(oslo_offset(utc(2026, 7, 15, 12, 0)).count() == 120);
    // 2026: 29 March and 25 October.
    BOOST_TEST(oslo_offset(utc(2026, 3, 29, 1, 0)).count() == 120);
    BOOST_TEST(oslo_offset(utc(2026, 3, 28, 23, 0)).count() == 60);
    BOOST_TEST(oslo_offset(utc(2026, 10, 25, 0, 30)).count() == 120);
}

BOOST_AUTO_TEST_CASE(a_time_without_offset_is_oslo_local_time) {
    BOOST_TEST(roundtrip("2026-01-15T12:00:00") == "2026-01-15T12:00:00+01:00");
    BOOST_TEST(roundtrip("2026-07-15T12:00:00") == "2026-07-15T12:00:00+02:00");
    auto t = parse_date_time("2026-07-15T12:00:00");
    BOOST_TEST((t->utc == utc(2026, 7, 15, 10, 0)));
}

BOOST_AUTO_TEST_CASE(gap_and_overlap_resolve_like_java_time) {
    // Spring gap: 02:30 on 29 March 2026 does not exist; java.time gives 03:30+02:00.
    BOOST_TEST(roundtrip("2026-03-29T02:30:00") == "2026-03-29T03:30:00+02:00");
    // Autumn overlap: 02:30 on 25 October 2026 happens twice; the earlier offset (+02:00) wins.
    BOOST_TEST(roundtrip("2026-10-25T02:30:00") == "2026-10-25T02:30:00+02:00");
    BOOST_TEST(roundtrip("2026-10-25T03:30:00") == "2026-10-25T03:30:00+01:00");
    BOOST_TEST(roundtrip("2026-10-25T01:59:59") == "2026-10-25T01:59:59+02:00");
}

BOOST_AUTO_TEST_CASE(in_oslo_picks_the_offset_of_the_instant) {
    BOOST_TEST(format_date_time(date_time::in_oslo(utc(2026, 3, 25, 10, 35, 7))) ==
               "2026-03-25T11:35:07+01:00");
    BOOST_TEST(format_date_time(date_time::in_oslo(utc(2026, 6, 1, 10, 0))) == "2026-06-01T12:00:00+02:00");
}

// The offsets come from the system's tzdata, not from a rule: Norway had no summer time from
// 1966 to 1979, its own in 1965, and in 1980 the EU's of the day (6 April to 28 September), where
// today's rule would have given 30 March to 26 October.
BOOST_AUTO_TEST_CASE(history_comes_from_the_time_zone_database) {
    BOOST_TEST_REQUIRE(load_oslo_time_zone().has_value());
    BOOST_TEST(oslo_offset(utc(1975, 1, 15, 12, 0)).count() == 60);
    BOOST_TEST(oslo_offset(utc(1975, 7, 15, 12, 0)).count() == 60);
    BOOST_TEST(roundtrip("1975-07-15T12:00:00") == "1975-07-15T12:00:00+01:00");
    BOOST_TEST(oslo_offset(utc(1965, 7, 1, 12, 0)).count() == 120);
    BOOST_TEST(oslo_offset(utc(1966, 7, 1, 12, 0)).count() == 60);

    BOOST_TEST(oslo_offset(utc(1980, 4, 1, 12, 0)).count() == 60);
    BOOST_TEST(oslo_offset(utc(1980, 4, 6, 0, 59, 59)).count() == 60);
    BOOST_TEST(oslo_offset(utc(1980, 4, 6, 1, 0)).count() == 120);
    BOOST_TEST(oslo_offset(utc(1980, 9, 28, 0, 59, 59)).count() == 120);
    BOOST_TEST(oslo_offset(utc(1980, 9, 28, 1, 0)).count() == 60);
    BOOST_TEST(oslo_offset(utc(1980, 10, 15, 12, 0)).count() == 60);
    BOOST_TEST(roundtrip("1980-04-06T02:30:00") == "1980-04-06T03:30:00+02:00"); // its spring gap
    BOOST_TEST(roundtrip("1980-09-28T02:30:00") == "1980-09-28T02:30:00+02:00"); // its overlap

    // Before 1895 Oslo kept local mean time, 43 minutes ahead of UTC.
    BOOST_TEST(roundtrip("1894-06-01T12:00:00") == "1894-06-01T12:00:00+00:43");
    BOOST_TEST(format_date_time(date_time::in_oslo(utc(1895, 1, 1, 0, 0))) == "1895-01-01T01:00:00+01:00");
}

BOOST_AUTO_TEST_CASE(transitions_in_2024_and_2030) {
    BOOST_TEST(roundtrip("2024-03-31T01:59:59") == "2024-03-31T01:59:59+01:00");
    BOOST_TEST(roundtrip("2024-03-31T02:30:00") == "2024-03-31T03:30:00+02:00");
    BOOST_TEST(roundtrip("2024-03-31T03:00:00") == "2024-03-31T03:00:00+02:00");
    BOOST_TEST(roundtrip("2024-10-27T02:30:00") == "2024-10-27T02:30:00+02:00");
    BOOST_TEST(roundtrip("2024-10-27T03:00:00") == "2024-10-27T03:00:00+01:00");
    auto overlap = parse_date_time("2024-10-27T02:30:00");
    BOOST_TEST_REQUIRE(overlap.has_value());
    BOOST_TEST((overlap->utc == utc(2024, 10, 27, 0, 30)));

    // 2030: 31 March and 27 October.
    BOOST_TEST(oslo_offset(utc(2030, 3, 31, 0, 59, 59)).count() == 60);
    BOOST_TEST(oslo_offset(utc(2030, 3, 31, 1, 0)).count() == 120);
    BOOST_TEST(oslo_offset(utc(2030, 10, 27, 0, 59, 59)).count() == 120);
    BOOST_TEST(oslo_offset(utc(2030, 10, 27, 1, 0)).count() == 60);
    BOOST_TEST(roundtrip("2030-03-31T02:30:00") == "2030-03-31T03:30:00+02:00");
    BOOST_TEST(roundtrip("2030-10-27T02:30:00") == "2030-10-27T02:30:00+02:00");
}

// Compiled zone files list transitions up to 2037; the yearly rule in their footer goes on.
BOOST_AUTO_TEST_CASE(summer_time_goes_on_after_the_listed_transitions) {
    BOOST_TEST(oslo_offset(utc(2037, 10, 25, 1, 0)).count() == 60);
    BOOST_TEST(oslo_offset(utc(2037, 12, 31, 23, 0)).count() == 60);
    // 2038: 28 March and 31 October; 2040: 25 March and 28 October.
    BOOST_TEST(oslo_offset(utc(2038, 3, 28, 0, 59, 59)).count() == 60);
    BOOST_TEST(oslo_offset(utc(2038, 3, 28, 1, 0)).count() == 120);
    BOOST_TEST(oslo_offset(utc(2038, 10, 31, 0, 59, 59)).count() == 120);
    BOOST_TEST(oslo_offset(utc(2038, 10, 31, 1, 0)).count() == 60);
    BOOST_TEST(oslo_offset(utc(2040, 7, 1, 12, 0)).count() == 120);
    BOOST_TEST(roundtrip("2040-03-25T02:30:00") == "2040-03-25T03:30:00+02:00");
    BOOST_TEST(roundtrip("2040-10-28T02:30:00") == "2040-10-28T02:30:00+02:00");
    BOOST_TEST(roundtrip("2040-10-28T03:30:00") == "2040-10-28T03:30:00+01:00");
    // Across 2100 (no leap day) and up to the last year an instant holds.
    BOOST_TEST(oslo_offset(utc(2100, 3, 28, 0, 59, 59)).count() == 60);
    BOOST_TEST(oslo_offset(utc(2100, 3, 28, 1, 0)).count() == 120);
    BOOST_TEST(oslo_offset(utc(2100, 10, 31, 1, 0)).count() == 60);
    BOOST_TEST(oslo_offset(utc(2261, 3, 31, 1, 0)).count() == 120);
    BOOST_TEST(oslo_offset(utc(2261, 10, 27, 0, 59, 59)).count() == 120);
    BOOST_TEST(oslo_offset(utc(2261, 10, 27, 1, 0)).count() == 60);
    BOOST_TEST(roundtrip("2261-12-31T23:59:59") == "2261-12-31T23:59:59+01:00");
}

BOOST_AUTO_TEST_SUITE_END()

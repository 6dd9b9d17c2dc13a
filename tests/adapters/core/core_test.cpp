#include <kurer/core/error.hpp>
#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/system/errc.hpp>
#include <boost/test/unit_test.hpp>

#include <set>

BOOST_AUTO_TEST_SUITE(core)

BOOST_AUTO_TEST_CASE(random_uuids_are_version_4_and_distinct) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const auto id = kurer::random_uuid();
        BOOST_TEST_REQUIRE(kurer::is_uuid(id), id);
        BOOST_TEST(id[14] == '4');
        BOOST_TEST((id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b'));
        seen.insert(id);
    }
    BOOST_TEST(seen.size() == 1000u);
}

BOOST_AUTO_TEST_CASE(is_uuid_rejects_near_misses) {
    BOOST_TEST(kurer::is_uuid("FF88849C-E281-4809-8555-7CD54952B916"));
    BOOST_TEST(!kurer::is_uuid("ff88849c-e281-4809-8555-7cd54952b91"));
    BOOST_TEST(!kurer::is_uuid("ff88849ce2814809855557cd54952b91600"));
    BOOST_TEST(!kurer::is_uuid("gf88849c-e281-4809-8555-7cd54952b916"));
    BOOST_TEST(!kurer::is_uuid("kanal_1"));
}

BOOST_AUTO_TEST_CASE(result_carries_message_and_retry_classification) {
    kurer::result<int> r = kurer::make_error(make_error_code(boost::system::errc::timed_out),
                                             "SR did not answer", kurer::retry::yes);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().retryable);
    BOOST_TEST(r.error().describe().find("SR did not answer") == 0u);
    BOOST_CHECK_THROW(r.value(), kurer::error_exception);
}

BOOST_AUTO_TEST_CASE(durable_write_replaces_the_file_whole) {
    kurer::testing::scratch_dir dir;
    const auto path = dir / "package.bin";
    BOOST_TEST_REQUIRE(kurer::write_file_durably(path, "first").has_value());
    BOOST_TEST_REQUIRE(kurer::write_file_durably(path, "second version").has_value());
    auto read = kurer::read_small_file(path, 1024);
    BOOST_TEST_REQUIRE(read.has_value());
    BOOST_TEST(*read == "second version");
    BOOST_TEST(std::distance(std::filesystem::directory_iterator(dir.path()), {}) ==
               1); // no temporaries left
    auto too_big = kurer::read_small_file(path, 3);
    BOOST_TEST_REQUIRE(too_big.has_error());
    BOOST_TEST(too_big.error().message.find("more than the limit") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

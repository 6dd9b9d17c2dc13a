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

BOOST_AUTO_TEST_CASE(private_directories_are_made_0700_and_loose_ones_tightened) {
    namespace fs = std::filesystem;
    kurer::testing::scratch_dir dir;
    const auto deep = dir / "a" / "b" / "c";
    BOOST_TEST_REQUIRE(kurer::make_private_directories(deep).has_value());
    for (const auto& p : {dir / "a", dir / "a" / "b", deep})
        BOOST_TEST((fs::status(p).permissions() == fs::perms::owner_all), p);
    BOOST_TEST(kurer::make_private_directories(deep).has_value(), "an existing directory is fine");
    kurer::write_file_durably(dir / "file", "x").value();
    const auto not_dir = kurer::make_private_directories(dir / "file");
    BOOST_TEST_REQUIRE(!not_dir.has_value());
    BOOST_TEST(not_dir.error().message ==
               "cannot create " + (dir / "file").string() + ": it exists and is not a directory");

    BOOST_TEST(!kurer::tighten_directory(deep).value().has_value(), "private already: unchanged");
    fs::permissions(deep, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_exec);
    BOOST_TEST(kurer::tighten_directory(deep).value().value_or(0) == 0751u);
    BOOST_TEST((fs::status(deep).permissions() == fs::perms::owner_all));
}

BOOST_AUTO_TEST_CASE(a_secret_file_others_can_reach_is_refused_as_ssh_does) {
    namespace fs = std::filesystem;
    kurer::testing::scratch_dir dir;
    const auto key = dir / "key.pem";
    BOOST_TEST(kurer::check_private_file(key).has_value(), "a missing file is left to whoever reads it");
    kurer::write_file_durably(key, "secret").value();
    BOOST_TEST(kurer::check_private_file(key).has_value(), "write_file_durably makes it 0600");
    const auto refused = [&](fs::perms mode, const std::string& says) {
        fs::permissions(key, mode, fs::perm_options::replace);
        const auto r = kurer::check_private_file(key);
        BOOST_TEST_REQUIRE(!r.has_value());
        BOOST_TEST(r.error().message == key.string() + says);
    };
    const auto rw = fs::perms::owner_read | fs::perms::owner_write;
    refused(rw | fs::perms::group_read | fs::perms::others_read,
            " is readable by others (mode 0644); chmod 600 it");
    refused(rw | fs::perms::others_read, " is readable by others (mode 0604); chmod 600 it");
    refused(rw | fs::perms::group_write, " is writable by others (mode 0620); chmod 600 it");
    fs::permissions(key, fs::perms::owner_read, fs::perm_options::replace);
    BOOST_TEST(kurer::check_private_file(key).has_value(), "0400 is fine");
    BOOST_TEST(kurer::format_mode(0755) == "0755");
    BOOST_TEST(kurer::format_mode(04700) == "4700");
}

BOOST_AUTO_TEST_SUITE_END()

#include <kurer/storage/database.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/test/unit_test.hpp>

#include <fstream>

namespace storage = kurer::storage;

BOOST_AUTO_TEST_SUITE(database)

BOOST_AUTO_TEST_CASE(opens_closes_and_reopens_a_database_on_disk) {
    kurer::testing::scratch_dir dir;
    {
        auto db = storage::database::open(dir / "db");
        BOOST_TEST_REQUIRE(db.has_value(), (db.has_error() ? db.error().describe() : ""));
        BOOST_TEST((*db)->stored_format_version() == storage::format_version);
    }
    BOOST_TEST(std::filesystem::exists(dir / "db" / "CURRENT"));
    auto again = storage::database::open(dir / "db");
    BOOST_TEST_REQUIRE(again.has_value());
    BOOST_TEST((*again)->stored_format_version() == storage::format_version);
}

BOOST_AUTO_TEST_CASE(refuses_a_path_that_is_a_file) {
    kurer::testing::scratch_dir dir;
    std::ofstream(dir / "not-a-dir") << "x";
    auto db = storage::database::open(dir / "not-a-dir");
    BOOST_TEST_REQUIRE(db.has_error());
    BOOST_TEST((db.error().code == storage::errc::rocksdb_failure));
    BOOST_TEST(db.error().message.find("not-a-dir") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

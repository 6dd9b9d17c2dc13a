#include <kurer/storage/database.hpp>
#include <kurer/storage/write_batch.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/test/unit_test.hpp>

#include <rocksdb/db.h>

#include <algorithm>
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

BOOST_AUTO_TEST_CASE(refuses_a_database_written_by_an_unknown_format) {
    kurer::testing::scratch_dir dir;
    {
        auto db = storage::database::open(dir / "db");
        BOOST_TEST_REQUIRE(db.has_value());
        storage::write_batch b;
        b.put(storage::family::meta, "meta/format_version", "99");
        BOOST_TEST_REQUIRE((*db)->write(b, true).has_value());
    }
    auto again = storage::database::open(dir / "db");
    BOOST_TEST_REQUIRE(again.has_error());
    BOOST_TEST((again.error().code == storage::errc::unknown_format_version));
    BOOST_TEST(again.error().message.find("'99'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(drops_the_index_families_an_earlier_version_wrote) {
    kurer::testing::scratch_dir dir;
    const auto path = (dir / "db").string();
    {
        // A database as an earlier kurer left it: its families plus "deadlines" and "broker_refs".
        rocksdb::Options options;
        options.create_if_missing = true;
        rocksdb::DB* raw = nullptr;
        BOOST_TEST_REQUIRE(rocksdb::DB::Open(options, path, &raw).ok());
        std::unique_ptr<rocksdb::DB> db(raw);
        for (const auto* name : {"outgoing", "incoming", "history", "live", "finished", "deadlines", "inbox",
                                 "dedup", "broker_refs"}) {
            rocksdb::ColumnFamilyHandle* h = nullptr;
            BOOST_TEST_REQUIRE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), name, &h).ok());
            BOOST_TEST_REQUIRE(db->Put(rocksdb::WriteOptions(), h, "k", "v").ok());
            BOOST_TEST_REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
        }
        BOOST_TEST_REQUIRE(
            db->Put(rocksdb::WriteOptions(), "meta/format_version", std::to_string(storage::format_version))
                .ok());
        BOOST_TEST_REQUIRE(db->Close().ok());
    }
    {
        auto db = storage::database::open(dir / "db");
        BOOST_TEST_REQUIRE(db.has_value(), (db.has_error() ? db.error().describe() : ""));
        BOOST_TEST((*db)->get(storage::family::dedup, "k").value().value() == "v",
                   "kept families keep their data");
    }
    std::vector<std::string> families;
    BOOST_TEST_REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &families).ok());
    BOOST_TEST((std::find(families.begin(), families.end(), "deadlines") == families.end()));
    BOOST_TEST((std::find(families.begin(), families.end(), "broker_refs") == families.end()));
    BOOST_TEST((std::find(families.begin(), families.end(), "inbox") != families.end()));
}

BOOST_AUTO_TEST_CASE(scans_a_prefix_in_key_order_and_stops_when_asked) {
    kurer::testing::scratch_dir dir;
    auto db = storage::database::open(dir / "db");
    BOOST_TEST_REQUIRE(db.has_value());
    storage::write_batch b;
    for (const auto* k : {"b2", "a1", "b1", "b3", "c1"})
        b.put(storage::family::live, k, k);
    b.erase(storage::family::live, "b3");
    BOOST_TEST_REQUIRE((*db)->write(b, true).has_value());
    std::vector<std::string> seen;
    BOOST_TEST_REQUIRE((*db)
                           ->scan(storage::family::live, "b",
                                  [&](std::string_view k, std::string_view v) {
                                      BOOST_TEST(k == v);
                                      seen.emplace_back(k);
                                      return true;
                                  })
                           .has_value());
    BOOST_TEST((seen == std::vector<std::string>{"b1", "b2"}), "later writes in a batch win");
    seen.clear();
    BOOST_TEST_REQUIRE((*db)
                           ->scan(storage::family::live, "",
                                  [&](std::string_view k, std::string_view) {
                                      seen.emplace_back(k);
                                      return seen.size() < 2;
                                  })
                           .has_value());
    BOOST_TEST(seen.size() == 2u);
    BOOST_TEST(!(*db)->get(storage::family::outgoing, "b1").value().has_value(), "families are separate");
}

BOOST_AUTO_TEST_SUITE_END()

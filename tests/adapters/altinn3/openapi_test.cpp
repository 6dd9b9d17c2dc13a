// The request bodies the client sends, checked against the broker's own OpenAPI schemas
// (reference data: ../shared/protocol/data/broker/a3/altinn-broker-v1.openapi.json).
#include "json_schema.hpp"

#include <kurer/altinn3/client.hpp>
#include <kurer/core/files.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace a3 = kurer::altinn3;
namespace json = boost::json;

namespace {

const kurer::test::json_schema_checker& checker() {
    static const kurer::test::json_schema_checker c(
        json::parse(kurer::read_small_file(
                        kurer::testing::reference_data("broker/a3/altinn-broker-v1.openapi.json"), 8 << 20)
                        .value())
            .as_object());
    return c;
}

std::vector<std::string> violations(std::string_view body, std::string_view schema) {
    return checker().check(json::parse(body), checker().schema(schema));
}

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v)
        out += s + "\n";
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(altinn3_openapi)

BOOST_AUTO_TEST_CASE(the_initialize_bodies_the_client_sends_match_FileTransferInitalizeExt) {
    const std::vector<a3::initialize_request> requests{
        {.sender = "910077473",
         .recipients = {"910075918"},
         .senders_reference = "19efbd4c-413d-4e2c-bbc5-257ef4a65b38"},
        {.sender = "910077473",
         .recipients = {"910075918"},
         .senders_reference = "arkiv-1",
         .checksum = "d41d8cd98f00b204e9800998ecf8427e"},
        {.file_name = "other.zip",
         .sender = "0192:910077473",
         .recipients = {"910075918", "0192:910077473"},
         .properties = {{"k", "v"}},
         .disable_virus_scan = false},
    };
    for (const auto& r : requests) {
        const auto body = a3::initialize_body(r, a3::dpo_resource);
        const auto v = violations(body, "FileTransferInitalizeExt");
        BOOST_TEST(v.empty(), body << "\n" << joined(v));
    }
}

BOOST_AUTO_TEST_CASE(the_references_own_sample_matches_and_the_client_writes_the_same_members) {
    const auto sample =
        kurer::read_small_file(
            kurer::testing::reference_data("broker/samples/a3-initialize-request.ip-test.json"), 1 << 20)
            .value();
    const auto v = violations(sample, "FileTransferInitalizeExt");
    BOOST_TEST(v.empty(), joined(v));
    const auto ours = a3::initialize_body({.sender = "910077473",
                                           .recipients = {"910075918"},
                                           .senders_reference = "19efbd4c-413d-4e2c-bbc5-257ef4a65b38"},
                                          a3::dpo_resource);
    // Same members, same order, same values.
    BOOST_TEST(json::serialize(json::parse(sample)) == ours);
}

BOOST_AUTO_TEST_CASE(the_checker_refuses_what_the_schema_forbids) {
    const auto base = json::parse(a3::initialize_body({.sender = "910077473", .recipients = {"910075918"}},
                                                      a3::dpo_resource))
                          .as_object();
    auto missing = base;
    missing.erase("sender");
    BOOST_TEST(!violations(json::serialize(missing), "FileTransferInitalizeExt").empty());
    auto extra = base;
    extra["unexpected"] = 1;
    BOOST_TEST(!violations(json::serialize(extra), "FileTransferInitalizeExt").empty());
    auto pattern = base;
    pattern["sender"] = "910077473";
    BOOST_TEST(!violations(json::serialize(pattern), "FileTransferInitalizeExt").empty());
    auto empty = base;
    empty["recipients"] = json::array{};
    BOOST_TEST(!violations(json::serialize(empty), "FileTransferInitalizeExt").empty());
    auto long_name = base;
    long_name["fileName"] = std::string(256, 'x');
    BOOST_TEST(!violations(json::serialize(long_name), "FileTransferInitalizeExt").empty());
    auto typed = base;
    typed["disableVirusScan"] = "no";
    BOOST_TEST(!violations(json::serialize(typed), "FileTransferInitalizeExt").empty());
    auto props = base;
    json::object many;
    for (int i = 0; i < 11; ++i)
        many["k" + std::to_string(i)] = "v";
    props["propertyList"] = many;
    BOOST_TEST(!violations(json::serialize(props), "FileTransferInitalizeExt").empty());
    auto not_null = base;
    not_null["fileName"] = nullptr;
    BOOST_TEST(!violations(json::serialize(not_null), "FileTransferInitalizeExt").empty());
}

BOOST_AUTO_TEST_CASE(the_status_names_the_client_lists_by_are_the_schemas_enums) {
    const auto& transfer = checker().schema("FileTransferStatusExt");
    const auto& recipient = checker().schema("RecipientFileTransferStatusExt");
    for (const char* s : {"Published", "Initialized", "UploadProcessing", "AllConfirmedDownloaded", "Purged"})
        BOOST_TEST(checker().check(json::value(s), transfer).empty(), s);
    for (const char* s : {"Initialized", "DownloadStarted", "DownloadConfirmed"})
        BOOST_TEST(checker().check(json::value(s), recipient).empty(), s);
    BOOST_TEST(!checker().check(json::value("Downloaded"), recipient).empty());
}

BOOST_AUTO_TEST_SUITE_END()

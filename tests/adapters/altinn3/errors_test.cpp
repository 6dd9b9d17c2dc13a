// Problem JSON to typed errors, the initialize body and the overview parser, without a network.
#include <kurer/altinn3/client.hpp>
#include <kurer/altinn3/errors.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace a3 = kurer::altinn3;

BOOST_AUTO_TEST_SUITE(altinn3_errors)

BOOST_AUTO_TEST_CASE(problem_codes_parse_to_their_errc_and_back) {
    for (int n : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 19, 21, 25, 28, 29}) {
        char text[16];
        std::snprintf(text, sizeof text, "BRO-%05d", n);
        const auto e = a3::parse_problem_code(text);
        BOOST_TEST_REQUIRE(e.has_value(), text);
        BOOST_TEST(static_cast<int>(*e) == n);
        BOOST_TEST(a3::problem_code_text(*e) == text);
    }
    BOOST_TEST(!a3::parse_problem_code("BRO-00011").has_value());
    BOOST_TEST(!a3::parse_problem_code("BRO-0001").has_value());
    BOOST_TEST(!a3::parse_problem_code("bro-00001").has_value());
    BOOST_TEST(!a3::parse_problem_code("BRO-0000x").has_value());
    BOOST_TEST(a3::problem_code_text(a3::errc::unauthorized).empty());
}

BOOST_AUTO_TEST_CASE(only_not_ready_and_the_brokers_own_failures_are_retryable) {
    BOOST_TEST(a3::is_retryable(a3::errc::not_ready_for_download));
    BOOST_TEST(a3::is_retryable(a3::errc::upload_failed));
    BOOST_TEST(a3::is_retryable(a3::errc::storage_not_ready));
    BOOST_TEST(!a3::is_retryable(a3::errc::already_uploaded));
    BOOST_TEST(!a3::is_retryable(a3::errc::no_access));
    BOOST_TEST(!a3::is_retryable(a3::errc::checksum_mismatch));
    BOOST_TEST(!a3::is_retryable(a3::errc::file_too_large));
}

BOOST_AUTO_TEST_CASE(a_problem_body_becomes_an_error_quoting_code_detail_and_trace) {
    const auto e = a3::error_from_response(
        403,
        R"({"type":"https://tools.ietf.org/html/rfc9110#section-15.5.4","title":"Forbidden","status":403,)"
        R"("detail":"The requested file is not ready for download.","code":"BRO-00007","traceId":"00-aa-bb-00"})",
        "download of x");
    BOOST_TEST((e.code == a3::errc::not_ready_for_download));
    BOOST_TEST(e.retryable);
    BOOST_TEST(e.message ==
               "download of x: HTTP 403 BRO-00007: The requested file is not ready for download. "
               "(traceId 00-aa-bb-00)");
}

BOOST_AUTO_TEST_CASE(answers_without_a_code_map_by_status) {
    BOOST_TEST((a3::error_from_response(401, "", "x").code == a3::errc::unauthorized));
    BOOST_TEST((a3::error_from_response(403, "", "x").code == a3::errc::forbidden));
    BOOST_TEST((a3::error_from_response(406, "", "x").code == a3::errc::not_acceptable));
    BOOST_TEST((a3::error_from_response(415, "", "x").code == a3::errc::unsupported_media_type));
    const auto v = a3::error_from_response(
        400,
        R"({"title":"One or more validation errors occurred.","errors":{"sender":["bad"],"fileName":["empty"]}})",
        "initialize");
    BOOST_TEST((v.code == a3::errc::validation_failed));
    BOOST_TEST(v.message.find("sender: bad") != std::string::npos);
    BOOST_TEST(v.message.find("fileName: empty") != std::string::npos);
    const auto s = a3::error_from_response(502, "<html>bad gateway</html>", "x");
    BOOST_TEST((s.code == a3::errc::http_error));
    BOOST_TEST(s.retryable);
    BOOST_TEST(a3::error_from_response(429, "", "x").retryable);
    BOOST_TEST(!a3::error_from_response(400, "{}", "x").retryable);
    const auto unknown = a3::error_from_response(400, R"({"code":"BRO-00042"})", "x");
    BOOST_TEST((unknown.code == a3::errc::unknown_problem_code));
}

BOOST_AUTO_TEST_CASE(the_initialize_body_has_the_references_members_in_its_order) {
    const auto body = a3::initialize_body({.sender = "910077473",
                                           .recipients = {"910075918"},
                                           .senders_reference = "19efbd4c-413d-4e2c-bbc5-257ef4a65b38"},
                                          a3::dpo_resource);
    BOOST_TEST(body == R"({"fileName":"sbd.zip","resourceId":"eformidling-dpo-meldingsutveksling",)"
                       R"("sendersFileTransferReference":"19efbd4c-413d-4e2c-bbc5-257ef4a65b38",)"
                       R"("sender":"0192:910077473","recipients":["0192:910075918"],"propertyList":{},)"
                       R"("checksum":null,"disableVirusScan":null})");
    const auto with = a3::initialize_body({.sender = "0192:910077473",
                                           .recipients = {"910075918"},
                                           .checksum = "d41d8cd98f00b204e9800998ecf8427e"},
                                          "r");
    const auto o = boost::json::parse(with).as_object();
    BOOST_TEST(o.at("checksum").as_string() == "d41d8cd98f00b204e9800998ecf8427e");
    BOOST_TEST(o.at("sender").as_string() == "0192:910077473");
    BOOST_TEST(o.at("sendersFileTransferReference").is_null());
}

BOOST_AUTO_TEST_CASE(an_overview_is_parsed_and_a_malformed_one_refused) {
    const auto o = a3::parse_overview(
        R"({"fileTransferId":"0b0e7c5a-5d53-4b2e-9d6e-0f5b0d7a1c11","resourceId":"r","fileName":"sbd.zip",)"
        R"("sendersFileTransferReference":null,"checksum":"abc","useVirusScan":true,"fileTransferSize":123,)"
        R"("fileTransferStatus":"Published","fileTransferStatusText":"Ready for download",)"
        R"("created":"2026-11-26T10:00:00.000Z","sender":"0192:910077473","recipients":[{"recipient":"0192:910075918",)"
        R"("currentRecipientFileTransferStatusCode":"DownloadStarted"}],"propertyList":{}})");
    BOOST_TEST_REQUIRE(o.has_value(), o.error().message);
    BOOST_TEST(o->size == 123u);
    BOOST_TEST(!o->senders_reference.has_value());
    BOOST_TEST(o->status == "Published");
    BOOST_TEST_REQUIRE(o->recipient("910075918") != nullptr);
    BOOST_TEST(o->recipient("910075918")->status == "DownloadStarted");
    BOOST_TEST(o->recipient("910077473") == nullptr);
    BOOST_TEST(!a3::parse_overview("[]").has_value());
    BOOST_TEST(!a3::parse_overview(R"({"fileTransferSize":-1,"fileTransferId":"x"})").has_value());
    BOOST_TEST(!a3::parse_overview(R"({"fileName":"x"})").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

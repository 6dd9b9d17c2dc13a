#include "xml_compare.hpp"

#include <kurer/altinn2/codec.hpp>
#include <kurer/altinn2/namespaces.hpp>
#include <kurer/core/uuid.hpp>

#include <boost/test/unit_test.hpp>

#include <array>

namespace altinn2 = kurer::altinn2;
using altinn2::errc;

namespace {

const altinn2::credentials account{"100001", "s3cret"};

altinn2::initiate_request sample_initiation() {
    return {account,       {"4192", 270815}, "910077473", "19efbd4c-413d-4e2c-bbc5-257ef4a65b38",
            {"910075918"}, {"sbd.zip"}};
}

std::string envelope(std::string_view body) {
    return "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>" + std::string(body) +
           "</s:Body></s:Envelope>";
}

template <class T>
std::string describe(const kurer::result<T>& r) {
    return r ? std::string("(value)") : r.error().describe();
}

} // namespace

BOOST_AUTO_TEST_SUITE(request_envelopes)

BOOST_AUTO_TEST_CASE(initiate_is_byte_exact) {
    auto xml = altinn2::write_initiate_request(sample_initiation());
    BOOST_TEST_REQUIRE(xml.has_value(), describe(xml));
    BOOST_TEST(
        *xml ==
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
        "<InitiateBrokerServiceBasic xmlns=\"http://www.altinn.no/services/ServiceEngine/Broker/2015/06\" "
        "xmlns:b=\"http://schemas.altinn.no/services/ServiceEngine/Broker/2015/06\">"
        "<systemUserName>100001</systemUserName><systemPassword>s3cret</systemPassword>"
        "<brokerServiceInitiation><b:Manifest><b:ExternalServiceCode>4192</b:ExternalServiceCode>"
        "<b:ExternalServiceEditionCode>270815</b:ExternalServiceEditionCode>"
        "<b:FileList><b:File><b:FileName>sbd.zip</b:FileName></b:File></b:FileList>"
        "<b:Reportee>910077473</b:Reportee>"
        "<b:SendersReference>19efbd4c-413d-4e2c-bbc5-257ef4a65b38</b:SendersReference></b:Manifest>"
        "<b:RecipientList><b:Recipient><b:PartyNumber>910075918</b:PartyNumber></b:Recipient>"
        "</b:RecipientList></brokerServiceInitiation></InitiateBrokerServiceBasic></s:Body></s:Envelope>");
    // Same values, same bytes.
    BOOST_TEST(*altinn2::write_initiate_request(sample_initiation()) == *xml);

    auto without_files = sample_initiation();
    without_files.file_names.clear();
    BOOST_TEST(altinn2::write_initiate_request(without_files)->find("FileList") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(upload_envelope_carries_five_headers_and_an_xop_include) {
    altinn2::upload_request r{account, "sbd.zip", "af303bd0-3333-4ec9-af6a-31dd05569011", "910077473"};
    auto xml = altinn2::write_upload_envelope(r, "att1@x");
    BOOST_TEST_REQUIRE(xml.has_value(), describe(xml));
    const std::string tns = "xmlns=\"http://www.altinn.no/services/ServiceEngine/Broker/2015/06\"";
    BOOST_TEST(*xml ==
               "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Header>"
               "<FileName " +
                   tns +
                   ">sbd.zip</FileName>"
                   "<Reference " +
                   tns +
                   ">af303bd0-3333-4ec9-af6a-31dd05569011</Reference>"
                   "<Reportee " +
                   tns +
                   ">910077473</Reportee>"
                   "<SystemPassword " +
                   tns +
                   ">s3cret</SystemPassword>"
                   "<SystemUserName " +
                   tns +
                   ">100001</SystemUserName></s:Header><s:Body>"
                   "<StreamedPayloadBasicBE " +
                   tns +
                   "><DataStream>"
                   "<xop:Include xmlns:xop=\"http://www.w3.org/2004/08/xop/include\" href=\"cid:att1@x\"/>"
                   "</DataStream></StreamedPayloadBasicBE></s:Body></s:Envelope>");
}

BOOST_AUTO_TEST_CASE(requests_take_credentials_and_service_from_the_config) {
    altinn2::config cfg;
    cfg.account = {"100042", "from-config"};
    cfg.service = {"4192", altinn2::production_service_edition};
    const altinn2::service_id production{"4192", 170101};

    auto initiate = altinn2::read_initiate_request(
        *altinn2::write_initiate_request(altinn2::initiate_for(cfg, "910077473", "ref-1", "910075918")));
    BOOST_TEST_REQUIRE(initiate.has_value(), describe(initiate));
    BOOST_TEST((initiate->account == cfg.account));
    BOOST_TEST((initiate->service == production));
    BOOST_TEST((initiate->recipients == std::vector<std::string>{"910075918"}));
    BOOST_TEST((initiate->file_names == std::vector<std::string>{"sbd.zip"}));
    BOOST_TEST(initiate->senders_reference == "ref-1");

    auto check =
        altinn2::read_check_request(*altinn2::write_check_request(altinn2::check_for(cfg, "910075918")));
    BOOST_TEST((check->service.value() == production));
    BOOST_TEST((check->account == cfg.account));
    auto list = altinn2::read_list_request(*altinn2::write_list_request(altinn2::list_for(cfg, "910075918")));
    BOOST_TEST((list->service.value() == production));
    BOOST_TEST((list->status == altinn2::file_status::uploaded));
    BOOST_TEST(list->reportee == "910075918");
    auto file = altinn2::file_request_for(cfg, "af303bd0-3333-4ec9-af6a-31dd05569011", "910075918");
    BOOST_TEST(
        (altinn2::read_confirm_request(*altinn2::write_confirm_request(file))->account == cfg.account));
    auto upload = altinn2::read_upload_envelope(*altinn2::write_upload_envelope(
        altinn2::upload_for(cfg, "af303bd0-3333-4ec9-af6a-31dd05569011", "910077473"), "a@b"));
    BOOST_TEST((upload->headers.account == cfg.account));
    BOOST_TEST(upload->headers.file_name == "sbd.zip");

    // The defaults are DPO's test service.
    BOOST_TEST((altinn2::config{}.service == altinn2::service_id{"4192", 270815}));
}

BOOST_AUTO_TEST_CASE(check_request_matches_the_dossier_example) {
    // altinn-broker.md §1.5.3, the JAX-WS form of CheckIfAvailableFilesBasic.
    const std::string dossier = R"(<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/">
  <S:Body>
    <CheckIfAvailableFilesBasic xmlns="http://www.altinn.no/services/ServiceEngine/Broker/2015/06">
      <systemUserName>123456</systemUserName>
      <systemPassword>secret</systemPassword>
      <pollParameters>
        <p:ExternalServiceCode xmlns:p="http://schemas.altinn.no/services/ServiceEngine/Broker/2020/01">4192</p:ExternalServiceCode>
        <p:ExternalServiceEditionCode xmlns:p="http://schemas.altinn.no/services/ServiceEngine/Broker/2020/01">270815</p:ExternalServiceEditionCode>
        <p:Recipients xmlns:p="http://schemas.altinn.no/services/ServiceEngine/Broker/2020/01">
          <a:string xmlns:a="http://schemas.microsoft.com/2003/10/Serialization/Arrays">910075918</a:string>
        </p:Recipients>
      </pollParameters>
    </CheckIfAvailableFilesBasic>
  </S:Body>
</S:Envelope>)";
    auto ours = altinn2::write_check_request({{"123456", "secret"}, altinn2::service_id{}, {"910075918"}});
    BOOST_TEST_REQUIRE(ours.has_value(), describe(ours));
    BOOST_TEST(kurer::testing::document_difference(*ours, dossier) == "");
}

BOOST_AUTO_TEST_CASE(every_request_round_trips_through_the_server_reader) {
    for (auto files : {std::vector<std::string>{}, std::vector<std::string>{"sbd.zip", "b & <c>.zip"}}) {
        auto in = sample_initiation();
        in.file_names = files;
        in.recipients = {"910075918", "910076787"};
        auto out = altinn2::read_initiate_request(*altinn2::write_initiate_request(in));
        BOOST_TEST_REQUIRE(out.has_value(), describe(out));
        BOOST_TEST((*out == in));
    }
    for (auto service :
         {std::optional<altinn2::service_id>{}, std::optional<altinn2::service_id>{{"4192", 170101}}}) {
        altinn2::check_request in{account, service, {"910075918"}};
        auto out = altinn2::read_check_request(*altinn2::write_check_request(in));
        BOOST_TEST_REQUIRE(out.has_value(), describe(out));
        BOOST_TEST((*out == in));

        altinn2::list_request list{account,
                                   service,
                                   altinn2::file_status::downloaded,
                                   "2024-05-08T00:00:00",
                                   "2024-05-07T00:00:00+02:00",
                                   "910075918"};
        auto list_out = altinn2::read_list_request(*altinn2::write_list_request(list));
        BOOST_TEST_REQUIRE(list_out.has_value(), describe(list_out));
        BOOST_TEST((*list_out == list));
    }
    altinn2::file_request file{account, "af303bd0-3333-4ec9-af6a-31dd05569011", "910075918"};
    BOOST_TEST((*altinn2::read_download_request(*altinn2::write_download_request(file)) == file));
    BOOST_TEST((*altinn2::read_confirm_request(*altinn2::write_confirm_request(file)) == file));
    // A download request is not a confirm request.
    auto crossed = altinn2::read_confirm_request(*altinn2::write_download_request(file));
    BOOST_TEST_REQUIRE(crossed.has_error());
    BOOST_TEST(crossed.error().message.find("DownloadFileStreamedBasic") != std::string::npos,
               crossed.error().message);

    altinn2::upload_request upload{account, "sbd.zip", "af303bd0-3333-4ec9-af6a-31dd05569011", "910077473"};
    auto read_back =
        altinn2::read_upload_envelope(*altinn2::write_upload_envelope(upload, "http://tempuri.org/1/6368"));
    BOOST_TEST_REQUIRE(read_back.has_value(), describe(read_back));
    BOOST_TEST((read_back->headers == upload));
    BOOST_TEST(read_back->attachment_content_id.value() == "http://tempuri.org/1/6368");
}

BOOST_AUTO_TEST_CASE(markup_and_carriage_returns_survive_and_unwritable_values_are_refused) {
    altinn2::file_request tricky{{"user", "p<a>ss&\"w'o\r\nrd"}, "ref", "910075918"};
    auto back = altinn2::read_download_request(*altinn2::write_download_request(tricky));
    BOOST_TEST_REQUIRE(back.has_value(), describe(back));
    BOOST_TEST(back->account.system_password == tricky.account.system_password);

    const std::array<std::string, 4> bad{"pass\x01word", "bad \xC3 utf8", "\xED\xA0\x80 surrogate",
                                         "over\xC0\xAFlong"};
    for (const auto& value : bad) {
        altinn2::file_request r{{"user", value}, "ref", "910075918"};
        auto xml = altinn2::write_confirm_request(r);
        BOOST_TEST_REQUIRE(xml.has_error());
        BOOST_TEST((xml.error().code == errc::invalid_value));
        BOOST_TEST(xml.error().message.find("systemPassword") != std::string::npos, xml.error().message);
        BOOST_TEST(xml.error().message.find(value) == std::string::npos); // a password is never quoted
    }
    auto upload = altinn2::write_upload_envelope({account, "sbd.zip", "ref", "9100\x7F"}, "a@b");
    BOOST_TEST(upload.has_value()); // DEL is a legal XML character
    auto nul =
        altinn2::write_upload_envelope({account, std::string("sbd\0.zip", 8), "ref", "910077473"}, "a@b");
    BOOST_TEST_REQUIRE(nul.has_error());
    BOOST_TEST(nul.error().message.find("FileName") != std::string::npos, nul.error().message);
}

BOOST_AUTO_TEST_CASE(server_reads_requests_with_wcf_member_order) {
    const std::string ns = "xmlns=\"http://www.altinn.no/services/ServiceEngine/Broker/2015/06\"";
    // An unknown element where FileList belongs (the reference client's <ArrayOfFile> quirk)
    // is skipped.
    auto quirk = altinn2::read_initiate_request(envelope(
        "<InitiateBrokerServiceBasic " + ns +
        " xmlns:b=\"http://schemas.altinn.no/services/ServiceEngine/Broker/2015/06\"><systemUserName>u</"
        "systemUserName>"
        "<systemPassword>p</systemPassword><brokerServiceInitiation><b:Manifest><b:ExternalServiceCode>4192"
        "</b:ExternalServiceCode><b:ExternalServiceEditionCode>270815</"
        "b:ExternalServiceEditionCode><b:ArrayOfFile>"
        "<b:File><b:FileName>sbd.zip</b:FileName></b:File></b:ArrayOfFile><b:Reportee>910077473</b:Reportee>"
        "<b:SendersReference>ref</b:SendersReference></b:Manifest><b:RecipientList/></"
        "brokerServiceInitiation>"
        "</InitiateBrokerServiceBasic>"));
    BOOST_TEST_REQUIRE(quirk.has_value(), describe(quirk));
    BOOST_TEST(quirk->file_names.empty());
    BOOST_TEST(quirk->recipients.empty());
    BOOST_TEST(quirk->reportee == "910077473");

    // SendersReference before Reportee: WCF reads SendersReference and then never finds the
    // (required) Reportee.
    auto reordered = altinn2::read_initiate_request(envelope(
        "<InitiateBrokerServiceBasic " + ns +
        " xmlns:b=\"http://schemas.altinn.no/services/ServiceEngine/Broker/2015/06\"><systemUserName>u</"
        "systemUserName>"
        "<systemPassword>p</systemPassword><brokerServiceInitiation><b:Manifest><b:ExternalServiceCode>4192"
        "</b:ExternalServiceCode><b:ExternalServiceEditionCode>270815</b:ExternalServiceEditionCode>"
        "<b:SendersReference>ref</b:SendersReference><b:Reportee>910077473</b:Reportee></"
        "b:Manifest><b:RecipientList/>"
        "</brokerServiceInitiation></InitiateBrokerServiceBasic>"));
    BOOST_TEST_REQUIRE(reordered.has_error());
    BOOST_TEST((reordered.error().code == errc::malformed_envelope));
    BOOST_TEST(reordered.error().message.find("Manifest/Reportee is missing") != std::string::npos,
               reordered.error().message);
    BOOST_TEST(!reordered.error().retryable); // the sender's mistake

    // Nil where WCF allows it reads as empty; a missing serializer-required member does not.
    auto nil = altinn2::read_list_request(
        envelope("<GetAvailableFilesBasic " + ns +
                 " xmlns:b=\"http://schemas.altinn.no/services/ServiceEngine/Broker/2015/06\" "
                 "xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"><systemUserName>u</"
                 "systemUserName><searchParameters>"
                 "<b:FileStatus>Uploaded</b:FileStatus><b:Reportee "
                 "i:nil=\"true\"/></searchParameters></GetAvailableFilesBasic>"));
    BOOST_TEST_REQUIRE(nil.has_value(), describe(nil));
    BOOST_TEST(nil->reportee == "");
    BOOST_TEST(nil->account.system_password == ""); // absent parameter: Altinn answers ErrorID 0
    BOOST_TEST(!nil->service.has_value());
    auto no_status = altinn2::read_list_request(envelope(
        "<GetAvailableFilesBasic " + ns +
        " xmlns:b=\"http://schemas.altinn.no/services/ServiceEngine/Broker/2015/06\"><searchParameters>"
        "<b:Reportee>910075918</b:Reportee></searchParameters></GetAvailableFilesBasic>"));
    BOOST_TEST_REQUIRE(no_status.has_error());
    BOOST_TEST(no_status.error().message.find("FileStatus is missing") != std::string::npos,
               no_status.error().message);

    // Members in the wrong namespace ("schema" instead of "schemas") are unknown, hence absent.
    auto wrong_ns = altinn2::read_list_request(envelope(
        "<GetAvailableFilesBasic " + ns +
        " xmlns:b=\"http://schema.altinn.no/services/ServiceEngine/Broker/2015/06\"><searchParameters>"
        "<b:FileStatus>Uploaded</b:FileStatus><b:Reportee>910075918</b:Reportee></searchParameters>"
        "</GetAvailableFilesBasic>"));
    BOOST_TEST(wrong_ns.has_error());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(response_envelopes)

BOOST_AUTO_TEST_CASE(every_response_round_trips_through_the_client_reader) {
    const std::string reference = kurer::random_uuid();
    auto initiate = altinn2::read_initiate_response(*altinn2::write_initiate_response(reference));
    BOOST_TEST_REQUIRE(initiate.has_value(), describe(initiate));
    BOOST_TEST(*initiate == reference);

    BOOST_TEST(*altinn2::read_check_response(altinn2::write_check_response(true)) == true);
    BOOST_TEST(*altinn2::read_check_response(altinn2::write_check_response(false)) == false);

    std::vector<altinn2::available_file> files(2);
    files[0] = {"4192",
                270815,
                "sbd.zip",
                reference,
                123456789012,
                altinn2::file_status::uploaded,
                false,
                17,
                "910077473",
                "19efbd4c-413d-4e2c-bbc5-257ef4a65b38",
                "2024-05-07T09:22:52.800185+02:00"};
    files[1].file_reference = kurer::random_uuid();
    files[1].status = altinn2::file_status::downloaded; // everything else absent or nil
    auto list = altinn2::read_list_response(*altinn2::write_list_response(files));
    BOOST_TEST_REQUIRE(list.has_value(), describe(list));
    BOOST_TEST((*list == files));
    BOOST_TEST(altinn2::read_list_response(*altinn2::write_list_response({}))->empty());

    altinn2::upload_receipt receipt{"08.05.2024 13:29:28", 0, std::nullopt, 4711, "OK", "Upload ok",
                                    "BrokerService"};
    auto read_receipt = altinn2::read_upload_response(*altinn2::write_upload_response(receipt));
    BOOST_TEST_REQUIRE(read_receipt.has_value(), describe(read_receipt));
    BOOST_TEST((*read_receipt == receipt));

    auto download =
        altinn2::read_download_response(*altinn2::write_download_response("http://tempuri.org/1/6368"));
    BOOST_TEST_REQUIRE(download.has_value(), describe(download));
    BOOST_TEST(*download == "http://tempuri.org/1/6368");

    BOOST_TEST(altinn2::read_confirm_response(altinn2::write_confirm_response()).has_value());
}

BOOST_AUTO_TEST_CASE(list_members_may_be_nil_absent_unknown_or_reordered) {
    const std::string body =
        R"(<GetAvailableFilesBasicResponse xmlns="http://www.altinn.no/services/ServiceEngine/Broker/2015/06">
  <GetAvailableFilesBasicResult xmlns:a="http://schemas.altinn.no/services/ServiceEngine/Broker/2015/06" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
    <a:BrokerServiceAvailableFile>
      <a:SentDate>2024-05-07T09:22:52.8+02:00</a:SentDate>
      <a:FutureMember>ignored</a:FutureMember>
      <a:SendersReference i:nil="true"/>
      <a:FileReference>AF303BD0-3333-4EC9-AF6A-31DD05569011</a:FileReference>
      <a:FileSize> +42 </a:FileSize>
      <a:IsSftpDownloadOnly>1</a:IsSftpDownloadOnly>
    </a:BrokerServiceAvailableFile>
    <a:BrokerServiceAvailableFile i:nil="true"/>
  </GetAvailableFilesBasicResult>
</GetAvailableFilesBasicResponse>)";
    auto list = altinn2::read_list_response(envelope(body));
    BOOST_TEST_REQUIRE(list.has_value(), describe(list));
    BOOST_TEST_REQUIRE(list->size() == 1u);
    const auto& f = list->front();
    BOOST_TEST(!f.senders_reference.has_value());
    BOOST_TEST(!f.service_code.has_value());
    BOOST_TEST(f.file_reference.value() == "AF303BD0-3333-4EC9-AF6A-31DD05569011");
    BOOST_TEST(f.file_size.value() == 42);
    BOOST_TEST(f.sftp_download_only.value() == true);
    BOOST_TEST(f.sent_date.value() == "2024-05-07T09:22:52.8+02:00");

    auto nil_list = altinn2::read_list_response(envelope(
        R"(<GetAvailableFilesBasicResponse xmlns="http://www.altinn.no/services/ServiceEngine/Broker/2015/06"><GetAvailableFilesBasicResult xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:nil="true"/></GetAvailableFilesBasicResponse>)"));
    BOOST_TEST_REQUIRE(nil_list.has_value(), describe(nil_list));
    BOOST_TEST(nil_list->empty());
}

BOOST_AUTO_TEST_CASE(malformed_responses_say_what_is_wrong) {
    struct bad_case {
        std::string document;
        std::string expected_text;
    };
    const std::string tns = "xmlns=\"http://www.altinn.no/services/ServiceEngine/Broker/2015/06\"";
    const std::vector<bad_case> initiate_cases{
        {"not xml at all", "not well-formed"},
        {"<html><body>502 Bad Gateway</body></html>", "not a SOAP 1.1 envelope"},
        {"<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\"><e:Body/></e:Envelope>",
         "SOAP 1.2"},
        {"<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"/>", "no soap:Body"},
        {envelope(""), "soap:Body is empty"},
        {envelope("<CheckIfAvailableFilesBasicResponse " + tns + "/>"), "expected"},
        {envelope("<InitiateBrokerServiceBasicResponse " + tns + "/>"),
         "InitiateBrokerServiceBasicResult is missing"},
        {envelope("<InitiateBrokerServiceBasicResponse " + tns +
                  "><InitiateBrokerServiceBasicResult>not-a-guid</InitiateBrokerServiceBasicResult>"
                  "</InitiateBrokerServiceBasicResponse>"),
         "not a GUID"},
        {"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>" + envelope("&e;"), "DOCTYPE"},
    };
    for (const auto& c : initiate_cases) {
        auto r = altinn2::read_initiate_response(c.document);
        BOOST_TEST_REQUIRE(r.has_error(), c.document);
        BOOST_TEST((r.error().code == errc::malformed_envelope), r.error().describe());
        BOOST_TEST(r.error().message.find(c.expected_text) != std::string::npos, r.error().message);
        BOOST_TEST(r.error().retryable); // the server's answer, not our request
    }
    auto bad_bool = altinn2::read_check_response(
        envelope("<CheckIfAvailableFilesBasicResponse " + tns +
                 "><CheckIfAvailableFilesBasicResult>yes</CheckIfAvailableFilesBasicResult></"
                 "CheckIfAvailableFilesBasicResponse>"));
    BOOST_TEST(bad_bool.error().message.find("not a boolean") != std::string::npos, bad_bool.error().message);
    auto missing_bool =
        altinn2::read_check_response(envelope("<CheckIfAvailableFilesBasicResponse " + tns + "/>"));
    BOOST_TEST(missing_bool.has_error());

    const std::string list_open =
        "<GetAvailableFilesBasicResponse " + tns +
        "><GetAvailableFilesBasicResult "
        "xmlns:a=\"http://schemas.altinn.no/services/ServiceEngine/Broker/2015/06\">"
        "<a:BrokerServiceAvailableFile>";
    const std::string list_close = "</a:BrokerServiceAvailableFile></GetAvailableFilesBasicResult>"
                                   "</GetAvailableFilesBasicResponse>";
    for (const auto& [member, text] : std::vector<std::pair<std::string, std::string>>{
             {"<a:FileReference>123</a:FileReference>", "FileReference is not a GUID"},
             {"<a:FileSize>12x</a:FileSize>", "FileSize is not an integer"},
             {"<a:ExternalServiceEditionCode>99999999999</a:ExternalServiceEditionCode>",
              "ExternalServiceEditionCode"},
             {"<a:FileStatus>Deleted</a:FileStatus>", "neither Uploaded nor Downloaded"}}) {
        auto r = altinn2::read_list_response(envelope(list_open + member + list_close));
        BOOST_TEST_REQUIRE(r.has_error(), member);
        BOOST_TEST(r.error().message.find("BrokerServiceAvailableFile[0]/") != std::string::npos,
                   r.error().message);
        BOOST_TEST(r.error().message.find(text) != std::string::npos, r.error().message);
    }

    auto inline_download = altinn2::read_download_response(
        envelope("<DownloadFileStreamedBasicResponse " + tns +
                 "><DownloadFileStreamedBasicResult>UEsDBA==</DownloadFileStreamedBasicResult>"
                 "</DownloadFileStreamedBasicResponse>"));
    BOOST_TEST(inline_download.error().message.find("no xop:Include") != std::string::npos,
               inline_download.error().message);
}

BOOST_AUTO_TEST_CASE(upload_receipt_status_decides_success) {
    altinn2::upload_receipt receipt{"08.05.2024 13:29:28", 0, std::nullopt, 0, "OK", "fine", "BrokerService"};
    BOOST_TEST(altinn2::read_upload_response(*altinn2::write_upload_response(receipt)).has_value());

    receipt.status_code = "UnExpectedError";
    auto unexpected = altinn2::read_upload_response(*altinn2::write_upload_response(receipt));
    BOOST_TEST_REQUIRE(unexpected.has_error());
    BOOST_TEST((unexpected.error().code == errc::receipt_not_ok));
    BOOST_TEST(unexpected.error().retryable);
    BOOST_TEST(unexpected.error().message.find("UnExpectedError: fine") != std::string::npos,
               unexpected.error().message);

    for (const char* permanent : {"ValidationFailed", "Rejected"}) {
        receipt.status_code = permanent;
        auto r = altinn2::read_upload_response(*altinn2::write_upload_response(receipt));
        BOOST_TEST_REQUIRE(r.has_error());
        BOOST_TEST((r.error().code == errc::receipt_not_ok));
        BOOST_TEST(!r.error().retryable);
    }
    receipt.status_code.reset(); // written as nil
    auto missing = altinn2::read_upload_response(*altinn2::write_upload_response(receipt));
    BOOST_TEST_REQUIRE(missing.has_error());
    BOOST_TEST((missing.error().code == errc::malformed_envelope));
    BOOST_TEST(missing.error().message.find("ReceiptStatusCode is missing") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(faults)

struct documented {
    int id;
    errc code;
    bool retryable;
};

const std::vector<documented> documented_ids{
    {0, errc::authentication_failed, false},
    {5, errc::not_authorized, false},
    {6, errc::authentication_exception, true},
    {989, errc::end_user_authentication_failed, false},
    {40201, errc::reportee_may_not_send, false},
    {40202, errc::recipient_invalid, false},
    {40204, errc::file_too_large, false},
    {40205, errc::no_file_data, true},
    {40206, errc::not_a_zip, false},
    {40207, errc::no_file_ready, true},
    {40208, errc::already_uploaded, false},
    {40209, errc::virus_scan_rejected, false},
    {40210, errc::not_a_broker_service, false},
    {40211, errc::action_not_authorized, false},
    {40212, errc::unknown_reference, false},
    {40213, errc::reportee_mismatch, false},
    {40214, errc::invalid_reportee, false},
    {40215, errc::recipient_lacks_rights, false},
    {40216, errc::security_level_too_low, false},
};

BOOST_AUTO_TEST_CASE(every_documented_error_id_reaches_the_caller_typed) {
    for (const auto& d : documented_ids) {
        const auto fault = altinn2::make_fault(d.id, "message for " + std::to_string(d.id) + " & <co>");
        auto xml = altinn2::write_fault(fault);
        BOOST_TEST_REQUIRE(xml.has_value(), describe(xml));

        // Whatever operation was asked, the fault wins.
        for (auto r : {altinn2::read_initiate_response(*xml), altinn2::read_download_response(*xml)}) {
            BOOST_TEST_REQUIRE(r.has_error());
            BOOST_TEST((r.error().code == d.code), d.id << ": " << r.error().describe());
            BOOST_TEST(r.error().retryable == d.retryable, d.id);
            BOOST_TEST(r.error().message.find("ErrorID " + std::to_string(d.id)) != std::string::npos);
            BOOST_TEST(r.error().message.find("message for " + std::to_string(d.id) + " & <co>") !=
                       std::string::npos);
            BOOST_TEST(r.error().message.find(*fault.detail->error_guid) != std::string::npos);
            BOOST_TEST(r.error().message.find("UserId: 0") != std::string::npos);
        }
        BOOST_TEST(altinn2::fault_error_id(d.code).value() == d.id);
        BOOST_TEST((altinn2::errc_for_error_id(d.id).value() == d.code));
        BOOST_TEST(altinn2::is_retryable_error_id(d.id) == d.retryable);

        auto parsed = altinn2::parse_fault(*xml);
        BOOST_TEST_REQUIRE(parsed.has_value());
        BOOST_TEST((*parsed == fault));
    }
}

BOOST_AUTO_TEST_CASE(written_faults_carry_every_altinn_fault_member) {
    auto xml = altinn2::write_fault(altinn2::make_fault(40212, "unknown reference"));
    auto doc = kurer::xml::parse(*xml);
    BOOST_TEST_REQUIRE(doc.has_value());
    const auto* fault = doc->child(altinn2::ns::soap, "Body")->child(altinn2::ns::soap, "Fault");
    BOOST_TEST_REQUIRE(fault != nullptr);
    BOOST_TEST(fault->child("", "faultcode")->text == "s:Client");
    BOOST_TEST(fault->child("", "faultstring")->text == "unknown reference");
    const auto* detail = fault->child("", "detail")->child(altinn2::ns::fault, "AltinnFault");
    BOOST_TEST_REQUIRE(detail != nullptr);
    std::vector<std::string> names;
    for (const auto& c : detail->children) {
        names.push_back(c.local);
        BOOST_TEST(!c.text.empty(), c.local); // present and non-nil: the reference reads them unchecked
    }
    BOOST_TEST((names == std::vector<std::string>{"AltinnErrorMessage", "AltinnExtendedErrorMessage",
                                                  "AltinnLocalizedErrorMessage", "ErrorGuid", "ErrorID",
                                                  "UserGuid", "UserId"}));
    BOOST_TEST(kurer::is_uuid(detail->child(altinn2::ns::fault, "ErrorGuid")->text));
}

BOOST_AUTO_TEST_CASE(faults_without_a_documented_error_id) {
    auto undocumented =
        altinn2::read_check_response(*altinn2::write_fault(altinn2::make_fault(31337, "new")));
    BOOST_TEST_REQUIRE(undocumented.has_error());
    BOOST_TEST((undocumented.error().code == errc::undocumented_fault));
    BOOST_TEST(undocumented.error().retryable);
    BOOST_TEST(undocumented.error().message.find("ErrorID 31337") != std::string::npos);

    // No AltinnFault: the faultcode tells whose fault it was.
    struct plain_case {
        std::string faultcode;
        bool retryable;
    };
    for (const auto& c : std::vector<plain_case>{{"s:Server", true},
                                                 {"s:Client", false},
                                                 {"a:InternalServiceFault", true},
                                                 {"a:DeserializationFailed", false}}) {
        const std::string doc =
            envelope("<s:Fault><faultcode xmlns:a=\"http://schemas.microsoft.com/net/2005/12/"
                     "windowscommunicationfoundation/dispatcher\">" +
                     c.faultcode +
                     "</faultcode><faultstring xml:lang=\"en-US\">The server was unable to process the "
                     "request.</faultstring></s:Fault>");
        auto r = altinn2::read_list_response(doc);
        BOOST_TEST_REQUIRE(r.has_error());
        BOOST_TEST((r.error().code == errc::soap_fault));
        BOOST_TEST(r.error().retryable == c.retryable, c.faultcode);
        BOOST_TEST(r.error().message.find("unable to process") != std::string::npos, r.error().message);
    }
    BOOST_TEST(!altinn2::parse_fault(altinn2::write_check_response(true)).has_value());
    BOOST_TEST(!altinn2::parse_fault("garbage").has_value());
}

BOOST_AUTO_TEST_CASE(error_category_names_every_code) {
    for (int e = static_cast<int>(errc::authentication_failed); e <= static_cast<int>(errc::file_error);
         ++e) {
        const auto message = make_error_code(static_cast<errc>(e)).message();
        BOOST_TEST(!message.empty());
        BOOST_TEST(message.find("unknown") == std::string::npos, e << ": " << message);
    }
    BOOST_TEST(std::string(altinn2::altinn2_category().name()) == "kurer.altinn2");
}

BOOST_AUTO_TEST_SUITE_END()

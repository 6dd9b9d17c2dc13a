// The codec against the real material in ../shared/protocol/data/broker: Altinn's WSDLs (their
// embedded schemas validate what the codec writes), the reference client's request and
// Altinn's published sample messages.
#include "xml_compare.hpp"

#include <kurer/altinn2/codec.hpp>
#include <kurer/altinn2/namespaces.hpp>
#include <kurer/altinn2/operations.hpp>
#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/test/unit_test.hpp>

#include <map>
#include <set>

namespace altinn2 = kurer::altinn2;
namespace xml = kurer::xml;

namespace {

std::string read_reference(std::string_view relative) {
    auto text = kurer::read_small_file(kurer::testing::reference_data(relative), 1 << 20);
    BOOST_TEST_REQUIRE(text.has_value(), relative << ": " << text.error().describe());
    return *text;
}

template <class T>
std::string describe(const kurer::result<T>& r) {
    return r ? std::string("(value)") : r.error().describe();
}

// ---- the schemas inside a WSDL

struct embedded_schema {
    std::string target_namespace;
    std::set<std::string> imports;
    std::string text;
};

// The quoted value of `name="..."` in a start tag; empty when absent.
std::string attribute_in(std::string_view tag, std::string_view name) {
    const std::string key = " " + std::string(name) + "=\"";
    const auto at = tag.find(key);
    if (at == std::string_view::npos)
        return {};
    const auto from = at + key.size();
    return std::string(tag.substr(from, tag.find('"', from) - from));
}

// Every `xmlns:p="uri"` declared in a start tag.
std::map<std::string, std::string> prefixes_in(std::string_view tag) {
    std::map<std::string, std::string> out;
    for (auto at = tag.find(" xmlns:"); at != std::string_view::npos; at = tag.find(" xmlns:", at + 1)) {
        const auto eq = tag.find('=', at);
        const std::string prefix(tag.substr(at + 7, eq - at - 7));
        out[prefix] = attribute_in(tag.substr(at), "xmlns:" + prefix);
    }
    return out;
}

// Cuts every xs:schema out of a WSDL's wsdl:types as a document of its own. A schema inherits
// namespace declarations (xsd:, xmime:, tns:) from wsdl:definitions; standing alone it needs
// them on its own start tag, so the missing ones are copied there. The reference files are
// never changed: this happens in memory.
std::vector<embedded_schema> schemas_in(const std::string& wsdl) {
    const auto root_start = wsdl.find("<wsdl:definitions");
    BOOST_TEST_REQUIRE(root_start != std::string::npos);
    const auto inherited =
        prefixes_in(std::string_view(wsdl).substr(root_start, wsdl.find('>', root_start) - root_start));

    std::vector<embedded_schema> out;
    std::size_t from = 0;
    for (;;) {
        const auto xs = wsdl.find("<xs:schema", from);
        const auto xsd = wsdl.find("<xsd:schema", from);
        const auto begin = std::min(xs, xsd);
        if (begin == std::string::npos)
            break;
        const std::string prefix = begin == xs ? "xs" : "xsd";
        const std::string close = "</" + prefix + ":schema>";
        const auto end = wsdl.find(close, begin);
        BOOST_TEST_REQUIRE(end != std::string::npos);
        std::string text = wsdl.substr(begin, end + close.size() - begin);
        const std::string tag = text.substr(0, text.find('>'));
        const auto own = prefixes_in(tag);
        std::string added;
        for (const auto& [p, uri] : inherited)
            if (!own.contains(p))
                added += " xmlns:" + p + "=\"" + uri + "\"";
        text.insert(prefix.size() + 8, added); // after "<xs:schema"
        embedded_schema s;
        s.target_namespace = attribute_in(tag, "targetNamespace");
        const std::string import = "<" + prefix + ":import";
        for (auto at = text.find(import); at != std::string::npos; at = text.find(import, at + 1))
            s.imports.insert(
                attribute_in(std::string_view(text).substr(at, text.find('>', at) - at), "namespace"));
        s.text = std::move(text);
        out.push_back(std::move(s));
        from = end + close.size();
    }
    return out;
}

// The WSDL's schemas imported-first, loaded into a schema_set.
xml::schema_set load_wsdl_schemas(std::string_view relative) {
    auto schemas = schemas_in(read_reference(relative));
    BOOST_TEST_REQUIRE(schemas.size() >= 5u);
    xml::schema_set set;
    std::set<std::string> loaded;
    while (loaded.size() < schemas.size()) {
        const auto before = loaded.size();
        for (std::size_t i = 0; i < schemas.size(); ++i) {
            const auto& s = schemas[i];
            if (loaded.contains(s.target_namespace))
                continue;
            const bool ready = std::all_of(s.imports.begin(), s.imports.end(),
                                           [&](const std::string& ns) { return loaded.contains(ns); });
            if (!ready)
                continue;
            auto ok = set.add_text(s.text, std::string(relative) + "#schema" + std::to_string(i));
            BOOST_TEST_REQUIRE(ok.has_value(), describe(ok));
            loaded.insert(s.target_namespace);
        }
        BOOST_TEST_REQUIRE(loaded.size() > before, "an import cycle or an import of an absent namespace");
    }
    return set;
}

// The body child of one of our envelopes, as a standalone document: every namespace it uses
// is declared on it or below, by construction of the writers.
std::string body_child(const std::string& envelope) {
    const auto open = envelope.find("<s:Body>");
    const auto close = envelope.rfind("</s:Body>");
    BOOST_TEST_REQUIRE(open != std::string::npos);
    BOOST_TEST_REQUIRE(close != std::string::npos);
    return envelope.substr(open + 8, close - open - 8);
}

// XOP decoding as the receiver sees the infoset: the xop:Include stands for the attachment's
// bytes, i.e. base64 text in a base64Binary element.
std::string xop_decoded(std::string document, std::string_view base64) {
    const auto at = document.find("<xop:Include ");
    BOOST_TEST_REQUIRE(at != std::string::npos);
    const auto end = document.find("/>", at);
    return document.replace(at, end + 2 - at, base64);
}

void require_valid(const xml::schema_set& schemas, const std::string& document, const std::string& what) {
    auto ok = schemas.validate(document);
    BOOST_TEST(ok.has_value(), what << ": " << describe(ok) << "\n" << document);
}

const altinn2::credentials account{"100001", "pass & <word>"};

std::vector<altinn2::available_file> sample_files() {
    std::vector<altinn2::available_file> files(2);
    files[0] = {"4192",
                270815,
                "sbd.zip",
                kurer::random_uuid(),
                1234,
                altinn2::file_status::uploaded,
                false,
                0,
                "910077473",
                "19efbd4c-413d-4e2c-bbc5-257ef4a65b38",
                "2024-05-07T09:22:52.800185+02:00"};
    files[1].file_reference = kurer::random_uuid(); // the rest absent or nil
    return files;
}

} // namespace

BOOST_AUTO_TEST_SUITE(wsdl_schemas)

BOOST_AUTO_TEST_CASE(basic_service_requests_and_responses_validate) {
    const auto schemas = load_wsdl_schemas("broker/a2/BrokerServiceExternalBasic.wsdl");
    for (auto files : {std::vector<std::string>{}, std::vector<std::string>{"sbd.zip"}}) {
        altinn2::initiate_request r{account, {}, "910077473", kurer::random_uuid(), {"910075918"}, files};
        require_valid(schemas, body_child(*altinn2::write_initiate_request(r)), "InitiateBrokerServiceBasic");
    }
    for (auto service :
         {std::optional<altinn2::service_id>{}, std::optional<altinn2::service_id>{{"4192", 170101}}}) {
        require_valid(schemas, body_child(*altinn2::write_check_request({account, service, {"910075918"}})),
                      "CheckIfAvailableFilesBasic");
        require_valid(schemas,
                      body_child(*altinn2::write_list_request(
                          {account, service, altinn2::file_status::uploaded, "2024-05-08T00:00:00",
                           "2024-05-07T00:00:00+02:00", "910075918"})),
                      "GetAvailableFilesBasic");
    }
    require_valid(schemas,
                  body_child(*altinn2::write_confirm_request({account, kurer::random_uuid(), "910075918"})),
                  "ConfirmDownloadedBasic");

    require_valid(schemas, body_child(*altinn2::write_initiate_response(kurer::random_uuid())),
                  "InitiateBrokerServiceBasicResponse");
    require_valid(schemas, body_child(altinn2::write_check_response(true)),
                  "CheckIfAvailableFilesBasicResponse");
    require_valid(schemas, body_child(*altinn2::write_list_response(sample_files())),
                  "GetAvailableFilesBasicResponse");
    require_valid(schemas, body_child(altinn2::write_confirm_response()), "ConfirmDownloadedBasicResponse");

    // The AltinnFault detail, as a document of its own.
    const std::string fault = *altinn2::write_fault(altinn2::make_fault(40212, "unknown reference"));
    const auto start = fault.find("<AltinnFault");
    const auto end = fault.find("</AltinnFault>") + std::string_view("</AltinnFault>").size();
    require_valid(schemas, fault.substr(start, end - start), "AltinnFault");
}

BOOST_AUTO_TEST_CASE(the_schemas_do_reject_what_the_wsdl_forbids) {
    // Controls: validation is really on.
    const auto schemas = load_wsdl_schemas("broker/a2/BrokerServiceExternalBasic.wsdl");
    std::string list = body_child(
        *altinn2::write_list_request({account, altinn2::service_id{}, altinn2::file_status::uploaded,
                                      std::nullopt, std::nullopt, "910075918"}));
    list.replace(list.find(">Uploaded<"), 10, ">Deleted<");
    BOOST_TEST(schemas.validate(list).has_error());

    std::string edition = body_child(
        *altinn2::write_initiate_request({account, {"4192", 270815}, "910077473", "ref", {"910075918"}, {}}));
    edition.replace(edition.find(">270815<"), 8, ">v3888<");
    BOOST_TEST(schemas.validate(edition).has_error());

    // The reference client's quirk is not schema-valid: <ArrayOfFile> where FileList belongs.
    const std::string ip = read_reference("broker/samples/a2-InitiateBrokerServiceBasic-request.ip-test.xml");
    const auto open = ip.find("<ns2:InitiateBrokerServiceBasic");
    const auto close = ip.find("</ns2:InitiateBrokerServiceBasic>") + 33;
    auto quirk = schemas.validate(ip.substr(open, close - open));
    BOOST_TEST_REQUIRE(quirk.has_error());
    BOOST_TEST(quirk.error().message.find("ArrayOfFile") != std::string::npos, quirk.error().message);
}

BOOST_AUTO_TEST_CASE(streamed_service_requests_and_responses_validate) {
    const auto schemas = load_wsdl_schemas("broker/a2/BrokerServiceExternalBasicStreamed.wsdl");
    const std::string zip_base64 = "UEsDBAoAAAAAAA==";

    const std::string upload =
        *altinn2::write_upload_envelope({account, "sbd.zip", kurer::random_uuid(), "910077473"}, "att@kurer");
    require_valid(schemas, xop_decoded(body_child(upload), zip_base64), "StreamedPayloadBasicBE");
    // Each SOAP header is a top-level element of the schema.
    const auto header = upload.substr(upload.find("<s:Header>") + 10,
                                      upload.find("</s:Header>") - upload.find("<s:Header>") - 10);
    int headers = 0;
    for (auto at = header.find('<'); at != std::string::npos; at = header.find('<', at)) {
        const auto name = header.substr(at + 1, header.find(' ', at) - at - 1);
        const auto end = header.find("</" + name + ">", at) + name.size() + 3;
        require_valid(schemas, header.substr(at, end - at), "upload header " + name);
        at = end;
        ++headers;
    }
    BOOST_TEST(headers == 5);

    require_valid(schemas,
                  body_child(*altinn2::write_download_request({account, kurer::random_uuid(), "910075918"})),
                  "DownloadFileStreamedBasic");
    require_valid(
        schemas,
        xop_decoded(body_child(*altinn2::write_download_response("http://tempuri.org/1/1")), zip_base64),
        "DownloadFileStreamedBasicResponse");
    require_valid(schemas,
                  body_child(*altinn2::write_upload_response(
                      {"08.05.2024 13:29:28", 0, std::nullopt, 0, "OK", "Upload ok", "BrokerService"})),
                  "ReceiptExternalStreamedBE");
    require_valid(schemas, body_child(*altinn2::write_upload_response({})),
                  "ReceiptExternalStreamedBE (all nil)");
}

BOOST_AUTO_TEST_CASE(soap_actions_are_the_wsdl_bindings) {
    for (const auto* file :
         {"broker/a2/BrokerServiceExternalBasic.wsdl", "broker/a2/BrokerServiceExternalBasicStreamed.wsdl"}) {
        auto wsdl = xml::parse(read_reference(file));
        BOOST_TEST_REQUIRE(wsdl.has_value(), describe(wsdl));
        const std::string wsdl_ns = "http://schemas.xmlsoap.org/wsdl/";
        int checked = 0;
        for (const auto* binding : wsdl->children_named(wsdl_ns, "binding"))
            for (const auto* op : binding->children_named(wsdl_ns, "operation")) {
                const auto name = op->attr("name").value();
                const auto* soap_op = op->child("http://schemas.xmlsoap.org/wsdl/soap/", "operation");
                BOOST_TEST_REQUIRE(soap_op != nullptr);
                const auto action = soap_op->attr("soapAction").value();
                const auto ours = altinn2::operation_from_soap_action(action);
                if (name == "Test") {
                    BOOST_TEST(!ours.has_value());
                    continue;
                }
                BOOST_TEST_REQUIRE(ours.has_value(), name);
                BOOST_TEST(altinn2::operation_name(*ours) == name);
                BOOST_TEST(altinn2::is_streamed(*ours) ==
                           (std::string_view(file).find("Streamed") != std::string_view::npos));
                ++checked;
            }
        BOOST_TEST(checked >= 2);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(reference_samples)

BOOST_AUTO_TEST_CASE(our_initiate_matches_the_reference_clients_except_its_quirk) {
    const std::string sample =
        read_reference("broker/samples/a2-InitiateBrokerServiceBasic-request.ip-test.xml");
    altinn2::initiate_request r{{"testuser", "testpass"},
                                {"4192", 270815},
                                "910077473",
                                "19efbd4c-413d-4e2c-bbc5-257ef4a65b38",
                                {"910075918"},
                                {"sbd.zip"}};
    auto ours = xml::parse(*altinn2::write_initiate_request(r));
    auto theirs = xml::parse(sample);
    BOOST_TEST_REQUIRE(theirs.has_value(), describe(theirs));
    // The reference serialises FileList as <ArrayOfFile> (a JAXB bug WCF ignores); ours uses the
    // WSDL's name. Everything else is the same.
    auto& manifest = theirs->children[0].children[0].children[2].children[0];
    BOOST_TEST_REQUIRE(manifest.local == "Manifest");
    BOOST_TEST_REQUIRE(manifest.children[2].local == "ArrayOfFile");
    manifest.children[2].local = "FileList";
    BOOST_TEST(kurer::testing::tree_difference(*ours, *theirs) == "");

    // And the sandbox reads the reference's request, skipping the quirk as WCF does.
    auto read = altinn2::read_initiate_request(sample);
    BOOST_TEST_REQUIRE(read.has_value(), describe(read));
    r.file_names.clear();
    BOOST_TEST((*read == r));
}

BOOST_AUTO_TEST_CASE(our_requests_match_altinns_published_samples) {
    auto sample_tree = [](std::string_view file) {
        auto tree = xml::parse(read_reference(file));
        BOOST_TEST_REQUIRE(tree.has_value(), describe(tree));
        // Altinn's samples carry an empty soapenv:Header; ours leave it out.
        auto& children = tree->children;
        children.erase(
            std::remove_if(children.begin(), children.end(),
                           [](const xml::element& e) { return e.local == "Header" && e.children.empty(); }),
            children.end());
        return *tree;
    };
    altinn2::initiate_request initiate{{"Senders System", "yourPassword"},
                                       {"4947", 4678},
                                       "Sender OrgNr",
                                       "Your SendersReference",
                                       {"Recipient OrgNr"},
                                       {"Your FileName"}};
    BOOST_TEST(kurer::testing::tree_difference(
                   *xml::parse(*altinn2::write_initiate_request(initiate)),
                   sample_tree("broker/samples/a2-transition-doc-InitiateBrokerServiceBasic-request.xml")) ==
               "");
    altinn2::list_request list{{"Senders System", "password"},
                               altinn2::service_id{"4947", 4678},
                               altinn2::file_status::uploaded,
                               std::nullopt,
                               std::nullopt,
                               "Recipients OrgNr"};
    BOOST_TEST(kurer::testing::tree_difference(
                   *xml::parse(*altinn2::write_list_request(list)),
                   sample_tree("broker/samples/a2-transition-doc-GetAvailableFilesBasic-request.xml")) == "");
}

BOOST_AUTO_TEST_CASE(the_sandbox_reads_altinns_sample_requests) {
    auto initiate = altinn2::read_initiate_request(
        read_reference("broker/samples/a2-transition-doc-InitiateBrokerServiceBasic-request.xml"));
    BOOST_TEST_REQUIRE(initiate.has_value(), describe(initiate));
    BOOST_TEST(initiate->service.code == "4947");
    BOOST_TEST(initiate->service.edition == 4678);
    BOOST_TEST((initiate->file_names == std::vector<std::string>{"Your FileName"}));
    BOOST_TEST((initiate->recipients == std::vector<std::string>{"Recipient OrgNr"}));

    auto list = altinn2::read_list_request(
        read_reference("broker/samples/a2-transition-doc-GetAvailableFilesBasic-request.xml"));
    BOOST_TEST_REQUIRE(list.has_value(), describe(list));
    BOOST_TEST(list->reportee == "Recipients OrgNr");
    BOOST_TEST((list->status == altinn2::file_status::uploaded));

    // Headers in another order than the WSDL's; DataStream as a placeholder, not xop:Include.
    auto upload = altinn2::read_upload_envelope(
        read_reference("broker/samples/a2-transition-doc-UploadFileStreamedBasic-request.xml"));
    BOOST_TEST_REQUIRE(upload.has_value(), describe(upload));
    BOOST_TEST(upload->headers.account.system_user == "Senders System");
    BOOST_TEST(upload->headers.account.system_password == "yourPassword");
    BOOST_TEST(upload->headers.reportee == "Senders OrgNr");
    BOOST_TEST(upload->headers.reference == "af303bd0-3333-4ec9-af6a-31dd05569011");
    BOOST_TEST(upload->headers.file_name == "yourFileName");
    BOOST_TEST(!upload->attachment_content_id.has_value());
}

BOOST_AUTO_TEST_CASE(the_client_reads_altinns_sample_responses) {
    auto reference = altinn2::read_initiate_response(
        read_reference("broker/samples/a2-transition-doc-InitiateBrokerServiceBasic-response.xml"));
    BOOST_TEST_REQUIRE(reference.has_value(), describe(reference));
    BOOST_TEST(*reference == "af303bd0-3333-4ec9-af6a-31dd05569011");

    auto files = altinn2::read_list_response(
        read_reference("broker/samples/a2-transition-doc-GetAvailableFilesBasic-response.xml"));
    BOOST_TEST_REQUIRE(files.has_value(), describe(files));
    BOOST_TEST_REQUIRE(files->size() == 1u);
    const altinn2::available_file expected{"4947",
                                           4678,
                                           "Altinn2FileName",
                                           "af303bd0-3333-4ec9-af6a-31dd05569011",
                                           0,
                                           altinn2::file_status::uploaded,
                                           false,
                                           0,
                                           "senders OrgNr",
                                           "Your SendersReference",
                                           "2024-05-07T09:22:52.800185+02:00"};
    BOOST_TEST((files->front() == expected));

    auto receipt = altinn2::read_upload_response(
        read_reference("broker/samples/a2-transition-doc-UploadFileStreamedBasic-response.xml"));
    BOOST_TEST_REQUIRE(receipt.has_value(), describe(receipt));
    BOOST_TEST(receipt->status_code.value() == "OK");
    BOOST_TEST(receipt->last_changed.value() == "08.05.2024 13:29:28");
    BOOST_TEST(!receipt->receipt_history.has_value()); // i:nil
    BOOST_TEST(receipt->receipt_id.value() == 0);
    BOOST_TEST(receipt->type_name.value() == "BrokerService");
    BOOST_TEST(receipt->text.value().starts_with("Upload of file af303bd0"));
}

BOOST_AUTO_TEST_SUITE_END()

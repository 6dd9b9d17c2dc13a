// kurer against the reference's own material in ../shared/protocol/data: its SBDs parse (and
// the Jackson-written ones come back byte for byte), its 2018 ASiC-E verifies, the MOVE-610
// container is recognised, and what kurer writes matches the reference's samples and validates
// against the schemas the reference ships.
#include "fixtures.hpp"
#include "test_support.hpp"

#include <kurer/core/xml.hpp>
#include <kurer/dpo/asic.hpp>
#include <kurer/dpo/errors.hpp>
#include <kurer/dpo/package.hpp>
#include <kurer/dpo/sbd.hpp>
#include <kurer/testing/dpo_pki.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/test/unit_test.hpp>

using namespace kurer::dpo;
namespace t = kurer::testing;
namespace xml = kurer::xml;

namespace {

std::string reference(std::string_view relative) {
    return t::read_file(t::reference_data(relative));
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
        s.pop_back();
    return s;
}

sbd parsed(std::string_view relative) {
    auto r = parse_sbd(reference(relative));
    BOOST_TEST_REQUIRE(r.has_value(), std::string(relative) + ": " + (r ? "" : r.error().describe()));
    return *r;
}

xml::schema_set schemas(std::initializer_list<std::string_view> files) {
    xml::schema_set set;
    for (auto f : files) {
        auto ok = set.add_file(t::reference_data(f));
        BOOST_TEST_REQUIRE(ok.has_value(), (ok ? "" : ok.error().describe()));
    }
    return set;
}

void expect_valid(const xml::schema_set& set, const std::string& document) {
    auto ok = set.validate(document);
    BOOST_TEST(ok.has_value(), (ok ? "" : ok.error().describe()) << "\n" << document);
}

} // namespace

BOOST_AUTO_TEST_SUITE(reference_sbds)

BOOST_AUTO_TEST_CASE(jackson_written_samples_round_trip_byte_for_byte) {
    for (auto file : {"broker/zip/sbd.json.arkivmelding.sample.json"}) {
        const auto d = parsed(file);
        BOOST_TEST(to_json(d) == trimmed(reference(file)), file);
        BOOST_TEST(validate(d).has_value(), file);
    }
}

BOOST_AUTO_TEST_CASE(every_sample_parses_in_either_member_order) {
    const auto levert = parsed("broker/zip/sbd.json.status-LEVERT.sample.json");
    BOOST_TEST(levert.type() == "status");
    BOOST_TEST(levert.business_string("status").value() == "LEVERT");
    BOOST_TEST(levert.process().value() == process::arkivmelding_response);
    BOOST_TEST(validate(levert).has_value());

    const auto ordered = parsed("package/sbd/efm-ip-test-StandardBusinessDocument.json");
    const auto unordered = parsed("package/sbd/efm-ip-test-StandardBusinessDocument-unordered.json");
    BOOST_TEST(to_json(ordered) == to_json(unordered));
    BOOST_TEST(unordered.message_id() == "ff88849c-e281-4809-8555-7cd54952b916");
    BOOST_TEST(format_date_time(*unordered.header.document.creation_date_and_time) ==
               "2016-04-11T15:29:58.753+02:00");
    BOOST_TEST(validate_for_receipt(unordered).has_value());
    // The 2016 fixtures use the retired 9908 ICD: readable, but not what kurer would send.
    auto strict = validate(unordered);
    BOOST_TEST_REQUIRE(!strict.has_value());
    BOOST_TEST(strict.error().message.find("sender[0].identifier.value") != std::string::npos,
               strict.error().message);
}

BOOST_AUTO_TEST_CASE(the_documented_template_is_rejected_at_its_placeholder) {
    auto r = parse_sbd(reference("package/sbd/docs-sbd-template.json"));
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == errc::sbd_invalid_field);
    BOOST_TEST(r.error().message.find("expectedResponseDateTime") != std::string::npos, r.error().message);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(reference_asics)

BOOST_AUTO_TEST_CASE(the_2018_reference_container_verifies) {
    auto r = verify_asic(t::reference_data("package/asic/efm-ip-test-messageIP2.asice.zip"));
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->ok(), r->describe_problems());
    BOOST_TEST(r->manifest_entry == "META-INF/asicmanifest.xml");
    BOOST_TEST(r->signature_entry == "META-INF/signature-e28f6fec-97d7-4d97-afde-c59d0dc4ad7c.p7s");
    BOOST_TEST_REQUIRE(r->signature.has_value());
    BOOST_TEST(r->signature->digest == "SHA-1");
    BOOST_TEST(r->signature->signer_serial == "72D046AD");
    BOOST_TEST(r->primary_document == "eInnsynJornalfil.json");
    BOOST_TEST(r->sender == "9908:910094092");
    BOOST_TEST_REQUIRE(r->documents.size() == 2u);
    BOOST_TEST(r->documents[0].sha256 == "//hB7TR7cHdUKb5Y5tzXe6KbKiLAUn6dso9uSFkRk8I=");
    BOOST_TEST(r->documents[1].sha256 == "nDSXcW0pwTg644xDj5C1M/rsOAfdR87JnLKtXxcv5NM=");
    BOOST_TEST(r->documents[1].digest_matches);
}

BOOST_AUTO_TEST_CASE(the_move_610_container_is_named_as_such) {
    auto r = verify_asic(t::reference_data("package/asic/efm-ip-test-buggyAsic.asic"));
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST_REQUIRE(!r->problems.empty());
    BOOST_TEST(r->problems.front().code == errc::asic_first_block_corrupt, r->describe_problems());
    BOOST_TEST(r->problems.front().message.find("MOVE-610") != std::string::npos);
    // Past the first 16 bytes the container is intact: its mimetype text and its documents.
    for (const auto& p : r->problems)
        BOOST_TEST(p.code != errc::asic_wrong_mimetype, r->describe_problems());
    BOOST_TEST(r->documents.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(what_kurer_writes)

BOOST_AUTO_TEST_CASE(broker_files_equal_the_reference_samples_and_validate) {
    const altinn2_manifest m{"19efbd4c-413d-4e2c-bbc5-257ef4a65b38"};
    const auto manifest = broker_manifest_xml(m, "910077473");
    const auto recipients = broker_recipients_xml("910075918");
    BOOST_TEST(trimmed(manifest) == trimmed(reference("broker/zip/manifest.xml.sample.xml")));
    BOOST_TEST(trimmed(recipients) == trimmed(reference("broker/zip/recipients.xml.sample.xml")));
    expect_valid(schemas({"broker/zip/BrokerServiceManifest.xsd"}), manifest);
    expect_valid(schemas({"broker/zip/BrokerServiceRecipientList.xsd"}), recipients);
    // And as they come out of a real package.
    auto& k = t::shared_keys();
    t::scratch_dir dir;
    t::write_file(dir / "arkivmelding.xml",
                  reference("package/arkivmelding/efm-ip-test-arkivmelding_ok.xml"));
    message_params p;
    p.sender = "910077473";
    p.receiver = "910075918";
    pack_options options;
    options.altinn2 = m;
    const auto sbd = make_message(p, instant{std::chrono::sys_days{std::chrono::year{2026} / 3 / 25}});
    BOOST_TEST_REQUIRE(pack(sbd, {{dir / "arkivmelding.xml", "arkivmelding.xml", "application/xml"}},
                            k.alice_id, k.bob_id.leaf(), dir / "sbd.zip", options)
                           .has_value());
    const auto entries = t::read_file(dir / "sbd.zip");
    BOOST_TEST(entries.find("manifest.xml") < entries.find("sbd.json"));
}

BOOST_AUTO_TEST_CASE(the_inner_manifest_equals_the_reference_sample) {
    BOOST_TEST(trimmed(efm_manifest_xml("0192:910075918", "0192:910077473", "arkivmelding.xml",
                                        "application/xml")) ==
               trimmed(reference("broker/zip/asic-inner-manifest.xml.sample.xml")));
}

BOOST_AUTO_TEST_CASE(asic_and_odf_manifests_validate_against_the_reference_schemas) {
    const std::vector<manifest_reference> refs{
        {"manifest.xml", "application/xml", "lCltDCCZIBNps1hoSMnFhwIcZJdLw49dETEOXpX3S0g="},
        {"arkivmelding.xml", "application/xml", "XUKYYce1B8udcwrP0JSGePRWLIAL4ijcj1myGRAQS00="},
        {"vedlegg & bilag.pdf", "application/pdf", "KpHUElerTVSa63EAjtLJxlBQ1d7vzTQbJGol2kSXisI="}};
    expect_valid(schemas({"package/schemas/asic/xmldsig-core-schema.xsd",
                          "package/schemas/asic/ts_102918v010201.xsd"}),
                 asic_manifest_xml("META-INF/signature-0d7c5a4e-1ad3-4c43-9bb8-8d4d6f2c2d11.p7s", refs));
    expect_valid(schemas({"package/schemas/asic/OpenDocument_manifest.xsd"}), odf_manifest_xml(refs));
    // The schemas are not a rubber stamp: a manifest without a signature reference fails.
    auto broken = asic_manifest_xml("x.p7s", refs);
    broken.erase(broken.find("    <SigReference"),
                 broken.find("<DataObjectReference") - broken.find("    <SigReference"));
    auto set = schemas(
        {"package/schemas/asic/xmldsig-core-schema.xsd", "package/schemas/asic/ts_102918v010201.xsd"});
    BOOST_TEST(!set.validate(broken).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

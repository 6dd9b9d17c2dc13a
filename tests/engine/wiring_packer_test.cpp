// packer_port over kurer::dpo, between two organisations' certificates: what one packs the
// other opens, documents byte-identical; statuses and kvitteringer answer; bad input is refused
// with reasons and the right retry flag; start-up clears what a killed pack or decrypt left.
#include "wiring_fixture.hpp"

#include <kurer/core/uuid.hpp>
#include <kurer/dpo/asic.hpp>
#include <kurer/dpo/package.hpp>
#include <kurer/engine/daemon_config.hpp>
#include <kurer/engine/runner.hpp>
#include <kurer/engine/wiring.hpp>
#include <kurer/sandbox/pki.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <botan/hash.h>
#include <botan/hex.h>

#include <fstream>

namespace json = boost::json;
namespace fs = std::filesystem;
namespace ke = kurer::engine;
namespace sm = kurer::statemachine;
using namespace std::chrono_literals;

namespace {

using kurer::testing::org_a;
using kurer::testing::org_b;
using kurer::testing::slurp;
using kurer::testing::spit;
using kurer::testing::two_orgs;

std::string sha256_hex(std::string_view bytes) {
    auto h = Botan::HashFunction::create_or_throw("SHA-256");
    h->update(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    return Botan::hex_encode(h->final(), false);
}

ke::outgoing_message message(std::string document_type = "urn:no:difi:arkivmelding:xsd::arkivmelding",
                             std::string business = R"({"hoveddokument":"arkivmelding.xml"})") {
    ke::outgoing_message m;
    m.message_id = kurer::random_uuid();
    m.conversation_id = kurer::random_uuid();
    m.sender = org_a;
    m.receiver = org_b;
    m.process = "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0";
    m.document_type = std::move(document_type);
    m.message_channel = "arkiv-1";
    m.deadline = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now() + 24h);
    m.business_message = std::move(business);
    m.senders_reference = "arkiv-1";
    return m;
}

ke::time_point now() {
    return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// The least an arkivmelding carries.
std::vector<ke::document> record_only(const fs::path& dir) {
    spit(dir / "arkivmelding.xml", "<arkivmelding/>");
    return {{"arkivmelding.xml", "application/xml", true, dir / "arkivmelding.xml"}};
}

} // namespace

BOOST_AUTO_TEST_SUITE(wiring_packer)

BOOST_AUTO_TEST_CASE(a_message_packed_for_b_opens_at_b_with_every_field_and_identical_documents) {
    two_orgs t;
    const auto docs = t.dir / "docs";
    fs::create_directories(docs);
    spit(docs / "arkivmelding.xml", "<arkivmelding>the record</arkivmelding>");
    std::string pdf(200'000, '\0');
    for (std::size_t i = 0; i < pdf.size(); ++i)
        pdf[i] = static_cast<char>((i * 7919) % 251);
    spit(docs / "vedlegg.pdf", pdf);
    // The attachment is listed first: the primary document must still lead the container.
    const std::vector<ke::document> documents{
        {"vedlegg.pdf", "application/pdf", false, docs / "vedlegg.pdf"},
        {"arkivmelding.xml", "application/xml", true, docs / "arkivmelding.xml"}};

    const auto m = message();
    const auto package = t.dir / "sbd.zip";
    const auto info = t.packer(org_a)->pack(m, documents, t.cert_b, package).value();
    BOOST_TEST(info.size == fs::file_size(package));
    BOOST_TEST(info.sha256 == sha256_hex(slurp(package)));

    const auto payload = t.dir / "payload.asic";
    const auto opened = t.packer(org_b)->open(package, payload, now()).value();
    BOOST_TEST((opened.kind == kurer::storage::package_kind::message));
    BOOST_TEST(opened.message_id == m.message_id);
    BOOST_TEST(opened.conversation_id == m.conversation_id);
    BOOST_TEST(opened.sender == org_a);
    BOOST_TEST(opened.receiver == org_b);
    BOOST_TEST(opened.process == m.process);
    BOOST_TEST(opened.document_type == m.document_type);
    BOOST_TEST(opened.message_channel == "arkiv-1");
    BOOST_TEST_REQUIRE(opened.deadline.has_value());
    BOOST_TEST(std::chrono::abs(*opened.deadline - m.deadline).count() < 1000);
    BOOST_TEST(opened.has_payload);
    BOOST_TEST(json::parse(opened.sbd).at("arkivmelding").at("hoveddokument").as_string() ==
               "arkivmelding.xml");

    // The payload is the decrypted ASiC-E: signed by A, documents intact, primary first.
    const auto report = kurer::dpo::verify_asic(payload).value();
    BOOST_TEST(report.ok(), report.describe_problems());
    // eFormidling's manifest.xml first (as write_asic orders it), then the documents, primary first.
    std::vector<std::string> names;
    for (const auto& d : report.documents)
        names.push_back(d.name);
    BOOST_TEST((names == std::vector<std::string>{"manifest.xml", "arkivmelding.xml", "vedlegg.pdf"}));
    BOOST_TEST(report.primary_document == "arkivmelding.xml");
    BOOST_TEST_REQUIRE(report.signature.has_value());
    BOOST_TEST(report.signature->signer_subject.find(org_a) != std::string::npos);
    const auto out = t.dir / "extracted";
    fs::create_directories(out);
    kurer::dpo::extract_documents(payload, out).value();
    BOOST_TEST(slurp(out / "vedlegg.pdf") == pdf);
    BOOST_TEST(slurp(out / "arkivmelding.xml") == "<arkivmelding>the record</arkivmelding>");
}

BOOST_AUTO_TEST_CASE(altinn2_packages_carry_the_broker_manifest_altinn3_packages_do_not) {
    two_orgs t;
    const auto m = message();
    t.packer(org_a, "altinn2")->pack(m, record_only(t.dir.path()), t.cert_b, t.dir / "a2.zip").value();
    t.packer(org_a, "altinn3")->pack(m, record_only(t.dir.path()), t.cert_b, t.dir / "a3.zip").value();
    const auto a2 = kurer::dpo::open_package(t.dir / "a2.zip").value();
    const auto a3 = kurer::dpo::open_package(t.dir / "a3.zip").value();
    BOOST_TEST(a2.has_broker_manifest);
    BOOST_TEST(a2.has_recipients);
    BOOST_TEST(!a3.has_broker_manifest);
    BOOST_TEST(!a3.has_recipients);
}

BOOST_AUTO_TEST_CASE(statuses_go_back_from_b_to_a_and_name_the_original_message) {
    two_orgs t;
    const auto m = message();
    t.packer(org_a)->pack(m, record_only(t.dir.path()), t.cert_b, t.dir / "sbd.zip").value();
    const auto opened = t.packer(org_b)->open(t.dir / "sbd.zip", t.dir / "payload", now()).value();

    for (const auto status : {sm::eformidling_status::mottatt, sm::eformidling_status::levert}) {
        const auto file = t.dir / ("status-" + std::string(sm::to_string(status)) + ".zip");
        t.packer(org_b)->pack_status(opened.sbd, status, file).value();
        const auto back = t.packer(org_a)->open(file, t.dir / "unused", now()).value();
        BOOST_TEST((back.kind == kurer::storage::package_kind::status));
        BOOST_TEST(back.status == sm::to_string(status));
        BOOST_TEST(back.message_id == m.message_id);
        BOOST_TEST(back.conversation_id == m.conversation_id);
        BOOST_TEST(back.sender == org_b);
        BOOST_TEST(back.receiver == org_a);
        BOOST_TEST(back.message_channel == "arkiv-1", "a reply travels on the sender's channel");
        BOOST_TEST(!back.has_payload);
        BOOST_TEST(!fs::exists(t.dir / "unused"));
    }
    const auto other =
        t.packer(org_b)->pack_status(opened.sbd, sm::eformidling_status::sendt, t.dir / "x.zip");
    BOOST_TEST_REQUIRE(!other.has_value());
    BOOST_TEST(!other.error().retryable);
}

BOOST_AUTO_TEST_CASE(a_kvittering_names_the_message_it_answers) {
    two_orgs t;
    const auto original = kurer::random_uuid();
    auto m = message("urn:no:difi:arkivmelding:xsd::arkivmelding_kvittering",
                     R"({"receiptType":"OK","relatedToMessageId":")" + original + R"("})");
    m.process = "urn:no:difi:profile:arkivmelding:response:ver1.0";
    std::swap(m.sender, m.receiver);
    t.packer(org_b)->pack(m, {}, t.cert_a, t.dir / "kvittering.zip").value();
    const auto opened = t.packer(org_a)->open(t.dir / "kvittering.zip", t.dir / "payload", now()).value();
    BOOST_TEST((opened.kind == kurer::storage::package_kind::kvittering));
    BOOST_TEST(opened.related_message_id == original);
    BOOST_TEST(opened.receipt_type == "OK");
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused_with_reasons_and_no_retry) {
    two_orgs t;
    // A package for someone else cannot be opened here.
    t.packer(org_a)->pack(message(), record_only(t.dir.path()), t.cert_b, t.dir / "for-b.zip").value();
    const auto not_mine = t.packer(org_a)->open(t.dir / "for-b.zip", t.dir / "payload", now());
    BOOST_TEST_REQUIRE(!not_mine.has_value());
    BOOST_TEST(!not_mine.error().retryable);
    BOOST_TEST((not_mine.error().code == kurer::dpo::errc::cms_not_for_this_certificate),
               not_mine.error().describe());
    BOOST_TEST(t.packer(org_a)->rejection_of(not_mine.error()) == ke::rejection::not_for_us);
    BOOST_TEST(!fs::exists(t.dir / "payload"), "nothing half-written is left for the end system");

    spit(t.dir / "junk.zip", "this is not a zip file at all");
    const auto junk = t.packer(org_b)->open(t.dir / "junk.zip", t.dir / "payload", now());
    BOOST_TEST_REQUIRE(!junk.has_value());
    BOOST_TEST(!junk.error().retryable);

    const auto bad_json = t.packer(org_a)->pack(message("urn:no:difi:arkivmelding:xsd::arkivmelding", "[1]"),
                                                {}, t.cert_b, t.dir / "x.zip");
    BOOST_TEST_REQUIRE(!bad_json.has_value());
    BOOST_TEST(bad_json.error().message == "businessMessage: not a JSON object");
    BOOST_TEST(!bad_json.error().retryable);

    auto no_uuid = message();
    no_uuid.conversation_id = "not-a-uuid";
    const auto invalid = t.packer(org_a)->pack(no_uuid, record_only(t.dir.path()), t.cert_b, t.dir / "y.zip");
    BOOST_TEST_REQUIRE(!invalid.has_value());
    BOOST_TEST(!invalid.error().retryable);
    BOOST_TEST(invalid.error().message.find("instanceIdentifier") != std::string::npos,
               invalid.error().message);

    const auto bad_cert = t.packer(org_a)->pack(
        message(), {}, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", t.dir / "z.zip");
    BOOST_TEST_REQUIRE(!bad_cert.has_value());
    BOOST_TEST(!bad_cert.error().retryable);
    BOOST_TEST(!fs::exists(t.dir / "w.zip"));
    BOOST_TEST(!fs::exists(t.dir / "x.zip"));
    BOOST_TEST(!fs::exists(t.dir / "z.zip"));
}

BOOST_AUTO_TEST_CASE(a_package_is_believed_only_from_a_signer_the_enterprise_ca_bundle_vouches_for) {
    two_orgs t;
    t.packer(org_a)->pack(message(), record_only(t.dir.path()), t.cert_b, t.dir / "sbd.zip").value();

    // B trusts another CA only: the signature is intact, the signer unknown.
    kurer::testing::two_orgs elsewhere;
    auto config = t.config(org_b);
    config.enterprise_ca_bundle = elsewhere.dir / "ca.pem";
    const auto packer = ke::make_dpo_packer(config).value();
    const auto untrusted = packer->open(t.dir / "sbd.zip", t.dir / "payload", now());
    BOOST_TEST_REQUIRE(!untrusted.has_value());
    BOOST_TEST(!untrusted.error().retryable);
    BOOST_TEST((untrusted.error().code == kurer::dpo::errc::signer_untrusted), untrusted.error().describe());
    BOOST_TEST(packer->rejection_of(untrusted.error()) == ke::rejection::untrusted_signer);
    BOOST_TEST(!fs::exists(t.dir / "payload"), "a refused package leaves no payload for the end system");

    // Without a bundle nothing signed is believed.
    config.enterprise_ca_bundle.clear();
    const auto none = ke::make_dpo_packer(config).value()->open(t.dir / "sbd.zip", t.dir / "payload", now());
    BOOST_TEST_REQUIRE(!none.has_value());
    BOOST_TEST(none.error().message.find("enterprise_ca_bundle") != std::string::npos);

    // The certificate must have been valid when the broker received the file.
    const auto later = t.packer(org_b)->open(t.dir / "sbd.zip", t.dir / "payload", now() + 24h * 365 * 5);
    BOOST_TEST_REQUIRE(!later.has_value());
    BOOST_TEST(t.packer(org_b)->rejection_of(later.error()) == ke::rejection::untrusted_signer);

    // B's own bundle: believed, and the signer recorded.
    const auto opened = t.packer(org_b)->open(t.dir / "sbd.zip", t.dir / "payload", now()).value();
    BOOST_TEST(opened.signer_organization == org_a);
    BOOST_TEST(opened.signer.find(org_a) != std::string::npos, opened.signer);

    // A missing bundle file is a config error naming the field.
    config.enterprise_ca_bundle = t.dir / "absent.pem";
    const auto absent = ke::make_dpo_packer(config);
    BOOST_TEST_REQUIRE(!absent.has_value());
    BOOST_TEST(absent.error().message.starts_with("enterprise_ca_bundle: "), absent.error().message);
}

BOOST_AUTO_TEST_CASE(the_certificate_must_be_the_organisations_own) {
    two_orgs t;
    const auto r = ke::make_dpo_packer(t.config(org_a, "altinn2", org_b));
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message.starts_with("certificate: "), r.error().message);
    BOOST_TEST(r.error().message.find(std::string("organisation ") + org_b) != std::string::npos);
    BOOST_TEST((r.error().code == make_error_code(ke::config_errc::invalid)));

    // A key that is not the certificate's.
    auto c = t.config(org_a);
    c.private_key = t.dir / org_b / "key.pem";
    const auto wrong_key = ke::make_dpo_packer(c);
    BOOST_TEST_REQUIRE(!wrong_key.has_value());
    BOOST_TEST(wrong_key.error().message.starts_with("certificate/private_key: "), wrong_key.error().message);

    c.private_key = t.dir / "absent.pem";
    const auto absent = ke::make_dpo_packer(c);
    BOOST_TEST_REQUIRE(!absent.has_value());
    BOOST_TEST(absent.error().message.starts_with("private_key: "), absent.error().message);
    BOOST_TEST((absent.error().code == make_error_code(ke::config_errc::unreadable)));
}

BOOST_AUTO_TEST_CASE(the_own_certificate_may_be_either_profile_but_must_name_one_organisation) {
    two_orgs t;
    // A config of A's whose certificate and key are issued by the CA with this subject.
    const auto with = [&](const std::string& name, kurer::sandbox::certificate_request request) {
        request.common_name = name;
        const auto issued = t.ca.issue(request);
        fs::create_directories(t.dir / name);
        spit(t.dir / name / "cert.pem", issued.certificate_pem);
        spit(t.dir / name / "key.pem", issued.private_key_pem);
        auto c = t.config(org_a);
        c.certificate = t.dir / name / "cert.pem";
        c.private_key = t.dir / name / "key.pem";
        return ke::make_dpo_packer(c);
    };
    const auto seid2 = with("seid2", {.organization_identifier = std::string("NTRNO-") + org_a});
    BOOST_TEST(seid2.has_value(), (seid2 ? "" : seid2.error().message));
    // SEID 2.0 names the number: B's, and the certificate is not A's.
    const auto others = with("others", {.organization_identifier = std::string("NTRNO-") + org_b});
    BOOST_TEST_REQUIRE(!others.has_value());
    BOOST_TEST(others.error().message.find(std::string("is organisation ") + org_b + "'s, not " + org_a) !=
                   std::string::npos,
               others.error().message);

    const auto none = with("none", {});
    BOOST_TEST_REQUIRE(!none.has_value());
    BOOST_TEST((none.error().code == make_error_code(ke::config_errc::invalid)));
    BOOST_TEST(none.error().message.starts_with("certificate: "), none.error().message);
    BOOST_TEST(none.error().message.find("names no organisation number") != std::string::npos,
               none.error().message);
    const auto two =
        with("two", {.serial_number = org_a, .organization_identifier = std::string("NTRNO-") + org_b});
    BOOST_TEST_REQUIRE(!two.has_value());
    BOOST_TEST(two.error().message.find("two different organisation numbers") != std::string::npos,
               two.error().message);
}

BOOST_AUTO_TEST_CASE(start_up_removes_what_a_killed_pack_or_decrypt_left_and_nothing_else) {
    kurer::testing::scratch_dir dir;
    const auto out = dir / "packages" / "out";
    const auto in = dir / "packages" / "in";
    fs::create_directories(out / (".kurer-pack-" + kurer::random_uuid()));
    spit(out / "keep.zip", "package");
    fs::create_directories(in);
    spit(in / (".ref.payload." + kurer::random_uuid() + ".tmp"), "half a payload");
    spit(in / "ref.payload", "a whole payload");
    spit(in / "ref.zip", "a package");

    const auto removed = ke::clean_package_directories(dir.path()).value();
    BOOST_TEST(removed >= 2u);
    BOOST_TEST(fs::exists(out / "keep.zip"));
    BOOST_TEST(fs::exists(in / "ref.payload"));
    BOOST_TEST(fs::exists(in / "ref.zip"));
    std::size_t hidden = 0;
    for (const auto& e : fs::directory_iterator(in))
        hidden += e.path().filename().string().starts_with(".") ? 1 : 0;
    BOOST_TEST(hidden == 0u);
    for (const auto& e : fs::directory_iterator(out))
        BOOST_TEST(!(e.is_directory() && e.path().filename().string().starts_with(".kurer-pack-")));

    kurer::testing::scratch_dir empty;
    BOOST_TEST(ke::clean_package_directories(empty.path()).value() == 0u,
               "a fresh data_dir has nothing to clean");
}

BOOST_AUTO_TEST_SUITE_END()

// Who sent an incoming package: the signer's chain, validity and organisation against the SBD.
// Certificates come from the openssl command line (fixtures.hpp); a second, untrusted CA issues
// a certificate that names the genuine sender's organisation number.
#include "fixtures.hpp"

#include <kurer/dpo/errors.hpp>
#include <kurer/dpo/package.hpp>
#include <kurer/dpo/trust.hpp>
#include <kurer/testing/dpo_zip.hpp>

#include <boost/test/unit_test.hpp>

using namespace kurer::dpo;
namespace t = kurer::testing;

namespace {

constexpr const char* alice_org = "910077473";
constexpr const char* bob_org = "910075918";

instant now() {
    return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
}

sbd message_from(const std::string& sender, const std::string& receiver = bob_org) {
    message_params p;
    p.sender = "0192:" + sender;
    p.receiver = "0192:" + receiver;
    return make_message(p, now());
}

// A package packed by `signer`, for bob, opened and decrypted by bob: the SBD and the ASiC-E as
// the receiving engine has them before it decides whether to believe them.
struct received {
    t::scratch_dir dir;
    sbd document;
    std::filesystem::path asic = dir / "asic.zip";

    received(const identity& signer, sbd d)
        : document(std::move(d)) {
        t::write_file(dir / "arkivmelding.xml", "<arkivmelding/>");
        t::write_file(dir / "vedlegg.pdf", t::random_text(20000, 7));
        const std::vector<pack_document> docs{{dir / "arkivmelding.xml", "arkivmelding.xml", ""},
                                              {dir / "vedlegg.pdf", "vedlegg.pdf", ""}};
        auto packed = pack(document, docs, signer, t::shared_keys().bob_id.leaf(), dir / "sbd.zip");
        BOOST_TEST_REQUIRE(packed.has_value(), (packed ? "" : packed.error().describe()));
        auto opened = open_package(dir / "sbd.zip");
        BOOST_TEST_REQUIRE(opened.has_value());
        auto decrypted = decrypt_asic(*opened->asic, t::shared_keys().bob_id, asic);
        BOOST_TEST_REQUIRE(decrypted.has_value());
    }
};

const trust_anchors& test_ca() {
    static const trust_anchors a = trust_anchors::load(t::shared_keys().pki.ca_cert()).value();
    return a;
}

// A CA nobody trusts, and a certificate from it naming alice's organisation.
struct impostor {
    t::scratch_dir dir;
    t::test_pki pki{dir / "other-ca"};
    t::party mallory = pki.make_party("mallory", alice_org);
    identity id = identity::load(mallory.cert, mallory.key).value();
};

bool has_code(const kurer::result<signer_identity>& r, errc e) {
    return r.has_error() && r.error().code == make_error_code(e);
}

} // namespace

BOOST_AUTO_TEST_SUITE(trust)

BOOST_AUTO_TEST_CASE(a_genuine_package_names_its_signer) {
    received r(t::shared_keys().alice_id, message_from(alice_org));
    auto signer = verify_received(r.document, r.asic, test_ca(), now());
    BOOST_TEST_REQUIRE(signer.has_value(), signer.error().describe());
    BOOST_TEST(signer->organization_number == alice_org);
    BOOST_TEST(signer->subject.find("alice") != std::string::npos);
    BOOST_TEST(signer->issuer.find("Kurer Test CA") != std::string::npos);
    BOOST_TEST(!signer->serial.empty());
    BOOST_TEST(signer->describe().find(signer->serial) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_certificate_from_an_untrusted_ca_is_refused_even_with_the_right_number) {
    impostor m;
    received r(m.id, message_from(alice_org));
    auto signer = verify_received(r.document, r.asic, test_ca(), now());
    BOOST_TEST_REQUIRE(has_code(signer, errc::signer_untrusted),
                       (signer ? "accepted" : signer.error().describe()));
    BOOST_TEST(signer.error().message.find("mallory") != std::string::npos);
    BOOST_TEST(signer.error().message.find("does not chain to a trusted enterprise CA") != std::string::npos);
    // Trusting that CA is the operator's decision, and then it verifies.
    auto theirs = trust_anchors::load(m.pki.ca_cert()).value();
    BOOST_TEST(verify_received(r.document, r.asic, theirs, now()).has_value());
}

BOOST_AUTO_TEST_CASE(a_self_signed_certificate_is_refused) {
    // carol's certificate signs itself; the test CA did not issue it.
    received r(t::shared_keys().carol_id, message_from("910094092"));
    BOOST_TEST(has_code(verify_received(r.document, r.asic, test_ca(), now()), errc::signer_untrusted));
}

BOOST_AUTO_TEST_CASE(the_certificate_must_be_valid_at_the_time_given) {
    // The test certificates are valid for 365 days from today.
    received r(t::shared_keys().alice_id, message_from(alice_org));
    const auto later = verify_received(r.document, r.asic, test_ca(), now() + std::chrono::hours(24 * 400));
    BOOST_TEST_REQUIRE(has_code(later, errc::signer_untrusted));
    BOOST_TEST(later.error().message.find("expired") != std::string::npos, later.error().message);
    const auto earlier = verify_received(r.document, r.asic, test_ca(), now() - std::chrono::hours(48));
    BOOST_TEST(has_code(earlier, errc::signer_untrusted));
}

BOOST_AUTO_TEST_CASE(a_package_signed_by_one_organisation_naming_another_as_sender_is_refused) {
    // alice signs, the SBD (and the manifest alice signed) say bob sent it.
    received r(t::shared_keys().alice_id, message_from(bob_org, "910094092"));
    auto signer = verify_received(r.document, r.asic, test_ca(), now());
    BOOST_TEST_REQUIRE(has_code(signer, errc::signer_not_sender));
    BOOST_TEST(signer.error().message.find(std::string("names ") + bob_org) != std::string::npos);
    BOOST_TEST(signer.error().message.find(std::string(alice_org) + " signed it") != std::string::npos);

    // The operator may let alice sign for bob (a service provider), and for nobody else.
    signing_delegations delegations{{alice_org, {bob_org}}};
    BOOST_TEST(verify_received(r.document, r.asic, test_ca(), now(), delegations).has_value());
    signing_delegations other{{alice_org, {"910094092"}}};
    BOOST_TEST(
        has_code(verify_received(r.document, r.asic, test_ca(), now(), other), errc::signer_not_sender));
}

BOOST_AUTO_TEST_CASE(an_sbd_that_disagrees_with_the_signed_manifest_is_refused) {
    received r(t::shared_keys().alice_id, message_from(alice_org));
    // The SBD travels in clear: someone rewrote its receiver.
    auto rewritten = r.document;
    rewritten.header.receiver.front().identifier = "0192:910094092";
    auto signer = verify_received(rewritten, r.asic, test_ca(), now());
    BOOST_TEST_REQUIRE(has_code(signer, errc::parties_mismatch));
    BOOST_TEST(signer.error().message.find("0192:910094092") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_sender_that_is_not_an_organisation_identifier_cannot_be_vouched_for) {
    received r(t::shared_keys().alice_id, message_from(alice_org));
    auto odd = r.document;
    odd.header.sender.front().identifier = "9908:" + std::string(alice_org);
    BOOST_TEST(has_code(verify_received(odd, r.asic, test_ca(), now()), errc::signer_not_sender));
}

BOOST_AUTO_TEST_CASE(a_changed_document_fails_before_anyone_asks_who_signed) {
    received r(t::shared_keys().alice_id, message_from(alice_org));
    auto entries = t::read_entries(r.asic.string());
    for (auto& e : entries)
        if (e.name == "vedlegg.pdf")
            e.data[1000] ^= 1;
    t::write_file(r.asic, t::build_zip(entries));
    auto signer = verify_received(r.document, r.asic, test_ca(), now());
    BOOST_TEST_REQUIRE(has_code(signer, errc::asic_digest_mismatch),
                       (signer ? "accepted" : signer.error().describe()));
    BOOST_TEST(signer.error().message.find("vedlegg.pdf") != std::string::npos);

    // A document slipped in that the manifest does not cover.
    received again(t::shared_keys().alice_id, message_from(alice_org));
    auto more = t::read_entries(again.asic.string());
    more.push_back(t::file_entry("extra.pdf", "%PDF-1.4 not signed by anyone"));
    t::write_file(again.asic, t::build_zip(more));
    BOOST_TEST(has_code(verify_received(again.document, again.asic, test_ca(), now()),
                        errc::asic_entry_not_in_manifest));
}

BOOST_AUTO_TEST_CASE(a_bundle_without_certificates_is_an_error) {
    t::scratch_dir dir;
    t::write_file(dir / "empty.pem", "no certificates here\n");
    auto anchors = trust_anchors::load(dir / "empty.pem");
    BOOST_TEST(anchors.has_error());
    auto two = trust_anchors::load(t::shared_keys().alice.cert); // leaf + CA
    BOOST_TEST_REQUIRE(two.has_value());
    BOOST_TEST(two->size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

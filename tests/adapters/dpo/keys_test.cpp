// certificate::organization_number() on certificates made by the openssl command line, in both
// profiles of Norwegian enterprise certificates (../shared/protocol/enterprise-certificates.md).
#include <kurer/dpo/errors.hpp>
#include <kurer/dpo/keys.hpp>
#include <kurer/testing/dpo_pki.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/test/unit_test.hpp>

#include <string>

namespace dpo = kurer::dpo;
using kurer::testing::subject_profile;

namespace {

// A self-signed certificate with this subject (`openssl req -subj` syntax).
dpo::certificate with_subject(const std::string& subject) {
    kurer::testing::scratch_dir dir;
    const auto r = kurer::testing::run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                                        (dir / "key.pem").string(), "-out", (dir / "cert.pem").string(),
                                        "-days", "2", "-subj", subject});
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
    return dpo::certificate::from_pem(kurer::testing::read_file(dir / "cert.pem")).value();
}

std::string refusal(const kurer::result<std::string>& r) {
    BOOST_TEST_REQUIRE(r.has_error(), "accepted: " << (r ? *r : std::string()));
    BOOST_TEST(r.error().code == make_error_code(dpo::errc::certificate_invalid));
    return r.error().message;
}

} // namespace

BOOST_AUTO_TEST_SUITE(dpo_keys)

BOOST_AUTO_TEST_CASE(both_profiles_name_the_organisation) {
    kurer::testing::scratch_dir dir;
    kurer::testing::test_pki pki(dir / "pki");
    const auto seid1 = pki.make_party("seid1", "910077473");
    const auto seid2 = pki.make_party("seid2", "910075918", true, 2048, subject_profile::seid2);
    const auto one = dpo::identity::load(seid1.cert, seid1.key).value();
    const auto two = dpo::identity::load(seid2.cert, seid2.key).value();
    BOOST_TEST(one.leaf().organization_number().value() == "910077473");
    BOOST_TEST(two.leaf().organization_number().value() == "910075918");
    BOOST_TEST(two.leaf().subject().find("NTRNO-910075918") != std::string::npos, two.leaf().subject());
}

BOOST_AUTO_TEST_CASE(a_seid2_certificate_with_another_serial_number_is_read_by_its_identifier) {
    const auto cert = with_subject("/C=NO/O=EKSEMPEL AS/organizationIdentifier=NTRNO-910077473/"
                                   "serialNumber=B-2023-0042/CN=EKSEMPEL AS");
    BOOST_TEST(cert.organization_number().value() == "910077473");
    // Both profiles naming the same number is one number.
    const auto both =
        with_subject("/C=NO/organizationIdentifier=NTRNO-910077473/serialNumber=910077473/CN=X");
    BOOST_TEST(both.organization_number().value() == "910077473");
}

BOOST_AUTO_TEST_CASE(two_numbers_none_or_a_malformed_identifier_are_refused_naming_the_subject) {
    const auto two =
        refusal(with_subject("/C=NO/organizationIdentifier=NTRNO-910077473/serialNumber=910075918/CN=TWO")
                    .organization_number());
    BOOST_TEST(two.find("names two different organisation numbers: 910077473 (organizationIdentifier) and "
                        "910075918 (serialNumber)") != std::string::npos,
               two);
    BOOST_TEST(two.find("TWO") != std::string::npos, two);

    const auto none = refusal(with_subject("/C=NO/O=NOBODY/CN=NOBODY").organization_number());
    BOOST_TEST(none.find("names no organisation number") != std::string::npos, none);
    BOOST_TEST(none.find("NOBODY") != std::string::npos, none);

    const auto malformed =
        refusal(with_subject("/C=NO/organizationIdentifier=NTRNO-91007747/CN=SHORT").organization_number());
    BOOST_TEST(malformed.find("malformed organizationIdentifier 'NTRNO-91007747'") != std::string::npos,
               malformed);

    // Two values of one attribute (two RDNs) naming different numbers.
    const auto twice = refusal(with_subject("/C=NO/organizationIdentifier=NTRNO-910077473/"
                                            "organizationIdentifier=NTRNO-910075918/CN=TWICE")
                                   .organization_number());
    BOOST_TEST(twice.find("two different organisation numbers") != std::string::npos, twice);
    // And within one multi-valued RDN.
    const auto rdn =
        refusal(with_subject("/C=NO/CN=RDN+organizationIdentifier=NTRNO-910077473+serialNumber=910075918")
                    .organization_number());
    BOOST_TEST(rdn.find("two different organisation numbers") != std::string::npos, rdn);
}

BOOST_AUTO_TEST_SUITE_END()

// The JWT grant and the token answer, without a network.
#include <kurer/maskinporten/grant.hpp>
#include <kurer/maskinporten/jose.hpp>
#include <kurer/maskinporten/token_provider.hpp>
#include <kurer/sandbox/pki.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <botan/pk_keys.h>
#include <botan/x509cert.h>

#include <set>

namespace mp = kurer::maskinporten;
using namespace std::chrono_literals;

namespace {

const kurer::sandbox::certificate_authority& ca() {
    static const auto instance = kurer::sandbox::certificate_authority::create("grant test CA");
    return instance;
}

const mp::credentials& org_credentials() {
    static const auto creds = [] {
        const auto issued = ca().issue(
            {.common_name = "TESTKOMMUNE", .organization = "TESTKOMMUNE", .serial_number = "910077473"});
        return mp::credentials::from_pem(issued.certificate_pem, issued.private_key_pem).value();
    }();
    return creds;
}

std::set<std::string> keys(const boost::json::object& o) {
    std::set<std::string> out;
    for (const auto& kv : o)
        out.emplace(kv.key());
    return out;
}

mp::grant_claims dpo_claims() {
    return {.audience = "https://test.maskinporten.no/",
            .issuer = "MOVE_IP_910077473",
            .scopes = {"eformidling:dpo", "eformidling:dpe"},
            .lifetime = 110s};
}

} // namespace

BOOST_AUTO_TEST_SUITE(grant)

BOOST_AUTO_TEST_CASE(carries_exactly_the_documented_claims_from_one_clock_reading) {
    const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1767225600)) + 999ms;
    const auto token =
        mp::make_grant(dpo_claims(), org_credentials(), now, "6f1c2a9e-6a55-4c0e-9a0e-0c3f1f4d2b11");
    BOOST_TEST_REQUIRE(token.has_value(), token.error().message);
    const auto jws = mp::jose::parse(*token).value();
    const auto claims = boost::json::parse(jws.payload).as_object();
    BOOST_TEST((keys(claims) == std::set<std::string>{"aud", "iss", "scope", "iat", "exp", "jti"}));
    BOOST_TEST(claims.at("aud").as_string() == "https://test.maskinporten.no/");
    BOOST_TEST(claims.at("iss").as_string() == "MOVE_IP_910077473");
    BOOST_TEST(claims.at("scope").as_string() == "eformidling:dpo eformidling:dpe");
    BOOST_TEST(claims.at("iat").as_int64() == 1767225600);
    BOOST_TEST(claims.at("exp").as_int64() == 1767225600 + 110);
    BOOST_TEST(claims.at("jti").as_string() == "6f1c2a9e-6a55-4c0e-9a0e-0c3f1f4d2b11");
}

BOOST_AUTO_TEST_CASE(header_names_rs256_and_only_the_leaf_certificate) {
    const auto token =
        mp::make_grant(dpo_claims(), org_credentials(), std::chrono::system_clock::now(), "x").value();
    const auto jws = mp::jose::parse(token).value();
    const auto header = boost::json::parse(jws.header_json).as_object();
    BOOST_TEST((keys(header) == std::set<std::string>{"alg", "x5c"}));
    BOOST_TEST(header.at("alg").as_string() == "RS256");
    const auto& x5c = header.at("x5c").as_array();
    BOOST_TEST_REQUIRE(x5c.size() == 1u);
    const auto der = mp::jose::from_base64(x5c[0].as_string()).value();
    BOOST_TEST((der == org_credentials().certificate->BER_encode()));
    // The signature verifies with the certificate's key, and not once the payload changes.
    const auto key = org_credentials().certificate->load_subject_public_key();
    BOOST_TEST(mp::jose::verify(jws, *key, "RS256"));
    auto tampered = jws;
    tampered.signing_input.back() ^= 1;
    BOOST_TEST(!mp::jose::verify(tampered, *key, "RS256"));
    BOOST_TEST(!mp::jose::verify(jws, *key, "RS512"));
    BOOST_TEST(!mp::jose::verify(jws, *key, "none"));
}

BOOST_AUTO_TEST_CASE(system_user_claim_has_the_altinn_shape) {
    auto c = dpo_claims();
    c.scopes = {"altinn:broker.write"};
    c.system_user = mp::altinn_system_user{"910077473", "910077473_integrasjonspunkt_systembruker_910077473"};
    const auto token = mp::make_grant(c, org_credentials(), std::chrono::system_clock::now(), "x").value();
    const auto claims = boost::json::parse(mp::jose::parse(token)->payload).as_object();
    BOOST_TEST(claims.size() == 7u);
    const auto expected = boost::json::parse(R"([{"type":"urn:altinn:systemuser",
        "systemuser_org":{"authority":"iso6523-actorid-upis","ID":"0192:910077473"},
        "externalRef":"910077473_integrasjonspunkt_systembruker_910077473"}])");
    BOOST_TEST(claims.at("authorization_details") == expected);

    c.system_user->external_ref.clear();
    const auto without_ref =
        mp::make_grant(c, org_credentials(), std::chrono::system_clock::now(), "x").value();
    const auto details =
        boost::json::parse(mp::jose::parse(without_ref)->payload).at("authorization_details");
    BOOST_TEST(!details.as_array()[0].as_object().contains("externalRef"));
}

BOOST_AUTO_TEST_CASE(refuses_grants_maskinporten_would_refuse) {
    auto c = dpo_claims();
    c.lifetime = 121s;
    BOOST_TEST(!mp::make_grant(c, org_credentials(), std::chrono::system_clock::now(), "x").has_value());
    c = dpo_claims();
    c.scopes.clear();
    BOOST_TEST(!mp::make_grant(c, org_credentials(), std::chrono::system_clock::now(), "x").has_value());
    c = dpo_claims();
    c.audience.clear();
    BOOST_TEST(!mp::make_grant(c, org_credentials(), std::chrono::system_clock::now(), "x").has_value());
}

BOOST_AUTO_TEST_CASE(credentials_name_their_organisation_in_either_certificate_profile) {
    BOOST_TEST(org_credentials().organization_number().value() == "910077473"); // SEID 1: serialNumber
    const auto credentials_of = [](const kurer::sandbox::certificate_request& r) {
        const auto issued = ca().issue(r);
        return mp::credentials::from_pem(issued.certificate_pem, issued.private_key_pem).value();
    };
    const auto seid2 = credentials_of({.common_name = "TESTKOMMUNE",
                                       .organization = "TESTKOMMUNE",
                                       .organization_identifier = "NTRNO-910075918"});
    BOOST_TEST(seid2.organization_number().value() == "910075918");
    // Another serialNumber beside it does not matter.
    const auto other_serial = credentials_of(
        {.common_name = "T", .serial_number = "C-12345", .organization_identifier = "NTRNO-910075918"});
    BOOST_TEST(other_serial.organization_number().value() == "910075918");

    const auto two = credentials_of({.common_name = "TWO",
                                     .serial_number = "910077473",
                                     .organization_identifier = "NTRNO-910075918"})
                         .organization_number();
    BOOST_TEST_REQUIRE(two.has_error());
    BOOST_TEST(two.error().message.find("two different organisation numbers") != std::string::npos,
               two.error().message);
    const auto none = credentials_of({.common_name = "NONE"}).organization_number();
    BOOST_TEST_REQUIRE(none.has_error());
    BOOST_TEST(none.error().message.find("names no organisation number") != std::string::npos,
               none.error().message);
    BOOST_TEST(none.error().message.find("NONE") != std::string::npos, none.error().message);
}

BOOST_AUTO_TEST_CASE(credentials_must_be_an_rsa_key_matching_the_certificate) {
    const auto other = ca().issue({.common_name = "OTHER", .serial_number = "910075918"});
    const auto mine = ca().issue({.common_name = "MINE", .serial_number = "910077473"});
    const auto mismatch = mp::credentials::from_pem(mine.certificate_pem, other.private_key_pem);
    BOOST_TEST_REQUIRE(mismatch.has_error());
    BOOST_TEST(mismatch.error().message.find("does not belong") != std::string::npos);

    const auto ec = ca().issue({.common_name = "EC",
                                .serial_number = "910077473",
                                .usage = kurer::sandbox::key_usage::digital_signature,
                                .ecdsa_key = true});
    const auto not_rsa = mp::credentials::from_pem(ec.certificate_pem, ec.private_key_pem);
    BOOST_TEST_REQUIRE(not_rsa.has_error());
    BOOST_TEST(not_rsa.error().message.find("RSA") != std::string::npos);

    BOOST_TEST(mp::credentials::from_pem("junk", mine.private_key_pem).has_error());
}

BOOST_AUTO_TEST_CASE(token_answers_become_tokens_or_named_errors) {
    const auto now = std::chrono::steady_clock::now();
    auto ok = mp::parse_token_response(
        200, "application/json",
        R"({"access_token":"abc.def.ghi","token_type":"Bearer","expires_in":120,"scope":"eformidling:dpo"})",
        now);
    BOOST_TEST_REQUIRE(ok.has_value());
    BOOST_TEST(ok->value == "abc.def.ghi");
    BOOST_TEST(ok->scope == "eformidling:dpo");
    BOOST_TEST(ok->expires_in.count() == 120);
    BOOST_TEST((ok->expires_at == now + 120s));

    auto grant_error = mp::parse_token_response(
        400, "application/json",
        R"({"error":"invalid_grant","error_description":"Invalid assertion. Client authentication failed. Invalid JWT signature","error_uri":"https://maskinporten.no/errors/MP-124"})",
        now);
    BOOST_TEST_REQUIRE(grant_error.has_error());
    BOOST_TEST(grant_error.error().code == make_error_code(mp::errc::invalid_grant));
    BOOST_TEST(!grant_error.error().retryable);
    BOOST_TEST(grant_error.error().message.find("Invalid JWT signature (MP-124)") != std::string::npos,
               grant_error.error().message);

    auto scope_error = mp::parse_token_response(
        400, "application/json",
        R"({"error":"invalid_scope","error_description":"Token request contains invalid scopes"})", now);
    BOOST_TEST(scope_error.error().code == make_error_code(mp::errc::invalid_scope));

    auto unavailable = mp::parse_token_response(503, "text/html", "<html>down</html>", now);
    BOOST_TEST(unavailable.error().retryable);

    auto garbage = mp::parse_token_response(200, "text/html", "<html>", now);
    BOOST_TEST(garbage.error().code == make_error_code(mp::errc::bad_response));
    auto no_expiry = mp::parse_token_response(200, "application/json", R"({"access_token":"x"})", now);
    BOOST_TEST(no_expiry.has_error());
}

BOOST_AUTO_TEST_CASE(cache_keys_separate_scopes_and_system_users) {
    const mp::token_request sr{.scopes = {"eformidling:dpo"}};
    const mp::token_request write{.scopes = {"altinn:broker.write"},
                                  .system_user = mp::altinn_system_user{"910077473", "ref"}};
    const mp::token_request read{.scopes = {"altinn:broker.read"},
                                 .system_user = mp::altinn_system_user{"910077473", "ref"}};
    BOOST_TEST(sr.cache_key() != write.cache_key());
    BOOST_TEST(write.cache_key() != read.cache_key());
    auto other_user = write;
    other_user.system_user->organization = "910075918";
    BOOST_TEST(write.cache_key() != other_user.cache_key());
}

BOOST_AUTO_TEST_SUITE_END()

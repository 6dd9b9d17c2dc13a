// Parsing SR answers, choosing the record, checking the receiver certificate, verifying a
// signed answer: no network.
#include <kurer/maskinporten/jose.hpp>
#include <kurer/sandbox/pki.hpp>
#include <kurer/service_registry/client.hpp>
#include <kurer/service_registry/records.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <botan/data_src.h>
#include <botan/pkcs8.h>
#include <botan/x509_key.h>

namespace sr = kurer::service_registry;
namespace jose = kurer::maskinporten::jose;
using namespace std::chrono_literals;

namespace {

constexpr const char* arkivmelding = "urn:no:difi:arkivmelding:xsd::arkivmelding";
constexpr const char* administrasjon = "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0";

const kurer::sandbox::certificate_authority& ca() {
    static const auto instance = kurer::sandbox::certificate_authority::create("SR test CA");
    return instance;
}

std::string record_json(std::string_view process, std::string_view doc_type, std::string_view service,
                        std::string_view pem) {
    boost::json::object svc{{"identifier", service},    {"endpointUrl", "https://tt02.altinn.no"},
                            {"serviceCode", "4192"},    {"serviceEditionCode", "270815"},
                            {"securityLevel", nullptr}, {"resource", "eformidling-dpo-meldingsutveksling"}};
    boost::json::object r{
        {"organisationNumber", "910075918"},
        {"pemCertificate", pem.empty() ? boost::json::value(nullptr) : boost::json::value(pem)},
        {"process", process},
        {"documentTypes", boost::json::array{doc_type}},
        {"service", std::move(svc)}};
    return boost::json::serialize(r);
}

std::unique_ptr<Botan::Private_Key> load_key(const std::string& pem) {
    Botan::DataSource_Memory source(pem);
    return Botan::PKCS8::load_key(source);
}

} // namespace

BOOST_AUTO_TEST_SUITE(records)

BOOST_AUTO_TEST_CASE(parses_every_field_and_keeps_nulls_absent) {
    const auto json = R"({"infoRecord":{"identifier":"910075918","organizationName":"TESTKOMMUNE",
        "postadresse":{"adresse":"Postboks 1","postnummer":"0101","poststed":"OSLO","land":"Norge"},
        "entityType":{"name":"KOMM"}},"serviceRecords":[)" +
                      record_json(administrasjon, arkivmelding, "DPO",
                                  "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n") +
                      "]}";
    auto r = sr::parse_identifier_resource(json);
    BOOST_TEST_REQUIRE(r.has_value(), r.error().message);
    BOOST_TEST(r->info.organization_name == "TESTKOMMUNE");
    BOOST_TEST(r->info.address->postal_area == "OSLO");
    BOOST_TEST(r->info.entity_type == "KOMM");
    BOOST_TEST_REQUIRE(r->records.size() == 1u);
    const auto& rec = r->records[0];
    BOOST_TEST(rec.service.identifier == "DPO");
    BOOST_TEST(*rec.service.service_code == "4192");
    BOOST_TEST(*rec.service.service_edition_code == "270815");
    BOOST_TEST(!rec.service.security_level.has_value());
    BOOST_TEST(*rec.service.resource == "eformidling-dpo-meldingsutveksling");
    BOOST_TEST(rec.document_types.front() == arkivmelding);
}

BOOST_AUTO_TEST_CASE(refuses_records_the_reference_would_crash_on) {
    BOOST_TEST(sr::parse_identifier_resource("[]").has_error());
    BOOST_TEST(sr::parse_identifier_resource("not json").has_error());
    auto no_service = sr::parse_identifier_resource(
        R"({"infoRecord":{},"serviceRecords":[{"process":"p","documentTypes":["d"]}]})");
    BOOST_TEST_REQUIRE(no_service.has_error());
    BOOST_TEST(no_service.error().message.find("service") != std::string::npos);
    BOOST_TEST(sr::parse_identifier_resource(
                   R"({"serviceRecords":[{"process":"p","service":{"identifier":"DPO"}}]})")
                   .has_error());
    // /info answers may carry an empty list or none at all.
    BOOST_TEST(sr::parse_identifier_resource(R"({"infoRecord":{"identifier":"1"}})")->records.empty());
}

BOOST_AUTO_TEST_CASE(chooses_the_first_record_accepting_the_document_type) {
    auto r = sr::parse_identifier_resource("{\"serviceRecords\":[" +
                                           record_json(administrasjon, "urn:other", "DPE", "") + "," +
                                           record_json(administrasjon, arkivmelding, "DPV", "") + "," +
                                           record_json(administrasjon, arkivmelding, "DPO", "") + "]}")
                 .value();
    const auto* chosen = sr::choose_record(r, arkivmelding);
    BOOST_TEST_REQUIRE(chosen != nullptr);
    BOOST_TEST(chosen->service.identifier == "DPV");
    BOOST_TEST(sr::choose_record(r, "urn:no:difi:arkivmelding:xsd::arkivmelding_kvittering") == nullptr);
}

BOOST_AUTO_TEST_CASE(normalises_bare_and_crlf_certificates) {
    const auto issued = ca().issue({.common_name = "R", .serial_number = "910075918"});
    std::string bare;
    std::string crlf;
    for (char c : issued.certificate_pem) {
        crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    }
    const auto begin = issued.certificate_pem.find('\n') + 1;
    const auto end = issued.certificate_pem.find("-----END");
    for (char c : issued.certificate_pem.substr(begin, end - begin))
        if (c != '\n')
            bare += c;
    const auto now = std::chrono::system_clock::now();
    BOOST_TEST(sr::check_receiver_certificate(bare, now).has_value());
    BOOST_TEST(sr::check_receiver_certificate(crlf, now).has_value());
    BOOST_TEST(sr::normalize_pem(crlf).find('\r') == std::string::npos);
    BOOST_TEST(sr::check_receiver_certificate(bare, now)->organization_number == "910075918");
}

BOOST_AUTO_TEST_CASE(receiver_certificates_name_their_organisation_in_either_profile) {
    const auto now = std::chrono::system_clock::now();
    const auto check = [&](const kurer::sandbox::certificate_request& r) {
        return sr::check_receiver_certificate(ca().issue(r).certificate_pem, now);
    };
    const auto seid2 = check({.common_name = "R", .organization_identifier = "NTRNO-910075918"});
    BOOST_TEST_REQUIRE(seid2.has_value(), seid2.error().message);
    BOOST_TEST(seid2->organization_number == "910075918");
    const auto other_serial =
        check({.common_name = "R", .serial_number = "4-1234", .organization_identifier = "NTRNO-910075918"});
    BOOST_TEST_REQUIRE(other_serial.has_value(), other_serial.error().message);
    BOOST_TEST(other_serial->organization_number == "910075918");
    const auto seid1 = check({.common_name = "R", .serial_number = "910077473"});
    BOOST_TEST_REQUIRE(seid1.has_value(), seid1.error().message);
    BOOST_TEST(seid1->organization_number == "910077473");

    // None, or two: not a certificate anyone can be held to.
    const auto none = check({.common_name = "NOBODY"});
    BOOST_TEST_REQUIRE(none.has_error());
    BOOST_TEST(none.error().code == make_error_code(sr::errc::certificate_invalid));
    BOOST_TEST(none.error().message.find("the receiver's certificate (") == 0u, none.error().message);
    BOOST_TEST(none.error().message.find("NOBODY") != std::string::npos, none.error().message);
    BOOST_TEST(none.error().message.find("names no organisation number") != std::string::npos,
               none.error().message);
    const auto two = check(
        {.common_name = "TWO", .serial_number = "910077473", .organization_identifier = "NTRNO-910075918"});
    BOOST_TEST_REQUIRE(two.has_error());
    BOOST_TEST(two.error().code == make_error_code(sr::errc::certificate_invalid));
    BOOST_TEST(
        two.error().message.find("two different organisation numbers: 910075918 (organizationIdentifier) "
                                 "and 910077473 (serialNumber)") != std::string::npos,
        two.error().message);
    const auto malformed = check({.common_name = "BAD", .organization_identifier = "NTRNO-9100759180"});
    BOOST_TEST_REQUIRE(malformed.has_error());
    BOOST_TEST(malformed.error().message.find("malformed organizationIdentifier") != std::string::npos,
               malformed.error().message);
}

BOOST_AUTO_TEST_CASE(receiver_certificates_must_be_current_rsa_and_allow_key_encipherment) {
    using kurer::sandbox::key_usage;
    const auto now = std::chrono::system_clock::now();
    const auto good = ca().issue({.common_name = "GOOD", .serial_number = "910075918"});
    BOOST_TEST(sr::check_receiver_certificate(good.certificate_pem, now).has_value());

    const auto expired = ca().issue({.common_name = "OLD", .not_before = now - 48h, .not_after = now - 24h});
    auto e = sr::check_receiver_certificate(expired.certificate_pem, now);
    BOOST_TEST_REQUIRE(e.has_error());
    BOOST_TEST(e.error().code == make_error_code(sr::errc::certificate_invalid));
    BOOST_TEST(e.error().message.find("expired") != std::string::npos);

    const auto future = ca().issue({.common_name = "NEW", .not_before = now + 24h, .not_after = now + 48h});
    BOOST_TEST(sr::check_receiver_certificate(future.certificate_pem, now)
                   .error()
                   .message.find("not valid before") != std::string::npos);

    const auto signing_only = ca().issue({.common_name = "SIGN", .usage = key_usage::digital_signature});
    BOOST_TEST(sr::check_receiver_certificate(signing_only.certificate_pem, now)
                   .error()
                   .message.find("keyEncipherment") != std::string::npos);

    const auto ec =
        ca().issue({.common_name = "EC", .usage = key_usage::digital_signature, .ecdsa_key = true});
    BOOST_TEST(sr::check_receiver_certificate(ec.certificate_pem, now).error().message.find("RSA") !=
               std::string::npos);

    BOOST_TEST(sr::check_receiver_certificate(
                   "-----BEGIN CERTIFICATE-----\npem123\n-----END CERTIFICATE-----\n", now)
                   .has_error());
}

BOOST_AUTO_TEST_CASE(signed_answers_verify_by_kid_or_first_rsa_key) {
    const auto signer = kurer::sandbox::generate_rsa_key();
    const auto other = kurer::sandbox::generate_rsa_key();
    const auto signer_key = load_key(signer.private_key_pem);
    const auto other_key = load_key(other.private_key_pem);
    const std::string payload = R"({"infoRecord":{},"serviceRecords":[]})";
    const auto kid = jose::thumbprint(*signer_key);
    const auto token = jose::sign(R"({"alg":"RS256","kid":")" + kid + "\"}", payload, *signer_key);

    const auto set = [](std::initializer_list<boost::json::object> keys) {
        boost::json::array a;
        for (const auto& k : keys)
            a.push_back(k);
        return boost::json::serialize(boost::json::object{{"keys", a}});
    };
    // The matching kid is found even when it is not first.
    auto by_kid =
        sr::verify_signed(token, set({jose::rsa_jwk(*other_key, "other"), jose::rsa_jwk(*signer_key, kid)}));
    BOOST_TEST_REQUIRE(by_kid.has_value(), by_kid.error().message);
    BOOST_TEST(*by_kid == payload);
    // Without a matching kid the first RSA key is used, as the reference does.
    BOOST_TEST(sr::verify_signed(token, set({jose::rsa_jwk(*signer_key, "unrelated")})).has_value());
    // A different key, a tampered payload, or no key at all fail.
    auto wrong = sr::verify_signed(token, set({jose::rsa_jwk(*other_key, "other")}));
    BOOST_TEST_REQUIRE(wrong.has_error());
    BOOST_TEST(wrong.error().code == make_error_code(sr::errc::bad_signature));
    auto tampered = token;
    tampered[tampered.find('.') + 3] ^= 1;
    BOOST_TEST(sr::verify_signed(tampered, set({jose::rsa_jwk(*signer_key, kid)})).has_error());
    BOOST_TEST(sr::verify_signed(token, R"({"keys":[]})").has_error());
    const auto unsigned_token = jose::sign(R"({"alg":"none"})", payload, *signer_key);
    BOOST_TEST(sr::verify_signed(unsigned_token, set({jose::rsa_jwk(*signer_key, kid)})).has_error());
}

BOOST_AUTO_TEST_CASE(thumbprint_follows_rfc_7638) {
    // RFC 7638 §3.1 example key and thumbprint.
    const boost::json::object jwk{
        {"kty", "RSA"},
        {"e", "AQAB"},
        {"n", "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
              "BJECPebWKRXjBZCiFV"
              "4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
              "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6"
              "qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_"
              "xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnq"
              "DKgw"}};
    const auto key = jose::rsa_public_key(jwk).value();
    BOOST_TEST(jose::thumbprint(*key) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

BOOST_AUTO_TEST_SUITE_END()

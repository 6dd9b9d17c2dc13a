// kurer-sandbox as a program: what `init` writes, and what `serve` checks and answers beyond
// what the adapter tests exercise.
#include "../../adapters/http/run.hpp"

#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/http/client.hpp>
#include <kurer/maskinporten/jose.hpp>
#include <kurer/sandbox/child.hpp>
#include <kurer/sandbox/pki.hpp>
#include <kurer/sandbox/request_log.hpp>
#include <kurer/sandbox/state.hpp>
#include <kurer/sandbox/token_authority.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <botan/data_src.h>
#include <botan/pk_keys.h>
#include <botan/pkcs8.h>
#include <botan/pkix_types.h>
#include <botan/x509cert.h>

#include <map>
#include <set>
#include <sys/stat.h>

namespace asio = boost::asio;
namespace http = kurer::http;
namespace json = boost::json;
namespace jose = kurer::maskinporten::jose;
namespace sandbox = kurer::sandbox;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr const char* org_a = "910077473";
constexpr const char* org_b = "910075918";

fs::path exe() {
    return kurer::testing::executable("kurer-sandbox");
}
std::string read(const fs::path& p) {
    return kurer::read_small_file(p, 64 << 20).value();
}
unsigned mode(const fs::path& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return st.st_mode & 0777;
}
std::set<std::string> keys(const json::object& o) {
    std::set<std::string> out;
    for (const auto& kv : o)
        out.emplace(kv.key());
    return out;
}
Botan::X509_Certificate certificate(const fs::path& p) {
    Botan::DataSource_Memory source(read(p));
    return Botan::X509_Certificate(source);
}

// One sandbox for the file, with organisation B registered for the administrasjon process only
// and holding a SEID 2.0 certificate (A's is SEID 1).
struct fixture {
    kurer::testing::scratch_dir dir;
    sandbox::child sb;

    fixture()
        : sb(start(dir / "sandbox")) {}

    static sandbox::child start(const fs::path& d) {
        auto init = sandbox::run_program(
            exe(), {"init", d.string(), "--port", "0", "--org", org_a, "--org", org_b, "--seid2", org_b});
        BOOST_TEST_REQUIRE((init && init->exit_code == 0), (init ? init->output : init.error().message));
        auto state = sandbox::load_state(d).value();
        for (auto& o : state.organizations)
            if (o.number == org_b)
                o.dpo_processes = {"urn:no:difi:profile:arkivmelding:administrasjon:ver1.0"};
        BOOST_TEST_REQUIRE(sandbox::save_state(d, state).has_value());
        return sandbox::child::start(exe(), d, {.initialize = false}).value();
    }
};

fixture& shared() {
    static fixture f;
    return f;
}

struct client_context {
    asio::io_context io;
    http::client client =
        http::client::create(io.get_executor(), {.ca_bundle = shared().sb.dir() / "ca/ca.pem"}).value();

    http::response call(http::verb method, const std::string& path, std::string body = {},
                        std::vector<std::pair<std::string, std::string>> headers = {}) {
        http::request r;
        r.method = method;
        r.url = shared().sb.base_url() + path;
        for (auto& [k, v] : headers)
            r.headers.set(k, v);
        if (!body.empty() || method == http::verb::post)
            r.body = http::body_source::from_string(std::move(body));
        auto resp = kurer::test::run(io, client.send(std::move(r)));
        BOOST_TEST_REQUIRE(resp.has_value(), resp.error().message);
        return std::move(*resp);
    }

    // A grant signed with organisation A's key and certificate, claims as given.
    std::string grant(json::object claims, json::object header = {}) {
        const auto dir = shared().sb.dir() / "orgs" / org_a;
        return grant_with(read(dir / "cert.pem"), read(dir / "key.pem"), std::move(claims),
                          std::move(header));
    }

    // A grant signed with this certificate and key.
    std::string grant_with(const std::string& cert_pem, const std::string& key_pem, json::object claims,
                           json::object header = {}) {
        Botan::DataSource_Memory key_source(key_pem);
        const auto key = Botan::PKCS8::load_key(key_source);
        Botan::DataSource_Memory cert_source(cert_pem);
        if (header.empty())
            header = {{"alg", "RS256"},
                      {"x5c", json::array{jose::x5c_entry(Botan::X509_Certificate(cert_source))}}};
        return jose::sign(json::serialize(header), json::serialize(claims), *key);
    }

    json::object claims(std::chrono::seconds age = 0s) const {
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count() -
                         age.count();
        return {{"aud", shared().sb.base_url() + "/"},
                {"iss", std::string("MOVE_IP_") + org_a},
                {"scope", "eformidling:dpo"},
                {"iat", now},
                {"exp", now + 100},
                {"jti", kurer::random_uuid()}};
    }

    http::response token(const std::string& assertion) {
        return call(http::verb::post, "/token",
                    "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + assertion,
                    {{"Content-Type", "application/x-www-form-urlencoded;charset=UTF-8"}});
    }

    // "error: description" of a refused token request.
    std::string refusal(const http::response& r) {
        BOOST_TEST(r.status == 400u);
        const auto o = json::parse(r.body).as_object();
        std::string text = std::string(o.at("error").as_string()) + ": " +
                           std::string(o.at("error_description").as_string());
        if (const auto* uri = o.if_contains("error_uri"))
            text += " " + std::string(uri->as_string());
        return text;
    }

    std::string access_token(json::object c) {
        const auto r = token(grant(std::move(c)));
        BOOST_TEST_REQUIRE(r.status == 200u, r.body);
        return std::string(json::parse(r.body).at("access_token").as_string());
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(sandbox_init)

BOOST_AUTO_TEST_CASE(writes_certificates_keys_state_and_kurer_configs) {
    kurer::testing::scratch_dir dir;
    const auto d = dir / "sb";
    auto r = sandbox::run_program(
        exe(), {"init", d.string(), "--port", "8443", "--org", org_a, "--org", org_b, "--broker", "altinn3"});
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST_REQUIRE(r->exit_code == 0, r->output);

    for (const char* key : {"ca/ca-key.pem", "server/key.pem", "maskinporten/signing-key.pem",
                            "service-registry/signing-key.pem", "orgs/910077473/key.pem",
                            "orgs/910075918/key.pem", "orgs/910077473/kurer.json", "sandbox.json"})
        BOOST_TEST(mode(d / key) == 0600u, key);

    // Enterprise certificates as real ones: serialNumber, O, CN, RSA-2048, the three key usages, from the CA.
    const auto ca = certificate(d / "ca/ca.pem");
    const auto cert = certificate(d / "orgs/910077473/cert.pem");
    BOOST_TEST(cert.subject_info("X520.SerialNumber").at(0) == org_a);
    BOOST_TEST(!cert.subject_info("X520.Organization").empty());
    BOOST_TEST(!cert.subject_info("X520.CommonName").empty());
    BOOST_TEST(cert.load_subject_public_key()->algo_name() == "RSA");
    BOOST_TEST(cert.load_subject_public_key()->key_length() == 2048u);
    BOOST_TEST(cert.allowed_usage(Botan::DIGITAL_SIGNATURE));
    BOOST_TEST(cert.allowed_usage(Botan::KEY_ENCIPHERMENT));
    BOOST_TEST(cert.allowed_usage(Botan::DATA_ENCIPHERMENT));
    BOOST_TEST(!cert.allowed_usage(Botan::KEY_CERT_SIGN));
    BOOST_TEST(cert.check_signature(*ca.load_subject_public_key()));
    const auto server = certificate(d / "server/cert.pem");
    BOOST_TEST(server.matches_dns_name("localhost"));
    BOOST_TEST(server.subject_alt_name().get_attribute("IP").at(0) == "127.0.0.1");

    // kurer.json follows docs/configuration.md: only documented members, URLs at the sandbox.
    const auto config = json::parse(read(d / "orgs/910077473/kurer.json")).as_object();
    BOOST_TEST((keys(config) == std::set<std::string>{"organization", "data_dir", "admin_socket",
                                                      "certificate", "private_key", "ca_bundle",
                                                      "enterprise_ca_bundle", "maskinporten",
                                                      "service_registry", "broker", "polling_interval_ms"}));
    // The sandbox's CA issues the enterprise certificates, so receivers trust it for signers.
    BOOST_TEST(config.at("enterprise_ca_bundle").as_string() == "../../ca/ca.pem");
    BOOST_TEST(config.at("organization").as_string() == org_a);
    BOOST_TEST(config.at("polling_interval_ms").as_int64() == 1000);
    BOOST_TEST(config.at("admin_socket").as_string() == "kurer.sock");
    BOOST_TEST(fs::exists(d / "orgs/910077473" / std::string(config.at("ca_bundle").as_string())));
    BOOST_TEST(fs::exists(d / "orgs/910077473" / std::string(config.at("certificate").as_string())));
    const auto& mp = config.at("maskinporten").as_object();
    BOOST_TEST(mp.at("token_url").as_string() == "https://127.0.0.1:8443/token");
    BOOST_TEST(mp.at("audience").as_string() == "https://127.0.0.1:8443/");
    BOOST_TEST(mp.at("client_id").as_string() == "MOVE_IP_910077473");
    BOOST_TEST(config.at("service_registry").at("url").as_string() ==
               "https://127.0.0.1:8443/adressetjeneste");
    const auto& broker = config.at("broker").as_object();
    BOOST_TEST(broker.at("kind").as_string() == "altinn3");
    BOOST_TEST(broker.at("altinn3").at("base_url").as_string() == "https://127.0.0.1:8443/broker/api/v1");
    BOOST_TEST(broker.at("altinn3").at("system_user").as_string() ==
               "910077473_integrasjonspunkt_systembruker_910077473");
    BOOST_TEST(broker.at("altinn2").at("service_edition").as_int64() == 270815);

    // The state names every organisation's credentials for the broker services.
    const auto state = sandbox::load_state(d).value();
    BOOST_TEST(state.organizations.size() == 2u);
    const auto* a = state.find(org_a);
    BOOST_TEST_REQUIRE(a != nullptr);
    BOOST_TEST(a->client_id == "MOVE_IP_910077473");
    BOOST_TEST(std::all_of(a->altinn2_system_user.begin(), a->altinn2_system_user.end(), ::isdigit));
    BOOST_TEST(a->altinn2_system_password.size() >= 16u);
    BOOST_TEST(a->altinn2_system_password != state.find(org_b)->altinn2_system_password);
    BOOST_TEST(kurer::is_uuid(a->altinn3_system_user_id));
    BOOST_TEST(broker.at("altinn2").at("system_password").as_string() == a->altinn2_system_password);
}

BOOST_AUTO_TEST_CASE(seid2_gives_the_chosen_organisations_an_organization_identifier) {
    kurer::testing::scratch_dir dir;
    const auto d = dir / "sb";
    auto r = sandbox::run_program(
        exe(), {"init", d.string(), "--port", "0", "--org", org_a, "--org", org_b, "--seid2", org_b});
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST_REQUIRE(r->exit_code == 0, r->output);
    // The subject attributes by OID: serialNumber 2.5.4.5, organizationIdentifier 2.5.4.97.
    const auto attributes = [&](const std::string& org) {
        std::multimap<std::string, std::string> out;
        const auto cert = certificate(d / "orgs" / org / "cert.pem"); // outlives the loop over its subject
        for (const auto& [oid, value] : cert.subject_dn().dn_info())
            out.emplace(oid.to_string(), value.value());
        return out;
    };
    const auto a = attributes(org_a);
    const auto b = attributes(org_b);
    BOOST_TEST(a.count("2.5.4.5") == 1u);
    BOOST_TEST(a.find("2.5.4.5")->second == org_a);
    BOOST_TEST(a.count("2.5.4.97") == 0u);
    BOOST_TEST(b.count("2.5.4.97") == 1u);
    BOOST_TEST(b.find("2.5.4.97")->second == std::string("NTRNO-") + org_b);
    BOOST_TEST(b.count("2.5.4.5") == 0u);
    BOOST_TEST(b.find("2.5.4.10")->second == std::string("SANDBOX ORG ") + org_b);
    BOOST_TEST(b.find("2.5.4.6")->second == "NO");
    // As openssl, an implementation of its own, reads it.
    auto subject =
        sandbox::run_program("/usr/bin/openssl", {"x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in",
                                                  (d / "orgs" / org_b / "cert.pem").string()});
    BOOST_TEST_REQUIRE(subject.has_value());
    BOOST_TEST(subject->output.find(std::string("organizationIdentifier=NTRNO-") + org_b) !=
                   std::string::npos,
               subject->output);
}

BOOST_AUTO_TEST_CASE(refuses_bad_arguments_and_an_existing_sandbox) {
    kurer::testing::scratch_dir dir;
    const auto d = (dir / "sb").string();
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"init", d, "--port", "8443", "--org", "12345"},
          {"init", d, "--port", "8443"},
          {"init", d, "--port", "99999", "--org", org_a},
          {"init", d, "--port", "8443", "--org", org_a, "--broker", "altinn4"},
          {"init", d, "--port", "8443", "--org", org_a, "--seid2", org_b},
          {"init", d, "--org", org_a}}) {
        auto r = sandbox::run_program(exe(), args);
        BOOST_TEST_REQUIRE(r.has_value());
        BOOST_TEST(r->exit_code != 0, args.back());
        BOOST_TEST(r->output.find("kurer-sandbox:") != std::string::npos, r->output);
    }
    BOOST_TEST_REQUIRE(sandbox::run_program(exe(), {"init", d, "--port", "0", "--org", org_a})->exit_code ==
                       0);
    auto again = sandbox::run_program(exe(), {"init", d, "--port", "0", "--org", org_a});
    BOOST_TEST(again->exit_code != 0);
    BOOST_TEST(again->output.find("already a sandbox") != std::string::npos, again->output);
    auto no_state = sandbox::run_program(exe(), {"serve", (dir / "nothing").string()});
    BOOST_TEST(no_state->exit_code != 0);
    BOOST_TEST(no_state->output.find("kurer-sandbox init") != std::string::npos, no_state->output);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sandbox_maskinporten)

BOOST_AUTO_TEST_CASE(publishes_metadata_and_keys) {
    client_context t;
    const auto meta = json::parse(t.call(http::verb::get, "/.well-known/oauth-authorization-server").body);
    BOOST_TEST(meta.at("issuer").as_string() == shared().sb.base_url() + "/");
    BOOST_TEST(meta.at("token_endpoint").as_string() == shared().sb.base_url() + "/token");
    const auto jwks = json::parse(t.call(http::verb::get, "/jwk").body);
    const auto& key = jwks.at("keys").as_array().at(0).as_object();
    BOOST_TEST(key.at("kty").as_string() == "RSA");
    BOOST_TEST(!key.at("kid").as_string().empty());
}

BOOST_AUTO_TEST_CASE(checks_grants_in_the_documented_order) {
    client_context t;
    const auto with = [&](auto change) {
        auto c = t.claims();
        change(c);
        return t.refusal(t.token(t.grant(c)));
    };
    BOOST_TEST(with([](json::object& c) {
                   c["sub"] = "x";
               }).find("invalid_request: Invalid assertion. Unknown claim sub") == 0u);
    BOOST_TEST(with([](json::object& c) { c["aud"] = json::array{c["aud"]}; }).find("MP-110") !=
               std::string::npos);
    BOOST_TEST(with([](json::object& c) {
                   auto a = std::string(c["aud"].as_string());
                   c["aud"] = a.substr(0, a.size() - 1);
               }).find("MP-110") != std::string::npos);
    BOOST_TEST(with([](json::object& c) { c["iss"] = "MOVE_IP_999999999"; }).find("MP-100") !=
               std::string::npos);
    BOOST_TEST(with([](json::object& c) { c["exp"] = c["iat"].as_int64() + 121; }).find("exceeds 120") !=
               std::string::npos);
    BOOST_TEST(with([](json::object& c) {
                   c["iat"] = c["iat"].as_int64() + 30;
                   c["exp"] = c["iat"].as_int64() + 60;
               }).find("Issue time is after now") != std::string::npos);
    BOOST_TEST(with([](json::object& c) {
                   c["scope"] = "eformidling:dpo global/kontaktinformasjon.read";
               }).find("invalid_scope") == 0u);
    BOOST_TEST(with([](json::object& c) { c.erase("scope"); }).find("Missing scope") != std::string::npos);
    BOOST_TEST(with([](json::object& c) {
                   c["consumer_org"] = "910075918";
                   c["iss_onbehalfof"] = "x";
               }).find("exclude each other") != std::string::npos);
    BOOST_TEST(with([](json::object& c) {
                   c["authorization_details"] = json::array{json::object{{"type", "urn:altinn:other"}}};
               }).find("MP-301") != std::string::npos);
    BOOST_TEST(with([](json::object& c) {
                   c["authorization_details"] = json::array{
                       json::object{{"type", "urn:altinn:systemuser"},
                                    {"systemuser_org", json::object{{"authority", "iso6523-actorid-upis"},
                                                                    {"ID", "0192:910077473"}}},
                                    {"colour", "blue"}}};
               }).find("MP-302") != std::string::npos);
    BOOST_TEST(with([](json::object& c) {
                   c["authorization_details"] = json::array{
                       json::object{{"type", "urn:altinn:systemuser"},
                                    {"systemuser_org", json::object{{"authority", "iso6523-actorid-upis"},
                                                                    {"ID", "9908:910077473"}}}}};
               }).find("MP-303") != std::string::npos);

    // Header checks.
    const auto c = t.claims();
    BOOST_TEST(t.refusal(t.token(t.grant(c, {{"alg", "none"}}))).find("Unsupported JWT alg") !=
               std::string::npos);
    BOOST_TEST(t.refusal(t.token(t.grant(c, {{"alg", "RS256"}, {"x5c", "MIIB"}}))).find("MP-123") !=
               std::string::npos);
    BOOST_TEST(t.refusal(t.token(t.grant(c, {{"alg", "RS256"}, {"kid", "k1"}}))).find("kid") !=
               std::string::npos);
    auto forged = t.grant(t.claims());
    auto& flipped = forged[forged.rfind('.') + 5];
    flipped = flipped == 'A' ? 'B' : 'A';
    BOOST_TEST(t.refusal(t.token(forged)).find("MP-124") != std::string::npos);

    // The form: exactly grant_type and assertion, as a form.
    const auto extra =
        t.call(http::verb::post, "/token",
               "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&client_id=x&assertion=" +
                   t.grant(t.claims()),
               {{"Content-Type", "application/x-www-form-urlencoded"}});
    BOOST_TEST(t.refusal(extra).find("Unexpected parameter client_id") != std::string::npos);
    const auto json_body = t.call(http::verb::post, "/token", "{}", {{"Content-Type", "application/json"}});
    BOOST_TEST(t.refusal(json_body).find("invalid_request") == 0u);
    const auto other_grant = t.call(http::verb::post, "/token", "grant_type=client_credentials&assertion=x",
                                    {{"Content-Type", "application/x-www-form-urlencoded"}});
    BOOST_TEST(t.refusal(other_grant).find("unsupported_grant_type") == 0u);
}

// The form is read as application/x-www-form-urlencoded: '+' and %20 are spaces, escapes in
// either case decode, and a bad escape is refused with the reason rather than passed through.
BOOST_AUTO_TEST_CASE(reads_the_token_form_strictly) {
    client_context t;
    const auto form = [&t](const std::string& body) {
        return t.call(http::verb::post, "/token", body,
                      {{"Content-Type", "application/x-www-form-urlencoded"}});
    };
    const auto lower_case = form(
        "grant_type=urn%3aietf%3aparams%3aoauth%3agrant-type%3ajwt-bearer&assertion=" + t.grant(t.claims()));
    BOOST_TEST(lower_case.status == 200u, lower_case.body);
    BOOST_TEST(t.refusal(form("grant_type=client+credentials&assertion=x"))
                   .find("Unsupported grant_type client credentials") != std::string::npos);
    const auto invalid = t.refusal(form("grant_type=urn%G1&assertion=x"));
    BOOST_TEST(invalid.find("invalid_request") == 0u, invalid);
    BOOST_TEST(invalid.find("invalid %-escape") != std::string::npos, invalid);
    const auto cut = t.refusal(form("grant_type=x&assertion=abc%4"));
    BOOST_TEST(cut.find("truncated %-escape") != std::string::npos, cut);
}

BOOST_AUTO_TEST_CASE(reads_the_organisation_from_either_certificate_profile) {
    client_context t;
    // B's certificate from init is SEID 2.0 (organizationIdentifier): its grant is accepted.
    auto b_claims = t.claims();
    b_claims["iss"] = std::string("MOVE_IP_") + org_b;
    const auto b_dir = shared().sb.dir() / "orgs" / org_b;
    const auto seid2 = t.token(t.grant_with(read(b_dir / "cert.pem"), read(b_dir / "key.pem"), b_claims));
    BOOST_TEST(seid2.status == 200u, seid2.body);
    BOOST_TEST(t.token(t.grant(t.claims())).status == 200u); // A's: SEID 1

    // Certificates from the sandbox CA whose subjects name another, two, or no organisation.
    const auto ca = sandbox::certificate_authority::load(shared().sb.dir() / "ca/ca.pem",
                                                         shared().sb.dir() / "ca/ca-key.pem")
                        .value();
    const auto refusal_for = [&](const sandbox::certificate_request& request) {
        const auto issued = ca.issue(request);
        return t.refusal(t.token(t.grant_with(issued.certificate_pem, issued.private_key_pem, t.claims())));
    };
    const auto other =
        refusal_for({.common_name = "A", .organization_identifier = std::string("NTRNO-") + org_b});
    BOOST_TEST(other.find("does not match the client's owner") != std::string::npos, other);
    BOOST_TEST(other.find("MP-122") != std::string::npos, other);
    const auto two = refusal_for({.common_name = "A",
                                  .serial_number = org_b,
                                  .organization_identifier = std::string("NTRNO-") + org_a});
    BOOST_TEST(two.find("two different organisation numbers") != std::string::npos, two);
    BOOST_TEST(two.find("MP-122") != std::string::npos, two);
    const auto none = refusal_for({.common_name = "A"});
    BOOST_TEST(none.find("names no organisation number") != std::string::npos, none);
    // A's own number as SEID 2.0, beside a serialNumber that is no organisation number: accepted.
    const auto mine = ca.issue({.common_name = "A",
                                .serial_number = "X-1",
                                .organization_identifier = std::string("NTRNO-") + org_a});
    BOOST_TEST(t.token(t.grant_with(mine.certificate_pem, mine.private_key_pem, t.claims())).status == 200u);
}

BOOST_AUTO_TEST_CASE(a_skewed_sandbox_clock_refuses_grants_from_the_future_of_its_view) {
    client_context t;
    t.call(http::verb::post, "/sandbox/settings", R"({"clock_skew_s":-60})");
    const auto r = t.token(t.grant(t.claims()));
    t.call(http::verb::post, "/sandbox/settings", R"({"clock_skew_s":0})");
    BOOST_TEST(t.refusal(r).find("Issue time is after now") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(issues_tokens_with_the_configured_lifetime) {
    client_context t;
    t.call(http::verb::post, "/sandbox/settings", R"({"token_lifetime_s":5})");
    const auto r = t.token(t.grant(t.claims()));
    t.call(http::verb::post, "/sandbox/settings", R"({"token_lifetime_s":120})");
    BOOST_TEST_REQUIRE(r.status == 200u);
    const auto body = json::parse(r.body);
    BOOST_TEST(body.at("expires_in").as_int64() == 5);
    const auto claims = json::parse(jose::parse(body.at("access_token").as_string())->payload);
    BOOST_TEST(claims.at("exp").as_int64() - claims.at("iat").as_int64() == 5);
    BOOST_TEST(claims.at("token_type").as_string() == "Bearer");
    BOOST_TEST(!claims.as_object().contains("aud"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sandbox_service_registry)

BOOST_AUTO_TEST_CASE(checks_bearer_tokens_as_the_real_sr) {
    client_context t;
    const std::string path = std::string("/adressetjeneste/identifier/") + org_b;
    const auto none = t.call(http::verb::get, path);
    BOOST_TEST(none.status == 401u);
    BOOST_TEST(none.body.empty());
    BOOST_TEST(none.header("WWW-Authenticate").rfind("Bearer", 0) == 0u);
    const auto garbage = t.call(http::verb::get, path, {}, {{"Authorization", "Bearer abc.def.ghi"}});
    BOOST_TEST(garbage.status == 401u);

    const auto good = t.access_token(t.claims());
    BOOST_TEST(t.call(http::verb::get, path, {}, {{"Authorization", "Bearer " + good}}).status == 200u);
    // /jwk needs no token; /info does not need consumer.
    BOOST_TEST(t.call(http::verb::get, "/adressetjeneste/jwk").status == 200u);
    // A token that expired more than 60 s ago is refused; within the leeway it is accepted.
    t.call(http::verb::post, "/sandbox/settings", R"({"token_lifetime_s":1})");
    const auto short_lived = t.access_token(t.claims());
    t.call(http::verb::post, "/sandbox/settings", R"({"token_lifetime_s":120,"clock_skew_s":30})");
    const auto within = t.call(http::verb::get, path, {}, {{"Authorization", "Bearer " + short_lived}});
    t.call(http::verb::post, "/sandbox/settings", R"({"clock_skew_s":90})");
    const auto beyond = t.call(http::verb::get, path, {}, {{"Authorization", "Bearer " + short_lived}});
    t.call(http::verb::post, "/sandbox/settings", R"({"clock_skew_s":0})");
    BOOST_TEST(within.status == 200u);
    BOOST_TEST(beyond.status == 401u);
}

BOOST_AUTO_TEST_CASE(answers_fallbacks_persons_and_errors_as_the_sr_does) {
    client_context t;
    const std::vector<std::pair<std::string, std::string>> auth{
        {"Authorization", "Bearer " + t.access_token(t.claims())}};
    const auto get = [&](const std::string& p) {
        return t.call(http::verb::get, "/adressetjeneste" + p, {}, auth);
    };

    // B is on DPO for administrasjon only: other arkivmelding processes fall back to DPV.
    const auto plan = get(std::string("/identifier/") + org_b +
                          "/process/urn:no:difi:profile:arkivmelding:planByggOgGeodata:ver1.0");
    BOOST_TEST_REQUIRE(plan.status == 200u, plan.body);
    const auto plan_json = json::parse(plan.body);
    const auto& record = plan_json.at("serviceRecords").as_array().at(0).as_object();
    BOOST_TEST(record.at("service").at("identifier").as_string() == "DPV");
    BOOST_TEST(record.at("pemCertificate").is_null());
    BOOST_TEST(record.at("service").at("securityLevel").is_null());
    // ... but not at security level 4, and the response process has no fallback.
    const auto level4 =
        get(std::string("/identifier/") + org_b +
            "/process/urn:no:difi:profile:arkivmelding:planByggOgGeodata:ver1.0?securityLevel=4");
    BOOST_TEST(level4.status == 404u);
    BOOST_TEST(level4.body.find("not found for receiver") != std::string::npos);
    const auto response = get(std::string("/identifier/") + org_b +
                              "/process/urn:no:difi:profile:arkivmelding:response:ver1.0");
    BOOST_TEST(response.status == 404u);
    // Without a process: every arkivmelding process (DPO or DPV), no response process.
    const auto all = json::parse(get(std::string("/identifier/") + org_b).body);
    BOOST_TEST(all.at("serviceRecords").as_array().size() == 10u);
    // 0192: prefixes are accepted; junk is a 400; persons need the DPI scope.
    BOOST_TEST(get(std::string("/identifier/0192:") + org_b).status == 200u);
    BOOST_TEST(get("/identifier/abc").status == 400u);
    BOOST_TEST(get("/identifier/09118532322").status == 401u);
    // /info: unknown organisations get an empty 404.
    const auto unknown_info = get("/info/999999999");
    BOOST_TEST(unknown_info.status == 404u);
    BOOST_TEST(unknown_info.body.empty());
    const auto info = json::parse(get(std::string("/info/") + org_a).body);
    BOOST_TEST(info.at("serviceRecords").as_array().empty());
    // /virksert: the PEM, plain text.
    const auto virksert = get(std::string("/virksert/") + org_a);
    BOOST_TEST(virksert.status == 200u);
    BOOST_TEST(virksert.body == read(shared().sb.dir() / "orgs" / org_a / "cert.pem"));
    BOOST_TEST(virksert.header("Content-Type").rfind("text/plain", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(identifier_lookups_need_an_iso6523_consumer_and_the_trusted_issuer) {
    client_context t;
    // Tokens made with the sandbox's own Maskinporten key, so their claims can be anything.
    Botan::DataSource_Memory key_source(read(shared().sb.dir() / "maskinporten/signing-key.pem"));
    const std::shared_ptr<const Botan::Private_Key> key(Botan::PKCS8::load_key(key_source));
    const sandbox::token_authority issuer(shared().sb.base_url() + "/", key);
    const auto now = std::chrono::system_clock::now();
    const auto no_consumer = issuer.issue({{"scope", "eformidling:dpo"}}, now, 60s);
    const auto bearer = [](const std::string& token) {
        return std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer " + token}};
    };
    const auto refused =
        t.call(http::verb::get, std::string("/adressetjeneste/identifier/") + org_b, {}, bearer(no_consumer));
    BOOST_TEST(refused.status == 401u);
    BOOST_TEST(json::parse(refused.body).at("error_description").as_string() == "Access Denied");
    BOOST_TEST(t.call(http::verb::get, std::string("/adressetjeneste/info/") + org_b, {}, bearer(no_consumer))
                   .status == 200u);
    // Same key, another issuer (no trailing slash): refused before any controller runs.
    const sandbox::token_authority stranger(shared().sb.base_url(), key);
    const auto foreign = stranger.issue(
        {{"consumer", json::object{{"authority", "iso6523-actorid-upis"}, {"ID", "0192:910077473"}}}}, now,
        60s);
    const auto wrong_issuer =
        t.call(http::verb::get, std::string("/adressetjeneste/info/") + org_b, {}, bearer(foreign));
    BOOST_TEST(wrong_issuer.status == 401u);
    BOOST_TEST(wrong_issuer.body.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sandbox_plumbing)

BOOST_AUTO_TEST_CASE(logs_every_request_as_a_json_line) {
    client_context t;
    const std::string marker = "/nothing-here/" + kurer::random_uuid();
    std::string binary(100 * 1024, '\0');
    for (std::size_t i = 0; i < binary.size(); ++i)
        binary[i] = static_cast<char>(i * 7);
    t.call(http::verb::post, marker, binary, {{"Authorization", "Bearer abcdefghijklmnopqrstuvwxyz"}});
    // The line is written once the request is done, after the answer went out (the unread body is
    // read for the log first). A second request on the same kept-alive connection is read only
    // after that, so its answer means the line is there.
    BOOST_TEST_REQUIRE(t.call(http::verb::get, "/sandbox/health").reused_connection);
    std::optional<json::object> line;
    std::istringstream log(read(shared().sb.dir() / "requests.jsonl"));
    for (std::string l; std::getline(log, l);) {
        auto v = json::parse(l).as_object();
        if (v.at("target").as_string() == marker)
            line = v;
    }
    BOOST_TEST_REQUIRE(line.has_value());
    BOOST_TEST(line->at("method").as_string() == "POST");
    BOOST_TEST(line->at("status").as_int64() == 404);
    BOOST_TEST(!line->at("time").as_string().empty());
    BOOST_TEST(line->at("headers").at("Authorization").as_string() == "Bearer abcdefghijkl...(26 bytes)");
    BOOST_TEST(line->at("body_encoding").as_string() == "base64");
    BOOST_TEST(line->at("body_bytes").as_int64() == 100 * 1024);
    BOOST_TEST(line->at("body_truncated").as_bool());
    const auto body = jose::from_base64(line->at("body").as_string()).value();
    BOOST_TEST(body.size() == sandbox::request_log::body_limit);
    BOOST_TEST(std::equal(body.begin(), body.end(), binary.begin(),
                          [](std::uint8_t a, char b) { return a == static_cast<std::uint8_t>(b); }));
    BOOST_TEST(sandbox::request_log::count_key("GET", "/a/b?securityLevel=3&conversationId=x&print=false") ==
               "GET /a/b?securityLevel=3&print=false");
}

BOOST_AUTO_TEST_CASE(fault_rules_are_validated_counted_and_cleared) {
    client_context t;
    const auto bad = t.call(http::verb::post, "/sandbox/faults", R"({"path_prefix":"/x","colour":"red"})");
    BOOST_TEST(bad.status == 400u);
    BOOST_TEST(bad.body.find("colour") != std::string::npos);
    BOOST_TEST(t.call(http::verb::post, "/sandbox/faults", R"({"path_prefix":"/jwk","status":418,"count":2})")
                   .status == 200u);
    BOOST_TEST(
        t.call(http::verb::post, "/sandbox/faults", R"({"path_prefix":"/.well-known","status":500,"rate":0})")
            .status == 200u);
    BOOST_TEST(t.call(http::verb::get, "/jwk").status == 418u);
    BOOST_TEST(t.call(http::verb::get, "/jwk").status == 418u);
    BOOST_TEST(t.call(http::verb::get, "/jwk").status == 200u);                                    // spent
    BOOST_TEST(t.call(http::verb::get, "/.well-known/oauth-authorization-server").status == 200u); // rate 0
    const auto listed = json::parse(t.call(http::verb::get, "/sandbox/faults").body);
    BOOST_TEST(listed.at("rules").as_array().size() == 2u);
    BOOST_TEST(listed.at("rules").as_array()[0].at("applied").as_int64() == 2);
    t.call(http::verb::delete_, "/sandbox/faults");
    BOOST_TEST(json::parse(t.call(http::verb::get, "/sandbox/faults").body).at("rules").as_array().empty());
    // Control endpoints are never faulted.
    t.call(http::verb::post, "/sandbox/faults", R"({"path_prefix":"/","status":503})");
    BOOST_TEST(t.call(http::verb::get, "/sandbox/health").status == 200u);
    BOOST_TEST(t.call(http::verb::get, "/jwk").status == 503u);
    t.call(http::verb::delete_, "/sandbox/faults");
}

BOOST_AUTO_TEST_CASE(command_line_faults_and_a_clean_stop) {
    kurer::testing::scratch_dir dir;
    auto sb =
        sandbox::child::start(exe(), dir / "sb",
                              {.organizations = {org_a},
                               .serve_args = {"--fault", R"({"path_prefix":"/jwk","status":503,"count":1})",
                                              "--set", R"({"token_lifetime_s":7})"}})
            .value();
    asio::io_context io;
    auto c = http::client::create(io.get_executor(), {.ca_bundle = sb.dir() / "ca/ca.pem"}).value();
    http::request r;
    r.url = sb.base_url() + "/jwk";
    BOOST_TEST(kurer::test::run(io, c.send(r))->status == 503u);
    BOOST_TEST(kurer::test::run(io, c.send(r))->status == 200u);
    r.url = sb.base_url() + "/sandbox/settings";
    BOOST_TEST(json::parse(kurer::test::run(io, c.send(r))->body).at("token_lifetime_s").as_int64() == 7);
    // The kurer.json written at start names the port actually used.
    const auto config = json::parse(read(sb.dir() / "orgs" / org_a / "kurer.json"));
    BOOST_TEST(config.at("maskinporten").at("token_url").as_string() == sb.base_url() + "/token");
    BOOST_TEST(sb.stop() == 0); // a clean exit on SIGTERM
    auto after = kurer::test::run(io, c.send(r));
    BOOST_TEST(after.has_error());
}

BOOST_AUTO_TEST_SUITE_END()

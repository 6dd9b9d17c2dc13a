// The token provider against kurer-sandbox's Maskinporten over real TLS on loopback.
#include "../http/run.hpp"

#include <kurer/core/uuid.hpp>
#include <kurer/http/client.hpp>
#include <kurer/maskinporten/grant.hpp>
#include <kurer/maskinporten/jose.hpp>
#include <kurer/maskinporten/token_provider.hpp>
#include <kurer/sandbox/child.hpp>
#include <kurer/sandbox/pki.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>

namespace asio = boost::asio;
namespace http = kurer::http;
namespace mp = kurer::maskinporten;
namespace sandbox = kurer::sandbox;
using namespace std::chrono_literals;

namespace {

constexpr const char* org = "910077473";
constexpr const char* other_org = "910075918";

// One sandbox for the whole file: init costs a few RSA keys.
struct sandbox_fixture {
    kurer::testing::scratch_dir dir;
    sandbox::child sb;

    sandbox_fixture()
        : sb(sandbox::child::start(kurer::testing::executable("kurer-sandbox"), dir / "sandbox").value()) {}

    std::filesystem::path path(std::string_view p) const { return sb.dir() / p; }
};

sandbox_fixture& shared() {
    static sandbox_fixture f;
    return f;
}

struct test_context {
    asio::io_context io;
    http::client client;

    test_context()
        : client(http::client::create(io.get_executor(), {.ca_bundle = shared().path("ca/ca.pem")}).value()) {
    }

    mp::config config_for(std::string_view number) const {
        return {.token_url = shared().sb.base_url() + "/token",
                .audience = shared().sb.base_url() + "/",
                .client_id = "MOVE_IP_" + std::string(number)};
    }

    mp::credentials credentials_for(std::string_view number) const {
        const auto dir = shared().path("orgs/" + std::string(number));
        return mp::credentials::load(dir / "cert.pem", dir / "key.pem").value();
    }

    mp::token_provider provider(mp::config cfg, mp::provider_options options = {}) {
        return mp::token_provider::create(client, std::move(cfg), credentials_for(org), std::move(options))
            .value();
    }

    // Any control call to the sandbox.
    http::response control(http::verb method, std::string path, std::string body = {}) {
        http::request r;
        r.method = method;
        r.url = shared().sb.base_url() + path;
        if (!body.empty())
            r.body = http::body_source::from_string(std::move(body));
        return kurer::test::run(io, client.send(std::move(r))).value();
    }

    std::uint64_t token_requests_seen() {
        const auto stats = boost::json::parse(control(http::verb::get, "/sandbox/stats").body);
        const auto* n = stats.at("requests").as_object().if_contains("POST /token");
        return n ? static_cast<std::uint64_t>(n->as_int64()) : 0;
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(token_provider)

BOOST_AUTO_TEST_CASE(obtains_a_token_the_sandbox_issued_and_caches_it) {
    test_context t;
    auto tokens = t.provider(t.config_for(org));
    const auto before = t.token_requests_seen();
    auto first = kurer::test::run(t.io, tokens.get({.scopes = {"eformidling:dpo"}}));
    BOOST_TEST_REQUIRE(first.has_value(), first.error().message);
    BOOST_TEST(first->scope == "eformidling:dpo");
    BOOST_TEST(first->expires_in.count() == 120);
    // The access token is the sandbox's RS256 JWT with Maskinporten's claims.
    const auto claims = boost::json::parse(mp::jose::parse(first->value)->payload).as_object();
    BOOST_TEST(claims.at("iss").as_string() == shared().sb.base_url() + "/");
    BOOST_TEST(claims.at("client_id").as_string() == "MOVE_IP_910077473");
    BOOST_TEST(claims.at("client_amr").as_string() == "virksomhetssertifikat");
    BOOST_TEST(claims.at("consumer").at("ID").as_string() == "0192:910077473");

    auto second = kurer::test::run(t.io, tokens.get({.scopes = {"eformidling:dpo"}}));
    BOOST_TEST_REQUIRE(second.has_value());
    BOOST_TEST(second->value == first->value);
    BOOST_TEST(tokens.requests_made() == 1u);
    BOOST_TEST(t.token_requests_seen() == before + 1);
}

BOOST_AUTO_TEST_CASE(renews_the_token_refresh_margin_before_it_expires) {
    test_context t;
    auto now = std::chrono::steady_clock::now();
    auto tokens = t.provider(t.config_for(org), {.steady_clock = [&now] {
                                 return now;
                             }});
    auto first = kurer::test::run(t.io, tokens.get({.scopes = {"eformidling:dpo"}}));
    BOOST_TEST_REQUIRE(first.has_value(), first.error().message);
    now += 99s; // 120 s token, 20 s margin: still good
    BOOST_TEST(kurer::test::run(t.io, tokens.get({.scopes = {"eformidling:dpo"}}))->value == first->value);
    now += 2s;
    auto renewed = kurer::test::run(t.io, tokens.get({.scopes = {"eformidling:dpo"}}));
    BOOST_TEST_REQUIRE(renewed.has_value());
    BOOST_TEST(renewed->value != first->value);
    BOOST_TEST(tokens.requests_made() == 2u);
}

BOOST_AUTO_TEST_CASE(many_concurrent_askers_cause_one_token_request) {
    test_context t;
    auto tokens = t.provider(t.config_for(org));
    const auto before = t.token_requests_seen();
    constexpr int askers = 40;
    std::vector<std::string> values;
    for (int i = 0; i < askers; ++i)
        asio::co_spawn(t.io, tokens.get({.scopes = {"eformidling:dpo", "eformidling:dpe"}}),
                       [&](std::exception_ptr, kurer::result<mp::access_token> r) {
                           values.push_back(r ? r->value : "error: " + r.error().message);
                       });
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (values.size() < askers && std::chrono::steady_clock::now() < deadline)
        t.io.run_one_for(50ms);
    BOOST_TEST_REQUIRE(values.size() == static_cast<std::size_t>(askers));
    BOOST_TEST(std::count(values.begin(), values.end(), values.front()) == askers);
    BOOST_TEST(values.front().rfind("error", 0) != 0, values.front());
    BOOST_TEST(tokens.requests_made() == 1u);
    BOOST_TEST(t.token_requests_seen() == before + 1);
}

BOOST_AUTO_TEST_CASE(altinn3_system_user_tokens_carry_authorization_details) {
    test_context t;
    auto tokens = t.provider(t.config_for(org));
    const mp::token_request req{.scopes = {"altinn:broker.write"},
                                .system_user = mp::altinn_system_user{
                                    org, std::string(org) + "_integrasjonspunkt_systembruker_" + org}};
    auto token = kurer::test::run(t.io, tokens.get(req));
    BOOST_TEST_REQUIRE(token.has_value(), token.error().message);
    const auto claims = boost::json::parse(mp::jose::parse(token->value)->payload).as_object();
    const auto& detail = claims.at("authorization_details").as_array().at(0).as_object();
    BOOST_TEST(detail.at("type").as_string() == "urn:altinn:systemuser");
    BOOST_TEST(detail.at("systemuser_org").at("ID").as_string() == "0192:910077473");

    // A system user of another organisation is refused.
    const mp::token_request foreign{.scopes = {"altinn:broker.write"},
                                    .system_user = mp::altinn_system_user{other_org, ""}};
    auto refused = kurer::test::run(t.io, tokens.fetch(foreign));
    BOOST_TEST_REQUIRE(refused.has_error());
    BOOST_TEST(refused.error().message.find("MP-303") != std::string::npos, refused.error().message);
}

BOOST_AUTO_TEST_CASE(an_expired_grant_is_refused_and_the_error_says_why) {
    test_context t;
    // The client's clock is five minutes slow: its grant expired before it was sent.
    auto tokens = t.provider(t.config_for(org), {.wall_clock = [] {
                                 return std::chrono::system_clock::now() - 5min;
                             }});
    auto r = kurer::test::run(t.io, tokens.get({.scopes = {"eformidling:dpo"}}));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == make_error_code(mp::errc::invalid_grant));
    BOOST_TEST(!r.error().retryable);
    BOOST_TEST(r.error().message.find("JWT is expired") != std::string::npos, r.error().message);
    BOOST_TEST(r.error().message.find("(MP-130)") != std::string::npos, r.error().message);
}

BOOST_AUTO_TEST_CASE(a_wrong_audience_is_refused) {
    test_context t;
    auto cfg = t.config_for(org);
    cfg.audience = cfg.token_url; // the token endpoint is no longer a valid audience
    auto tokens = t.provider(cfg);
    auto r = kurer::test::run(t.io, tokens.get({.scopes = {"eformidling:dpo"}}));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == make_error_code(mp::errc::invalid_grant));
    BOOST_TEST(r.error().message.find("aud") != std::string::npos);
    BOOST_TEST(r.error().message.find("MP-110") != std::string::npos, r.error().message);
}

BOOST_AUTO_TEST_CASE(a_reused_jti_is_refused) {
    test_context t;
    const auto cfg = t.config_for(org);
    const mp::grant_claims claims{
        .audience = cfg.audience, .issuer = cfg.client_id, .scopes = {"eformidling:dpo"}};
    const auto grant =
        mp::make_grant(claims, t.credentials_for(org), std::chrono::system_clock::now(), kurer::random_uuid())
            .value();
    auto first = kurer::test::run(t.io, mp::request_token(&t.client, cfg.token_url, grant));
    BOOST_TEST_REQUIRE(first.has_value(), first.error().message);
    auto again = kurer::test::run(t.io, mp::request_token(&t.client, cfg.token_url, grant));
    BOOST_TEST_REQUIRE(again.has_error());
    BOOST_TEST(again.error().code == make_error_code(mp::errc::invalid_grant));
    BOOST_TEST(again.error().message.find("Grant is used before") != std::string::npos,
               again.error().message);
    BOOST_TEST(again.error().message.find("(MP-012)") != std::string::npos, again.error().message);
}

BOOST_AUTO_TEST_CASE(wrong_certificates_are_refused) {
    test_context t;
    // Another organisation's certificate with this organisation's client id.
    auto cfg = t.config_for(org);
    auto mismatched = mp::token_provider::create(t.client, cfg, t.credentials_for(other_org)).value();
    auto r = kurer::test::run(t.io, mismatched.get({.scopes = {"eformidling:dpo"}}));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message.find("MP-122") != std::string::npos, r.error().message);

    // A certificate from a CA the sandbox does not trust, with the right organisation number.
    const auto stranger = sandbox::certificate_authority::create("not the sandbox CA");
    const auto issued = stranger.issue({.common_name = "IMPOSTOR", .serial_number = org});
    auto forged =
        mp::token_provider::create(
            t.client, cfg, mp::credentials::from_pem(issued.certificate_pem, issued.private_key_pem).value())
            .value();
    auto f = kurer::test::run(t.io, forged.get({.scopes = {"eformidling:dpo"}}));
    BOOST_TEST_REQUIRE(f.has_error());
    BOOST_TEST(f.error().code == make_error_code(mp::errc::invalid_grant));
    BOOST_TEST(f.error().message.find("MP-120") != std::string::npos, f.error().message);
}

BOOST_AUTO_TEST_CASE(a_seid2_certificate_gets_a_token_and_one_naming_two_organisations_does_not) {
    test_context t;
    const auto ca =
        sandbox::certificate_authority::load(shared().path("ca/ca.pem"), shared().path("ca/ca-key.pem"))
            .value();
    const auto provider_with = [&](const sandbox::certificate_request& request) {
        const auto issued = ca.issue(request);
        return mp::token_provider::create(
                   t.client, t.config_for(org),
                   mp::credentials::from_pem(issued.certificate_pem, issued.private_key_pem).value())
            .value();
    };
    auto seid2 = provider_with({.common_name = "SEID2",
                                .organization = "SEID2",
                                .organization_identifier = std::string("NTRNO-") + org});
    auto token = kurer::test::run(t.io, seid2.get({.scopes = {"eformidling:dpo"}}));
    BOOST_TEST_REQUIRE(token.has_value(), token.error().message);
    BOOST_TEST(!token->value.empty());

    auto two = provider_with({.common_name = "TWO",
                              .serial_number = other_org,
                              .organization_identifier = std::string("NTRNO-") + org});
    auto refused = kurer::test::run(t.io, two.get({.scopes = {"eformidling:dpo"}}));
    BOOST_TEST_REQUIRE(refused.has_error());
    BOOST_TEST(refused.error().code == make_error_code(mp::errc::invalid_grant));
    BOOST_TEST(refused.error().message.find("two different organisation numbers") != std::string::npos,
               refused.error().message);
    BOOST_TEST(refused.error().message.find("MP-122") != std::string::npos, refused.error().message);
}

BOOST_AUTO_TEST_CASE(scopes_not_registered_for_the_client_are_refused) {
    test_context t;
    auto tokens = t.provider(t.config_for(org));
    auto r = kurer::test::run(t.io, tokens.get({.scopes = {"eformidling:dpi"}}));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == make_error_code(mp::errc::invalid_scope));
    BOOST_TEST(r.error().message.find("MP-200") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(faults_classify_as_retryable) {
    test_context t;
    auto tokens = t.provider(t.config_for(org));
    // Two 503s, then a reset mid-response.
    t.control(http::verb::post, "/sandbox/faults",
              R"([{"path_prefix":"/token","status":503,"body":"maintenance","count":1},
                  {"path_prefix":"/token","reset_after_bytes":20,"count":1}])");
    auto unavailable = kurer::test::run(t.io, tokens.get({.scopes = {"eformidling:dpo"}}));
    BOOST_TEST_REQUIRE(unavailable.has_error());
    BOOST_TEST(unavailable.error().retryable);
    BOOST_TEST(unavailable.error().message.find("maintenance") != std::string::npos);
    auto reset = kurer::test::run(t.io, tokens.get({.scopes = {"eformidling:dpo"}}));
    BOOST_TEST_REQUIRE(reset.has_error());
    BOOST_TEST(reset.error().retryable, reset.error().message);
    // The faults are spent: the next attempt succeeds.
    auto ok = kurer::test::run(t.io, tokens.get({.scopes = {"eformidling:dpo"}}));
    BOOST_TEST(ok.has_value(), (ok ? "" : ok.error().message));
}

BOOST_AUTO_TEST_CASE(a_slow_token_endpoint_times_out_as_retryable) {
    test_context t;
    auto slow_client = http::client::create(t.io.get_executor(), {.request_timeout = 300ms,
                                                                  .ca_bundle = shared().path("ca/ca.pem")})
                           .value();
    auto tokens = mp::token_provider::create(slow_client, t.config_for(org), t.credentials_for(org)).value();
    t.control(http::verb::post, "/sandbox/faults", R"({"path_prefix":"/token","latency_ms":2000,"count":1})");
    auto r = kurer::test::run(t.io, tokens.get({.scopes = {"eformidling:dpo"}}));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == make_error_code(http::errc::timeout), r.error().message);
    BOOST_TEST(r.error().retryable);
    t.control(http::verb::delete_, "/sandbox/faults");
}

BOOST_AUTO_TEST_SUITE_END()

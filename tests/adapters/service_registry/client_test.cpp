// The Service Registry client against kurer-sandbox over real TLS on loopback.
#include "../http/run.hpp"

#include <kurer/core/files.hpp>
#include <kurer/http/client.hpp>
#include <kurer/maskinporten/token_provider.hpp>
#include <kurer/sandbox/child.hpp>
#include <kurer/service_registry/client.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace asio = boost::asio;
namespace http = kurer::http;
namespace mp = kurer::maskinporten;
namespace sr = kurer::service_registry;
namespace sandbox = kurer::sandbox;
using namespace std::chrono_literals;

namespace {

constexpr const char* sender = "910077473";
constexpr const char* receiver_org = "910075918";
constexpr const char* administrasjon = "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0";
constexpr const char* arkivmelding = "urn:no:difi:arkivmelding:xsd::arkivmelding";

// The receiver holds a SEID 2.0 enterprise certificate (organizationIdentifier NTRNO-…).
struct sandbox_fixture {
    kurer::testing::scratch_dir dir;
    sandbox::child sb;
    sandbox_fixture()
        : sb(sandbox::child::start(kurer::testing::executable("kurer-sandbox"), dir / "sandbox",
                                   {.seid2_organizations = {receiver_org}})
                 .value()) {}
};

sandbox_fixture& shared() {
    static sandbox_fixture f;
    return f;
}

struct test_context {
    asio::io_context io;
    http::client client;
    mp::token_provider tokens;

    explicit test_context(http::client_config cfg = {})
        : client(make_client(io, cfg))
        , tokens(make_tokens(client)) {}

    static http::client make_client(asio::io_context& io, http::client_config cfg) {
        cfg.ca_bundle = shared().sb.dir() / "ca/ca.pem";
        return http::client::create(io.get_executor(), cfg).value();
    }
    static mp::token_provider make_tokens(http::client& c) {
        const auto dir = shared().sb.dir() / "orgs" / sender;
        return mp::token_provider::create(c,
                                          {.token_url = shared().sb.base_url() + "/token",
                                           .audience = shared().sb.base_url() + "/",
                                           .client_id = std::string("MOVE_IP_") + sender},
                                          mp::credentials::load(dir / "cert.pem", dir / "key.pem").value())
            .value();
    }

    sr::client registry(sr::config cfg = {}) {
        cfg.url = shared().sb.base_url() + "/adressetjeneste";
        return sr::client::create(client, tokens, cfg).value();
    }

    http::response control(http::verb method, std::string path, std::string body = {}) {
        http::request r;
        r.method = method;
        r.url = shared().sb.base_url() + path;
        if (!body.empty())
            r.body = http::body_source::from_string(std::move(body));
        return kurer::test::run(io, client.send(std::move(r))).value();
    }

    std::int64_t seen(const std::string& key) {
        const auto stats = boost::json::parse(control(http::verb::get, "/sandbox/stats").body);
        const auto* n = stats.at("requests").as_object().if_contains(key);
        return n ? n->as_int64() : 0;
    }
};

sr::lookup dpo_lookup(std::string conversation = "37efbd4c-413d-4e2c-bbc5-000000000001") {
    return {
        .identifier = receiver_org, .process = administrasjon, .conversation_id = std::move(conversation)};
}

} // namespace

BOOST_AUTO_TEST_SUITE(service_registry_client)

BOOST_AUTO_TEST_CASE(resolves_a_dpo_receiver_with_a_verified_signed_answer) {
    test_context t;
    auto registry = t.registry();
    auto r = kurer::test::run(t.io, registry.resolve(dpo_lookup(), arkivmelding));
    BOOST_TEST_REQUIRE(r.has_value(), r.error().message);
    BOOST_TEST(r->record.service.identifier == "DPO");
    BOOST_TEST(r->record.process == administrasjon);
    BOOST_TEST(*r->record.service.service_code == "4192");
    BOOST_TEST(*r->record.service.service_edition_code == "270815");
    BOOST_TEST(r->info.organization_name == "SANDBOX ORG 910075918");
    BOOST_TEST_REQUIRE(r->certificate.has_value());
    BOOST_TEST(r->certificate->organization_number == receiver_org); // from organizationIdentifier
    BOOST_TEST(r->certificate->subject.find(std::string("NTRNO-") + receiver_org) != std::string::npos,
               r->certificate->subject);
    // The certificate is the receiver's own enterprise certificate.
    const auto own =
        kurer::read_small_file(shared().sb.dir() / "orgs" / receiver_org / "cert.pem", 1 << 20).value();
    BOOST_TEST(r->certificate->pem == own);
    // The last request asked for a signed answer.
    const auto log = kurer::read_small_file(shared().sb.dir() / "requests.jsonl", 64 << 20).value();
    BOOST_TEST(log.find("\"Accept\":\"application/jose, application/json\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(caches_lookups_without_the_conversation_id) {
    test_context t;
    auto registry = t.registry();
    const std::string key =
        std::string("GET /adressetjeneste/identifier/") + receiver_org + "/process/" + administrasjon;
    const auto before = t.seen(key);
    const auto requests_before = registry.requests_made();
    BOOST_TEST_REQUIRE(kurer::test::run(t.io, registry.resolve(dpo_lookup("c1"), arkivmelding)).has_value());
    BOOST_TEST_REQUIRE(kurer::test::run(t.io, registry.resolve(dpo_lookup("c2"), arkivmelding)).has_value());
    BOOST_TEST_REQUIRE(kurer::test::run(t.io, registry.find(dpo_lookup("c3"))).has_value());
    BOOST_TEST(t.seen(key) == before + 1);
    BOOST_TEST(registry.requests_made() == requests_before + 2); // the lookup and the /jwk
}

BOOST_AUTO_TEST_CASE(concurrent_lookups_share_one_request) {
    test_context t;
    auto registry = t.registry();
    const std::string key =
        std::string("GET /adressetjeneste/identifier/") + sender + "/process/" + administrasjon;
    const auto before = t.seen(key);
    int done = 0;
    for (int i = 0; i < 20; ++i)
        asio::co_spawn(
            t.io, registry.resolve({.identifier = sender, .process = administrasjon}, arkivmelding),
            [&](std::exception_ptr, kurer::result<sr::receiver> r) { done += r.has_value() ? 1 : 100; });
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (done < 20 && std::chrono::steady_clock::now() < deadline)
        t.io.run_one_for(50ms);
    BOOST_TEST(done == 20);
    BOOST_TEST(t.seen(key) == before + 1);
}

BOOST_AUTO_TEST_CASE(an_unknown_receiver_is_not_registered_permanently) {
    test_context t;
    auto registry = t.registry();
    auto r = kurer::test::run(
        t.io, registry.resolve({.identifier = "404040404", .process = administrasjon}, arkivmelding));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == make_error_code(sr::errc::not_registered));
    BOOST_TEST(!r.error().retryable);
    BOOST_TEST(r.error().message.find("Entity with identifier '404040404' not found.") != std::string::npos,
               r.error().message);

    auto process = kurer::test::run(
        t.io, registry.find({.identifier = receiver_org, .process = "urn:no:difi:profile:unknown:ver1.0"}));
    BOOST_TEST_REQUIRE(process.has_error());
    BOOST_TEST(process.error().code == make_error_code(sr::errc::not_registered));
    BOOST_TEST(process.error().message.find(
                   "Process urn:no:difi:profile:unknown:ver1.0 not found for receiver") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_document_type_the_receiver_does_not_take_is_refused) {
    test_context t;
    auto registry = t.registry();
    auto r = kurer::test::run(t.io, registry.resolve(dpo_lookup(), "urn:no:difi:arkivmelding:xsd::status"));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == make_error_code(sr::errc::no_matching_record));
}

BOOST_AUTO_TEST_CASE(lists_all_records_and_info) {
    test_context t;
    auto registry = t.registry();
    auto all = kurer::test::run(t.io, registry.find({.identifier = receiver_org}));
    BOOST_TEST_REQUIRE(all.has_value(), all.error().message);
    BOOST_TEST(all->records.size() == 11u); // ten arkivmelding processes and the response process
    auto info = kurer::test::run(t.io, registry.info(receiver_org));
    BOOST_TEST_REQUIRE(info.has_value(), info.error().message);
    BOOST_TEST(info->records.empty());
    BOOST_TEST(info->info.identifier == receiver_org);
}

BOOST_AUTO_TEST_CASE(a_tampered_signature_is_refused_and_a_rotated_key_is_followed) {
    test_context t;
    auto registry = t.registry({.cache_ttl = 0s});
    t.control(http::verb::post, "/sandbox/settings", R"({"sr_corrupt_signature":true})");
    auto tampered = kurer::test::run(t.io, registry.find(dpo_lookup()));
    t.control(http::verb::post, "/sandbox/settings", R"({"sr_corrupt_signature":false})");
    BOOST_TEST_REQUIRE(tampered.has_error());
    BOOST_TEST(tampered.error().code == make_error_code(sr::errc::bad_signature));
    BOOST_TEST(tampered.error().message.find("does not verify") != std::string::npos,
               tampered.error().message);

    // An unsigned answer to a request for a signed one is refused too.
    t.control(http::verb::post, "/sandbox/settings", R"({"sr_unsigned":true})");
    auto unsigned_answer = kurer::test::run(t.io, registry.find(dpo_lookup()));
    t.control(http::verb::post, "/sandbox/settings", R"({"sr_unsigned":false})");
    BOOST_TEST_REQUIRE(unsigned_answer.has_error());
    BOOST_TEST(unsigned_answer.error().code == make_error_code(sr::errc::bad_signature));

    // With a cached key set, a rotated SR key makes the client fetch /jwk again and succeed.
    auto cached_keys = t.registry({.cache_ttl = 300s});
    BOOST_TEST_REQUIRE(kurer::test::run(t.io, cached_keys.info(receiver_org)).has_value());
    t.control(http::verb::post, "/sandbox/settings", R"({"sr_rotate_key":true})");
    auto after_rotation = kurer::test::run(t.io, cached_keys.find(dpo_lookup()));
    BOOST_TEST(after_rotation.has_value(), (after_rotation ? "" : after_rotation.error().message));
}

BOOST_AUTO_TEST_CASE(unsigned_mode_reads_plain_json) {
    test_context t;
    auto registry = t.registry({.signed_responses = false});
    auto r = kurer::test::run(t.io, registry.resolve(dpo_lookup(), arkivmelding));
    BOOST_TEST_REQUIRE(r.has_value(), r.error().message);
    BOOST_TEST(r->record.service.identifier == "DPO");
}

BOOST_AUTO_TEST_CASE(faults_are_retryable_and_never_cached) {
    test_context t({.request_timeout = 500ms});
    auto registry = t.registry();
    // Each fault twice: a GET that died before any answer arrived is sent again once on a fresh
    // connection, and that attempt must meet the fault as well.
    const std::pair<const char*, const char*> faults[] = {
        {"5xx",
         R"({"path_prefix":"/adressetjeneste/identifier","status":502,"body":"bad gateway","count":2})"},
        {"reset", R"({"path_prefix":"/adressetjeneste/identifier","reset_after_bytes":10,"count":2})"},
        {"timeout", R"({"path_prefix":"/adressetjeneste/identifier","latency_ms":2000,"count":2})"},
    };
    for (const auto& [what, rule] : faults) {
        t.control(http::verb::delete_, "/sandbox/faults");
        t.control(http::verb::post, "/sandbox/faults", rule);
        auto r = kurer::test::run(t.io, registry.resolve(dpo_lookup(), arkivmelding));
        BOOST_TEST_REQUIRE(r.has_error(), what);
        BOOST_TEST(r.error().retryable, what << ": " << r.error().message);
    }
    t.control(http::verb::delete_, "/sandbox/faults");
    auto ok = kurer::test::run(t.io, registry.resolve(dpo_lookup(), arkivmelding));
    BOOST_TEST(ok.has_value(), (ok ? "" : ok.error().message));
}

BOOST_AUTO_TEST_SUITE_END()

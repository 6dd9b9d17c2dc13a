// kurer.json: every member read into the right place with its default, every kind of mistake
// refused with the field's name.
#include <kurer/engine/daemon_config.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <set>
#include <thread>

namespace json = boost::json;
using namespace kurer::engine;
using namespace std::chrono_literals;

namespace {

const std::filesystem::path base = "/etc/kurer/orgs/910077473";

// What `kurer-sandbox init` writes, near enough: only the required members.
json::object minimal() {
    return json::parse(R"({
      "organization": "910077473",
      "data_dir": "data",
      "admin_socket": "kurer.sock",
      "certificate": "cert.pem",
      "private_key": "key.pem",
      "enterprise_ca_bundle": "../../ca/ca.pem",
      "maskinporten": {"token_url": "https://127.0.0.1:8443/token", "audience": "https://127.0.0.1:8443/"},
      "service_registry": {"url": "https://127.0.0.1:8443/adressetjeneste"},
      "broker": {"kind": "altinn2",
                 "altinn2": {"basic_url": "https://127.0.0.1:8443/b.svc", "streamed_url": "https://127.0.0.1:8443/s.svc",
                             "system_user": "100001", "system_password": "secret-password"}}
    })")
        .as_object();
}

// Every member given, none at its default.
json::object full() {
    return json::parse(R"({
      "organization": "910077473",
      "data_dir": "/var/lib/kurer",
      "admin_socket": "run/kurer.sock",
      "admin_tcp": {"address": "127.0.0.2", "port": 8099, "token_file": "admin-token", "max_connections": 8},
      "admin": {"max_connections": 32, "max_event_clients": 4, "first_request_timeout_ms": 2000,
                "header_timeout_ms": 3000, "idle_timeout_ms": 4000},
      "certificate": "cert.pem",
      "private_key": "/keys/key.pem",
      "ca_bundle": "../../ca/ca.pem",
      "enterprise_ca_bundle": "/etc/kurer/enterprise-cas.pem",
      "signing_delegations": {"910077473": ["910075918", "910076787"], "910076787": []},
      "maskinporten": {"token_url": "https://mp.test/token", "audience": "https://mp.test/",
                       "client_id": "my-client", "scopes": ["eformidling:dpo", "move/dpo.read"],
                       "grant_lifetime_s": 60, "refresh_margin_s": 5},
      "service_registry": {"url": "https://sr.test/adressetjeneste", "signed_responses": false, "cache_ttl_s": 10},
      "broker": {"kind": "altinn3",
                 "altinn2": {"basic_url": "https://a2.test/b.svc", "streamed_url": "https://a2.test/s.svc",
                             "system_user": "100001", "system_password": "pw", "service_code": "4193",
                             "service_edition": 170101},
                 "altinn3": {"base_url": "https://a3.test/broker/api/v1", "exchange_url": "https://a3.test/exchange",
                             "resource_id": "my-resource", "system_user": "my-system-user"},
                 "message_channel": "arkiv-1",
                 "reportees": ["910075918", "910076787"]},
      "polling_interval_ms": 500,
      "default_ttl_hours": 48,
      "default_process": "urn:no:difi:profile:avtalt:avtalt:ver1.0",
      "signature_digest": "sha1",
      "limits": {"max_in_flight": 16, "max_message_bytes": 1000000},
      "http": {"connect_timeout_ms": 1000, "request_timeout_ms": 2000, "idle_timeout_ms": 3000,
               "max_connections_per_host": 2},
      "retry": {"initial_backoff_ms": 100, "max_backoff_ms": 5000, "multiplier": 1.5, "jitter": 0},
      "log_level": "debug",
      "io_threads": 3,
      "worker_threads": 4,
      "lock_timeout_ms": 60000,
      "shutdown_grace_ms": 0,
      "remove_finished_files": false
    })")
        .as_object();
}

kurer::result<daemon_config> parse(const json::object& o) {
    return parse_config(json::serialize(o), base);
}

// The error message for a document, failing the test when it parses.
std::string error_of(const json::object& o) {
    auto r = parse(o);
    BOOST_TEST_REQUIRE(!r.has_value(), "expected an error for " << json::serialize(o));
    BOOST_TEST(r.error().code == make_error_code(config_errc::invalid));
    return r.error().message;
}

// Sets the member at a dotted path (creating objects on the way) to `v`.
json::object with(json::object o, std::string_view path, json::value v) {
    json::object* at = &o;
    for (;;) {
        const auto dot = path.find('.');
        if (dot == std::string_view::npos) {
            (*at)[path] = std::move(v);
            return o;
        }
        auto& next = (*at)[path.substr(0, dot)];
        if (!next.is_object())
            next = json::object();
        at = &next.as_object();
        path = path.substr(dot + 1);
    }
}

json::object without(json::object o, std::string_view path) {
    json::object* at = &o;
    for (;;) {
        const auto dot = path.find('.');
        if (dot == std::string_view::npos) {
            at->erase(path);
            return o;
        }
        at = &(*at)[path.substr(0, dot)].as_object();
        path = path.substr(dot + 1);
    }
}

// A file with `bytes`, mode `mode` (secrets: the owner's only).
std::filesystem::path write_secret(const std::filesystem::path& p, std::string_view bytes,
                                   std::filesystem::perms mode = std::filesystem::perms::owner_read |
                                                                 std::filesystem::perms::owner_write) {
    { std::ofstream(p, std::ios::binary) << bytes; }
    std::filesystem::permissions(p, mode, std::filesystem::perm_options::replace);
    return p;
}

void expect_error(const json::object& o, std::string_view starts_with) {
    const auto message = error_of(o);
    BOOST_TEST(message.starts_with(starts_with),
               "'" << message << "' should start with '" << starts_with << "'");
}

} // namespace

BOOST_AUTO_TEST_SUITE(daemon_config_parsing)

BOOST_AUTO_TEST_CASE(minimal_config_takes_every_default) {
    const auto c = parse(minimal()).value();
    BOOST_TEST(c.runner.organization == "910077473");
    BOOST_TEST(c.runner.data_dir == base / "data");
    BOOST_TEST(c.admin_socket == base / "kurer.sock");
    BOOST_TEST(!c.admin_tcp.has_value());
    BOOST_TEST(c.certificate == base / "cert.pem");
    BOOST_TEST(c.private_key == base / "key.pem");
    BOOST_TEST(c.ca_bundle.empty());
    BOOST_TEST(c.enterprise_ca_bundle == "/etc/kurer/ca/ca.pem");
    BOOST_TEST(c.signing_delegations.empty());
    BOOST_TEST(c.maskinporten.token_url == "https://127.0.0.1:8443/token");
    BOOST_TEST(c.maskinporten.audience == "https://127.0.0.1:8443/");
    BOOST_TEST(c.maskinporten.client_id == "MOVE_IP_910077473");
    BOOST_TEST(c.runner.scopes == std::vector<std::string>{"eformidling:dpo"});
    BOOST_TEST(c.maskinporten.grant_lifetime.count() == 110);
    BOOST_TEST(c.maskinporten.refresh_margin.count() == 20);
    BOOST_TEST(c.service_registry.url == "https://127.0.0.1:8443/adressetjeneste");
    BOOST_TEST(c.service_registry.signed_responses);
    BOOST_TEST(c.service_registry.cache_ttl.count() == 300);
    BOOST_TEST((c.broker.kind == broker_kind::altinn2));
    BOOST_TEST_REQUIRE(c.broker.altinn2.has_value());
    BOOST_TEST(c.broker.altinn2->basic_url == "https://127.0.0.1:8443/b.svc");
    BOOST_TEST(c.broker.altinn2->streamed_url == "https://127.0.0.1:8443/s.svc");
    BOOST_TEST(c.broker.altinn2->system_user == "100001");
    BOOST_TEST(c.broker.altinn2->system_password == "secret-password");
    BOOST_TEST(c.broker.altinn2->service_code == "4192");
    BOOST_TEST(c.broker.altinn2->service_edition == 270815);
    BOOST_TEST(!c.broker.altinn3.has_value());
    BOOST_TEST(c.runner.message_channel.empty());
    BOOST_TEST(c.broker.reportees.empty());
    BOOST_TEST(c.runner.polling_interval.count() == 15000);
    BOOST_TEST(c.runner.default_ttl.count() == 24);
    BOOST_TEST(c.default_process == "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0");
    BOOST_TEST((c.digest == signature_digest::sha256));
    BOOST_TEST(c.runner.max_in_flight == 1000u);
    BOOST_TEST(c.max_message_bytes == 1073741824u);
    BOOST_TEST(c.http.connect_timeout.count() == 5000);
    BOOST_TEST(c.http.request_timeout.count() == 30000);
    BOOST_TEST(c.http.idle_timeout.count() == 60000);
    BOOST_TEST(c.http.max_connections_per_host == 8u);
    BOOST_TEST(c.admin.max_connections == 1024u);
    BOOST_TEST(c.admin.max_event_clients == 16u);
    BOOST_TEST(c.admin.first_request_timeout.count() == 5000);
    BOOST_TEST(c.admin.header_timeout.count() == 10000);
    BOOST_TEST(c.admin.idle_timeout.count() == 60000);
    BOOST_TEST(c.runner.retry.initial.count() == 1000);
    BOOST_TEST(c.runner.retry.max.count() == 600000);
    BOOST_TEST(c.runner.retry.multiplier == 2.0);
    BOOST_TEST(c.runner.retry.jitter == 0.2);
    BOOST_TEST((c.level == log_level::info));
    BOOST_TEST(c.runner.io_threads == std::max(1u, std::thread::hardware_concurrency()), "one per core");
    BOOST_TEST(c.runner.worker_threads == 2u);
    BOOST_TEST(c.runner.lock_timeout.count() == 300000);
    BOOST_TEST(c.runner.shutdown_grace.count() == 10000);
    BOOST_TEST(c.runner.remove_finished_files);
    BOOST_TEST(c.runner.log.enabled(kurer::log_level::info));
    BOOST_TEST(!c.runner.log.enabled(kurer::log_level::debug), "the default level is info");
}

BOOST_AUTO_TEST_CASE(every_member_lands_in_its_field) {
    kurer::testing::scratch_dir dir;
    const auto token = write_secret(dir / "admin-token", "a-token-of-enough-characters\n");
    const auto c = parse(with(full(), "admin_tcp.token_file", json::string(token.string()))).value();
    BOOST_TEST(c.runner.data_dir == "/var/lib/kurer");
    BOOST_TEST(c.admin_socket == base / "run/kurer.sock");
    BOOST_TEST_REQUIRE(c.admin_tcp.has_value());
    BOOST_TEST(c.admin_tcp->address == "127.0.0.2");
    BOOST_TEST(c.admin_tcp->port == 8099);
    BOOST_TEST(c.admin_tcp->token_file == token);
    BOOST_TEST(c.admin_tcp->max_connections == 8u);
    BOOST_TEST(c.admin.max_connections == 32u);
    BOOST_TEST(c.admin.max_event_clients == 4u);
    BOOST_TEST(c.admin.first_request_timeout.count() == 2000);
    BOOST_TEST(c.admin.header_timeout.count() == 3000);
    BOOST_TEST(c.admin.idle_timeout.count() == 4000);
    BOOST_TEST(c.private_key == "/keys/key.pem");
    BOOST_TEST(c.ca_bundle == "/etc/kurer/ca/ca.pem"); // normalised
    BOOST_TEST(c.enterprise_ca_bundle == "/etc/kurer/enterprise-cas.pem");
    BOOST_TEST(c.signing_delegations.size() == 2u);
    BOOST_TEST((c.signing_delegations.at("910077473") == std::set<std::string>{"910075918", "910076787"}));
    BOOST_TEST(c.signing_delegations.at("910076787").empty());
    BOOST_TEST(c.maskinporten.token_url == "https://mp.test/token");
    BOOST_TEST(c.maskinporten.client_id == "my-client");
    BOOST_TEST((c.runner.scopes == std::vector<std::string>{"eformidling:dpo", "move/dpo.read"}));
    BOOST_TEST(c.maskinporten.grant_lifetime.count() == 60);
    BOOST_TEST(c.maskinporten.refresh_margin.count() == 5);
    BOOST_TEST(!c.service_registry.signed_responses);
    BOOST_TEST(c.service_registry.cache_ttl.count() == 10);
    BOOST_TEST((c.broker.kind == broker_kind::altinn3));
    BOOST_TEST_REQUIRE(c.broker.altinn2.has_value());
    BOOST_TEST(c.broker.altinn2->service_code == "4193");
    BOOST_TEST(c.broker.altinn2->service_edition == 170101);
    BOOST_TEST_REQUIRE(c.broker.altinn3.has_value());
    BOOST_TEST(c.broker.altinn3->base_url == "https://a3.test/broker/api/v1");
    BOOST_TEST(c.broker.altinn3->exchange_url == "https://a3.test/exchange");
    BOOST_TEST(c.broker.altinn3->resource_id == "my-resource");
    BOOST_TEST(c.broker.altinn3->system_user == "my-system-user");
    BOOST_TEST(c.runner.message_channel == "arkiv-1");
    BOOST_TEST((c.broker.reportees == std::vector<std::string>{"910075918", "910076787"}));
    BOOST_TEST(c.runner.polling_interval.count() == 500);
    BOOST_TEST(c.runner.default_ttl.count() == 48);
    BOOST_TEST(c.default_process == "urn:no:difi:profile:avtalt:avtalt:ver1.0");
    BOOST_TEST((c.digest == signature_digest::sha1));
    BOOST_TEST(c.runner.max_in_flight == 16u);
    BOOST_TEST(c.max_message_bytes == 1000000u);
    BOOST_TEST(c.http.connect_timeout.count() == 1000);
    BOOST_TEST(c.http.request_timeout.count() == 2000);
    BOOST_TEST(c.http.idle_timeout.count() == 3000);
    BOOST_TEST(c.http.max_connections_per_host == 2u);
    BOOST_TEST(c.runner.retry.initial.count() == 100);
    BOOST_TEST(c.runner.retry.max.count() == 5000);
    BOOST_TEST(c.runner.retry.multiplier == 1.5);
    BOOST_TEST(c.runner.retry.jitter == 0.0);
    BOOST_TEST((c.level == log_level::debug));
    BOOST_TEST(c.runner.io_threads == 3u);
    BOOST_TEST(c.runner.worker_threads == 4u);
    BOOST_TEST(c.runner.lock_timeout.count() == 60000);
    BOOST_TEST(c.runner.shutdown_grace.count() == 0);
    BOOST_TEST(!c.runner.remove_finished_files);
}

BOOST_AUTO_TEST_CASE(altinn3_defaults_follow_the_organisation) {
    auto o = with(minimal(), "broker.kind", "altinn3");
    o = with(o, "broker.altinn3",
             json::parse(R"({"base_url":"https://h/broker/api/v1","exchange_url":"https://h/x"})"));
    const auto c = parse(o).value();
    BOOST_TEST_REQUIRE(c.broker.altinn3.has_value());
    BOOST_TEST(c.broker.altinn3->resource_id == "eformidling-dpo-meldingsutveksling");
    BOOST_TEST(c.broker.altinn3->system_user == "910077473_integrasjonspunkt_systembruker_910077473");
}

BOOST_AUTO_TEST_CASE(null_members_count_as_absent) {
    const auto c = parse(with(minimal(), "polling_interval_ms", nullptr)).value();
    BOOST_TEST(c.runner.polling_interval.count() == 15000);
}

BOOST_AUTO_TEST_CASE(missing_required_members_are_named) {
    for (const auto* field :
         {"organization", "data_dir", "admin_socket", "certificate", "private_key", "maskinporten",
          "maskinporten.token_url", "maskinporten.audience", "service_registry", "service_registry.url",
          "broker", "broker.kind", "broker.altinn2", "broker.altinn2.basic_url",
          "broker.altinn2.streamed_url", "broker.altinn2.system_user", "broker.altinn2.system_password"}) {
        BOOST_TEST_CONTEXT(field) {
            expect_error(without(minimal(), field), std::string(field) + ": missing");
        }
    }
    auto a3 = with(minimal(), "broker.kind", "altinn3");
    expect_error(a3, "broker.altinn3: missing (required when kind is \"altinn3\")");
    a3 = with(a3, "broker.altinn3", json::object{{"exchange_url", "https://h/x"}});
    expect_error(a3, "broker.altinn3.base_url: missing");
    a3 = with(a3, "broker.altinn3.base_url", "https://h/b");
    expect_error(without(a3, "broker.altinn3.exchange_url"), "broker.altinn3.exchange_url: missing");
    expect_error(with(minimal(), "admin_tcp", json::object{{"token_file", "t"}}), "admin_tcp.port: missing");
    expect_error(with(minimal(), "admin_tcp", json::object{{"port", 1}}), "admin_tcp.token_file: missing");
}

BOOST_AUTO_TEST_CASE(the_enterprise_ca_bundle_is_required_to_receive_and_delegations_name_organisations) {
    expect_error(without(minimal(), "enterprise_ca_bundle"),
                 "enterprise_ca_bundle: missing (required to receive");
    // A sending-only engine (no polling) verifies nothing and needs no bundle.
    BOOST_TEST(parse(with(without(minimal(), "enterprise_ca_bundle"), "polling_interval_ms", 0)).has_value());
    expect_error(with(minimal(), "signing_delegations", json::array{}),
                 "signing_delegations: expected an object");
    expect_error(with(minimal(), "signing_delegations", json::parse(R"({"12345": ["910075918"]})")),
                 "signing_delegations.12345: '12345' is not a 9-digit");
    expect_error(with(minimal(), "signing_delegations", json::parse(R"({"910075918": ["x"]})")),
                 "signing_delegations.910075918: 'x' is not a 9-digit");
    expect_error(with(minimal(), "signing_delegations", json::parse(R"({"910075918": "910077473"})")),
                 "signing_delegations.910075918: expected an array of strings");
}

BOOST_AUTO_TEST_CASE(unknown_members_are_refused_at_every_level) {
    expect_error(with(minimal(), "polling_interval", 1000), "polling_interval: unknown member");
    expect_error(with(minimal(), "maskinporten.scope", json::array{"x"}),
                 "maskinporten.scope: unknown member");
    expect_error(with(minimal(), "service_registry.signed", true), "service_registry.signed: unknown member");
    expect_error(with(minimal(), "broker.altinn2.servce_code", "4192"),
                 "broker.altinn2.servce_code: unknown member");
    expect_error(with(minimal(), "broker.channel", "x"), "broker.channel: unknown member");
    expect_error(with(minimal(), "limits.max_inflight", 1), "limits.max_inflight: unknown member");
    expect_error(with(minimal(), "admin.keep_alive_ms", 1), "admin.keep_alive_ms: unknown member");
    expect_error(with(minimal(), "http.timeout_ms", 1), "http.timeout_ms: unknown member");
    expect_error(with(minimal(), "retry.max_ms", 1), "retry.max_ms: unknown member");
    expect_error(with(minimal(), "admin_tcp", json::object{{"port", 1}, {"token_file", "t"}, {"tls", true}}),
                 "admin_tcp.tls: unknown member");
}

BOOST_AUTO_TEST_CASE(wrong_types_are_named) {
    expect_error(with(minimal(), "broker.altinn2.service_edition", "270815"),
                 "broker.altinn2.service_edition: expected an integer");
    expect_error(with(minimal(), "broker.altinn2.service_edition", 2.5),
                 "broker.altinn2.service_edition: expected an integer");
    expect_error(with(minimal(), "organization", 910077473), "organization: expected a string");
    expect_error(with(minimal(), "maskinporten", "https://x"), "maskinporten: expected an object");
    expect_error(with(minimal(), "maskinporten.scopes", "eformidling:dpo"),
                 "maskinporten.scopes: expected an array of strings");
    expect_error(with(minimal(), "maskinporten.scopes", json::array{"a", 1}),
                 "maskinporten.scopes[1]: expected a string");
    expect_error(with(minimal(), "service_registry.signed_responses", "yes"),
                 "service_registry.signed_responses: expected true or false");
    expect_error(with(minimal(), "retry.multiplier", "2"), "retry.multiplier: expected a number");
    expect_error(with(minimal(), "broker.reportees", json::array{910075918}),
                 "broker.reportees[0]: expected a string");
    expect_error(with(minimal(), "remove_finished_files", 1),
                 "remove_finished_files: expected true or false");
    expect_error(with(minimal(), "limits", json::array{}), "limits: expected an object");
    expect_error(with(minimal(), "data_dir", ""), "data_dir: must not be empty");
}

BOOST_AUTO_TEST_CASE(values_out_of_range_are_named) {
    expect_error(with(minimal(), "organization", "91007747"), "organization: '91007747' is not a 9-digit");
    expect_error(with(minimal(), "organization", "91007747x"), "organization: '91007747x' is not a 9-digit");
    expect_error(with(minimal(), "maskinporten.token_url", "http://127.0.0.1/token"),
                 "maskinporten.token_url: expected an https URL");
    expect_error(with(minimal(), "service_registry.url", "https://h/adressetjeneste/"),
                 "service_registry.url: must not end with '/'");
    expect_error(with(minimal(), "broker.altinn2.basic_url", "ftp://h"),
                 "broker.altinn2.basic_url: expected an https URL");
    expect_error(with(minimal(), "broker.kind", "altinn4"),
                 "broker.kind: expected \"altinn2\" or \"altinn3\"");
    expect_error(with(minimal(), "maskinporten.grant_lifetime_s", 121),
                 "maskinporten.grant_lifetime_s: must be between 1 and 120");
    expect_error(with(minimal(), "maskinporten.grant_lifetime_s", 0),
                 "maskinporten.grant_lifetime_s: must be between 1 and 120");
    expect_error(with(minimal(), "maskinporten.scopes", json::array{}),
                 "maskinporten.scopes: needs at least one scope");
    expect_error(with(minimal(), "polling_interval_ms", -1), "polling_interval_ms: must be between 0 and");
    expect_error(with(minimal(), "default_ttl_hours", 0), "default_ttl_hours: must be between 1 and");
    expect_error(with(minimal(), "limits.max_in_flight", 0), "limits.max_in_flight: must be between 1 and");
    expect_error(with(minimal(), "limits.max_message_bytes", 0),
                 "limits.max_message_bytes: must be between 1 and");
    expect_error(with(minimal(), "http.max_connections_per_host", 0),
                 "http.max_connections_per_host: must be between 1 and");
    expect_error(with(minimal(), "admin.max_connections", 0), "admin.max_connections: must be between 1 and");
    expect_error(with(minimal(), "admin.max_event_clients", 0),
                 "admin.max_event_clients: must be between 1 and");
    expect_error(with(minimal(), "admin.first_request_timeout_ms", -1),
                 "admin.first_request_timeout_ms: must be between 0 and");
    expect_error(with(minimal(), "admin_tcp",
                      json::object{{"port", 8099}, {"token_file", "t"}, {"max_connections", 0}}),
                 "admin_tcp.max_connections: must be between 1 and");
    expect_error(with(minimal(), "http.connect_timeout_ms", 18446744073709551615ull),
                 "http.connect_timeout_ms: must be between 0 and");
    expect_error(with(minimal(), "retry.multiplier", 0.5), "retry.multiplier: must be between 1");
    expect_error(with(minimal(), "retry.jitter", 1.5), "retry.jitter: must be between 0");
    expect_error(with(with(minimal(), "retry.initial_backoff_ms", 5000), "retry.max_backoff_ms", 100),
                 "retry.max_backoff_ms: must not be smaller than retry.initial_backoff_ms");
    expect_error(with(minimal(), "signature_digest", "sha512"),
                 "signature_digest: expected \"sha256\" or \"sha1\"");
    expect_error(with(minimal(), "log_level", "verbose"), "log_level: expected \"debug\"");
    expect_error(with(minimal(), "io_threads", 0), "io_threads: must be between 1 and");
    expect_error(with(minimal(), "worker_threads", 0), "worker_threads: must be between 1 and");
    expect_error(with(minimal(), "lock_timeout_ms", 0), "lock_timeout_ms: must be between 1 and");
    expect_error(with(minimal(), "broker.message_channel", "not a channel"),
                 "broker.message_channel: 'not a channel'");
    expect_error(with(minimal(), "broker.message_channel", json::string(std::string(26, 'a'))),
                 "broker.message_channel: '");
    expect_error(with(minimal(), "broker.reportees", json::array{"12345"}),
                 "broker.reportees[0]: '12345' is not a 9-digit");
    expect_error(with(minimal(), "broker.reportees", json::array{"910077473"}),
                 "broker.reportees[0]: is the organisation itself");
    expect_error(with(minimal(), "broker.reportees", json::array{"910075918", "910075918"}),
                 "broker.reportees[1]: '910075918' is listed twice");
    expect_error(
        with(minimal(), "admin_tcp", json::object{{"address", "0.0.0.0"}, {"port", 80}, {"token_file", "t"}}),
        "admin_tcp.address: '0.0.0.0' is not a loopback address");
    expect_error(with(minimal(), "admin_tcp", json::object{{"port", 70000}, {"token_file", "t"}}),
                 "admin_tcp.port: must be between 1 and 65535");
    expect_error(with(minimal(), "admin_socket", json::string("/" + std::string(120, 's'))),
                 "admin_socket: the path");
}

BOOST_AUTO_TEST_CASE(password_from_a_file_or_inline_but_not_both) {
    kurer::testing::scratch_dir dir;
    write_secret(dir / "password", "from-the-file\n");
    auto o = without(minimal(), "broker.altinn2.system_password");
    o = with(o, "broker.altinn2.system_password_file", "password");
    const auto c = parse_config(json::serialize(o), dir.path()).value();
    BOOST_TEST(c.broker.altinn2->system_password == "from-the-file");

    const auto both = with(o, "broker.altinn2.system_password", "inline");
    const auto e = parse_config(json::serialize(both), dir.path());
    BOOST_TEST_REQUIRE(!e.has_value());
    BOOST_TEST(e.error().message.starts_with("broker.altinn2.system_password: give system_password or"));

    const auto missing = with(o, "broker.altinn2.system_password_file", "nowhere");
    const auto m = parse_config(json::serialize(missing), dir.path());
    BOOST_TEST_REQUIRE(!m.has_value());
    BOOST_TEST(m.error().message.starts_with("broker.altinn2.system_password_file: cannot read"));
    BOOST_TEST((m.error().code == make_error_code(config_errc::unreadable)));
}

BOOST_AUTO_TEST_CASE(secret_files_others_can_read_are_refused_as_ssh_refuses_such_keys) {
    namespace fs = std::filesystem;
    kurer::testing::scratch_dir dir;
    const auto loose = fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                       fs::perms::others_read; // 0644, what a umask of 022 gives
    const auto refused = [&](const json::object& o, const std::string& expected) {
        const auto r = parse_config(json::serialize(o), dir.path());
        BOOST_TEST_REQUIRE(!r.has_value(), "expected " << expected);
        BOOST_TEST((r.error().code == make_error_code(config_errc::invalid)));
        BOOST_TEST(r.error().message == expected);
    };

    write_secret(dir / "key.pem", "-----BEGIN PRIVATE KEY-----\n", loose);
    refused(minimal(), "private_key: " + (dir / "key.pem").string() +
                           " is readable by others (mode 0644); chmod 600 it");
    fs::permissions(dir / "key.pem", fs::perms::owner_read | fs::perms::group_write,
                    fs::perm_options::replace);
    refused(minimal(), "private_key: " + (dir / "key.pem").string() +
                           " is writable by others (mode 0420); chmod 600 it");
    fs::permissions(dir / "key.pem", fs::perms::owner_read, fs::perm_options::replace);
    BOOST_TEST(parse_config(json::serialize(minimal()), dir.path()).has_value(), "0400 is private enough");

    auto password = without(minimal(), "broker.altinn2.system_password");
    password = with(password, "broker.altinn2.system_password_file", "password");
    write_secret(dir / "password", "from-the-file\n", loose | fs::perms::group_write);
    refused(password, "broker.altinn2.system_password_file: " + (dir / "password").string() +
                          " is readable by others (mode 0664); chmod 600 it");

    const auto tcp = with(minimal(), "admin_tcp", json::object{{"port", 8099}, {"token_file", "token"}});
    write_secret(dir / "token", "a-token-of-enough-characters\n", loose);
    refused(tcp, "admin_tcp.token_file: " + (dir / "token").string() +
                     " is readable by others (mode 0644); chmod 600 it");
    fs::permissions(dir / "token", fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
    const auto c = parse_config(json::serialize(tcp), dir.path());
    BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().message));
    BOOST_TEST(c->admin_tcp->token_file == dir / "token");
}

BOOST_AUTO_TEST_CASE(the_bearer_token_is_read_and_checked_at_start_up) {
    kurer::testing::scratch_dir dir;
    const auto tcp = with(minimal(), "admin_tcp", json::object{{"port", 8099}, {"token_file", "token"}});
    write_secret(dir / "token", "fifteen-chars15\nthe second line does not count\n");
    const auto short_token = parse_config(json::serialize(tcp), dir.path());
    BOOST_TEST_REQUIRE(!short_token.has_value());
    BOOST_TEST((short_token.error().code == make_error_code(config_errc::invalid)));
    BOOST_TEST(short_token.error().message ==
               "admin_tcp.token_file: the token in " + (dir / "token").string() +
                   " is 15 characters long; at least 16 are needed (for example: openssl rand -hex 32)");
    BOOST_TEST(short_token.error().message.find("fifteen") == std::string::npos, "the token is never quoted");

    write_secret(dir / "token", "sixteen-chars-16 \t\r\n");
    BOOST_TEST(parse_config(json::serialize(tcp), dir.path()).has_value(),
               "16 characters after trailing blanks are trimmed, as the listener reads it");

    std::filesystem::remove(dir / "token");
    const auto missing = parse_config(json::serialize(tcp), dir.path());
    BOOST_TEST_REQUIRE(!missing.has_value());
    BOOST_TEST((missing.error().code == make_error_code(config_errc::unreadable)));
    BOOST_TEST(
        missing.error().message.starts_with("admin_tcp.token_file: cannot read " + (dir / "token").string()));
}

BOOST_AUTO_TEST_CASE(syntax_errors_say_where) {
    const auto r = parse_config("{\n  \"organization\": \"910077473\",\n  \"data_dir\" \"data\"\n}", base);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message.starts_with("not valid JSON at line 3"), r.error().message);
    const auto array = parse_config("[1, 2]", base);
    BOOST_TEST_REQUIRE(!array.has_value());
    BOOST_TEST(array.error().message == "the configuration must be a JSON object");
}

BOOST_AUTO_TEST_CASE(the_secret_stays_out_of_error_messages) {
    // A later error in a config holding the password must not quote it.
    const auto message = error_of(with(minimal(), "log_level", "loud"));
    BOOST_TEST(message.find("secret-password") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(load_config_resolves_paths_against_the_file_and_names_it_in_errors) {
    kurer::testing::scratch_dir dir;
    std::filesystem::create_directories(dir / "orgs" / "1");
    const auto file = dir / "orgs" / "1" / "kurer.json";
    { std::ofstream(file) << json::serialize(minimal()); }
    const auto c = load_config(file).value();
    BOOST_TEST(c.runner.data_dir == dir / "orgs" / "1" / "data");
    BOOST_TEST(c.file == file);
    { std::ofstream(file) << json::serialize(with(minimal(), "broker.altinn2.service_edition", "x")); }
    const auto bad = load_config(file);
    BOOST_TEST_REQUIRE(!bad.has_value());
    BOOST_TEST(bad.error().message ==
               file.string() + ": broker.altinn2.service_edition: expected an integer");
    const auto absent = load_config(dir / "absent.json");
    BOOST_TEST_REQUIRE(!absent.has_value());
    BOOST_TEST((absent.error().code == make_error_code(config_errc::unreadable)));
}

BOOST_AUTO_TEST_SUITE_END()

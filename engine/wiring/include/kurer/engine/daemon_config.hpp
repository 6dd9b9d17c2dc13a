// kurer.json: the daemon's (and the embeddable engine's) configuration, parsed and checked.
//
//   auto config = kurer::engine::load_config("/etc/kurer/kurer.json");
//   if (!config) { std::cerr << config.error().message << '\n'; return 2; }
//
// docs/configuration.md is the contract: every member, its default and its meaning. Parsing is
// strict: unknown members, wrong types and out-of-range values are errors whose message starts
// with the field's path (`broker.altinn2.service_edition: expected an integer`). Relative paths
// are resolved against the directory of the config file. The result maps onto runner_config
// (the `runner` member) and onto the settings each adapter needs (wiring.hpp does that mapping).
//
// The config holds secrets (the Altinn 2 password): never log it or its members wholesale.
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/engine/config.hpp>

#include <boost/system/error_category.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace kurer::engine {

enum class config_errc {
    invalid = 1, // a member is missing, unknown, mistyped or out of range: the message names it
    unreadable,  // the file (or a file it names) cannot be read
};

const boost::system::error_category& config_category() noexcept;
boost::system::error_code make_error_code(config_errc e) noexcept;

enum class broker_kind { altinn2, altinn3 };
enum class signature_digest { sha256, sha1 };

struct admin_tcp_settings {
    std::string address{"127.0.0.1"}; // loopback only
    std::uint16_t port = 0;
    std::filesystem::path token_file; // holds the bearer token clients must send (mode 0600, >= 16 chars)
    std::size_t max_connections = 64; // this listener's own limit
};

// The admin listeners' limits and timeouts (admin_server.hpp's admin_config holds the rest).
struct admin_settings {
    std::size_t max_connections = 1024; // on the Unix socket (only its owner can connect)
    std::size_t max_event_clients = 16;
    std::chrono::milliseconds first_request_timeout{5000};
    std::chrono::milliseconds header_timeout{10000};
    std::chrono::milliseconds idle_timeout{60000};
};

struct maskinporten_settings {
    std::string token_url;
    std::string audience;
    std::string client_id; // default MOVE_IP_<organization>
    std::chrono::seconds grant_lifetime{110};
    std::chrono::seconds refresh_margin{20};
    // The scopes themselves live in runner_config::scopes (the engine asks for them).
};

struct service_registry_settings {
    std::string url;
    bool signed_responses = true;
    std::chrono::seconds cache_ttl{300};
};

struct altinn2_settings {
    std::string basic_url;
    std::string streamed_url;
    std::string system_user;
    std::string system_password; // secret; from system_password or system_password_file
    std::string service_code{"4192"};
    std::int64_t service_edition = 270815;
};

struct altinn3_settings {
    std::string base_url;
    std::string exchange_url;
    std::string resource_id{"eformidling-dpo-meldingsutveksling"};
    std::string system_user; // default <org>_integrasjonspunkt_systembruker_<org>
};

struct broker_settings {
    broker_kind kind = broker_kind::altinn2;
    std::optional<altinn2_settings> altinn2; // present when the file has the section
    std::optional<altinn3_settings> altinn3;
    std::vector<std::string> reportees; // further organisations to poll for
    // The message channel is runner_config::message_channel.
};

struct http_settings {
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds request_timeout{30000};
    std::chrono::milliseconds idle_timeout{60000};
    std::size_t max_connections_per_host = 8;
};

struct daemon_config {
    std::filesystem::path file; // where it was read from (empty when parsed from a string)

    runner_config runner; // organization, data_dir, scopes, threads, retry, polling, ...
    log_level level = log_level::info;

    std::filesystem::path admin_socket;
    std::optional<admin_tcp_settings> admin_tcp;
    admin_settings admin;
    std::filesystem::path certificate;
    std::filesystem::path private_key;
    std::filesystem::path ca_bundle; // empty: the system's store
    // Who may send us packages: the CAs of enterprise certificates (required when polling) and
    // the organisations an operator lets sign for others (signer -> senders).
    std::filesystem::path enterprise_ca_bundle;
    std::map<std::string, std::set<std::string>, std::less<>> signing_delegations;

    maskinporten_settings maskinporten;
    service_registry_settings service_registry;
    broker_settings broker;
    http_settings http;

    std::string default_process{"urn:no:difi:profile:arkivmelding:administrasjon:ver1.0"};
    signature_digest digest = signature_digest::sha256;
    std::uint64_t max_message_bytes = 1024ull * 1024 * 1024; // total document bytes per message
};

// Parses a config document; relative paths are resolved against `base_dir`. Secrets named by
// file (system_password_file, admin_tcp.token_file) are read here, so a missing file or a token
// shorter than 16 characters is reported as that field. Files holding secrets (those two and
// private_key) must be the owner's only: one its group or others may read or write is refused
// ("... is readable by others (mode 0644); chmod 600 it"), as ssh refuses such a key.
result<daemon_config> parse_config(std::string_view json, const std::filesystem::path& base_dir);

// Reads and parses a config file (at most 1 MiB).
result<daemon_config> load_config(const std::filesystem::path& file);

std::string_view to_string(broker_kind k) noexcept;

} // namespace kurer::engine

template <>
struct boost::system::is_error_code_enum<kurer::engine::config_errc> : std::true_type {};

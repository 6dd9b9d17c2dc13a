// Service Registry lookups: is the receiver on DPO for this process and document type, and
// with which certificate do we encrypt for it.
//
//   service_registry::client sr = service_registry::client::create(http, tokens, cfg).value();
//   auto r = co_await sr.resolve({.identifier = "910075918",
//                                 .process = "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0",
//                                 .conversation_id = conv}, "urn:no:difi:arkivmelding:xsd::arkivmelding");
//   // r->record.service.identifier == "DPO", r->certificate.pem
//
// Requests carry a Maskinporten token (config.scopes). With signed_responses the SR is asked
// for application/jose and every answer is verified against <url>/jwk (key chosen by kid,
// else the first RSA key; the key set is cached and fetched again once when a signature does
// not verify, so a key rotation heals by itself). Answers are cached for cache_ttl keyed
// without conversationId, with one request in flight per key. A 401 drops the cached token and
// tries once more with a fresh one. 404 is errc::not_registered (permanent); 5xx and transport
// failures are retryable.
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/service_registry/records.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kurer::http {
class client;
}
namespace kurer::maskinporten {
class token_provider;
}

namespace kurer::service_registry {

struct config {
    std::string url{}; // base URL without trailing slash, e.g. https://test.eformidling.no/adressetjeneste
    bool signed_responses = true;
    std::chrono::seconds cache_ttl{300};
    std::vector<std::string> scopes{"eformidling:dpo"};
};

struct lookup {
    std::string identifier{}; // organisation number (9 digits) or 0192:<orgnr>
    std::string process{};    // process URN; empty: all records (GET /identifier/{id})
    std::optional<int> security_level{};
    std::string conversation_id{}; // sent for the SR's logs; not part of the cache key
};

// The record chosen for a message and its checked certificate.
struct receiver {
    info_record info;
    service_record record;
    std::optional<receiver_certificate> certificate; // absent for services without one (DPV)
};

struct client_options {
    boost::asio::any_io_executor blocking{}; // signature checks run here; null: inline
    std::function<std::chrono::steady_clock::time_point()> steady_clock{};
    std::function<std::chrono::system_clock::time_point()> wall_clock{}; // certificate validity
};

class client {
public:
    // `http` and `tokens` must outlive the client.
    static result<client> create(http::client& http, maskinporten::token_provider& tokens, config cfg,
                                 client_options options = {});

    client(client&&) noexcept;
    client& operator=(client&&) noexcept;
    ~client();

    // GET /identifier/{id}[/process/{process}][?securityLevel=&conversationId=].
    boost::asio::awaitable<result<identifier_resource>> find(lookup l);
    // GET /info/{id}.
    boost::asio::awaitable<result<identifier_resource>> info(std::string identifier);
    // find() with a process, then the first record accepting `document_type`, then its
    // certificate checked (when the record carries one). DPO records must carry one.
    boost::asio::awaitable<result<receiver>> resolve(lookup l, std::string document_type);

    std::uint64_t requests_made() const; // HTTP requests to the SR, /jwk included

    struct impl;

private:
    explicit client(std::shared_ptr<impl> p);
    std::shared_ptr<impl> impl_;
};

// Verifies a compact JWS against a JWK set ({"keys":[...]}): the RSA key whose kid matches the
// header's, else the first RSA key. Returns the payload.
result<std::string> verify_signed(std::string_view compact, std::string_view jwks_json);

} // namespace kurer::service_registry

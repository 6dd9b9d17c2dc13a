// Maskinporten access tokens for the organisation: grant, token request, cache.
//
//   maskinporten::token_provider tokens(http_client, cfg, creds);
//   auto token = co_await tokens.get({.scopes = {"eformidling:dpo"}});
//   request.headers.set("Authorization", "Bearer " + token->value);
//
// get() answers from a cache per (scopes, system user) until refresh_margin before the token
// expires; a miss makes one grant + one POST /token however many coroutines ask at once
// (single flight). Maskinporten's error answers become errors naming its `error`, its
// description and the MP code (e.g. "invalid_grant: ... Invalid JWT signature (MP-124)"), all
// permanent; transport failures and 5xx stay retryable as the HTTP client classifies them.
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/maskinporten/grant.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_category.hpp>

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

enum class errc {
    invalid_request = 1,    // Maskinporten: malformed request or grant (MP-011, unknown claims)
    invalid_grant,          // bad signature, certificate, audience, lifetime, reused jti, unknown client
    invalid_scope,          // a scope the client is not registered for (MP-200/201)
    unsupported_grant_type, // grant_type other than jwt-bearer
    forbidden,              // the consumer was not granted the scope (MP-250/251)
    refused,                // another OAuth error code
    bad_response,           // Maskinporten's answer could not be understood
    bad_configuration,      // our own settings or credentials cannot make a grant
};

const boost::system::error_category& maskinporten_category() noexcept;
boost::system::error_code make_error_code(errc e) noexcept;

struct config {
    std::string token_url{}; // https://test.maskinporten.no/token
    std::string audience{};  // https://test.maskinporten.no/ (issuer identifier, trailing slash)
    std::string client_id{}; // MOVE_IP_<orgnr>
    std::chrono::seconds grant_lifetime{110};
    std::chrono::seconds refresh_margin{20};
};

// What a token is for; also the cache key.
struct token_request {
    std::vector<std::string> scopes{};
    std::optional<altinn_system_user> system_user{}; // Altinn 3 broker tokens

    std::string cache_key() const;
};

struct access_token {
    std::string value; // the JWT to send as "Authorization: Bearer <value>"; never log it
    std::string scope; // as granted
    std::chrono::seconds expires_in{0};
    std::chrono::steady_clock::time_point expires_at;
};

// Interprets Maskinporten's answer to POST /token (any status).
result<access_token> parse_token_response(unsigned status, std::string_view content_type,
                                          std::string_view body, std::chrono::steady_clock::time_point now);

struct provider_options {
    // Grants are RSA-signed here (a worker pool); null: on the caller's thread.
    boost::asio::any_io_executor blocking{};
    // Clocks, replaceable in tests: the wall clock gives iat, the steady clock expiry.
    std::function<std::chrono::system_clock::time_point()> wall_clock{};
    std::function<std::chrono::steady_clock::time_point()> steady_clock{};
};

class token_provider {
public:
    // `client` must outlive the provider. Fails when the configuration cannot make grants.
    static result<token_provider> create(http::client& client, config cfg, credentials creds,
                                         provider_options options = {});

    token_provider(token_provider&&) noexcept;
    token_provider& operator=(token_provider&&) noexcept;
    ~token_provider();

    // A cached token, or one fetched once for all concurrent askers.
    boost::asio::awaitable<result<access_token>> get(token_request request);
    // Always a new grant and a new token request (no cache).
    boost::asio::awaitable<result<access_token>> fetch(token_request request);
    // Drops a cached token (after the API it was for answered 401, say).
    void invalidate(const token_request& request);

    // Token requests made so far.
    std::uint64_t requests_made() const;
    const config& settings() const;

    struct impl;

private:
    explicit token_provider(std::shared_ptr<impl> p);
    std::shared_ptr<impl> impl_;
};

// Posts a ready grant (two form fields, nothing else) and interprets the answer. The provider
// uses it; tests use it to send a grant twice.
boost::asio::awaitable<result<access_token>> request_token(http::client* client, std::string token_url,
                                                           std::string grant);

} // namespace kurer::maskinporten

template <>
struct boost::system::is_error_code_enum<kurer::maskinporten::errc> : std::true_type {};

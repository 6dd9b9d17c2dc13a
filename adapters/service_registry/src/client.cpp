#include <kurer/asio/offload.hpp>
#include <kurer/http/client.hpp>
#include <kurer/http/percent.hpp>
#include <kurer/http/single_flight.hpp>
#include <kurer/maskinporten/jose.hpp>
#include <kurer/maskinporten/token_provider.hpp>
#include <kurer/service_registry/client.hpp>

#include <boost/json/parse.hpp>

#include <botan/pk_keys.h>

#include <atomic>

namespace kurer::service_registry {
namespace {

namespace jose = maskinporten::jose;

std::string error_description(std::string_view body) {
    boost::system::error_code ec;
    const auto v = boost::json::parse(body, ec);
    if (!ec && v.is_object()) {
        for (const char* name : {"error_description", "message"}) {
            if (auto it = v.as_object().find(name); it != v.as_object().end() && it->value().is_string())
                return std::string(it->value().as_string());
        }
    }
    return body.size() > 300 ? std::string(body.substr(0, 300)) + "..." : std::string(body);
}

} // namespace

result<std::string> verify_signed(std::string_view compact, std::string_view jwks_json) {
    const auto bad = [](std::string why) {
        return make_error(errc::bad_signature,
                          "bad signature in response from the Service Registry: " + std::move(why));
    };
    auto token = jose::parse(compact);
    if (!token)
        return bad(token.error().message);
    boost::system::error_code ec;
    const auto header = boost::json::parse(token->header_json, ec);
    if (ec || !header.is_object())
        return bad("the JWS header is not a JSON object");
    std::string alg, kid;
    if (auto it = header.as_object().find("alg"); it != header.as_object().end() && it->value().is_string())
        alg = it->value().as_string();
    if (auto it = header.as_object().find("kid"); it != header.as_object().end() && it->value().is_string())
        kid = it->value().as_string();
    if (alg != "RS256" && alg != "RS384" && alg != "RS512")
        return bad("unsupported algorithm '" + alg + "'");
    const auto set = boost::json::parse(jwks_json, ec);
    if (ec || !set.is_object() || !set.as_object().contains("keys") || !set.at("keys").is_array())
        return bad("the /jwk answer is not a JWK set");
    const boost::json::object* chosen = nullptr;
    for (const auto& k : set.at("keys").as_array()) {
        if (!k.is_object())
            continue;
        const auto& o = k.as_object();
        auto kty = o.find("kty");
        if (kty == o.end() || !kty->value().is_string() || kty->value().as_string() != "RSA")
            continue;
        if (!chosen)
            chosen = &o; // the reference's choice: the first RSA key
        if (auto id = o.find("kid");
            !kid.empty() && id != o.end() && id->value().is_string() && id->value().as_string() == kid) {
            chosen = &o;
            break;
        }
    }
    if (!chosen)
        return bad("the /jwk answer holds no RSA key");
    auto key = jose::rsa_public_key(*chosen);
    if (!key)
        return bad(key.error().message);
    if (!jose::verify(*token, **key, alg))
        return bad("the signature does not verify with the Service Registry's key");
    return std::move(token->payload);
}

struct client::impl {
    impl(http::client& h, maskinporten::token_provider& t, config c, client_options o)
        : http(&h)
        , tokens(&t)
        , cfg(std::move(c))
        , options(std::move(o))
        , lookups(h.executor(), options.steady_clock)
        , key_sets(h.executor(), options.steady_clock) {}

    http::client* http;
    maskinporten::token_provider* tokens;
    config cfg;
    client_options options;
    http::single_flight_cache<identifier_resource> lookups;
    http::single_flight_cache<std::string> key_sets;
    std::atomic<std::uint64_t> requests{0};

    boost::asio::awaitable<result<http::response>> get(std::string url, bool authorized) {
        for (int attempt = 0;; ++attempt) {
            http::request r;
            r.url = url;
            r.headers.set(boost::beast::http::field::accept, !authorized ? "application/json"
                                                             : cfg.signed_responses
                                                                 ? "application/jose, application/json"
                                                                 : "application/json");
            maskinporten::token_request token_for{.scopes = cfg.scopes};
            if (authorized) {
                auto token = co_await tokens->get(token_for);
                if (!token) {
                    auto e = token.error();
                    e.message = "a Service Registry lookup needs a Maskinporten token: " + e.message;
                    co_return e;
                }
                r.headers.set(boost::beast::http::field::authorization, "Bearer " + token->value);
            }
            ++requests;
            auto resp = co_await http->send(std::move(r));
            if (!resp) {
                auto e = resp.error();
                e.message = "Service Registry request failed: " + e.message;
                co_return e;
            }
            if (resp->status == 401 && authorized && attempt == 0) {
                tokens->invalidate(token_for); // perhaps revoked or expired early: one more try
                continue;
            }
            co_return resp;
        }
    }

    boost::asio::awaitable<result<std::string>> key_set(bool fresh) {
        if (fresh)
            key_sets.invalidate("jwk");
        auto self = this;
        http::single_flight_cache<std::string>::fetch_function fetch =
            [self]() -> boost::asio::awaitable<result<std::string>> {
            auto resp = co_await self->get(self->cfg.url + "/jwk", false);
            if (!resp)
                co_return resp.error();
            if (resp->status != 200)
                co_return http::status_error(*resp, "Service Registry /jwk");
            co_return std::move(resp->body);
        };
        http::single_flight_cache<std::string>::ttl_function ttl =
            [self](const std::string&) -> std::chrono::steady_clock::duration {
            return self->cfg.cache_ttl;
        };
        co_return co_await key_sets.get("jwk", std::move(fetch), std::move(ttl));
    }

    boost::asio::awaitable<result<std::string>> verified_payload(std::string body) {
        for (int attempt = 0; attempt < 2; ++attempt) {
            auto keys = co_await key_set(attempt > 0);
            if (!keys)
                co_return keys.error();
            auto payload = co_await kurer::offload(options.blocking,
                                                   [&body, &keys] { return verify_signed(body, *keys); });
            if (payload || attempt > 0)
                co_return payload;
            // The SR may have rotated its key since the set was cached: fetch it again once.
        }
        co_return make_error(errc::bad_signature, "unreachable");
    }

    boost::asio::awaitable<result<identifier_resource>> fetch(std::string path, std::string what) {
        auto resp = co_await get(cfg.url + path, true);
        if (!resp)
            co_return resp.error();
        const auto status = resp->status;
        if (status == 200) {
            std::string payload = std::move(resp->body);
            const auto type = resp->header("Content-Type");
            if (cfg.signed_responses) {
                if (type.rfind("application/jose", 0) != 0)
                    co_return make_error(errc::bad_signature, "the Service Registry answered " + what +
                                                                  " unsigned (" + type +
                                                                  ") although a signed answer was asked for");
                auto verified = co_await verified_payload(std::move(payload));
                if (!verified)
                    co_return verified.error();
                payload = std::move(*verified);
            }
            co_return parse_identifier_resource(payload);
        }
        const auto description = error_description(resp->body);
        if (status == 404)
            co_return make_error(errc::not_registered, what + ": not found in the Service Registry" +
                                                           (description.empty() ? "" : ": " + description));
        if (status == 401)
            co_return make_error(errc::access_denied, what +
                                                          ": the Service Registry refused our token (401)" +
                                                          (description.empty() ? "" : ": " + description));
        if (status >= 400 && status < 500 && status != 408 && status != 429)
            co_return make_error(errc::refused,
                                 what + ": HTTP " + std::to_string(status) + ": " + description);
        co_return http::status_error(*resp, what);
    }

    http::single_flight_cache<identifier_resource>::ttl_function ttl() const {
        const auto lifetime = cfg.cache_ttl;
        return [lifetime](const identifier_resource&) -> std::chrono::steady_clock::duration {
            return lifetime;
        };
    }

    static bool valid_identifier(std::string_view id) {
        return !id.empty() && id.size() <= 64 && id.find('/') == std::string_view::npos;
    }
};

result<client> client::create(http::client& http, maskinporten::token_provider& tokens, config cfg,
                              client_options options) {
    if (cfg.url.empty())
        return make_error(errc::bad_request, "service_registry.url is required");
    while (!cfg.url.empty() && cfg.url.back() == '/')
        cfg.url.pop_back();
    if (cfg.scopes.empty())
        return make_error(errc::bad_request, "service_registry: at least one Maskinporten scope is needed");
    if (!options.steady_clock)
        options.steady_clock = [] {
            return std::chrono::steady_clock::now();
        };
    if (!options.wall_clock)
        options.wall_clock = [] {
            return std::chrono::system_clock::now();
        };
    return client(std::make_shared<impl>(http, tokens, std::move(cfg), std::move(options)));
}

client::client(std::shared_ptr<impl> p)
    : impl_(std::move(p)) {}
client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;
client::~client() = default;

boost::asio::awaitable<result<identifier_resource>> client::find(lookup l) {
    auto self = impl_;
    if (!impl::valid_identifier(l.identifier))
        co_return make_error(errc::bad_request, "invalid receiver identifier '" + l.identifier + "'");
    std::string path = "/identifier/" + http::percent_encode(l.identifier, http::segment_chars);
    if (!l.process.empty())
        path += "/process/" + http::percent_encode(l.process, http::segment_chars);
    const std::string key =
        path + (l.security_level ? "?securityLevel=" + std::to_string(*l.security_level) : "");
    std::string query;
    if (l.security_level)
        query += "securityLevel=" + std::to_string(*l.security_level);
    if (!l.conversation_id.empty())
        query += std::string(query.empty() ? "" : "&") +
                 "conversationId=" + http::percent_encode(l.conversation_id, http::query_value_chars);
    if (!query.empty())
        path += "?" + query;
    std::string what = "receiver " + l.identifier + (l.process.empty() ? "" : " for process " + l.process);
    // Named, not temporaries: GCC 12 mis-destroys closures created inside a co_await expression.
    http::single_flight_cache<identifier_resource>::fetch_function fetch = [self, path, what]() {
        return self->fetch(path, what);
    };
    co_return co_await self->lookups.get(key, std::move(fetch), self->ttl());
}

boost::asio::awaitable<result<identifier_resource>> client::info(std::string identifier) {
    auto self = impl_;
    if (!impl::valid_identifier(identifier))
        co_return make_error(errc::bad_request, "invalid identifier '" + identifier + "'");
    const std::string path = "/info/" + http::percent_encode(identifier, http::segment_chars);
    http::single_flight_cache<identifier_resource>::fetch_function fetch = [self, path, identifier]() {
        return self->fetch(path, "organisation " + identifier);
    };
    co_return co_await self->lookups.get(path, std::move(fetch), self->ttl());
}

boost::asio::awaitable<result<receiver>> client::resolve(lookup l, std::string document_type) {
    auto self = impl_;
    if (l.process.empty())
        co_return make_error(errc::bad_request, "resolving a receiver needs a process");
    const std::string id = l.identifier;
    const std::string process = l.process;
    auto found = co_await find(std::move(l));
    if (!found)
        co_return found.error();
    const auto* record = choose_record(*found, document_type);
    if (!record)
        co_return make_error(errc::no_matching_record, "receiver " + id + " does not accept document type " +
                                                           document_type + " in process " + process);
    receiver out{found->info, *record, std::nullopt};
    if (record->pem_certificate) {
        const auto now = self->options.wall_clock();
        auto cert = check_receiver_certificate(*record->pem_certificate, now);
        if (!cert) {
            auto e = cert.error();
            e.message = "receiver " + id + ": " + e.message;
            co_return e;
        }
        out.certificate = std::move(*cert);
    } else if (record->service.identifier == "DPO") {
        co_return make_error(errc::certificate_invalid,
                             "the Service Registry has no certificate for receiver " + id);
    }
    co_return out;
}

std::uint64_t client::requests_made() const {
    return impl_->requests;
}

} // namespace kurer::service_registry

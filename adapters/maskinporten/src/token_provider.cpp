#include <kurer/asio/offload.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/http/client.hpp>
#include <kurer/http/percent.hpp>
#include <kurer/http/single_flight.hpp>
#include <kurer/maskinporten/token_provider.hpp>

#include <boost/json/parse.hpp>

#include <atomic>

namespace kurer::maskinporten {
namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "kurer.maskinporten"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::invalid_request:
            return "invalid_request";
        case errc::invalid_grant:
            return "invalid_grant";
        case errc::invalid_scope:
            return "invalid_scope";
        case errc::unsupported_grant_type:
            return "unsupported_grant_type";
        case errc::forbidden:
            return "forbidden";
        case errc::refused:
            return "token request refused";
        case errc::bad_response:
            return "unexpected answer from Maskinporten";
        case errc::bad_configuration:
            return "cannot make a grant";
        }
        return "unknown Maskinporten error";
    }
};

errc errc_for(std::string_view oauth_error) {
    if (oauth_error == "invalid_request")
        return errc::invalid_request;
    if (oauth_error == "invalid_grant")
        return errc::invalid_grant;
    if (oauth_error == "invalid_scope")
        return errc::invalid_scope;
    if (oauth_error == "unsupported_grant_type")
        return errc::unsupported_grant_type;
    if (oauth_error == "forbidden" || oauth_error == "access_denied")
        return errc::forbidden;
    return errc::refused;
}

std::string json_string(const boost::json::object& o, std::string_view name) {
    auto it = o.find(name);
    return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

// "MP-124" from "https://maskinporten.no/errors/MP-124".
std::string mp_code(std::string_view uri) {
    const auto pos = uri.rfind("MP-");
    return pos == std::string_view::npos ? std::string() : std::string(uri.substr(pos));
}

std::string shorten(std::string_view s, std::size_t n = 300) {
    return s.size() <= n ? std::string(s) : std::string(s.substr(0, n)) + "...";
}

} // namespace

const boost::system::error_category& maskinporten_category() noexcept {
    static const category instance;
    return instance;
}

boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), maskinporten_category()};
}

std::string token_request::cache_key() const {
    std::string key;
    for (const auto& s : scopes)
        key += s + ' ';
    if (system_user)
        key += "|systemuser:" + system_user->organization + ":" + system_user->external_ref;
    return key;
}

result<access_token> parse_token_response(unsigned status, std::string_view content_type,
                                          std::string_view body, std::chrono::steady_clock::time_point now) {
    boost::system::error_code ec;
    const auto parsed = boost::json::parse(body, ec);
    const bool json_object = !ec && parsed.is_object();
    if (status == 200) {
        if (!json_object)
            return make_error(errc::bad_response,
                              "Maskinporten answered 200 with a body that is not a JSON object (" +
                                  std::string(content_type) + ")",
                              retry::yes);
        const auto& o = parsed.as_object();
        access_token t;
        t.value = json_string(o, "access_token");
        t.scope = json_string(o, "scope");
        const auto type = json_string(o, "token_type");
        auto it = o.find("expires_in");
        if (t.value.empty() || it == o.end() || !it->value().is_int64() || it->value().as_int64() <= 0)
            return make_error(errc::bad_response,
                              "Maskinporten's token answer lacks access_token or a positive expires_in",
                              retry::yes);
        if (!type.empty() && type != "Bearer" && type != "bearer")
            return make_error(errc::bad_response,
                              "Maskinporten issued a token of type " + type + ", not Bearer");
        t.expires_in = std::chrono::seconds(it->value().as_int64());
        t.expires_at = now + t.expires_in;
        return t;
    }
    const std::string where = "Maskinporten refused the token request (HTTP " + std::to_string(status) + ")";
    if (status >= 500 || status == 429)
        return make_error(make_error_code(http::status_errc(status)), where + ": " + shorten(body),
                          retry::yes);
    if (json_object && !json_string(parsed.as_object(), "error").empty()) {
        const auto& o = parsed.as_object();
        const auto code = json_string(o, "error");
        std::string text = where + ": " + code;
        if (const auto d = json_string(o, "error_description"); !d.empty())
            text += ": " + d;
        if (const auto mp = mp_code(json_string(o, "error_uri")); !mp.empty())
            text += " (" + mp + ")";
        return make_error(errc_for(code), std::move(text));
    }
    return make_error(errc::refused, where + ": " + shorten(body));
}

boost::asio::awaitable<result<access_token>>
request_token_at(http::client* client, std::string token_url, std::string grant,
                 std::function<std::chrono::steady_clock::time_point()> now) {
    http::request r;
    r.method = http::verb::post;
    r.url = token_url;
    r.headers.set(boost::beast::http::field::content_type, "application/x-www-form-urlencoded");
    r.headers.set(boost::beast::http::field::accept, "application/json");
    const http::form_fields form{{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                                 {"assertion", std::move(grant)}};
    r.body = http::body_source::from_string(http::form_encode(form));
    auto resp = co_await client->send(std::move(r));
    if (!resp) {
        auto e = resp.error();
        e.message = "Maskinporten token request to " + token_url + " failed: " + e.message;
        co_return e;
    }
    co_return parse_token_response(resp->status, resp->header("Content-Type"), resp->body, now());
}

boost::asio::awaitable<result<access_token>> request_token(http::client* client, std::string token_url,
                                                           std::string grant) {
    co_return co_await request_token_at(client, std::move(token_url), std::move(grant),
                                        [] { return std::chrono::steady_clock::now(); });
}

struct token_provider::impl : std::enable_shared_from_this<token_provider::impl> {
    impl(http::client& c, config cfg_, credentials cr, provider_options o)
        : client(&c)
        , cfg(std::move(cfg_))
        , creds(std::move(cr))
        , options(std::move(o))
        , cache(c.executor(), options.steady_clock) {}

    http::client* client;
    config cfg;
    credentials creds;
    provider_options options;
    http::single_flight_cache<access_token> cache;
    std::atomic<std::uint64_t> requests{0};

    boost::asio::awaitable<result<access_token>> fetch(token_request req) {
        grant_claims claims;
        claims.audience = cfg.audience;
        claims.issuer = cfg.client_id;
        claims.scopes = req.scopes;
        claims.system_user = req.system_user;
        claims.lifetime = cfg.grant_lifetime;
        const auto now = options.wall_clock(); // iat and exp come from this one reading
        const auto jti = random_uuid();
        auto grant = co_await kurer::offload(
            options.blocking, [&claims, this, now, &jti] { return make_grant(claims, creds, now, jti); });
        if (!grant)
            co_return make_error(errc::bad_configuration,
                                 "cannot make a Maskinporten grant: " + grant.error().message);
        ++requests;
        co_return co_await request_token_at(client, cfg.token_url, std::move(*grant), options.steady_clock);
    }
};

result<token_provider> token_provider::create(http::client& client, config cfg, credentials creds,
                                              provider_options options) {
    if (cfg.token_url.empty() || cfg.audience.empty() || cfg.client_id.empty())
        return make_error(errc::bad_configuration,
                          "maskinporten: token_url, audience and client_id are required");
    if (cfg.grant_lifetime.count() < 1 || cfg.grant_lifetime.count() > 120)
        return make_error(errc::bad_configuration, "maskinporten.grant_lifetime_s must be 1..120, not " +
                                                       std::to_string(cfg.grant_lifetime.count()));
    if (cfg.refresh_margin.count() < 0)
        return make_error(errc::bad_configuration, "maskinporten.refresh_margin_s must not be negative");
    if (!creds.certificate || !creds.private_key)
        return make_error(errc::bad_configuration, "maskinporten: no enterprise certificate and key");
    if (!options.wall_clock)
        options.wall_clock = [] {
            return std::chrono::system_clock::now();
        };
    if (!options.steady_clock)
        options.steady_clock = [] {
            return std::chrono::steady_clock::now();
        };
    return token_provider(
        std::make_shared<impl>(client, std::move(cfg), std::move(creds), std::move(options)));
}

token_provider::token_provider(std::shared_ptr<impl> p)
    : impl_(std::move(p)) {}
token_provider::token_provider(token_provider&&) noexcept = default;
token_provider& token_provider::operator=(token_provider&&) noexcept = default;
token_provider::~token_provider() = default;

boost::asio::awaitable<result<access_token>> token_provider::get(token_request request) {
    auto self = impl_;
    const auto key = request.cache_key();
    // Named, not temporaries: GCC 12 mis-destroys closures created inside a co_await expression.
    http::single_flight_cache<access_token>::fetch_function fetch = [self, request]() {
        return self->fetch(request);
    };
    http::single_flight_cache<access_token>::ttl_function ttl =
        [self](const access_token& t) -> std::chrono::steady_clock::duration {
        // Renew refresh_margin before expiry, but keep a short-lived token for half its life at least.
        const auto lifetime = t.expires_in - self->cfg.refresh_margin;
        return std::max<std::chrono::steady_clock::duration>(lifetime, t.expires_in / 2);
    };
    co_return co_await self->cache.get(key, std::move(fetch), std::move(ttl));
}

boost::asio::awaitable<result<access_token>> token_provider::fetch(token_request request) {
    auto self = impl_;
    co_return co_await self->fetch(std::move(request));
}

void token_provider::invalidate(const token_request& request) {
    impl_->cache.invalidate(request.cache_key());
}

std::uint64_t token_provider::requests_made() const {
    return impl_->requests;
}
const config& token_provider::settings() const {
    return impl_->cfg;
}

} // namespace kurer::maskinporten

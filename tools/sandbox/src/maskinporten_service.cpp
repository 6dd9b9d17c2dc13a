// Maskinporten as the sandbox plays it: POST /token with every check of maskinporten.md §7 in
// order, the metadata document and the JWK set.
#include <kurer/asio/offload.hpp>
#include <kurer/core/files.hpp>
#include <kurer/core/organization_number.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/http/percent.hpp>
#include <kurer/maskinporten/jose.hpp>
#include <kurer/sandbox/service.hpp>
#include <kurer/sandbox/settings.hpp>
#include <kurer/sandbox/token_authority.hpp>

#include <boost/json.hpp>

#include <botan/data_src.h>
#include <botan/pk_keys.h>
#include <botan/pkix_types.h>
#include <botan/x509cert.h>

#include <map>
#include <mutex>
#include <set>

namespace kurer::sandbox {
namespace {

namespace json = boost::json;
namespace jose = maskinporten::jose;
using asio_void = boost::asio::awaitable<void>;

constexpr std::string_view jwt_bearer = "urn:ietf:params:oauth:grant-type:jwt-bearer";

struct oauth_error {
    unsigned status = 400;
    std::string error;
    std::string description;
    std::string mp; // "MP-124"
};

struct issued_token {
    std::string access_token;
    std::string scope;
    std::int64_t expires_in = 0;
};

std::int64_t epoch(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

bool iso6523_org(std::string_view id) {
    if (id.size() != 14 || id.substr(0, 5) != "0192:")
        return false;
    return std::all_of(id.begin() + 5, id.end(), [](char c) { return c >= '0' && c <= '9'; });
}

class maskinporten_service final : public service {
public:
    std::string_view name() const override { return "maskinporten"; }

    void register_routes(http::router& r, context& ctx) override {
        ctx_ = &ctx;
        auto ca_text = read_small_file(ctx.dir() / ctx.current_state().ca_certificate, 1 << 20);
        if (ca_text) {
            Botan::DataSource_Memory source(*ca_text);
            ca_ = std::make_shared<Botan::X509_Certificate>(source);
        }
        r.add(boost::beast::http::verb::post, "/token", [this](http::exchange ex) { return token(ex); });
        r.add(boost::beast::http::verb::get, "/jwk", [this](http::exchange ex) -> asio_void {
            co_await ex.send(http::reply::json(200, json::serialize(ctx_->authority().jwks())));
        });
        r.add(boost::beast::http::verb::get, "/.well-known/oauth-authorization-server",
              [this](http::exchange ex) -> asio_void {
                  const auto base = ctx_->base_url();
                  const json::object metadata{
                      {"issuer", ctx_->authority().issuer()},
                      {"token_endpoint", base + "/token"},
                      {"jwks_uri", base + "/jwk"},
                      {"token_endpoint_auth_methods_supported", json::array{"private_key_jwt"}},
                      {"grant_types_supported", json::array{jwt_bearer}},
                      {"token_endpoint_auth_signing_alg_values_supported",
                       json::array{"RS256", "RS384", "RS512"}},
                      {"authorization_details_types_supported", json::array{"urn:altinn:systemuser"}},
                  };
                  co_await ex.send(http::reply::json(200, json::serialize(metadata)));
              });
    }

private:
    asio_void token(http::exchange ex) {
        const auto content_type = ex.header("Content-Type");
        auto body = co_await ex.read_body(64 * 1024);
        if (!body) {
            const oauth_error e{400, "invalid_request", "Invalid request: " + body.error().message, ""};
            co_await send_error(ex, &e);
            co_return;
        }
        // §7.1: a form post with exactly grant_type and assertion.
        if (content_type.substr(0, content_type.find(';')) != "application/x-www-form-urlencoded") {
            const oauth_error e{400, "invalid_request",
                                "Content-Type must be application/x-www-form-urlencoded", "MP-011"};
            co_await send_error(ex, &e);
            co_return;
        }
        auto fields = http::form_decode(*body);
        if (!fields) {
            const oauth_error e{400, "invalid_request", "Invalid request: " + fields.error().message,
                                "MP-011"};
            co_await send_error(ex, &e);
            co_return;
        }
        std::map<std::string, std::string> form;
        for (auto& [name, value] : *fields)
            form[name] = std::move(value);
        if (!form.contains("grant_type") || !form.contains("assertion")) {
            const oauth_error e{400, "invalid_request", "Missing grant_type or assertion", "MP-011"};
            co_await send_error(ex, &e);
            co_return;
        }
        for (const auto& [k, v] : form)
            if (k != "grant_type" && k != "assertion") {
                const oauth_error e{400, "invalid_request", "Unexpected parameter " + k, "MP-011"};
                co_await send_error(ex, &e);
                co_return;
            }
        if (form["grant_type"] != jwt_bearer) {
            const oauth_error e{400, "unsupported_grant_type", "Unsupported grant_type " + form["grant_type"],
                                ""};
            co_await send_error(ex, &e);
            co_return;
        }
        const auto now = ctx_->now();
        const auto lifetime = ctx_->switches().token_lifetime;
        // Named, not a temporary: GCC 12 mis-destroys closures created inside a co_await expression.
        auto work = [this, assertion = form["assertion"], now, lifetime] {
            return check(assertion, now, lifetime);
        };
        auto outcome = co_await kurer::offload(ctx_->blocking(), std::move(work));
        if (auto* refused = std::get_if<oauth_error>(&outcome)) {
            co_await send_error(ex, refused);
            co_return;
        }
        const auto& t = std::get<issued_token>(outcome);
        // Built before co_await: GCC 12 miscompiles braced lists of literals inside a co_await expression.
        json::object answer;
        answer["access_token"] = t.access_token;
        answer["token_type"] = "Bearer";
        answer["expires_in"] = t.expires_in;
        answer["scope"] = t.scope;
        co_await ex.send(http::reply::json(200, json::serialize(answer)));
    }

    // A plain function: aggregates holding strings are not passed by value into coroutines here
    // (GCC 12 has been seen to relocate such a parameter bitwise and free a stale buffer).
    static http::reply error_reply(const oauth_error& e) {
        json::object body;
        body["error"] = e.error;
        body["error_description"] = e.description + " (trace_id: " + random_uuid() + ")";
        if (!e.mp.empty())
            body["error_uri"] = "https://maskinporten.no/errors/" + e.mp;
        return http::reply::json(e.status, json::serialize(body));
    }

    asio_void send_error(http::exchange ex, const oauth_error* e) {
        auto reply = error_reply(*e);
        co_await ex.send(std::move(reply));
    }

    // Runs on the worker pool; the jti store is guarded by mutex_.
    std::variant<issued_token, oauth_error> check(const std::string& assertion,
                                                  std::chrono::system_clock::time_point now,
                                                  std::chrono::seconds lifetime) {
        const auto invalid_assertion = [](std::string what, std::string mp = "MP-011") {
            return oauth_error{400, "invalid_request", "Invalid assertion. " + what, std::move(mp)};
        };
        const auto invalid_grant = [](std::string what, std::string mp) {
            return oauth_error{400, "invalid_grant",
                               "Invalid assertion. Client authentication failed. " + what, std::move(mp)};
        };
        // §7.2: a compact JWS.
        auto jws = jose::parse(assertion);
        if (!jws)
            return invalid_assertion(jws.error().message);
        boost::system::error_code ec;
        const auto header_value = json::parse(jws->header_json, ec);
        if (ec || !header_value.is_object())
            return invalid_assertion("The JWT header is not a JSON object");
        const auto claims_value = json::parse(jws->payload, ec);
        if (ec || !claims_value.is_object())
            return invalid_assertion("The JWT claims are not a JSON object");
        const auto& header = header_value.as_object();
        const auto& claims = claims_value.as_object();

        // §7.3: the header.
        const auto* alg = header.if_contains("alg");
        if (!alg || !alg->is_string() ||
            (alg->as_string() != "RS256" && alg->as_string() != "RS384" && alg->as_string() != "RS512"))
            return invalid_assertion("Unsupported JWT alg (RS256, RS384 or RS512 only)");
        const auto* x5c = header.if_contains("x5c");
        if (!x5c) {
            if (header.contains("kid"))
                return invalid_grant("Unknown key identifier (kid) for client", "MP-100");
            return invalid_grant("Invalid JWT header x5c: missing", "MP-123");
        }
        if (!x5c->is_array() || x5c->as_array().empty() || !x5c->as_array()[0].is_string())
            return invalid_grant("Invalid JWT header x5c: expected an array of base64 certificates",
                                 "MP-123");
        std::unique_ptr<Botan::X509_Certificate> cert;
        {
            const auto der = jose::from_base64(x5c->as_array()[0].as_string());
            if (!der)
                return invalid_grant("Invalid JWT header x5c: not base64", "MP-123");
            try {
                Botan::DataSource_Memory source(der->data(), der->size());
                cert = std::make_unique<Botan::X509_Certificate>(source);
            } catch (const std::exception&) {
                return invalid_grant("Invalid JWT header x5c: not a certificate", "MP-123");
            }
        }
        // §7.4: the signature, with x5c[0]'s key.
        if (!jose::verify(*jws, *cert->load_subject_public_key(), alg->as_string()))
            return invalid_grant("Invalid JWT signature", "MP-124");

        // §7.5: the certificate: current, from the sandbox CA, belonging to the client's organisation.
        const auto* iss = claims.if_contains("iss");
        const organization* client =
            iss && iss->is_string() ? ctx_->current_state().find_client(iss->as_string()) : nullptr;
        if (!client)
            return invalid_grant("Client not found", "MP-100");
        const auto tp = [](const Botan::X509_Time& t) {
            return t.to_std_timepoint();
        };
        if (now < tp(cert->not_before()) || now > tp(cert->not_after()))
            return invalid_grant("Certificate is expired or not yet valid", "MP-120");
        if (!ca_ || cert->issuer_dn() != ca_->subject_dn() ||
            !cert->check_signature(*ca_->load_subject_public_key()))
            return invalid_grant(
                "The JWT is signed with an invalid certificate (not issued by a trusted CA for "
                "this environment)",
                "MP-120");
        // Either profile: organizationIdentifier NTRNO-<9 digits> (SEID 2.0) or serialNumber (SEID 1).
        std::vector<subject_attribute> subject;
        for (const auto& [oid, value] : cert->subject_dn().dn_info())
            subject.push_back({oid.to_string(), value.value()});
        const auto cert_org = organization_number_in_attributes(subject);
        if (!cert_org)
            return invalid_grant("Invalid certificate: " + cert_org.error().message, "MP-122");
        if (*cert_org != client->number)
            return invalid_grant("The certificate's organisation number (" + *cert_org +
                                     ") does not match the client's owner (" + client->number + ")",
                                 "MP-122");

        // §7.6: the claims.
        static const std::set<std::string> documented{"aud",
                                                      "iss",
                                                      "iat",
                                                      "exp",
                                                      "jti",
                                                      "scope",
                                                      "resource",
                                                      "pid",
                                                      "consumer_org",
                                                      "iss_onbehalfof",
                                                      "authorization_details"};
        for (const auto& kv : claims)
            if (!documented.contains(std::string(kv.key())))
                return invalid_assertion("Unknown claim " + std::string(kv.key()));
        const auto* aud = claims.if_contains("aud");
        if (!aud || !aud->is_string() || aud->as_string() != ctx_->authority().issuer())
            return invalid_grant(
                "Invalid JWT claim aud (expected the issuer " + ctx_->authority().issuer() + ")", "MP-110");
        const auto* iat = claims.if_contains("iat");
        const auto* exp = claims.if_contains("exp");
        if (!iat || !iat->is_int64() || !exp || !exp->is_int64())
            return invalid_assertion("iat and exp must be integers");
        const auto now_s = epoch(now);
        if (exp->as_int64() <= now_s)
            return invalid_grant("JWT is expired", "MP-130");
        if (exp->as_int64() - iat->as_int64() > 120)
            return invalid_grant("JWT lifetime (exp - iat) exceeds 120 seconds", "MP-130");
        if (iat->as_int64() > now_s + 10)
            return invalid_grant("Issue time is after now", "MP-130");
        if (iat->as_int64() < now_s - 10)
            return invalid_grant("Issue time is more than 10 seconds before now", "MP-130");
        const auto* jti = claims.if_contains("jti");
        if (jti && !jti->is_string())
            return invalid_assertion("jti must be a string");
        if (claims.contains("consumer_org") && claims.contains("iss_onbehalfof"))
            return invalid_assertion("consumer_org and iss_onbehalfof exclude each other");
        if (jti) {
            std::lock_guard lock(mutex_);
            std::erase_if(seen_jti_, [now_s](const auto& kv) { return kv.second < now_s - 60; });
            if (!seen_jti_.emplace(std::string(jti->as_string()), exp->as_int64()).second)
                return invalid_grant("Grant is used before", "MP-012");
        }

        // §7.7: scopes.
        const auto* scope = claims.if_contains("scope");
        if (!scope || !scope->is_string() || scope->as_string().empty())
            return invalid_assertion("Missing scope");
        std::vector<std::string> scopes;
        {
            std::string_view s = scope->as_string();
            while (!s.empty()) {
                const auto space = s.find(' ');
                if (space != 0)
                    scopes.emplace_back(s.substr(0, space));
                if (space == std::string_view::npos)
                    break;
                s.remove_prefix(space + 1);
            }
        }
        for (const auto& sc : scopes)
            if (std::find(client->scopes.begin(), client->scopes.end(), sc) == client->scopes.end())
                return oauth_error{400, "invalid_scope",
                                   "Token request contains invalid scopes for client: " + sc, "MP-200"};

        // §7.8: authorization_details.
        json::object token_claims{
            {"client_id", client->client_id},
            {"client_amr", "virksomhetssertifikat"},
            {"token_type", "Bearer"},
            {"scope", scope->as_string()},
            {"consumer",
             json::object{{"authority", "iso6523-actorid-upis"}, {"ID", "0192:" + client->number}}},
        };
        if (const auto* details = claims.if_contains("authorization_details")) {
            if (!details->is_array() || details->as_array().empty())
                return invalid_grant("authorization_details must be a non-empty array", "MP-303");
            json::array granted;
            for (const auto& d : details->as_array()) {
                if (!d.is_object())
                    return invalid_grant("authorization_details entries must be objects", "MP-303");
                const auto& o = d.as_object();
                const auto* type = o.if_contains("type");
                if (!type || !type->is_string() || type->as_string() != "urn:altinn:systemuser")
                    return invalid_grant("Unknown authorization_details type", "MP-301");
                for (const auto& kv : o)
                    if (kv.key() != "type" && kv.key() != "systemuser_org" && kv.key() != "externalRef")
                        return invalid_grant(
                            "Unknown field " + std::string(kv.key()) + " in authorization_details", "MP-302");
                const auto* org = o.if_contains("systemuser_org");
                if (!org || !org->is_object())
                    return invalid_grant("authorization_details lacks systemuser_org", "MP-303");
                const auto* authority = org->as_object().if_contains("authority");
                const auto* id = org->as_object().if_contains("ID");
                if (!authority || !authority->is_string() ||
                    authority->as_string() != "iso6523-actorid-upis" || !id || !id->is_string() ||
                    !iso6523_org(id->as_string()))
                    return invalid_grant(
                        "Invalid systemuser_org (authority iso6523-actorid-upis, ID 0192:<orgnr>)", "MP-303");
                const auto* owner = ctx_->current_state().find(std::string_view(id->as_string()).substr(5));
                if (!owner || owner->number != client->number)
                    return invalid_grant(
                        "No system user for " + std::string(id->as_string()) + " on this client", "MP-303");
                const auto* ref = o.if_contains("externalRef");
                if (ref && (!ref->is_string() || ref->as_string() != owner->altinn3_system_user))
                    return invalid_grant("Unknown externalRef for the system user", "MP-303");
                granted.push_back(json::object{
                    {"type", "urn:altinn:systemuser"},
                    {"systemuser_id", json::array{owner->altinn3_system_user_id}},
                    {"systemuser_org",
                     json::object{{"authority", "iso6523-actorid-upis"}, {"ID", id->as_string()}}},
                    {"system_id", owner->number + "_integrasjonspunkt"},
                    {"externalRef", owner->altinn3_system_user},
                });
            }
            token_claims["authorization_details"] = std::move(granted);
        }
        issued_token out;
        out.access_token = ctx_->authority().issue(std::move(token_claims), now, lifetime);
        out.scope = scope->as_string();
        out.expires_in = lifetime.count();
        return out;
    }

    context* ctx_ = nullptr;
    std::shared_ptr<Botan::X509_Certificate> ca_;
    std::mutex mutex_;
    std::map<std::string, std::int64_t> seen_jti_; // jti -> exp
};

} // namespace

std::unique_ptr<service> make_maskinporten_service() {
    return std::make_unique<maskinporten_service>();
}

} // namespace kurer::sandbox

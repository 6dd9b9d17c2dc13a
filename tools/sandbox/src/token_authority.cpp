#include <kurer/core/uuid.hpp>
#include <kurer/maskinporten/jose.hpp>
#include <kurer/sandbox/token_authority.hpp>

#include <boost/json.hpp>

#include <botan/pk_keys.h>

namespace kurer::sandbox {
namespace {

namespace jose = maskinporten::jose;

error refused(std::string why) {
    return make_error(make_error_code(boost::system::errc::permission_denied), std::move(why));
}

std::int64_t seconds(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

} // namespace

token_authority::token_authority(std::string issuer, std::shared_ptr<const Botan::Private_Key> key)
    : issuer_(std::move(issuer))
    , key_(std::move(key))
    , kid_(jose::thumbprint(*key_)) {}

boost::json::object token_authority::jwks() const {
    return {{"keys", boost::json::array{jose::rsa_jwk(*key_, kid_)}}};
}

std::string token_authority::issue(boost::json::object claims, std::chrono::system_clock::time_point now,
                                   std::chrono::seconds lifetime) const {
    claims["iss"] = issuer_;
    claims["iat"] = seconds(now);
    claims["exp"] = seconds(now) + lifetime.count();
    claims["jti"] = random_uuid();
    const std::string header = boost::json::serialize(boost::json::object{{"kid", kid_}, {"alg", "RS256"}});
    return jose::sign(header, boost::json::serialize(claims), *key_);
}

result<boost::json::object> token_authority::verify(std::string_view token,
                                                    std::chrono::system_clock::time_point now,
                                                    std::chrono::seconds leeway) const {
    auto jws = jose::parse(token);
    if (!jws)
        return refused("the bearer token is not a JWS: " + jws.error().message);
    boost::system::error_code ec;
    const auto header = boost::json::parse(jws->header_json, ec);
    if (ec || !header.is_object())
        return refused("the bearer token's header is not JSON");
    const auto alg = header.as_object().if_contains("alg");
    if (!alg || !alg->is_string())
        return refused("the bearer token names no algorithm");
    if (!jose::verify(*jws, *key_, alg->as_string()))
        return refused("the bearer token's signature does not verify with the issuer's key");
    const auto claims = boost::json::parse(jws->payload, ec);
    if (ec || !claims.is_object())
        return refused("the bearer token's claims are not a JSON object");
    const auto& c = claims.as_object();
    const auto* iss = c.if_contains("iss");
    if (!iss || !iss->is_string() || iss->as_string() != issuer_)
        return refused("the bearer token was not issued by " + issuer_);
    const auto now_s = seconds(now);
    const auto* exp = c.if_contains("exp");
    if (!exp || !exp->is_int64() || exp->as_int64() + leeway.count() < now_s)
        return refused("the bearer token has expired");
    if (const auto* nbf = c.if_contains("nbf");
        nbf && nbf->is_int64() && nbf->as_int64() - leeway.count() > now_s)
        return refused("the bearer token is not valid yet");
    return c;
}

result<boost::json::object> token_authority::verify_bearer(std::string_view authorization,
                                                           std::chrono::system_clock::time_point now) const {
    constexpr std::string_view scheme = "Bearer ";
    if (authorization.size() <= scheme.size() || authorization.substr(0, scheme.size()) != scheme)
        return refused("no bearer token");
    return verify(authorization.substr(scheme.size()), now);
}

std::vector<std::string> token_scopes(const boost::json::object& claims) {
    std::vector<std::string> out;
    const auto* scope = claims.if_contains("scope");
    if (!scope || !scope->is_string())
        return out;
    std::string_view s = scope->as_string();
    while (!s.empty()) {
        const auto space = s.find(' ');
        if (space != 0)
            out.emplace_back(s.substr(0, space));
        if (space == std::string_view::npos)
            break;
        s.remove_prefix(space + 1);
    }
    return out;
}

std::string token_consumer(const boost::json::object& claims) {
    const auto* consumer = claims.if_contains("consumer");
    if (!consumer || !consumer->is_object())
        return {};
    const auto* id = consumer->as_object().if_contains("ID");
    return id && id->is_string() ? std::string(id->as_string()) : std::string();
}

std::optional<std::string> token_system_user_org(const boost::json::object& claims) {
    const auto* details = claims.if_contains("authorization_details");
    if (!details || !details->is_array() || details->as_array().empty() ||
        !details->as_array()[0].is_object())
        return std::nullopt;
    const auto* org = details->as_array()[0].as_object().if_contains("systemuser_org");
    if (!org || !org->is_object())
        return std::nullopt;
    const auto* id = org->as_object().if_contains("ID");
    if (!id || !id->is_string())
        return std::nullopt;
    std::string_view v = id->as_string();
    if (v.starts_with("0192:"))
        v.remove_prefix(5);
    return std::string(v);
}

} // namespace kurer::sandbox

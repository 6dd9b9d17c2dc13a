// The sandbox's Maskinporten signing key: issues access tokens and verifies the tokens
// clients present to the Service Registry and the brokers, as the real resource servers do
// (signature by the issuer's key, iss equal to the issuer, exp/nbf with 60 s leeway).
#pragma once

#include <kurer/core/error.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Botan {
class Private_Key;
}

namespace kurer::sandbox {

class token_authority {
public:
    token_authority(std::string issuer, std::shared_ptr<const Botan::Private_Key> key);

    const std::string& issuer() const noexcept { return issuer_; }
    const std::string& kid() const noexcept { return kid_; }
    // {"keys":[<the public key>]}
    boost::json::object jwks() const;

    // Signs `claims` after adding iss, iat, exp (= iat + lifetime) and jti.
    std::string issue(boost::json::object claims, std::chrono::system_clock::time_point now,
                      std::chrono::seconds lifetime) const;

    // The claims of a valid token; the error says why it is not.
    result<boost::json::object> verify(std::string_view token, std::chrono::system_clock::time_point now,
                                       std::chrono::seconds leeway = std::chrono::seconds(60)) const;
    // verify() for an "Authorization: Bearer <token>" header value.
    result<boost::json::object> verify_bearer(std::string_view authorization,
                                              std::chrono::system_clock::time_point now) const;

private:
    std::string issuer_;
    std::shared_ptr<const Botan::Private_Key> key_;
    std::string kid_;
};

// Helpers over verified claims.
std::vector<std::string> token_scopes(const boost::json::object& claims);
// "0192:<orgnr>" of the consumer claim, empty when absent.
std::string token_consumer(const boost::json::object& claims);
// The organisation number in authorization_details[0].systemuser_org.ID (prefix stripped), or nullopt.
std::optional<std::string> token_system_user_org(const boost::json::object& claims);

} // namespace kurer::sandbox

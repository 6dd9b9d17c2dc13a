// The JWT bearer grant that authenticates an organisation to Maskinporten.
//
// Exactly as the reference sends it: header {"alg":"RS256","x5c":[<leaf certificate>]}, claims
// aud, iss, scope, iat, exp and jti (plus authorization_details for an Altinn system user) and
// nothing else, iat and exp from one clock read, a fresh jti per grant.
#pragma once

#include <kurer/core/error.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace Botan {
class Private_Key;
class X509_Certificate;
} // namespace Botan

namespace kurer::maskinporten {

// The enterprise certificate (virksomhetssertifikat) and its key.
struct credentials {
    std::shared_ptr<const Botan::X509_Certificate> certificate; // the leaf
    std::shared_ptr<const Botan::Private_Key> private_key;

    // PEM certificate (leaf first; a chain may follow and is ignored) and PKCS#8 PEM key. Fails
    // when either cannot be read, the key is not RSA, or the key does not belong to the certificate.
    static result<credentials> load(const std::filesystem::path& certificate_pem,
                                    const std::filesystem::path& private_key_pem);
    static result<credentials> from_pem(std::string_view certificate_pem, std::string_view private_key_pem);

    // The organisation number the certificate's subject names, in either profile (SEID 2.0
    // organizationIdentifier NTRNO-<9 digits>, SEID 1 serialNumber), by the rule of
    // kurer/core/organization_number.hpp; an error (invalid_argument) when it names none or two.
    result<std::string> organization_number() const;
};

// The Altinn 3 system-user claim: authorization_details
// [{"type":"urn:altinn:systemuser","systemuser_org":{"authority":"iso6523-actorid-upis",
//   "ID":"0192:<organization>"},"externalRef":"<external_ref>"}].
struct altinn_system_user {
    std::string organization{}; // 9 digits
    std::string external_ref{}; // empty: the member is left out (it is optional)

    bool operator==(const altinn_system_user&) const = default;
};

struct grant_claims {
    std::string audience{}; // Maskinporten's issuer identifier, trailing slash included
    std::string issuer{};   // the client_id
    std::vector<std::string> scopes{};
    std::optional<altinn_system_user> system_user{};
    std::chrono::seconds lifetime{110}; // exp - iat, at most 120
};

// The claims JSON of a grant issued at `now` with id `jti` (exposed for tests).
std::string grant_claims_json(const grant_claims& claims, std::chrono::system_clock::time_point now,
                              std::string_view jti);

// The signed compact JWS. Refuses a lifetime outside 1..120 s, no scopes, or a missing aud/iss.
result<std::string> make_grant(const grant_claims& claims, const credentials& creds,
                               std::chrono::system_clock::time_point now, std::string_view jti);

} // namespace kurer::maskinporten

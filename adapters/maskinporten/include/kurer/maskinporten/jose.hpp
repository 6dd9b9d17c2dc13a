// The JOSE pieces Maskinporten and the Service Registry use: compact JWS with RSA
// (RS256/RS384/RS512), RSA JWKs and their RFC 7638 thumbprints.
#pragma once

#include <kurer/core/error.hpp>

#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Botan {
class Private_Key;
class Public_Key;
class X509_Certificate;
} // namespace Botan

namespace kurer::maskinporten::jose {

// A compact JWS split into its parts; header and payload are decoded, not yet interpreted.
struct jws {
    std::string header_json;
    std::string payload;
    std::string signing_input; // "<b64 header>.<b64 payload>", what the signature covers
    std::string signature;     // raw bytes
};

// Splits and base64url-decodes a compact JWS; the error says which part is malformed.
result<jws> parse(std::string_view compact);

// Signs `header_json` and `payload` (as given, byte for byte) and returns the compact form.
// `alg` is RS256, RS384 or RS512; the key must be RSA.
std::string sign(std::string_view header_json, std::string_view payload, const Botan::Private_Key& key,
                 std::string_view alg = "RS256");

// True when `token`'s signature verifies with `key` under `alg` (RS256/RS384/RS512 only).
bool verify(const jws& token, const Botan::Public_Key& key, std::string_view alg);

// RFC 7638 SHA-256 thumbprint of an RSA public key, base64url.
std::string thumbprint(const Botan::Public_Key& key);

// {"kty":"RSA","use":"sig","alg":"RS256","kid":...,"n":...,"e":...[,"x5c":[...]]}.
boost::json::object rsa_jwk(const Botan::Public_Key& key, std::string_view kid,
                            const std::vector<std::string>& x5c = {});

// The RSA public key a JWK describes.
result<std::unique_ptr<Botan::Public_Key>> rsa_public_key(const boost::json::object& jwk);

// Standard base64 (with padding), as x5c uses it.
std::string base64(const std::vector<std::uint8_t>& bytes);
std::optional<std::vector<std::uint8_t>> from_base64(std::string_view text);

// The leaf certificate's DER as x5c carries it.
std::string x5c_entry(const Botan::X509_Certificate& certificate);

} // namespace kurer::maskinporten::jose

#include <kurer/maskinporten/base64url.hpp>
#include <kurer/maskinporten/jose.hpp>

#include <boost/json/serialize.hpp>
#include <boost/system/errc.hpp>

#include <botan/auto_rng.h>
#include <botan/base64.h>
#include <botan/hash.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>
#include <botan/x509cert.h>

namespace kurer::maskinporten::jose {
namespace {

error malformed(std::string what) {
    return make_error(make_error_code(boost::system::errc::invalid_argument), std::move(what));
}

std::string padding_for(std::string_view alg) {
    if (alg == "RS256")
        return "EMSA3(SHA-256)";
    if (alg == "RS384")
        return "EMSA3(SHA-384)";
    if (alg == "RS512")
        return "EMSA3(SHA-512)";
    return {};
}

std::string big_endian(const Botan::BigInt& n) {
    std::string out(n.bytes(), '\0');
    n.binary_encode(reinterpret_cast<std::uint8_t*>(out.data()), out.size());
    return out;
}

} // namespace

result<jws> parse(std::string_view compact) {
    const auto first = compact.find('.');
    const auto second = first == std::string_view::npos ? first : compact.find('.', first + 1);
    if (first == std::string_view::npos || second == std::string_view::npos ||
        compact.find('.', second + 1) != std::string_view::npos)
        return malformed("not a compact JWS (three base64url parts separated by dots)");
    auto header = base64url_decode(compact.substr(0, first));
    if (!header)
        return malformed("the JWS header is not base64url");
    auto payload = base64url_decode(compact.substr(first + 1, second - first - 1));
    if (!payload)
        return malformed("the JWS payload is not base64url");
    auto signature = base64url_decode(compact.substr(second + 1));
    if (!signature)
        return malformed("the JWS signature is not base64url");
    return jws{std::move(*header), std::move(*payload), std::string(compact.substr(0, second)),
               std::move(*signature)};
}

std::string sign(std::string_view header_json, std::string_view payload, const Botan::Private_Key& key,
                 std::string_view alg) {
    const std::string input = base64url_encode(header_json) + "." + base64url_encode(payload);
    Botan::AutoSeeded_RNG rng;
    Botan::PK_Signer signer(key, rng, padding_for(alg));
    const auto sig =
        signer.sign_message(reinterpret_cast<const std::uint8_t*>(input.data()), input.size(), rng);
    return input + "." +
           base64url_encode(std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()));
}

bool verify(const jws& token, const Botan::Public_Key& key, std::string_view alg) {
    const auto padding = padding_for(alg);
    if (padding.empty() || key.algo_name() != "RSA")
        return false;
    try {
        Botan::PK_Verifier verifier(key, padding);
        return verifier.verify_message(
            reinterpret_cast<const std::uint8_t*>(token.signing_input.data()), token.signing_input.size(),
            reinterpret_cast<const std::uint8_t*>(token.signature.data()), token.signature.size());
    } catch (const std::exception&) {
        return false;
    }
}

std::string thumbprint(const Botan::Public_Key& key) {
    const auto& rsa = dynamic_cast<const Botan::RSA_PublicKey&>(key);
    // RFC 7638: the required members in lexicographic order, no whitespace.
    const std::string canonical = "{\"e\":\"" + base64url_encode(big_endian(rsa.get_e())) +
                                  "\",\"kty\":\"RSA\",\"n\":\"" + base64url_encode(big_endian(rsa.get_n())) +
                                  "\"}";
    auto hash = Botan::HashFunction::create_or_throw("SHA-256");
    const auto digest = hash->process(canonical);
    return base64url_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

boost::json::object rsa_jwk(const Botan::Public_Key& key, std::string_view kid,
                            const std::vector<std::string>& x5c) {
    const auto& rsa = dynamic_cast<const Botan::RSA_PublicKey&>(key);
    boost::json::object jwk;
    jwk["kty"] = "RSA";
    jwk["use"] = "sig";
    jwk["alg"] = "RS256";
    jwk["kid"] = kid;
    if (!x5c.empty()) {
        boost::json::array chain;
        for (const auto& c : x5c)
            chain.emplace_back(c);
        jwk["x5c"] = std::move(chain);
    }
    jwk["n"] = base64url_encode(big_endian(rsa.get_n()));
    jwk["e"] = base64url_encode(big_endian(rsa.get_e()));
    return jwk;
}

result<std::unique_ptr<Botan::Public_Key>> rsa_public_key(const boost::json::object& jwk) {
    const auto text = [&](std::string_view name) -> std::optional<std::string> {
        auto it = jwk.find(name);
        if (it == jwk.end() || !it->value().is_string())
            return std::nullopt;
        return std::string(it->value().as_string());
    };
    if (text("kty") != "RSA")
        return malformed("the JWK is not an RSA key");
    const auto n = text("n");
    const auto e = text("e");
    const auto n_bytes = n ? base64url_decode(*n) : std::nullopt;
    const auto e_bytes = e ? base64url_decode(*e) : std::nullopt;
    if (!n_bytes || !e_bytes || n_bytes->empty() || e_bytes->empty())
        return malformed("the RSA JWK lacks a valid n or e");
    const Botan::BigInt modulus(reinterpret_cast<const std::uint8_t*>(n_bytes->data()), n_bytes->size());
    const Botan::BigInt exponent(reinterpret_cast<const std::uint8_t*>(e_bytes->data()), e_bytes->size());
    if (modulus.bits() < 2048)
        return malformed("the RSA JWK's modulus is shorter than 2048 bits");
    return std::unique_ptr<Botan::Public_Key>(std::make_unique<Botan::RSA_PublicKey>(modulus, exponent));
}

std::string base64(const std::vector<std::uint8_t>& bytes) {
    return Botan::base64_encode(bytes);
}

std::optional<std::vector<std::uint8_t>> from_base64(std::string_view text) {
    try {
        const auto decoded = Botan::base64_decode(text.data(), text.size(), false);
        return std::vector<std::uint8_t>(decoded.begin(), decoded.end());
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::string x5c_entry(const Botan::X509_Certificate& certificate) {
    return base64(certificate.BER_encode());
}

} // namespace kurer::maskinporten::jose

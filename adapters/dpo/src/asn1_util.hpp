// OIDs and small ASN.1 helpers shared by the CMS sources.
#pragma once

#include <botan/asn1_obj.h>
#include <botan/ber_dec.h>
#include <botan/der_enc.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kurer::dpo::detail {

namespace oid {
inline const Botan::OID data{1, 2, 840, 113549, 1, 7, 1};
inline const Botan::OID signed_data{1, 2, 840, 113549, 1, 7, 2};
inline const Botan::OID enveloped_data{1, 2, 840, 113549, 1, 7, 3};
inline const Botan::OID rsa_encryption{1, 2, 840, 113549, 1, 1, 1};
inline const Botan::OID rsaes_oaep{1, 2, 840, 113549, 1, 1, 7};
inline const Botan::OID mgf1{1, 2, 840, 113549, 1, 1, 8};
inline const Botan::OID p_specified{1, 2, 840, 113549, 1, 1, 9};
inline const Botan::OID sha1_with_rsa{1, 2, 840, 113549, 1, 1, 5};
inline const Botan::OID sha256_with_rsa{1, 2, 840, 113549, 1, 1, 11};
inline const Botan::OID sha384_with_rsa{1, 2, 840, 113549, 1, 1, 12};
inline const Botan::OID sha512_with_rsa{1, 2, 840, 113549, 1, 1, 13};
inline const Botan::OID sha224_with_rsa{1, 2, 840, 113549, 1, 1, 14};
inline const Botan::OID content_type{1, 2, 840, 113549, 1, 9, 3};
inline const Botan::OID message_digest{1, 2, 840, 113549, 1, 9, 4};
inline const Botan::OID signing_time{1, 2, 840, 113549, 1, 9, 5};
inline const Botan::OID algorithm_protection{1, 2, 840, 113549, 1, 9, 52};
inline const Botan::OID sha1{1, 3, 14, 3, 2, 26};
inline const Botan::OID sha256{2, 16, 840, 1, 101, 3, 4, 2, 1};
inline const Botan::OID sha384{2, 16, 840, 1, 101, 3, 4, 2, 2};
inline const Botan::OID sha512{2, 16, 840, 1, 101, 3, 4, 2, 3};
inline const Botan::OID sha224{2, 16, 840, 1, 101, 3, 4, 2, 4};
inline const Botan::OID aes128_cbc{2, 16, 840, 1, 101, 3, 4, 1, 2};
inline const Botan::OID aes192_cbc{2, 16, 840, 1, 101, 3, 4, 1, 22};
inline const Botan::OID aes256_cbc{2, 16, 840, 1, 101, 3, 4, 1, 42};
} // namespace oid

// "envelopedData (1.2.840.113549.1.7.3)": a name where one is known, always the dotted form.
inline std::string describe_oid(const Botan::OID& o) {
    const std::pair<const Botan::OID*, const char*> names[] = {
        {&oid::data, "data"},
        {&oid::signed_data, "signedData"},
        {&oid::enveloped_data, "envelopedData"},
        {&oid::rsa_encryption, "rsaEncryption"},
        {&oid::rsaes_oaep, "RSAES-OAEP"},
        {&oid::sha1, "SHA-1"},
        {&oid::sha256, "SHA-256"},
        {&oid::aes256_cbc, "AES-256-CBC"},
    };
    for (const auto& [known, name] : names)
        if (o == *known)
            return std::string(name) + " (" + o.to_string() + ")";
    const auto formatted = o.to_formatted_string();
    return formatted == o.to_string() ? formatted : formatted + " (" + o.to_string() + ")";
}

// Botan's hash name for a digest OID ("SHA-256"), nullopt when unsupported.
inline std::optional<std::string> hash_name(const Botan::OID& o) {
    if (o == oid::sha1)
        return "SHA-1";
    if (o == oid::sha224)
        return "SHA-224";
    if (o == oid::sha256)
        return "SHA-256";
    if (o == oid::sha384)
        return "SHA-384";
    if (o == oid::sha512)
        return "SHA-512";
    return std::nullopt;
}

// An AlgorithmIdentifier's parameters are absent or NULL (RFC 4055 readers accept both).
inline bool absent_or_null(const Botan::AlgorithmIdentifier& alg) {
    const auto& p = alg.get_parameters();
    return p.empty() || (p.size() == 2 && p[0] == 0x05 && p[1] == 0x00);
}

// The DER of an AlgorithmIdentifier with NULL parameters (how BouncyCastle writes hashes inside
// OAEP parameters and rsaEncryption).
inline std::vector<std::uint8_t> alg_with_null(const Botan::OID& o) {
    std::vector<std::uint8_t> out;
    Botan::DER_Encoder(out).encode(Botan::AlgorithmIdentifier(o, Botan::AlgorithmIdentifier::USE_NULL_PARAM));
    return out;
}

inline std::vector<std::uint8_t> alg_without_params(const Botan::OID& o) {
    std::vector<std::uint8_t> out;
    Botan::DER_Encoder(out).encode(
        Botan::AlgorithmIdentifier(o, Botan::AlgorithmIdentifier::USE_EMPTY_PARAM));
    return out;
}

// The same BER with every indefinite length replaced by a definite one (contents unchanged), so
// Botan's decoder, which mishandles nested indefinite lengths, can read what BouncyCastle and
// OpenSSL stream. nullopt when the input is not well-formed BER or nests deeper than max_depth.
std::optional<std::vector<std::uint8_t>> with_definite_lengths(const std::uint8_t* data, std::size_t size,
                                                               std::size_t max_depth = 32);

// The full encoding (tag, definite length, value) of a decoded object.
inline std::vector<std::uint8_t> reencode(const Botan::BER_Object& obj) {
    std::vector<std::uint8_t> out;
    Botan::DER_Encoder(out).add_object(obj.type(), obj.get_class(), obj.bits(), obj.length());
    return out;
}

} // namespace kurer::dpo::detail

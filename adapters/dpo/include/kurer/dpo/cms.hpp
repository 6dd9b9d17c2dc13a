// CMS (RFC 5652) as DPO uses it.
//
// EnvelopedData carries the ASiC-E to the receiver (message-package.md §3): AES-256-CBC content
// encryption, RSAES-OAEP with SHA-256/MGF1-SHA-256 key transport to the receiver's certificate,
// an issuerAndSerialNumber recipient, written as BouncyCastle's stream generator does (BER
// indefinite lengths, the content in 1000-byte OCTET STRING chunks). Both directions stream:
// the writer never holds more than a chunk, the reader parses the outer structure
// incrementally and feeds the cipher as it goes, so a 1 GB message decrypts in flat memory.
//
// SignedData signs the ASiC manifest (§2.5): detached, signed attributes contentType,
// signingTime, messageDigest and CMSAlgorithmProtection, the signer's chain as certificates.
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/dpo/date_time.hpp>
#include <kurer/dpo/io.hpp>
#include <kurer/dpo/keys.hpp>
#include <kurer/dpo/limits.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kurer::dpo {

enum class key_transport {
    rsa_oaep_sha256, // what DPO uses (CmsAlgorithm.RSAES_OAEP)
    rsa_pkcs1_v15,   // what DPE and some HSM setups use; readable, not recommended
};

struct encrypt_options {
    key_transport transport = key_transport::rsa_oaep_sha256;
    std::size_t chunk_size = 1000; // ciphertext bytes per OCTET STRING, as BouncyCastle writes
};

// Writes an EnvelopedData incrementally: begin() once, update() with plaintext as it comes,
// finish() once. Output is appended to `out`, which the caller drains between calls.
class envelope_encoder {
public:
    static result<envelope_encoder> create(const certificate& recipient, const encrypt_options& options = {});
    envelope_encoder(envelope_encoder&&) noexcept;
    envelope_encoder& operator=(envelope_encoder&&) noexcept;
    ~envelope_encoder();

    void begin(std::vector<std::uint8_t>& out);
    void update(std::span<const std::uint8_t> plaintext, std::vector<std::uint8_t>& out);
    void finish(std::vector<std::uint8_t>& out);

    // The exact number of bytes begin+update+finish produce for this much plaintext, so the
    // blob can be stored in a zip entry whose size is declared before it is written.
    std::uint64_t encoded_size(std::uint64_t plaintext_size) const noexcept;

private:
    struct impl;
    explicit envelope_encoder(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

// Encrypts everything `plaintext` yields into `out`; returns the bytes written.
result<std::uint64_t> encrypt(byte_source& plaintext, byte_sink& out, const certificate& recipient,
                              const encrypt_options& options = {});

struct decrypt_info {
    std::string content_encryption; // "AES-256/CBC"
    std::string key_transport;      // "RSAES-OAEP(SHA-256, MGF1-SHA-256)", "RSA PKCS#1 v1.5"
    std::uint64_t plaintext_bytes = 0;
    bool indefinite_length = false; // BER as BouncyCastle/OpenSSL stream it, or DER
};

// Decrypts an EnvelopedData for `id` into `plaintext`, streaming. Accepts BER and DER, absent
// or NULL hash parameters, OAEP and PKCS#1 v1.5 key transport, AES-128/192/256-CBC. The
// recipient is chosen by comparing each RecipientInfo's issuer and serial (or subject key
// identifier) with our certificate before the private key is tried, so a blob for someone else
// is reported as cms_not_for_this_certificate, naming both. Trailing bytes, truncation and bad
// padding are each reported with their own code. The plaintext written before an error must be
// discarded by the caller (file_sink does that unless committed).
result<decrypt_info> decrypt(byte_source& cms, byte_sink& plaintext, const identity& id,
                             const limits& lim = {});

enum class digest_algorithm { sha256, sha1 };

// A detached SignedData (DER) over `content`, by `signer`'s leaf, carrying its chain.
result<std::vector<std::uint8_t>> sign_detached(std::span<const std::uint8_t> content, const identity& signer,
                                                digest_algorithm digest, instant signing_time);
// The exact size sign_detached produces for this signer and digest (it does not depend on the
// content or the time between 1950 and 2049).
result<std::size_t> detached_signature_size(const identity& signer, digest_algorithm digest);

struct signature_info {
    std::string signer_subject;
    std::string signer_issuer;
    std::string signer_serial;
    std::string digest; // "SHA-256", "SHA-1", ...
    std::optional<instant> signing_time;
    std::vector<certificate> certificates; // as carried in the signature
    std::optional<certificate> signer;     // the one the SignerInfo names, among them
};

// Verifies a detached SignedData over `content`: the content type, the message digest, the
// CMSAlgorithmProtection attribute when present, and the RSA signature with the certificate
// the SignerInfo names (found among the signature's certificates). No chain validation: like
// the reference's reader, this proves integrity and who signed, not that the signer is trusted:
// trust.hpp decides that.
result<signature_info> verify_detached(std::span<const std::uint8_t> signature,
                                       std::span<const std::uint8_t> content, const limits& lim = {});

} // namespace kurer::dpo

// Certificates and the organisation's own key, as the DPO package needs them: the sender signs
// the ASiC-E and decrypts what it receives; the receiver's certificate (from the Service
// Registry's pemCertificate) encrypts. Both types are cheap to copy and safe to share between
// threads once loaded.
#pragma once

#include <kurer/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kurer::dpo {

class certificate {
public:
    // The first certificate of a PEM text (the SR's pemCertificate) or of DER bytes.
    static result<certificate> from_pem(std::string_view pem);
    static result<certificate> from_der(std::string_view der);
    // Every certificate of a PEM file, leaf first.
    static result<std::vector<certificate>> load_chain(const std::filesystem::path& pem_file);

    std::string subject() const; // RFC 4514-ish text, for messages
    std::string issuer() const;
    std::string serial_hex() const; // upper-case hexadecimal
    // The organisation number the subject names, in either profile of Norwegian enterprise
    // certificates: organizationIdentifier NTRNO-<9 digits> (SEID 2.0) or a 9-digit serialNumber
    // (SEID 1), by the rule of kurer/core/organization_number.hpp. A certificate that names none,
    // or two different ones, is errc::certificate_invalid with the subject in the message.
    result<std::string> organization_number() const;
    std::vector<std::uint8_t> der() const;
    bool has_rsa_key() const;

    struct impl;
    const impl& internals() const noexcept { return *impl_; }

private:
    explicit certificate(std::shared_ptr<const impl> p);
    std::shared_ptr<const impl> impl_;
};

// The organisation's certificate chain (leaf first) and the leaf's private key.
class identity {
public:
    // cert_pem: leaf first, the chain may follow. key_pem: PKCS#8 (or PKCS#1) PEM, unencrypted.
    // Refuses a key that does not belong to the leaf certificate.
    static result<identity> load(const std::filesystem::path& cert_pem, const std::filesystem::path& key_pem);
    static result<identity> from_pem(std::string_view cert_pem, std::string_view key_pem);

    const certificate& leaf() const noexcept;
    const std::vector<certificate>& chain() const noexcept;

    struct impl;
    const impl& internals() const noexcept { return *impl_; }

private:
    explicit identity(std::shared_ptr<const impl> p);
    std::shared_ptr<const impl> impl_;
};

} // namespace kurer::dpo

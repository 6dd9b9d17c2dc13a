// A small test PKI with Botan: the sandbox's CA, the certificates it issues (enterprise
// certificates with the organisation number in the subject, in either profile: SEID 1's
// serialNumber or SEID 2.0's organizationIdentifier; the HTTPS server certificate, the
// Service Registry's signing certificate), and their RSA keys as PKCS#8 PEM.
#pragma once

#include <kurer/core/error.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace kurer::sandbox {

enum class key_usage : unsigned {
    digital_signature = 1u << 0,
    key_encipherment = 1u << 1,
    data_encipherment = 1u << 2,
    non_repudiation = 1u << 3,
};
constexpr key_usage operator|(key_usage a, key_usage b) {
    return static_cast<key_usage>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}

// What a real virksomhetssertifikat carries, and what a test may vary.
struct certificate_request {
    std::string common_name{};
    std::string organization{};
    std::string serial_number{}; // the subject's serialNumber: the organisation number (SEID 1)
    // The subject's organizationIdentifier (2.5.4.97), e.g. "NTRNO-910077473" (SEID 2.0); empty:
    // none. Written as given, so a test can make malformed ones.
    std::string organization_identifier{};
    std::string country = "NO";
    std::vector<std::string> dns_names{};
    std::string ip_address{};
    key_usage usage =
        key_usage::digital_signature | key_usage::key_encipherment | key_usage::data_encipherment;
    bool server_auth = false; // extended key usage serverAuth
    std::chrono::system_clock::time_point not_before =
        std::chrono::system_clock::now() - std::chrono::hours(1);
    std::chrono::system_clock::time_point not_after =
        std::chrono::system_clock::now() + std::chrono::hours(24 * 365 * 3);
    std::size_t rsa_bits = 2048;
    bool ecdsa_key = false; // a P-256 key instead of RSA (for negative tests)
};

struct issued {
    std::string certificate_pem;
    std::string private_key_pem; // PKCS#8, unencrypted
};

class certificate_authority {
public:
    // A fresh self-signed RSA CA.
    static certificate_authority create(std::string common_name);
    // Loads a CA written earlier (certificate and key PEM).
    static result<certificate_authority> load(const std::filesystem::path& certificate,
                                              const std::filesystem::path& private_key);

    issued issue(const certificate_request& request) const;

    const std::string& certificate_pem() const noexcept { return certificate_pem_; }
    const std::string& private_key_pem() const noexcept { return private_key_pem_; }

private:
    certificate_authority(std::string cert, std::string key)
        : certificate_pem_(std::move(cert))
        , private_key_pem_(std::move(key)) {}
    std::string certificate_pem_;
    std::string private_key_pem_;
};

// A fresh RSA key pair as PKCS#8 PEM (private) and SubjectPublicKeyInfo PEM (public).
issued generate_rsa_key(std::size_t bits = 2048);

// Writes `content` durably; private material is created 0600.
result<void> write_private_file(const std::filesystem::path& path, std::string_view content);
result<void> write_public_file(const std::filesystem::path& path, std::string_view content);

} // namespace kurer::sandbox

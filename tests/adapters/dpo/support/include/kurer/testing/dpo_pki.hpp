// Test keys and certificates made by the openssl command line (the independent implementation
// the interop tests compare against), and a way to run such commands.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace kurer::testing {

struct run_result {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs argv[0] (looked up in PATH) with the arguments, stdin from `input` when given, and
// returns its exit code and output.
run_result run(const std::vector<std::string>& argv, const std::filesystem::path& input = {});

// An organisation's enterprise-certificate stand-in.
struct party {
    std::string organization_number;
    std::filesystem::path cert; // PEM: the leaf, then the CA when signed by the test CA
    std::filesystem::path leaf; // PEM: the leaf alone
    std::filesystem::path key;  // PKCS#8 PEM
};

// Where a party's certificate names its organisation number
// (../shared/protocol/enterprise-certificates.md).
enum class subject_profile {
    seid1, // serialNumber=<orgnr>
    seid2, // organizationIdentifier=NTRNO-<orgnr>
};

// A test CA and the parties it (or each party itself) signs, under `dir`.
class test_pki {
public:
    explicit test_pki(std::filesystem::path dir);

    const std::filesystem::path& ca_cert() const noexcept { return ca_cert_; }

    // `openssl req -x509`: a self-signed certificate with the organisation number in the
    // subject (serialNumber, or organizationIdentifier for SEID 2.0), or (signed_by_ca) a leaf
    // signed by the test CA.
    party make_party(const std::string& name, const std::string& organization_number,
                     bool signed_by_ca = true, int bits = 2048,
                     subject_profile profile = subject_profile::seid1);

private:
    std::filesystem::path dir_;
    std::filesystem::path ca_cert_;
    std::filesystem::path ca_key_;
};

// Writes bytes to a file (tests only).
void write_file(const std::filesystem::path& path, std::string_view bytes);
std::string read_file(const std::filesystem::path& path);

} // namespace kurer::testing

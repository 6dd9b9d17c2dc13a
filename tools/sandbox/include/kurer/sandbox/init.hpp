// `kurer-sandbox init`: a fresh sandbox directory.
//
//   DIR/sandbox.json                     the state (see state.hpp, docs/sandbox.md)
//   DIR/ca/ca.pem, ca-key.pem            the test CA every HTTPS client trusts
//   DIR/server/cert.pem, key.pem         the HTTPS certificate (127.0.0.1 and localhost)
//   DIR/maskinporten/signing-key.pem     signs access tokens (published at /jwk)
//   DIR/service-registry/signing-*.pem   signs application/jose answers (published at /adressetjeneste/jwk)
//   DIR/orgs/<orgnr>/cert.pem, key.pem   the organisation's enterprise certificate (SEID 1, or
//                                        SEID 2.0 when chosen) and key
//   DIR/orgs/<orgnr>/kurer.json          a ready-to-run kurer configuration
//   DIR/broker/                          where broker services keep their files
// Private keys are 0600.
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/sandbox/state.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace kurer::sandbox {

struct init_options {
    std::uint16_t port = 0;                 // 0: chosen by `serve`
    std::vector<std::string> organizations; // 9-digit numbers, at least one
    // Organisations (each also in `organizations`) whose enterprise certificate has a SEID 2.0
    // subject (organizationIdentifier NTRNO-<orgnr>, no serialNumber); the others get SEID 1's
    // (serialNumber <orgnr>).
    std::vector<std::string> seid2_organizations;
    std::string broker = "altinn2"; // altinn2 or altinn3
};

result<state> init_sandbox(const std::filesystem::path& dir, const init_options& options);

// Writes DIR/orgs/<orgnr>/kurer.json for every organisation, its URLs on `port`.
result<void> write_kurer_configs(const std::filesystem::path& dir, const state& s, std::uint16_t port);

// "https://127.0.0.1:<port>".
std::string base_url(std::uint16_t port);

} // namespace kurer::sandbox

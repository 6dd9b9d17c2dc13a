// Two organisations with enterprise certificates from one test CA, and a kurer.json for each
// (pointing at unreachable URLs: these fixtures never touch the network).
#pragma once

#include <kurer/engine/daemon_config.hpp>
#include <kurer/engine/wiring.hpp>
#include <kurer/sandbox/pki.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

namespace kurer::testing {

namespace json = boost::json;
namespace fs = std::filesystem;
namespace ke = kurer::engine;

inline constexpr const char* org_a = "910077473";
inline constexpr const char* org_b = "910075918";

inline std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
inline void spit(const fs::path& p, std::string_view bytes) {
    std::ofstream(p, std::ios::binary) << bytes;
}

// Two organisations with certificates from one CA, and a config for each.
struct two_orgs {
    kurer::testing::scratch_dir dir;
    kurer::sandbox::certificate_authority ca = kurer::sandbox::certificate_authority::create("test CA");
    std::string cert_a, cert_b;

    two_orgs() {
        cert_a = issue(org_a);
        cert_b = issue(org_b);
        spit(dir / "ca.pem", ca.certificate_pem());
    }
    std::string issue(const std::string& org) {
        auto i = ca.issue({.common_name = "ORG " + org, .organization = "ORG " + org, .serial_number = org});
        fs::create_directories(dir / org);
        spit(dir / org / "cert.pem", i.certificate_pem);
        spit(dir / org / "key.pem", i.private_key_pem);
        // kurer refuses a key others can read (ssh's rule).
        fs::permissions(dir / org / "key.pem", fs::perms::owner_read | fs::perms::owner_write,
                        fs::perm_options::replace);
        return i.certificate_pem;
    }
    ke::daemon_config config(const std::string& org, const std::string& kind = "altinn2",
                             const std::string& cert_of = "") const {
        const auto certs = cert_of.empty() ? org : cert_of;
        json::object o{
            {"organization", org},
            {"data_dir", "data"},
            {"admin_socket", "kurer.sock"},
            {"certificate", "../" + certs + "/cert.pem"},
            {"private_key", "../" + certs + "/key.pem"},
            {"enterprise_ca_bundle", "../ca.pem"},
            {"maskinporten",
             {{"token_url", "https://127.0.0.1:1/token"}, {"audience", "https://127.0.0.1:1/"}}},
            {"service_registry", {{"url", "https://127.0.0.1:1/adressetjeneste"}}},
            {"broker",
             {{"kind", kind},
              {"altinn2",
               {{"basic_url", "https://127.0.0.1:1/b"},
                {"streamed_url", "https://127.0.0.1:1/s"},
                {"system_user", "1"},
                {"system_password", "pw"}}},
              {"altinn3",
               {{"base_url", "https://127.0.0.1:1/a3"}, {"exchange_url", "https://127.0.0.1:1/x"}}}}}};
        return ke::parse_config(json::serialize(o), dir / org).value();
    }
    std::shared_ptr<ke::packer_port> packer(const std::string& org,
                                            const std::string& kind = "altinn2") const {
        return ke::make_dpo_packer(config(org, kind)).value();
    }
};

} // namespace kurer::testing

// The sandbox's state file, DIR/sandbox.json: who exists, their credentials and where every
// key lives. `kurer-sandbox init` writes it; `serve` and every service read it. The format is
// documented in docs/sandbox.md; broker services read their organisations' system users here.
#pragma once

#include <kurer/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kurer::sandbox {

inline constexpr int state_format = 1;

struct organization {
    std::string number; // 9 digits
    std::string name;
    std::filesystem::path certificate; // relative to the sandbox directory
    std::filesystem::path private_key;
    // Maskinporten
    std::string client_id;
    std::vector<std::string> scopes;
    // Altinn 2 end-user system (broker SOAP credentials)
    std::string altinn2_system_user;
    std::string altinn2_system_password;
    // Altinn 3 system user
    std::string altinn3_system_user;    // externalRef, <org>_integrasjonspunkt_systembruker_<org>
    std::string altinn3_system_user_id; // UUID
    // Service Registry: processes this organisation is registered for on DPO
    std::vector<std::string> dpo_processes;
};

struct state {
    int format = state_format;
    std::uint16_t port = 0;         // 0: chosen when `serve` starts (the configs are rewritten then)
    std::string broker = "altinn2"; // the broker the organisations' kurer.json files use
    std::filesystem::path ca_certificate;
    std::filesystem::path ca_private_key;
    std::filesystem::path server_certificate;
    std::filesystem::path server_private_key;
    std::filesystem::path maskinporten_signing_key;
    std::filesystem::path service_registry_signing_key;
    std::filesystem::path service_registry_certificate;
    std::string service_registry_base_path = "/adressetjeneste";
    std::string dpo_resource = "eformidling-dpo-meldingsutveksling";
    std::string altinn2_service_code = "4192";
    int altinn2_service_edition = 270815;
    std::vector<organization> organizations;

    const organization* find(std::string_view number) const;
    const organization* find_client(std::string_view client_id) const;
};

result<state> load_state(const std::filesystem::path& dir);
result<void> save_state(const std::filesystem::path& dir, const state& s);

// The state file's path in a sandbox directory.
std::filesystem::path state_path(const std::filesystem::path& dir);

// The processes the Service Registry plays: the ten arkivmelding processes and the response
// process, with their document types.
struct process_info {
    std::string process;
    std::vector<std::string> document_types;
    bool arkivmelding = false; // receivers not registered for it fall back to DPV
};
const std::vector<process_info>& known_processes();
const process_info* find_process(std::string_view process);

} // namespace kurer::sandbox

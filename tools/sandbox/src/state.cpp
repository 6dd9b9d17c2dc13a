#include <kurer/core/files.hpp>
#include <kurer/sandbox/pki.hpp>
#include <kurer/sandbox/state.hpp>

#include <boost/json.hpp>

namespace kurer::sandbox {
namespace {

namespace json = boost::json;

error bad_state(const std::filesystem::path& dir, std::string what) {
    return make_error(make_error_code(boost::system::errc::invalid_argument),
                      state_path(dir).string() + ": " + std::move(what));
}

json::array strings(const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v)
        a.emplace_back(s);
    return a;
}

} // namespace

std::filesystem::path state_path(const std::filesystem::path& dir) {
    return dir / "sandbox.json";
}

const organization* state::find(std::string_view number) const {
    for (const auto& o : organizations)
        if (o.number == number)
            return &o;
    return nullptr;
}

const organization* state::find_client(std::string_view client_id) const {
    for (const auto& o : organizations)
        if (o.client_id == client_id)
            return &o;
    return nullptr;
}

result<void> save_state(const std::filesystem::path& dir, const state& s) {
    json::array orgs;
    for (const auto& o : s.organizations) {
        orgs.push_back(json::object{
            {"number", o.number},
            {"name", o.name},
            {"certificate", o.certificate.string()},
            {"private_key", o.private_key.string()},
            {"maskinporten", json::object{{"client_id", o.client_id}, {"scopes", strings(o.scopes)}}},
            {"altinn2", json::object{{"system_user", o.altinn2_system_user},
                                     {"system_password", o.altinn2_system_password}}},
            {"altinn3", json::object{{"system_user", o.altinn3_system_user},
                                     {"system_user_id", o.altinn3_system_user_id}}},
            {"service_registry", json::object{{"dpo_processes", strings(o.dpo_processes)}}},
        });
    }
    json::object root{
        {"format", s.format},
        {"port", s.port},
        {"broker", s.broker},
        {"ca", json::object{{"certificate", s.ca_certificate.string()},
                            {"private_key", s.ca_private_key.string()}}},
        {"server", json::object{{"certificate", s.server_certificate.string()},
                                {"private_key", s.server_private_key.string()}}},
        {"maskinporten", json::object{{"signing_key", s.maskinporten_signing_key.string()}}},
        {"service_registry", json::object{{"base_path", s.service_registry_base_path},
                                          {"signing_key", s.service_registry_signing_key.string()},
                                          {"certificate", s.service_registry_certificate.string()}}},
        {"altinn2", json::object{{"service_code", s.altinn2_service_code},
                                 {"service_edition", s.altinn2_service_edition}}},
        {"altinn3", json::object{{"resource_id", s.dpo_resource}}},
        {"organizations", std::move(orgs)},
    };
    return write_private_file(state_path(dir), json::serialize(root) + "\n");
}

result<state> load_state(const std::filesystem::path& dir) {
    auto text = read_small_file(state_path(dir), 16 << 20);
    if (!text)
        return make_error(text.error().code, text.error().message + " (is " + dir.string() +
                                                 " a sandbox directory? run `kurer-sandbox init` first)");
    boost::system::error_code ec;
    const auto root = json::parse(*text, ec);
    if (ec || !root.is_object())
        return bad_state(dir, "not a JSON object");
    try {
        const auto& r = root.as_object();
        state s;
        s.format = static_cast<int>(r.at("format").as_int64());
        if (s.format != state_format)
            return bad_state(dir, "format " + std::to_string(s.format) +
                                      " is not the one this build knows (" + std::to_string(state_format) +
                                      ")");
        s.port = static_cast<std::uint16_t>(r.at("port").as_int64());
        s.broker = r.at("broker").as_string();
        s.ca_certificate = std::string(r.at("ca").at("certificate").as_string());
        s.ca_private_key = std::string(r.at("ca").at("private_key").as_string());
        s.server_certificate = std::string(r.at("server").at("certificate").as_string());
        s.server_private_key = std::string(r.at("server").at("private_key").as_string());
        s.maskinporten_signing_key = std::string(r.at("maskinporten").at("signing_key").as_string());
        const auto& sr = r.at("service_registry");
        s.service_registry_base_path = sr.at("base_path").as_string();
        s.service_registry_signing_key = std::string(sr.at("signing_key").as_string());
        s.service_registry_certificate = std::string(sr.at("certificate").as_string());
        s.altinn2_service_code = r.at("altinn2").at("service_code").as_string();
        s.altinn2_service_edition = static_cast<int>(r.at("altinn2").at("service_edition").as_int64());
        s.dpo_resource = r.at("altinn3").at("resource_id").as_string();
        for (const auto& v : r.at("organizations").as_array()) {
            const auto& o = v.as_object();
            organization org;
            org.number = o.at("number").as_string();
            org.name = o.at("name").as_string();
            org.certificate = std::string(o.at("certificate").as_string());
            org.private_key = std::string(o.at("private_key").as_string());
            org.client_id = o.at("maskinporten").at("client_id").as_string();
            for (const auto& sc : o.at("maskinporten").at("scopes").as_array())
                org.scopes.emplace_back(sc.as_string());
            org.altinn2_system_user = o.at("altinn2").at("system_user").as_string();
            org.altinn2_system_password = o.at("altinn2").at("system_password").as_string();
            org.altinn3_system_user = o.at("altinn3").at("system_user").as_string();
            org.altinn3_system_user_id = o.at("altinn3").at("system_user_id").as_string();
            for (const auto& p : o.at("service_registry").at("dpo_processes").as_array())
                org.dpo_processes.emplace_back(p.as_string());
            s.organizations.push_back(std::move(org));
        }
        return s;
    } catch (const std::exception& e) {
        return bad_state(dir, std::string("missing or mistyped member: ") + e.what());
    }
}

const std::vector<process_info>& known_processes() {
    static const std::vector<process_info> processes = [] {
        std::vector<process_info> out;
        for (const char* area :
             {"administrasjon", "helseSosialOgOmsorg", "kulturIdrettOgFritid", "naturOgMiljoe",
              "naeringsutvikling", "oppvekstOgUtdanning", "planByggOgGeodata", "skatterOgAvgifter",
              "tekniskeTjenester", "trafikkReiserOgSamferdsel"})
            out.push_back({std::string("urn:no:difi:profile:arkivmelding:") + area + ":ver1.0",
                           {"urn:no:difi:arkivmelding:xsd::arkivmelding"},
                           true});
        out.push_back({"urn:no:difi:profile:arkivmelding:response:ver1.0",
                       {"urn:no:difi:arkivmelding:xsd::arkivmelding_kvittering",
                        "urn:no:difi:arkivmelding:xsd::status", "urn:no:difi:arkivmelding:xsd::feil"},
                       false});
        return out;
    }();
    return processes;
}

const process_info* find_process(std::string_view process) {
    for (const auto& p : known_processes())
        if (p.process == process)
            return &p;
    return nullptr;
}

} // namespace kurer::sandbox

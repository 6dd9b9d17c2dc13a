#include <kurer/core/uuid.hpp>
#include <kurer/maskinporten/base64url.hpp>
#include <kurer/sandbox/init.hpp>
#include <kurer/sandbox/pki.hpp>

#include <boost/json.hpp>

#include <botan/system_rng.h>

#include <algorithm>

namespace kurer::sandbox {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

error invalid(std::string what) {
    return make_error(make_error_code(boost::system::errc::invalid_argument), std::move(what));
}

bool nine_digits(std::string_view s) {
    return s.size() == 9 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string random_password() {
    std::string bytes(18, '\0');
    Botan::system_rng().randomize(reinterpret_cast<std::uint8_t*>(bytes.data()), bytes.size());
    return maskinporten::base64url_encode(bytes);
}

result<void> write_issued(const fs::path& dir, const fs::path& cert, const fs::path& key, const issued& i) {
    if (auto r = write_public_file(dir / cert, i.certificate_pem); !r)
        return r;
    return write_private_file(dir / key, i.private_key_pem);
}

} // namespace

std::string base_url(std::uint16_t port) {
    return "https://127.0.0.1:" + std::to_string(port);
}

result<state> init_sandbox(const fs::path& dir, const init_options& options) {
    if (options.organizations.empty())
        return invalid("at least one --org is needed");
    for (const auto& o : options.organizations)
        if (!nine_digits(o))
            return invalid("--org " + o + ": an organisation number has 9 digits");
    for (const auto& o : options.seid2_organizations)
        if (std::find(options.organizations.begin(), options.organizations.end(), o) ==
            options.organizations.end())
            return invalid("--seid2 " + o + ": not an organisation of this sandbox (name it with --org too)");
    if (options.broker != "altinn2" && options.broker != "altinn3")
        return invalid("--broker must be altinn2 or altinn3, not " + options.broker);
    std::error_code ec;
    if (fs::exists(state_path(dir), ec))
        return invalid(dir.string() +
                       " is already a sandbox (it has sandbox.json); remove it or choose another directory");
    for (const char* sub : {"ca", "server", "maskinporten", "service-registry", "orgs", "broker"}) {
        fs::create_directories(dir / sub, ec);
        if (ec)
            return make_error(ec, "cannot create " + (dir / sub).string() + ": " + ec.message());
    }

    state s;
    s.port = options.port;
    s.broker = options.broker;
    s.ca_certificate = "ca/ca.pem";
    s.ca_private_key = "ca/ca-key.pem";
    s.server_certificate = "server/cert.pem";
    s.server_private_key = "server/key.pem";
    s.maskinporten_signing_key = "maskinporten/signing-key.pem";
    s.service_registry_signing_key = "service-registry/signing-key.pem";
    s.service_registry_certificate = "service-registry/signing-cert.pem";

    const auto ca = certificate_authority::create("kurer sandbox CA");
    if (auto r = write_issued(dir, s.ca_certificate, s.ca_private_key,
                              {ca.certificate_pem(), ca.private_key_pem()});
        !r)
        return r.error();
    const auto server = ca.issue({.common_name = "127.0.0.1",
                                  .organization = "kurer sandbox",
                                  .dns_names = {"localhost"},
                                  .ip_address = "127.0.0.1",
                                  .usage = key_usage::digital_signature | key_usage::key_encipherment,
                                  .server_auth = true});
    if (auto r = write_issued(dir, s.server_certificate, s.server_private_key, server); !r)
        return r.error();
    if (auto r = write_private_file(dir / s.maskinporten_signing_key, generate_rsa_key().private_key_pem); !r)
        return r.error();
    const auto sr = ca.issue({.common_name = "kurer sandbox service registry",
                              .organization = "kurer sandbox",
                              .serial_number = "991825827",
                              .usage = key_usage::digital_signature});
    if (auto r = write_issued(dir, s.service_registry_certificate, s.service_registry_signing_key, sr); !r)
        return r.error();

    int index = 0;
    for (const auto& number : options.organizations) {
        if (s.find(number))
            continue; // named twice
        organization o;
        o.number = number;
        o.name = "SANDBOX ORG " + number;
        const fs::path org_dir = fs::path("orgs") / number;
        fs::create_directories(dir / org_dir, ec);
        o.certificate = org_dir / "cert.pem";
        o.private_key = org_dir / "key.pem";
        // SEID 1 puts the number in serialNumber, SEID 2.0 in organizationIdentifier as NTRNO-<orgnr>
        // (../shared/protocol/enterprise-certificates.md).
        const bool seid2 = std::find(options.seid2_organizations.begin(), options.seid2_organizations.end(),
                                     number) != options.seid2_organizations.end();
        certificate_request request{.common_name = o.name, .organization = o.name};
        if (seid2)
            request.organization_identifier = "NTRNO-" + number;
        else
            request.serial_number = number;
        const auto cert = ca.issue(request);
        if (auto r = write_issued(dir, o.certificate, o.private_key, cert); !r)
            return r.error();
        o.client_id = "MOVE_IP_" + number;
        o.scopes = {"eformidling:dpo", "move/dpo.read", "eformidling:dpe", "altinn:broker.read",
                    "altinn:broker.write"};
        o.altinn2_system_user = std::to_string(100001 + index++);
        o.altinn2_system_password = random_password();
        o.altinn3_system_user = number + "_integrasjonspunkt_systembruker_" + number;
        o.altinn3_system_user_id = random_uuid();
        for (const auto& p : known_processes())
            o.dpo_processes.push_back(p.process);
        s.organizations.push_back(std::move(o));
    }
    if (auto r = save_state(dir, s); !r)
        return r.error();
    if (s.port != 0)
        if (auto r = write_kurer_configs(dir, s, s.port); !r)
            return r.error();
    return s;
}

result<void> write_kurer_configs(const fs::path& dir, const state& s, std::uint16_t port) {
    const auto base = base_url(port);
    for (const auto& o : s.organizations) {
        json::object altinn2{
            {"basic_url", base + "/ServiceEngineExternal/BrokerServiceExternalBasic.svc"},
            {"streamed_url", base + "/ServiceEngineExternal/BrokerServiceExternalBasicStreamed.svc"},
            {"system_user", o.altinn2_system_user},
            {"system_password", o.altinn2_system_password},
            {"service_code", s.altinn2_service_code},
            {"service_edition", s.altinn2_service_edition},
        };
        json::object altinn3{
            {"base_url", base + "/broker/api/v1"},
            {"exchange_url", base + "/authentication/api/v1/exchange/maskinporten"},
            {"resource_id", s.dpo_resource},
            {"system_user", o.altinn3_system_user},
        };
        json::object config{
            {"organization", o.number},
            {"data_dir", "data"},
            {"admin_socket", "kurer.sock"},
            {"certificate", "cert.pem"},
            {"private_key", "key.pem"},
            {"ca_bundle", "../../ca/ca.pem"},
            // The sandbox's CA issues both its HTTPS certificate and the enterprise certificates.
            {"enterprise_ca_bundle", "../../ca/ca.pem"},
            {"maskinporten", json::object{{"token_url", base + "/token"},
                                          {"audience", base + "/"},
                                          {"client_id", o.client_id},
                                          {"scopes", json::array{"eformidling:dpo"}}}},
            {"service_registry", json::object{{"url", base + s.service_registry_base_path}}},
            {"broker", json::object{{"kind", s.broker},
                                    {"altinn2", std::move(altinn2)},
                                    {"altinn3", std::move(altinn3)}}},
            {"polling_interval_ms", 1000},
        };
        // The Altinn 2 password is a secret: the file is 0600 like the keys beside it.
        if (auto r =
                write_private_file(dir / "orgs" / o.number / "kurer.json", json::serialize(config) + "\n");
            !r)
            return r;
    }
    return {};
}

} // namespace kurer::sandbox

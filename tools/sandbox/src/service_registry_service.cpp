// The Service Registry as the sandbox plays it (service-registry.md §13): records for the
// organisations in the state, their certificates, /jwk, signed answers, the SR's 404 texts, and
// bearer tokens checked as the real SR checks them.
#include <kurer/asio/offload.hpp>
#include <kurer/core/files.hpp>
#include <kurer/maskinporten/jose.hpp>
#include <kurer/sandbox/pki.hpp>
#include <kurer/sandbox/service.hpp>
#include <kurer/sandbox/settings.hpp>
#include <kurer/sandbox/token_authority.hpp>

#include <boost/json.hpp>

#include <botan/data_src.h>
#include <botan/pkcs8.h>
#include <botan/x509cert.h>

namespace kurer::sandbox {
namespace {

namespace json = boost::json;
namespace jose = maskinporten::jose;
using boost::beast::http::verb;
using asio_void = boost::asio::awaitable<void>;

enum class id_kind { organization, person, invalid };

id_kind classify(std::string_view id, std::string* org) {
    const auto digits = [](std::string_view s) {
        return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (id.starts_with("0192:"))
        id.remove_prefix(5);
    if (id.size() == 9 && digits(id)) {
        *org = std::string(id);
        return id_kind::organization;
    }
    if (id.size() == 11 && digits(id)) {
        // Norwegian national identity number: two mod-11 check digits.
        static constexpr int w1[] = {3, 7, 6, 1, 8, 9, 4, 5, 2};
        static constexpr int w2[] = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
        const auto check = [&](const int* w, int n) {
            int sum = 0;
            for (int i = 0; i < n; ++i)
                sum += (id[i] - '0') * w[i];
            int k = 11 - sum % 11;
            if (k == 11)
                k = 0;
            return k != 10 && k == id[n] - '0';
        };
        return check(w1, 9) && check(w2, 10) ? id_kind::person : id_kind::invalid;
    }
    return id_kind::invalid;
}

json::object error_body(std::string description) {
    return {{"error_code", ""}, {"error_description", std::move(description)}};
}

class service_registry_service final : public service {
public:
    std::string_view name() const override { return "service_registry"; }

    void register_routes(http::router& r, context& ctx) override {
        ctx_ = &ctx;
        const auto& st = ctx.current_state();
        base_ = st.service_registry_base_path;
        auto cert = read_small_file(ctx.dir() / st.service_registry_certificate, 1 << 20);
        auto key = read_small_file(ctx.dir() / st.service_registry_signing_key, 1 << 20);
        if (cert && key)
            install_key(*cert, *key);
        for (const auto& o : st.organizations) {
            auto pem = read_small_file(ctx.dir() / o.certificate, 1 << 20);
            certificates_[o.number] = pem ? *pem : std::string();
        }
        r.add(verb::get, base_ + "/jwk", [this](http::exchange ex) -> asio_void {
            rotate_if_asked();
            json::object set;
            set["keys"] = json::array{jose::rsa_jwk(*key_, kid_, {x5c_})};
            co_await ex.send(http::reply::json(200, json::serialize(set)));
        });
        r.add(verb::get, base_ + "/identifier/{id}",
              [this](http::exchange ex) { return identifier(ex, std::string()); });
        r.add(verb::get, base_ + "/identifier/{id}/process/{process}",
              [this](http::exchange ex) { return identifier(ex, ex.param("process")); });
        r.add(verb::get, base_ + "/info/{id}", [this](http::exchange ex) { return info(ex); });
        r.add(verb::get, base_ + "/virksert/{id}", [this](http::exchange ex) { return virksert(ex); });
    }

private:
    void install_key(const std::string& cert_pem, const std::string& key_pem) {
        Botan::DataSource_Memory key_source(key_pem);
        key_ = std::shared_ptr<Botan::Private_Key>(Botan::PKCS8::load_key(key_source));
        Botan::DataSource_Memory cert_source(cert_pem);
        const Botan::X509_Certificate cert(cert_source);
        x5c_ = jose::x5c_entry(cert);
        kid_ = jose::thumbprint(*key_);
    }

    // {"sr_rotate_key": true}: a new signing key and certificate from the sandbox CA.
    void rotate_if_asked() {
        const auto wanted = ctx_->switches().sr_key_generation;
        if (wanted == key_generation_)
            return;
        key_generation_ = wanted;
        const auto& st = ctx_->current_state();
        auto ca =
            certificate_authority::load(ctx_->dir() / st.ca_certificate, ctx_->dir() / st.ca_private_key);
        if (!ca) {
            ctx_->log(log_level::error, "cannot rotate the SR key: " + ca.error().message);
            return;
        }
        const auto issued = ca->issue({.common_name = "kurer sandbox service registry",
                                       .organization = "kurer sandbox",
                                       .serial_number = "991825827",
                                       .usage = key_usage::digital_signature});
        install_key(issued.certificate_pem, issued.private_key_pem);
        ctx_->log(log_level::info, "service registry signing key rotated; kid " + kid_);
    }

    // The real SR: Spring Security resource server trusting one issuer.
    std::optional<json::object> authenticate(http::exchange ex) {
        auto claims = ctx_->authority().verify_bearer(ex.header("Authorization"), ctx_->now());
        if (!claims)
            return std::nullopt;
        return std::move(*claims);
    }

    asio_void unauthorized(http::exchange ex) {
        auto r = http::reply::empty(401);
        r.headers.set(boost::beast::http::field::www_authenticate, "Bearer error=\"invalid_token\"");
        co_await ex.send(std::move(r));
    }

    asio_void answer(http::exchange ex, std::string payload,
                     std::string_view json_type = "application/json") {
        rotate_if_asked();
        const bool jose_wanted = ex.header("Accept").find("application/jose") != std::string::npos;
        if (!jose_wanted || ctx_->switches().sr_unsigned) {
            co_await ex.send(http::reply::text(200, std::move(payload), json_type));
            co_return;
        }
        const std::string header =
            json::serialize(json::object{{"alg", "RS256"}, {"x5c", json::array{x5c_}}, {"kid", kid_}});
        auto key = key_;
        auto work = [&header, &payload, key] {
            return jose::sign(header, payload, *key);
        };
        std::string token = co_await kurer::offload(ctx_->blocking(), std::move(work));
        if (ctx_->switches().sr_corrupt_signature) {
            // Flip a bit in the middle of the signature part.
            const auto dot = token.rfind('.');
            auto& c = token[dot + 1 + (token.size() - dot - 1) / 2];
            c = c == 'A' ? 'B' : 'A';
        }
        co_await ex.send(http::reply::text(200, std::move(token), "application/jose"));
    }

    json::object info_record(const organization& o) const {
        return {{"identifier", o.number},
                {"organizationName", o.name},
                {"postadresse", json::object{{"adresse", "Postboks " + o.number.substr(6)},
                                             {"postnummer", "0101"},
                                             {"poststed", "OSLO"},
                                             {"land", "Norge"}}},
                {"entityType", json::object{{"name", "ORGL"}}}};
    }

    json::array document_types(const process_info& p) const {
        json::array a;
        for (const auto& d : p.document_types)
            a.emplace_back(d);
        return a;
    }

    json::object dpo_record(const organization& o, const process_info& p) const {
        return {{"organisationNumber", o.number},
                {"pemCertificate", certificates_.at(o.number)},
                {"process", p.process},
                {"documentTypes", document_types(p)},
                {"service", json::object{{"identifier", "DPO"},
                                         {"endpointUrl", ctx_->base_url()},
                                         {"serviceCode", ctx_->current_state().altinn2_service_code},
                                         {"serviceEditionCode",
                                          std::to_string(ctx_->current_state().altinn2_service_edition)},
                                         {"securityLevel", nullptr},
                                         {"resource", ctx_->current_state().dpo_resource}}}};
    }

    json::object dpv_record(const organization& o, const process_info& p) const {
        return {{"organisationNumber", o.number},
                {"pemCertificate", nullptr},
                {"process", p.process},
                {"documentTypes", document_types(p)},
                {"service",
                 json::object{{"identifier", "DPV"},
                              {"endpointUrl",
                               ctx_->base_url() + "/ServiceEngineExternal/CorrespondenceAgencyExternal.svc"},
                              {"serviceCode", "4255"},
                              {"serviceEditionCode", "9"},
                              {"securityLevel", nullptr},
                              {"resource", nullptr}}}};
    }

    // The record for one process: DPO when registered; DPV for other arkivmelding processes
    // (the SR's fallback) unless securityLevel 4 rules it out; nothing otherwise.
    std::optional<json::object> record_for(const organization& o, const process_info& p,
                                           std::optional<int> security_level) const {
        if (std::find(o.dpo_processes.begin(), o.dpo_processes.end(), p.process) != o.dpo_processes.end())
            return dpo_record(o, p);
        if (p.arkivmelding && security_level != 4)
            return dpv_record(o, p);
        return std::nullopt;
    }

    asio_void identifier(http::exchange ex, std::string process) {
        auto claims = authenticate(ex);
        if (!claims) {
            co_await unauthorized(ex);
            co_return;
        }
        const auto consumer = token_consumer(*claims);
        if (consumer.size() < 6 || consumer[4] != ':' ||
            !std::all_of(consumer.begin(), consumer.begin() + 4,
                         [](char c) { return c >= '0' && c <= '9'; })) {
            co_await ex.send(http::reply::json(401, json::serialize(error_body("Access Denied"))));
            co_return;
        }
        const auto id = ex.param("id");
        if (auto conv = ex.query("conversationId"))
            ctx_->log(log_level::debug, "SR lookup " + id + " conversationId " + *conv);
        std::optional<int> security_level;
        if (auto level = ex.query("securityLevel")) {
            if (level->empty() || level->size() > 2 ||
                !std::all_of(level->begin(), level->end(), [](char c) { return c >= '0' && c <= '9'; })) {
                co_await ex.send(
                    http::reply::json(400, json::serialize(error_body("invalid securityLevel"))));
                co_return;
            }
            security_level = std::stoi(*level);
        }
        std::string org_number;
        switch (classify(id, &org_number)) {
        case id_kind::invalid: {
            json::object spring_error;
            spring_error["status"] = 400;
            spring_error["error"] = "Bad Request";
            spring_error["message"] = "invalid identifier " + id;
            co_await ex.send(http::reply::json(400, json::serialize(spring_error)));
            co_return;
        }
        case id_kind::person: {
            const auto scopes = token_scopes(*claims);
            const bool dpi = std::find(scopes.begin(), scopes.end(), "eformidling:dpi") != scopes.end() ||
                             std::find(scopes.begin(), scopes.end(), "move/dpi.read") != scopes.end();
            if (!dpi) {
                co_await ex.send(http::reply::json(401, json::serialize(error_body("Access Denied"))));
                co_return;
            }
            json::object not_found;
            not_found["message"] = "No service record found for citizen: " + id;
            co_await ex.send(http::reply::json(404, json::serialize(not_found)));
            co_return;
        }
        case id_kind::organization:
            break;
        }
        const auto* org = ctx_->current_state().find(org_number);
        if (!org) {
            co_await ex.send(http::reply::json(
                404, json::serialize(error_body("Entity with identifier '" + id + "' not found."))));
            co_return;
        }
        json::array records;
        if (!process.empty()) {
            const auto* p = find_process(process);
            auto record = p ? record_for(*org, *p, security_level) : std::nullopt;
            if (!record) {
                co_await ex.send(http::reply::json(
                    404,
                    json::serialize(error_body("Process " + process + " not found for receiver " + id))));
                co_return;
            }
            if (certificates_.at(org->number).empty() && record->at("service").at("identifier") == "DPO") {
                co_await ex.send(http::reply::json(
                    404, json::serialize(error_body("Unable to find DPO certificate for: " + org->number))));
                co_return;
            }
            records.push_back(std::move(*record));
        } else {
            for (const auto& p : known_processes())
                if (auto record = record_for(*org, p, security_level))
                    records.push_back(std::move(*record));
        }
        json::object resource;
        resource["infoRecord"] = info_record(*org);
        resource["serviceRecords"] = std::move(records);
        co_await answer(ex, json::serialize(resource));
    }

    asio_void info(http::exchange ex) {
        if (!authenticate(ex)) {
            co_await unauthorized(ex);
            co_return;
        }
        std::string org_number;
        const auto id = ex.param("id");
        const auto kind = classify(id, &org_number);
        const auto* org = kind == id_kind::organization ? ctx_->current_state().find(org_number) : nullptr;
        if (kind == id_kind::invalid) {
            co_await ex.send(http::reply::json(400, json::serialize(error_body("invalid identifier " + id))));
            co_return;
        }
        if (!org) {
            co_await ex.send(http::reply::empty(404));
            co_return;
        }
        json::object resource;
        resource["infoRecord"] = info_record(*org);
        resource["serviceRecords"] = json::array();
        co_await answer(ex, json::serialize(resource));
    }

    asio_void virksert(http::exchange ex) {
        if (!authenticate(ex)) {
            co_await unauthorized(ex);
            co_return;
        }
        std::string org_number;
        const auto id = ex.param("id");
        const auto* org = classify(id, &org_number) == id_kind::organization
                              ? ctx_->current_state().find(org_number)
                              : nullptr;
        if (!org || certificates_.at(org->number).empty()) {
            co_await ex.send(
                http::reply::json(404, json::serialize(error_body("Unable to find certificate for: " + id))));
            co_return;
        }
        co_await answer(ex, certificates_.at(org->number), "text/plain");
    }

    context* ctx_ = nullptr;
    std::string base_;
    std::shared_ptr<Botan::Private_Key> key_;
    std::string x5c_;
    std::string kid_;
    unsigned key_generation_ = 0;
    std::map<std::string, std::string> certificates_; // orgnr -> PEM
};

} // namespace

std::unique_ptr<service> make_service_registry_service() {
    return std::make_unique<service_registry_service>();
}

} // namespace kurer::sandbox

#include <kurer/core/organization_number.hpp>
#include <kurer/service_registry/records.hpp>

#include <boost/json/parse.hpp>

#include <botan/data_src.h>
#include <botan/pk_keys.h>
#include <botan/pkix_types.h>
#include <botan/x509cert.h>

namespace kurer::service_registry {
namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "kurer.service_registry"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::not_registered:
            return "receiver not registered for this process";
        case errc::no_matching_record:
            return "no service record accepts the document type";
        case errc::access_denied:
            return "access denied by the Service Registry";
        case errc::refused:
            return "request refused by the Service Registry";
        case errc::bad_response:
            return "unexpected answer from the Service Registry";
        case errc::bad_signature:
            return "bad signature in response from the Service Registry";
        case errc::certificate_invalid:
            return "receiver certificate cannot be used";
        case errc::bad_request:
            return "invalid lookup";
        }
        return "unknown Service Registry error";
    }
};

error bad(std::string what) {
    return make_error(errc::bad_response, "Service Registry answer: " + std::move(what));
}

std::optional<std::string> optional_string(const boost::json::object& o, std::string_view name) {
    auto it = o.find(name);
    if (it == o.end() || it->value().is_null())
        return std::nullopt;
    if (it->value().is_string())
        return std::string(it->value().as_string());
    if (it->value().is_int64())
        return std::to_string(it->value().as_int64());
    return std::nullopt;
}

std::string string_or_empty(const boost::json::object& o, std::string_view name) {
    return optional_string(o, name).value_or(std::string());
}

result<service_record> parse_record(const boost::json::value& v, std::size_t index) {
    const std::string where = "serviceRecords[" + std::to_string(index) + "]";
    if (!v.is_object())
        return bad(where + " is not an object");
    const auto& o = v.as_object();
    service_record r;
    r.organisation_number = string_or_empty(o, "organisationNumber");
    r.pem_certificate = optional_string(o, "pemCertificate");
    if (r.pem_certificate && r.pem_certificate->empty())
        r.pem_certificate.reset();
    r.process = string_or_empty(o, "process");
    auto dt = o.find("documentTypes");
    if (dt == o.end() || !dt->value().is_array())
        return bad(where + " has no documentTypes array");
    for (const auto& d : dt->value().as_array()) {
        if (!d.is_string())
            return bad(where + ".documentTypes holds a non-string");
        r.document_types.emplace_back(d.as_string());
    }
    auto svc = o.find("service");
    if (svc == o.end() || !svc->value().is_object())
        return bad(where + " has no service object");
    const auto& s = svc->value().as_object();
    r.service.identifier = string_or_empty(s, "identifier");
    if (r.service.identifier.empty())
        return bad(where + ".service has no identifier");
    r.service.endpoint_url = string_or_empty(s, "endpointUrl");
    r.service.service_code = optional_string(s, "serviceCode");
    r.service.service_edition_code = optional_string(s, "serviceEditionCode");
    if (auto it = s.find("securityLevel"); it != s.end() && it->value().is_int64())
        r.service.security_level = static_cast<int>(it->value().as_int64());
    r.service.resource = optional_string(s, "resource");
    return r;
}

} // namespace

const boost::system::error_category& service_registry_category() noexcept {
    static const category instance;
    return instance;
}

boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), service_registry_category()};
}

result<identifier_resource> parse_identifier_resource(std::string_view json) {
    boost::system::error_code ec;
    const auto v = boost::json::parse(json, ec);
    if (ec)
        return bad("not JSON (" + ec.message() + ")");
    if (!v.is_object())
        return bad("not a JSON object");
    const auto& top = v.as_object();
    identifier_resource out;
    if (auto it = top.find("infoRecord"); it != top.end() && it->value().is_object()) {
        const auto& info = it->value().as_object();
        out.info.identifier = string_or_empty(info, "identifier");
        out.info.organization_name = string_or_empty(info, "organizationName");
        if (auto pa = info.find("postadresse"); pa != info.end() && pa->value().is_object()) {
            const auto& a = pa->value().as_object();
            out.info.address = postal_address{string_or_empty(a, "adresse"), string_or_empty(a, "postnummer"),
                                              string_or_empty(a, "poststed"), string_or_empty(a, "land")};
        }
        if (auto et = info.find("entityType"); et != info.end() && et->value().is_object())
            out.info.entity_type = string_or_empty(et->value().as_object(), "name");
    }
    if (auto it = top.find("serviceRecords"); it != top.end() && !it->value().is_null()) {
        if (!it->value().is_array())
            return bad("serviceRecords is not an array");
        std::size_t i = 0;
        for (const auto& r : it->value().as_array()) {
            auto rec = parse_record(r, i++);
            if (!rec)
                return rec.error();
            out.records.push_back(std::move(*rec));
        }
    }
    return out;
}

const service_record* choose_record(const identifier_resource& resource, std::string_view document_type) {
    for (const auto& r : resource.records)
        for (const auto& d : r.document_types)
            if (d == document_type)
                return &r;
    return nullptr;
}

std::string normalize_pem(std::string_view text) {
    std::string body;
    body.reserve(text.size());
    for (char c : text)
        if (c != '\r')
            body += c;
    constexpr std::string_view begin = "-----BEGIN CERTIFICATE-----";
    if (body.find(begin) != std::string::npos) {
        if (body.empty() || body.back() != '\n')
            body += '\n';
        return body;
    }
    std::string out = std::string(begin) + "\n";
    std::size_t column = 0;
    for (char c : body) {
        if (c == '\n' || c == ' ')
            continue;
        out += c;
        if (++column == 64) {
            out += '\n';
            column = 0;
        }
    }
    if (column != 0)
        out += '\n';
    out += "-----END CERTIFICATE-----\n";
    return out;
}

result<receiver_certificate> check_receiver_certificate(std::string_view pem,
                                                        std::chrono::system_clock::time_point now) {
    const auto invalid = [](std::string why) {
        return make_error(errc::certificate_invalid, std::move(why));
    };
    receiver_certificate out;
    out.pem = normalize_pem(pem);
    std::unique_ptr<Botan::X509_Certificate> cert;
    try {
        Botan::DataSource_Memory source(out.pem);
        cert = std::make_unique<Botan::X509_Certificate>(source);
    } catch (const std::exception& e) {
        return invalid(std::string("the receiver's certificate cannot be parsed: ") + e.what());
    }
    out.subject = cert->subject_dn().to_string();
    out.not_before = cert->not_before().to_std_timepoint();
    out.not_after = cert->not_after().to_std_timepoint();
    if (now < out.not_before)
        return invalid("the receiver's certificate (" + out.subject + ") is not valid before " +
                       cert->not_before().readable_string());
    if (now > out.not_after)
        return invalid("the receiver's certificate (" + out.subject + ") expired " +
                       cert->not_after().readable_string());
    std::unique_ptr<Botan::Public_Key> key;
    try {
        key = cert->load_subject_public_key();
    } catch (const std::exception& e) {
        return invalid(std::string("the receiver's certificate key cannot be read: ") + e.what());
    }
    if (key->algo_name() != "RSA")
        return invalid("the receiver's certificate (" + out.subject + ") has a " + key->algo_name() +
                       " key; CMS encryption to it needs RSA");
    if (!cert->allowed_usage(Botan::KEY_ENCIPHERMENT))
        return invalid("the receiver's certificate (" + out.subject + ") does not permit keyEncipherment");
    // Either profile: organizationIdentifier NTRNO-<9 digits> (SEID 2.0) or a 9-digit serialNumber
    // (SEID 1). A certificate that names no organisation, or two, is not an enterprise certificate
    // anyone can be held to.
    std::vector<subject_attribute> subject;
    for (const auto& [oid, value] : cert->subject_dn().dn_info())
        subject.push_back({oid.to_string(), value.value()});
    auto number =
        organization_number_in_attributes(subject, "the receiver's certificate (" + out.subject + ")");
    if (!number)
        return invalid(number.error().message);
    out.organization_number = std::move(*number);
    return out;
}

} // namespace kurer::service_registry

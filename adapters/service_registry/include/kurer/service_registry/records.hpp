// What the Service Registry answers, parsed; which record a message uses; whether the
// receiver's certificate can encrypt for it.
#pragma once

#include <kurer/core/error.hpp>

#include <boost/system/error_category.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kurer::service_registry {

enum class errc {
    not_registered = 1,  // 404: unknown receiver, or not registered for the process
    no_matching_record,  // no record accepts the message's document type
    access_denied,       // 401: the SR did not accept our token
    refused,             // another 4xx, with the SR's error_description
    bad_response,        // the answer is not what the SR sends
    bad_signature,       // a signed answer did not verify against the SR's /jwk
    certificate_invalid, // the receiver's certificate cannot be used to encrypt for it
    bad_request,         // our own lookup is malformed (identifier, process)
};

const boost::system::error_category& service_registry_category() noexcept;
boost::system::error_code make_error_code(errc e) noexcept;

struct postal_address {
    std::string address;
    std::string postal_code;
    std::string postal_area;
    std::string country;
};

struct info_record {
    std::string identifier;
    std::string organization_name;
    std::optional<postal_address> address;
    std::string entity_type; // BRREG organisation form (ORGL, KOMM, AS, ...) or "citizen"
};

struct service_info {
    std::string identifier; // DPO, DPV, DPF, DPI, DPE, DPH (or what a newer SR sends)
    std::string endpoint_url;
    std::optional<std::string> service_code;
    std::optional<std::string> service_edition_code;
    std::optional<int> security_level;
    std::optional<std::string> resource; // Altinn 3 resource id
};

struct service_record {
    std::string organisation_number;
    std::optional<std::string> pem_certificate;
    std::string process;
    std::vector<std::string> document_types;
    service_info service;
};

struct identifier_resource {
    info_record info;
    std::vector<service_record> records;
};

// Parses the JSON the SR returns from /identifier/... and /info/...; unknown members are
// ignored, records without documentTypes or service are refused.
result<identifier_resource> parse_identifier_resource(std::string_view json);

// The reference's rule: the first record whose documentTypes contains `document_type` exactly.
const service_record* choose_record(const identifier_resource& resource, std::string_view document_type);

// A receiver certificate that passed the checks.
struct receiver_certificate {
    std::string pem; // normalised: BEGIN/END lines present, \n line breaks
    std::string subject;
    std::string organization_number; // organizationIdentifier NTRNO-… or serialNumber: 9 digits
    std::chrono::system_clock::time_point not_before;
    std::chrono::system_clock::time_point not_after;
};

// Adds the PEM armour to a bare base64 body and normalises line breaks.
std::string normalize_pem(std::string_view text);

// Checks that the certificate parses, is valid at `now`, has an RSA key, and that its key usage
// (when present) permits keyEncipherment: what CMS encryption to the receiver needs. Then that its
// subject names one organisation number, in either profile (kurer/core/organization_number.hpp):
// SEID 2.0's organizationIdentifier NTRNO-<9 digits> or SEID 1's serialNumber; none, or two
// different ones, is certificate_invalid.
result<receiver_certificate> check_receiver_certificate(std::string_view pem,
                                                        std::chrono::system_clock::time_point now);

} // namespace kurer::service_registry

template <>
struct boost::system::is_error_code_enum<kurer::service_registry::errc> : std::true_type {};

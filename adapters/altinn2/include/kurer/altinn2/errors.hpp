// Errors of the Altinn 2 broker codec: one code per documented AltinnFault ErrorID, plus what
// can be wrong with a response, a multipart body or a local file.
//
// A SOAP fault becomes a kurer::error whose code names the ErrorID, whose message quotes the
// fault's members (ErrorID, AltinnErrorMessage, AltinnLocalizedErrorMessage, ErrorGuid, UserId)
// and whose retryable flag follows docs/protocols/altinn2.md. parse_fault() gives the same
// members as a struct for callers that want them one by one.
#pragma once

#include <kurer/core/error.hpp>

#include <boost/system/error_category.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace kurer::altinn2 {

enum class errc {
    // AltinnFault ErrorIDs (the number in the comment), see fault_error_id().
    authentication_failed = 1,      // 0: authentication failed; also WCF deserialisation faults
    not_authorized,                 // 5: system authentication failed, locked, or not delegated
    authentication_exception,       // 6: exception while authenticating the system
    end_user_authentication_failed, // 989
    reportee_may_not_send,          // 40201
    recipient_invalid,              // 40202
    file_too_large,                 // 40204
    no_file_data,                   // 40205
    not_a_zip,                      // 40206
    no_file_ready,                  // 40207
    already_uploaded,               // 40208: a repeated upload; the engine treats it as success
    virus_scan_rejected,            // 40209
    not_a_broker_service,           // 40210
    action_not_authorized,          // 40211
    unknown_reference,              // 40212
    reportee_mismatch,              // 40213
    invalid_reportee,               // 40214
    recipient_lacks_rights,         // 40215
    security_level_too_low,         // 40216
    undocumented_fault,             // an AltinnFault whose ErrorID is none of the above
    soap_fault,                     // a SOAP fault without an AltinnFault detail

    // What arrived is not what the protocol allows.
    malformed_envelope,  // not a SOAP 1.1 envelope, or a required element missing or invalid
    receipt_not_ok,      // an upload receipt whose ReceiptStatusCode is not OK
    bad_content_type,    // a Content-Type the codec cannot read
    malformed_multipart, // a multipart body that breaks MIME rules
    truncated_multipart, // the body ended before the closing boundary
    limit_exceeded,      // a part, header block or part count beyond the configured limits
    attachment_missing,  // an xop:Include whose cid: names no part

    // Local problems.
    invalid_value, // a request value XML cannot carry (control characters, invalid UTF-8)
    file_error,    // reading the attachment from disk or writing it there failed
};

const boost::system::error_category& altinn2_category() noexcept;
boost::system::error_code make_error_code(errc e) noexcept;

// The members of an AltinnFault detail (all optional and nillable in the WSDL).
struct altinn_fault {
    std::optional<std::string> error_message;           // AltinnErrorMessage
    std::optional<std::string> extended_error_message;  // AltinnExtendedErrorMessage
    std::optional<std::string> localized_error_message; // AltinnLocalizedErrorMessage
    std::optional<std::string> error_guid;              // ErrorGuid
    std::optional<int> error_id;                        // ErrorID
    std::optional<std::string> user_guid;               // UserGuid
    std::optional<std::string> user_id;                 // UserId

    bool operator==(const altinn_fault&) const = default;
};

// A SOAP 1.1 fault: faultcode (its local name, e.g. "Client"), faultstring, and the Altinn
// detail when there is one.
struct soap_fault {
    std::string code;
    std::string text;
    std::optional<altinn_fault> detail;

    bool operator==(const soap_fault&) const = default;
};

// The code for a documented ErrorID; nullopt for an undocumented one.
std::optional<errc> errc_for_error_id(int error_id) noexcept;
// The ErrorID a fault code stands for; nullopt for codes that are not ErrorIDs.
std::optional<int> fault_error_id(errc e) noexcept;
// Whether trying again later can help (docs/protocols/altinn2.md, "Faults").
bool is_retryable_error_id(int error_id) noexcept;

// The typed error for a fault: code per ErrorID, retryable per the table, and a message that
// quotes every member the fault carried.
kurer::error fault_error(const soap_fault& fault);

} // namespace kurer::altinn2

template <>
struct boost::system::is_error_code_enum<kurer::altinn2::errc> : std::true_type {};

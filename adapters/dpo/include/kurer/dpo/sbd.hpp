// The Standard Business Document (SBD) in NextMove JSON form: the clear-text sbd.json that
// routes every DPO message, receipt and status.
//
//   sbd        the model: header fields and the business message (kept as JSON, since its
//              members depend on the type)
//   to_json    writes it like the reference's Jackson: header first, nulls omitted,
//              pretty-printed with Jackson's layout, date-times with offset
//   parse_sbd  reads it leniently, as the reference does (either member order, unknown header
//              members ignored, date-times without offset in Oslo time), but bounded
//   validate   the strict check for what kurer sends; the error names the field at fault
//   make_*     the SBDs kurer creates: a new message, a status (MOTTATT/LEVERT) and an
//              arkivmelding_kvittering, as the reference's SBDFactory builds them
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/dpo/date_time.hpp>
#include <kurer/dpo/limits.hpp>

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kurer::dpo {

inline constexpr std::string_view iso6523_authority = "iso6523-actorid-upis";

// Processes and document types used with DPO (message-package.md §1.4).
namespace process {
inline constexpr std::string_view administrasjon = "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0";
inline constexpr std::string_view arkivmelding_response = "urn:no:difi:profile:arkivmelding:response:ver1.0";
inline constexpr std::string_view avtalt = "urn:no:difi:profile:avtalt:avtalt:ver1.0";
inline constexpr std::string_view avtalt_response = "urn:no:difi:profile:avtalt:response:ver1.0";
} // namespace process

namespace standard {
inline constexpr std::string_view arkivmelding = "urn:no:difi:arkivmelding:xsd::arkivmelding";
inline constexpr std::string_view arkivmelding_kvittering =
    "urn:no:difi:arkivmelding:xsd::arkivmelding_kvittering";
inline constexpr std::string_view status = "urn:no:difi:eformidling:xsd::status";
inline constexpr std::string_view avtalt = "urn:no:difi:avtalt:xsd::avtalt";
} // namespace standard

struct partner {
    std::string identifier; // "0192:<orgnr>"
    std::string authority{iso6523_authority};
};

struct correlation_information {
    std::optional<date_time> requesting_document_creation_date_time;
    std::optional<std::string> requesting_document_instance_identifier;
    std::optional<date_time> expected_response_date_time;
};

struct scope {
    std::string type; // ConversationId, SenderRef, ReceiverRef, MessageChannel, ParentId, JournalpostId
    std::optional<std::string> instance_identifier;
    std::optional<std::string> identifier;
    std::vector<correlation_information> scope_information;
};

struct document_identification {
    std::string standard;
    std::string type_version;
    std::string instance_identifier; // the messageId
    std::string type;                // business message name, lower case
    std::optional<std::string> multiple_type;
    std::optional<date_time> creation_date_and_time;
};

struct sbd_header {
    std::string header_version{"1.0"};
    std::vector<partner> sender;
    std::vector<partner> receiver;
    document_identification document;
    std::vector<scope> scopes;
};

struct sbd {
    sbd_header header;
    boost::json::object business_message; // the member named after header.document.type

    // Shortcuts into the header; empty/nullopt when absent.
    const std::string& message_id() const noexcept { return header.document.instance_identifier; }
    const std::string& type() const noexcept { return header.document.type; }
    const scope* find_scope(std::string_view type) const noexcept;
    std::optional<std::string> conversation_id() const;
    std::optional<std::string> process() const;
    std::optional<date_time> expected_response() const;
    std::optional<std::string> message_channel() const; // the MessageChannel scope's identifier
    std::optional<std::string> sender_identifier() const;
    std::optional<std::string> receiver_identifier() const;
    // The business message's string member `name` (hoveddokument, status, receiptType, ...).
    std::optional<std::string> business_string(std::string_view name) const;
};

// Pretty-printed UTF-8, as Jackson's default pretty printer writes it.
std::string to_json(const sbd& document);

// The lenient reader. Rejects, each with its own errc: more than limits::max_sbd_bytes,
// malformed JSON, nesting deeper than limits::max_json_depth, a repeated member, a top level
// other than the header plus one business message named after the type, missing or mistyped
// header members, and a type no reference business message has. Accepts what Jackson accepts:
// either member order, unknown header members, any ISO date-time.
result<sbd> parse_sbd(std::string_view json, const limits& lim = {});

// The strict check for an SBD kurer sends or accepts as a DPO message: headerVersion 1.0, one
// 0192:<9 digits> sender and receiver with the iso6523 authority, a UUID messageId, a DPO type
// (arkivmelding, arkivmelding_kvittering, status, avtalt) whose standard ends in ::<type>, a
// creation time, exactly one ConversationId scope with a UUID, a process and a deadline, valid
// optional scopes, and a business message that fits the type. The error message starts with
// the JSON path of the first field at fault.
result<void> validate(const sbd& document);

// The checks a receiving integration point applies before anything else (AltinnPackage /
// DefaultDpoPolling): messageId and conversationId must be UUIDs.
result<void> validate_for_receipt(const sbd& document);

// A new DPO message (normally an arkivmelding), as the NextMove API completes one.
struct message_params {
    std::string sender;   // 0192:<orgnr>, or a bare 9-digit number
    std::string receiver; // same
    std::string type{"arkivmelding"};
    std::string standard{standard::arkivmelding};
    std::string process{process::administrasjon};
    std::string message_id;                     // empty: a fresh UUID
    std::string conversation_id;                // empty: a fresh UUID
    std::optional<date_time> expected_response; // absent: created + ttl
    std::chrono::hours ttl{24};
    std::optional<std::string> message_channel; // adds a MessageChannel scope
    boost::json::object business_message; // empty for arkivmelding: {"hoveddokument":"arkivmelding.xml"}
};
sbd make_message(const message_params& params, instant now);

// What SBDFactory.createStatusFrom builds: sender and receiver swapped, the same messageId and
// conversationId as the original, the response process (arkivmelding or avtalt), a fresh 24 h
// deadline, creation time now - 5 s, and the original's MessageChannel scope.
enum class receipt_status { mottatt, levert };
sbd make_status(const sbd& original, receipt_status status, instant now);

// An arkivmelding_kvittering answering `original`: a new messageId, the same conversationId, the
// response process, relatedToMessageId = the original's messageId.
struct kvittering_message {
    std::string code;
    std::string text;
};
sbd make_arkivmelding_kvittering(const sbd& original, std::string_view receipt_type,
                                 const std::vector<kvittering_message>& messages, instant now);

// "0192:910077473" for "910077473" or "0192:910077473"; nullopt for anything else.
std::optional<std::string> normalize_organization(std::string_view identifier);
// "910077473" for "0192:910077473".
std::string organization_number(std::string_view identifier);

} // namespace kurer::dpo

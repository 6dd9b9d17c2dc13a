// What the store keeps per message, and how it is encoded.
//
// Every record and history entry starts with a type tag and a format version. A version this
// build does not know is refused with errc::unknown_record_version, naming the record; it is
// never guessed at. Outgoing records and history entries are at version 1; incoming records at
// version 2 (the broker's word on who sent the file, the verified signer and the rejection
// reason were added), and version 1 incoming records are still read.
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/statemachine/incoming.hpp>
#include <kurer/statemachine/outgoing.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kurer::storage {

inline constexpr std::uint8_t record_version = 1;
inline constexpr std::uint8_t incoming_record_version = 2;

using time_point = std::chrono::sys_time<std::chrono::milliseconds>;

enum class record_kind : char { outgoing = 'o', incoming = 'i' };

// A file owned by the store, relative to its data directory.
struct file_ref {
    std::string path; // relative to the data directory; empty: none
    std::uint64_t size = 0;
    std::string sha256; // lower-case hex
    friend bool operator==(const file_ref&, const file_ref&) = default;
};

struct document_ref {
    std::string name; // file name inside the ASiC
    std::string mime_type;
    bool primary = false; // the main document (arkivmelding's hoveddokument)
    file_ref file;
    friend bool operator==(const document_ref&, const document_ref&) = default;
};

struct outgoing_record {
    std::string id; // the store key: the messageId for messages, "<messageId>.<status>" for status messages
    std::string message_id; // the SBD's instanceIdentifier
    std::string conversation_id;
    statemachine::outgoing_snapshot machine;
    std::string sender; // organisation numbers (9 digits)
    std::string receiver;
    std::string process;
    std::string document_type;
    std::string senders_reference; // the broker's sendersReference, chosen once at creation
    std::string message_channel;
    time_point created{};
    time_point deadline{};     // expectedResponseDateTime
    time_point updated{};      // time of the last transition
    std::uint32_t attempt = 0; // failed attempts of the pending action
    std::uint32_t history_size = 0;
    std::string content_digest;   // SHA-256 of the submitted content: an idempotent submit compares it
    std::string business_message; // the business message (JSON) the SBD carries
    std::vector<document_ref> documents;
    std::string service_identifier;   // from the Service Registry
    std::string receiver_certificate; // PEM, from the Service Registry; dropped once packed
    file_ref package;
    std::string broker_reference; // recorded before the upload starts
    // Status messages: which status, and the SBD (JSON) of the incoming message it answers.
    statemachine::eformidling_status status_value = statemachine::eformidling_status::mottatt;
    std::string original_sbd;
    std::string last_error; // the last failure, for operators
    friend bool operator==(const outgoing_record&, const outgoing_record&) = default;
};

// What the package said about itself when it was opened.
enum class package_kind : std::uint8_t {
    unknown = 0,    // not opened yet, or rejected
    message = 1,    // a business message for the end system
    status = 2,     // a status SBD (MOTTATT/LEVERT) about one of our outgoing messages
    kvittering = 3, // an arkivmelding_kvittering: queued, and LEST/FEIL for the message it names
};

struct incoming_record {
    std::string reference; // the broker's file reference: the store key
    statemachine::incoming_snapshot machine;
    std::string senders_reference;
    std::uint64_t listed_size = 0;
    // What the broker says about the file (organisation numbers; empty when it does not say).
    std::string listed_sender;    // who uploaded it
    std::string listed_recipient; // whom it is addressed to
    time_point sent{};            // when the broker says the sender uploaded it
    time_point listed{};          // when this engine first saw it
    time_point updated{};
    std::uint32_t attempt = 0;
    std::uint32_t history_size = 0;
    file_ref package; // the downloaded sbd.zip
    file_ref payload; // what the packer extracted for the end system (decrypted ASiC), if anything
    // From the package:
    package_kind kind = package_kind::unknown;
    std::string message_id;
    std::string conversation_id;
    std::string sender;
    std::string receiver;
    std::string process;
    std::string document_type;
    std::string message_channel;
    std::string sbd; // the SBD as JSON
    std::optional<time_point> deadline;
    std::string related_message_id; // status: the message it is about; kvittering: relatedToMessageId
    std::string receipt_value;      // status: MOTTATT/LEVERT; kvittering: OK/WARNING/ERROR/NOTSUPPORTED
    std::string signer;    // the verified signer's certificate (empty: the package carried no signature)
    std::string rejection; // why a Rejected package was refused, as a short code (last_error has the text)
    // The end system's queue:
    std::string queue_key; // position on the queue (arrival order), kept across lock expiries
    std::optional<time_point> lock_until;
    std::string last_error;
    friend bool operator==(const incoming_record&, const incoming_record&) = default;
};

// One transition as it happened.
struct history_entry {
    std::uint32_t seq = 0;
    time_point time{};
    std::uint8_t from = 0; // statemachine::outgoing_state or incoming_state, by the record's kind
    std::uint8_t to = 0;
    std::string event; // event_name() of the event, or "created"
    std::uint32_t attempt = 0;
    std::string detail; // error text, what was implied, the broker reference, ...
    std::vector<statemachine::status_record> statuses;
    friend bool operator==(const history_entry&, const history_entry&) = default;
};

std::string encode(const outgoing_record& r);
std::string encode(const incoming_record& r);
std::string encode(const history_entry& e);

// `what` names the record in error messages ("outgoing record 8a2c...").
result<outgoing_record> decode_outgoing(std::string_view bytes, std::string_view what);
result<incoming_record> decode_incoming(std::string_view bytes, std::string_view what);
result<history_entry> decode_history(std::string_view bytes, std::string_view what);

} // namespace kurer::storage

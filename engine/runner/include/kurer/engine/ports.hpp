// The engine's view of the outside world: one abstract port per party. The real adapters
// (adapters/maskinporten, service_registry, dpo, altinn2, altinn3) are wrapped to these; tests
// use the fakes in engine/testing. Every port reports expected failures as values: a
// kurer::error with retryable = true is tried again with backoff up to the message's deadline,
// retryable = false fails the message (or, for open(), rejects the package).
//
// Asynchronous ports return awaitables and run on the engine's I/O threads: they must not block.
// The packer is synchronous (zip, CMS, XML are CPU and disk work); the engine calls it on its
// worker pool. Every operation may be repeated after a crash with the same arguments; the
// comments say what a repeat must do.
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/statemachine/states.hpp>
#include <kurer/storage/records.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kurer::engine {

template <class T>
using task = boost::asio::awaitable<kurer::result<T>>;

using time_point = storage::time_point;

// ---- Maskinporten
struct access_token {
    std::string value; // never logged
    time_point expires_at{};
};

class token_port {
public:
    virtual ~token_port() = default;
    // A token for the scopes; the adapter caches it and shares it between messages.
    virtual task<access_token> get_token(std::vector<std::string> scopes) = 0;
};

// ---- Service Registry
struct service_record {
    std::string service_identifier;       // "DPO"
    std::string receiver_certificate_pem; // the receiver's encryption certificate
};

// What GET /api/capabilities/{receiver} reports: the receiver's service records.
struct capability {
    std::string process;                     // urn:no:difi:profile:...
    std::string service_identifier;          // DPO, DPV, DPE, ...
    std::vector<std::string> document_types; // standards: urn:no:difi:arkivmelding:xsd::arkivmelding, ...
};

// Looks a receiver (9-digit organisation number) up in the Service Registry; `process` empty
// means every process. An unknown receiver is an empty list. The wiring builds it over the real
// Service Registry client (service_registry::client::find, one capability per record); tests
// pass a fake. The admin server answers GET /api/capabilities with it: retryable errors
// answer 503, others 502.
using capabilities_lookup = std::function<boost::asio::awaitable<result<std::vector<capability>>>(
    std::string receiver, std::string process)>;

class resolver_port {
public:
    virtual ~resolver_port() = default;
    // The receiver's DPO record for the process and document type; a receiver that does not
    // offer DPO for them is a permanent error.
    virtual task<service_record> resolve(std::string receiver, std::string process,
                                         std::string document_type) = 0;
};

// ---- Packing (synchronous, on the worker pool)
struct outgoing_message {
    std::string message_id;
    std::string conversation_id;
    std::string sender;
    std::string receiver;
    std::string process;
    std::string document_type;
    std::string message_channel;
    time_point deadline{};
    std::string business_message;    // JSON
    std::string senders_reference{}; // the broker transfer's; Altinn 2 packages repeat it in manifest.xml
};

struct document {
    std::string name;
    std::string mime_type;
    bool primary = false;
    std::filesystem::path path; // a file the store owns
};

struct package_info {
    std::uint64_t size = 0;
    std::string sha256; // lower-case hex
};

// What a downloaded package says about itself.
struct opened_package {
    storage::package_kind kind = storage::package_kind::message;
    std::string sbd; // the SBD (JSON), kept to answer with status SBDs
    std::string message_id;
    std::string conversation_id;
    std::string sender;
    std::string receiver;
    std::string process;
    std::string document_type;
    std::string message_channel;
    std::optional<time_point> deadline;
    std::string status;             // status SBDs: MOTTATT or LEVERT
    std::string related_message_id; // kvittering: relatedToMessageId
    std::string receipt_type;       // kvittering: OK, WARNING, ERROR, NOTSUPPORTED
    bool has_payload = false;       // the payload file was written (a decrypted ASiC)
    // Who signed it, verified (see packer_port::open); empty for a package without an ASiC-E,
    // which carries no signature (status SBDs, kvitteringer).
    std::string signer;              // the certificate, for records and logs
    std::string signer_organization; // its organisation number
};

// Why an incoming package was refused, as the metric kurer_incoming_rejected_total and the
// record's `rejection` name it.
namespace rejection {
inline constexpr std::string_view malformed = "malformed";   // unreadable, or not what DPO sends
inline constexpr std::string_view not_for_us = "not_for_us"; // encrypted for someone else
inline constexpr std::string_view tampered = "tampered";     // a digest, the manifest or the signature
inline constexpr std::string_view untrusted_signer = "untrusted_signer"; // no trusted chain, expired, ...
inline constexpr std::string_view wrong_sender = "wrong_sender"; // signed, uploaded or answered by another
inline constexpr std::string_view message_id_taken = "message_id_taken"; // another sender's message has it
} // namespace rejection

class packer_port {
public:
    virtual ~packer_port() = default;
    // Writes the complete sbd.zip to `out` (overwriting a partial one from a crash). The engine
    // fsyncs it before recording Packed. The same inputs may produce different bytes (fresh CMS
    // keys); only the recorded package is ever uploaded.
    virtual result<package_info> pack(const outgoing_message& message, const std::vector<document>& documents,
                                      std::string_view receiver_certificate_pem,
                                      const std::filesystem::path& out) = 0;
    // A status SBD (MOTTATT or LEVERT) answering `original_sbd`, as an SBD-only sbd.zip.
    virtual result<package_info> pack_status(std::string_view original_sbd,
                                             statemachine::eformidling_status status,
                                             const std::filesystem::path& out) = 0;
    // Reads a downloaded sbd.zip; writes what the end system will get (the decrypted ASiC) to
    // `payload_out` if the package carries one, and verifies it before returning: every digest,
    // the signature, the signer's certificate (trusted, valid at `uploaded`, the time the broker
    // received the file) and that the signer is the SBD's sender. A non-retryable error rejects
    // the package, and then no payload file is left behind.
    virtual result<opened_package> open(const std::filesystem::path& package,
                                        const std::filesystem::path& payload_out, time_point uploaded) = 0;
    // Which rejection:: code an error of open() is.
    virtual std::string_view rejection_of(const error& e) const {
        (void)e;
        return rejection::malformed;
    }
};

// ---- Altinn broker (2 or 3)
struct transfer_request {
    std::string sender; // reportee
    std::string receiver;
    std::string senders_reference;
    std::string file_name; // "sbd.zip"
    std::uint64_t size = 0;
    std::string sha256;
    std::filesystem::path file{}; // the package to be uploaded (Altinn 3 sends its MD5 with initialize)
};

enum class upload_result {
    uploaded,
    already_uploaded, // A2 fault 40208 / A3 BRO-00004: a repeat after a crash; the file is there
};

struct available_file {
    std::string reference;
    std::string senders_reference;
    std::uint64_t size = 0;
    time_point sent{};
    // What the broker says about the parties (organisation numbers; empty when it does not say):
    // an incoming package must name the same sender and receiver in its SBD.
    std::string sender;    // the organisation that uploaded the file
    std::string recipient; // the organisation it is addressed to (ours, or a reportee's)
};

class broker_port {
public:
    virtual ~broker_port() = default;
    // Opens a transfer and returns its reference. A repeat (a crash before the reference was
    // recorded) opens a second, empty transfer; it is never uploaded to, so never delivered.
    virtual task<std::string> initiate(transfer_request request) = 0;
    // Uploads the file to the reference; a repeat reports already_uploaded.
    virtual task<upload_result> upload(std::string reference, std::filesystem::path file) = 0;
    // Files waiting for this organisation (and its reportees).
    virtual task<std::vector<available_file>> list_available() = 0;
    // Writes the file to `to`, replacing what a crashed attempt left there.
    virtual task<void> download(std::string reference, std::filesystem::path to) = 0;
    // Marks the file downloaded; confirming twice must succeed.
    virtual task<void> confirm(std::string reference) = 0;
};

struct ports {
    std::shared_ptr<token_port> token;
    std::shared_ptr<resolver_port> resolver;
    std::shared_ptr<packer_port> packer;
    std::shared_ptr<broker_port> broker;
};

} // namespace kurer::engine

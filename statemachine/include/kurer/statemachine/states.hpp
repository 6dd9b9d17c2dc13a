// The states a message goes through and the eFormidling status each one reports.
//
// Outgoing: Created -> Authorized -> Resolved -> Packed -> UploadInitiated -> Uploaded -> Delivered
// -> Received, with Failed and Expired beside them. Incoming: Listed -> Downloaded -> Stored ->
// Confirmed -> Queued -> Locked -> Taken -> LevertSent, with Routed (a receipt for one of our own
// messages), Duplicate, Rejected and Expired beside them. The names are the engine's; the
// eFormidling statuses (OPPRETTET, SENDT, MOTTATT, LEVERT, FEIL, LEVETID_UTLOPT, LEST, ...) are
// what the NextMove API and the wire speak.
//
// The numeric values are persisted by storage/: never renumber, only append.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kurer::statemachine {

enum class outgoing_state : std::uint8_t {
    created = 0,
    authorized = 1,
    resolved = 2,
    packed = 3,
    upload_initiated = 9, // the broker reference is known and recorded; the file is not yet accepted
    uploaded = 4,
    delivered = 5,
    received = 6,
    failed = 7,
    expired = 8,
};

inline constexpr outgoing_state all_outgoing_states[] = {
    outgoing_state::created,   outgoing_state::authorized,       outgoing_state::resolved,
    outgoing_state::packed,    outgoing_state::upload_initiated, outgoing_state::uploaded,
    outgoing_state::delivered, outgoing_state::received,         outgoing_state::failed,
    outgoing_state::expired,
};

enum class incoming_state : std::uint8_t {
    listed = 0,     // the broker listed the file and its reference is recorded; not yet downloaded
    downloaded = 1, // the package file is on disk (fsynced); not yet opened
    stored = 2,     // opened, a new message: recorded and de-duplicated; not yet confirmed at the broker
    confirmed = 3,  // the broker download is confirmed; MOTTATT not yet submitted
    queued = 4,     // on the end system's queue (MOTTATT submitted with the same write)
    locked = 5,     // peeked by the end system; back to queued when the lock expires
    taken = 6,      // the end system deleted it (NextMove DELETE); LEVERT not yet submitted
    levert_sent = 7,
    routed = 8,    // a status SBD: handed to the outgoing message it is about
    duplicate = 9, // same messageId as a message already received: dropped
    rejected = 10, // the package could not be read: dropped, the reason is in the history
    expired = 11,  // its deadline passed before the end system took it
};

inline constexpr incoming_state all_incoming_states[] = {
    incoming_state::listed, incoming_state::downloaded, incoming_state::stored,   incoming_state::confirmed,
    incoming_state::queued, incoming_state::locked,     incoming_state::taken,    incoming_state::levert_sent,
    incoming_state::routed, incoming_state::duplicate,  incoming_state::rejected, incoming_state::expired,
};

// eFormidling conversation statuses (ReceiptStatus in the reference). Persisted values.
enum class eformidling_status : std::uint8_t {
    opprettet,
    sendt,
    mottatt,
    levert,
    lest,
    feil,
    levetid_utlopt,
    innkommende_mottatt,
    innkommende_levert,
};

std::string_view to_string(outgoing_state s) noexcept;
std::optional<outgoing_state> outgoing_state_from_string(std::string_view name) noexcept;

std::string_view to_string(incoming_state s) noexcept;
std::optional<incoming_state> incoming_state_from_string(std::string_view name) noexcept;

std::string_view to_string(eformidling_status s) noexcept;
std::optional<eformidling_status> eformidling_status_from_string(std::string_view name) noexcept;

// The status a message reports when it enters a state. Authorized, Resolved, Packed and
// UploadInitiated are internal steps the reference does not expose: the message still reads OPPRETTET.
eformidling_status reported_status(outgoing_state s) noexcept;

// Failed, Expired and Received end a message's outgoing machine (a receipt may still add LEST,
// and a late LEVERT moves Expired to Received: see outgoing.hpp).
bool is_terminal(outgoing_state s) noexcept;

// LevertSent, Routed, Duplicate, Rejected and Expired end an incoming machine (the last four may
// still owe the broker a download confirmation: see incoming.hpp).
bool is_terminal(incoming_state s) noexcept;

} // namespace kurer::statemachine

// The states a message goes through and the eFormidling status each one reports.
//
// Outgoing: Created -> Authorized -> Resolved -> Packed -> Uploaded -> Delivered -> Received,
// with Failed and Expired beside them. The names are the engine's; the eFormidling statuses
// (OPPRETTET, SENDT, MOTTATT, LEVERT, FEIL, LEVETID_UTLOPT, LEST) are what the NextMove API
// and the wire speak.
#pragma once

#include <optional>
#include <string_view>

namespace kurer::statemachine {

enum class outgoing_state {
    created,
    authorized,
    resolved,
    packed,
    uploaded,
    delivered,
    received,
    failed,
    expired,
};

// eFormidling conversation statuses (ReceiptStatus in the reference).
enum class eformidling_status {
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

std::string_view to_string(eformidling_status s) noexcept;
std::optional<eformidling_status> eformidling_status_from_string(std::string_view name) noexcept;

// The status a message reports when it enters a state. Authorized, Resolved and Packed are
// internal steps the reference does not expose: the message still reads OPPRETTET.
eformidling_status reported_status(outgoing_state s) noexcept;

// Failed, Expired and Received end a message's outgoing machine (a receipt may still add LEST).
bool is_terminal(outgoing_state s) noexcept;

} // namespace kurer::statemachine

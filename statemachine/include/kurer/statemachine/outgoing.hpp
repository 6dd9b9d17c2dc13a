// The outgoing message machine (Boost.MSM inside, nothing of it in this header).
//
// Pure: no I/O, no clock. The engine persists a snapshot, rebuilds the machine from it at any
// time (recovery included), hands it the result of the last action or an outside event, persists
// the outcome and performs the next action.
//
//   Created --token_obtained--> Authorized --record_resolved--> Resolved --packed--> Packed
//   --upload_initiated--> UploadInitiated --uploaded--> Uploaded (SENDT) --status_mottatt-->
//   Delivered (MOTTATT) --status_levert--> Received (LEVERT)
//
// Receipts out of order:
//   * LEVERT before MOTTATT: straight to Received; MOTTATT is recorded as implied.
//   * A receipt while still Created..UploadInitiated (a crash after the upload, before its record):
//     the receiver evidently has the message, so the machine moves forward (SENDT implied) and
//     nothing is uploaded again.
//   * A status already recorded is a duplicate: ignored.
//   * After Failed or Expired a receipt not yet recorded is recorded, the state stays; except that
//     proof the end system took the message (LEVERT, or an arkivmelding_kvittering OK) moves
//     Expired to Received: the reference records a late LEVERT too, and Received tells the truth
//     (LEVETID_UTLOPT stays in the history).
//   * An arkivmelding_kvittering OK/WARNING records LEST, ERROR/NOTSUPPORTED records FEIL. Before
//     Received it ends the message (Received, resp. Failed); after Received it is recorded and the
//     state stays Received (the state tracks delivery, the statuses track the conversation).
// Failures: retryable ones keep the state and repeat the action (the engine backs off); permanent
// ones end in Failed (FEIL). deadline_passed ends any message not yet Received in Expired
// (LEVETID_UTLOPT). retry_requested restarts a Failed message from Created, but only when the
// broker never accepted it (no SENDT recorded): a second upload would deliver it twice.
//
// Status messages (the MOTTATT/LEVERT SBDs this engine sends back for incoming messages) use
// the same machine with kind `status`: they expect no receipts, so Uploaded finishes them.
#pragma once

#include <kurer/statemachine/outcome.hpp>
#include <kurer/statemachine/states.hpp>

#include <cstdint>
#include <string_view>
#include <variant>

namespace kurer::statemachine {

// Persisted values.
enum class outgoing_kind : std::uint8_t {
    message = 0, // an end system's message: waits for MOTTATT/LEVERT receipts
    status = 1,  // a status SBD this engine sends back: finished once uploaded
};

namespace out_event {
// Results of the actions.
struct token_obtained {};
struct record_resolved {};
struct packed {};
struct upload_initiated {}; // the broker reference travels beside the event, into the record
struct uploaded {};         // also when the broker says "already uploaded" (a repeat after a crash)
// Receipts from the receiver.
struct status_mottatt {};
struct status_levert {};
struct kvittering_ok {};    // arkivmelding_kvittering OK, WARNING or unknown type: LEST
struct kvittering_error {}; // arkivmelding_kvittering ERROR or NOTSUPPORTED: FEIL
// Failures of the current action.
struct retryable_failure {};
struct permanent_failure {};
// The clock and the operator.
struct deadline_passed {};
struct retry_requested {};
} // namespace out_event

using outgoing_event =
    std::variant<out_event::token_obtained, out_event::record_resolved, out_event::packed,
                 out_event::upload_initiated, out_event::uploaded, out_event::status_mottatt,
                 out_event::status_levert, out_event::kvittering_ok, out_event::kvittering_error,
                 out_event::retryable_failure, out_event::permanent_failure, out_event::deadline_passed,
                 out_event::retry_requested>;

// "token_obtained", "status_levert", ...: the name written into the history.
std::string_view event_name(const outgoing_event& e) noexcept;

// Everything the machine needs to continue: persisted with every transition.
struct outgoing_snapshot {
    outgoing_state state = outgoing_state::created;
    outgoing_kind kind = outgoing_kind::message;
    status_set recorded; // eFormidling statuses already recorded for the conversation
    friend bool operator==(const outgoing_snapshot&, const outgoing_snapshot&) noexcept = default;
};

struct outgoing_outcome {
    statemachine::verdict verdict = verdict::ignored;
    outgoing_snapshot after; // equal to the snapshot before unless accepted
    action next = action::none;
    status_list statuses;  // to record with this transition, in order
    bool retry = false;    // accepted failure: the same action again after a backoff
    std::string_view note; // why an event was ignored or rejected, or what was implied
};

// The action a snapshot asks for: authorize in Created, ..., await_receipts in Uploaded and
// Delivered, none when finished.
action next_action(const outgoing_snapshot& s) noexcept;

// No further action and no event can change the state any more except late receipts.
inline bool is_finished(const outgoing_snapshot& s) noexcept {
    return next_action(s) == action::none;
}

class outgoing_machine {
public:
    explicit outgoing_machine(outgoing_snapshot s = {}) noexcept
        : snapshot_(s) {}

    const outgoing_snapshot& snapshot() const noexcept { return snapshot_; }
    action next() const noexcept { return next_action(snapshot_); }

    // Applies the event. On `accepted` the machine moves to outcome.after; otherwise it stays.
    outgoing_outcome handle(const outgoing_event& e);

private:
    outgoing_snapshot snapshot_;
};

} // namespace kurer::statemachine

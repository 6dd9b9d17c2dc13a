// The incoming message machine (Boost.MSM inside, nothing of it in this header).
//
// One machine per broker file, keyed by the broker reference (a file's messageId is only known
// once it is opened, and a bad package may have none):
//
//   Listed --downloaded--> Downloaded --opened--> Stored (OPPRETTET) --download_confirmed-->
//   Confirmed --status_submitted--> Queued (INNKOMMENDE_MOTTATT) --peeked--> Locked
//   --taken--> Taken (INNKOMMENDE_LEVERT) --status_submitted--> LevertSent
//
// `opened` is decided in this order: a status SBD is Routed to the outgoing message it is about
// (even when expired: what it reports is still true; the reference's habit of marking the
// original LEVETID_UTLOPT for an expired status is not copied); a messageId seen before is a
// Duplicate (dropped, so a repeat never disturbs the original); a message whose deadline already
// passed is Expired (LEVETID_UTLOPT, no MOTTATT, as the reference); anything else is Stored. A
// package that cannot be read is Rejected (FEIL) with the reason in the history.
//
// Routed, Duplicate, Rejected and Expired still confirm the download at the broker if that was
// not done yet (snapshot.confirm_done), then finish. Only a Locked message can be taken (as the
// reference, which refuses a DELETE without a lock): `taken` in Queued is rejected. A lock
// expires (lock_expired, the engine's timer) back to Queued. The deadline passing before the end
// system took the message ends it in Expired (removed from the queue, LEVETID_UTLOPT). MOTTATT
// and LEVERT are submitted as their own durable outgoing status messages in the same write as
// the transition (status_submitted).
#pragma once

#include <kurer/statemachine/outcome.hpp>
#include <kurer/statemachine/states.hpp>

#include <string_view>
#include <variant>

namespace kurer::statemachine {

namespace in_event {
struct downloaded {};
struct opened {
    bool is_status = false; // a `status` SBD (MOTTATT/LEVERT about one of our messages)
    bool duplicate = false; // its messageId was already received in another broker file
    bool expired = false;   // expectedResponseDateTime already passed
};
struct package_rejected {}; // the package cannot be read; the reason travels beside the event
struct download_confirmed {};
struct status_submitted {}; // MOTTATT (from Confirmed) or LEVERT (from Taken) is durably queued
// The end system.
struct peeked {};
struct taken {};
// The engine's timers and failures.
struct lock_expired {};
struct retryable_failure {};
struct permanent_failure {};
struct deadline_passed {};
} // namespace in_event

using incoming_event =
    std::variant<in_event::downloaded, in_event::opened, in_event::package_rejected,
                 in_event::download_confirmed, in_event::status_submitted, in_event::peeked, in_event::taken,
                 in_event::lock_expired, in_event::retryable_failure, in_event::permanent_failure,
                 in_event::deadline_passed>;

std::string_view event_name(const incoming_event& e) noexcept;

struct incoming_snapshot {
    incoming_state state = incoming_state::listed;
    // The broker download is confirmed (or confirming it failed for good): only meaningful in
    // the states that end the machine early (Routed, Duplicate, Rejected, Expired).
    bool confirm_done = false;
    friend bool operator==(const incoming_snapshot&, const incoming_snapshot&) noexcept = default;
};

struct incoming_outcome {
    statemachine::verdict verdict = verdict::ignored;
    incoming_snapshot after;
    action next = action::none;
    status_list statuses;
    bool retry = false;
    std::string_view note;
};

action next_action(const incoming_snapshot& s) noexcept;

inline bool is_finished(const incoming_snapshot& s) noexcept {
    return next_action(s) == action::none;
}

// Whether the message is on the end system's queue (Queued or Locked).
inline bool is_on_queue(incoming_state s) noexcept {
    return s == incoming_state::queued || s == incoming_state::locked;
}

class incoming_machine {
public:
    explicit incoming_machine(incoming_snapshot s = {}) noexcept
        : snapshot_(s) {}

    const incoming_snapshot& snapshot() const noexcept { return snapshot_; }
    action next() const noexcept { return next_action(snapshot_); }

    incoming_outcome handle(const incoming_event& e);

private:
    incoming_snapshot snapshot_;
};

} // namespace kurer::statemachine

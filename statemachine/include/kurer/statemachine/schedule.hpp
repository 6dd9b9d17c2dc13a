// What the engine's one driver asks a message machine, for either direction:
//
//   decide(snapshot, control, event, context)   how an event changes the message: the verdict,
//                                               the snapshot and control facts after it, and
//                                               what the history records (event, statuses, note)
//   create_outgoing / create_incoming           a new record is the first transition of its
//                                               machine ("submitted", "created", "listed")
//   next_step(snapshot, control, now, ...)      what the message does next: perform an action
//                                               (with or without an admission slot), fire a
//                                               timer event (deadline, lock expiry), wait until
//                                               a time, or finish
//
// Pure like the machines: the clock and the random jitter come in as arguments, so every timing
// rule (deadline, lock expiry, pause, slots, backoff) is a table in tests/statemachine.
#pragma once

#include <kurer/statemachine/incoming.hpp>
#include <kurer/statemachine/outgoing.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace kurer::statemachine {

using time_point = std::chrono::sys_time<std::chrono::milliseconds>;

struct retry_policy {
    std::chrono::milliseconds initial{1000};
    std::chrono::milliseconds max{600000};
    double multiplier = 2.0;
    double jitter = 0.2; // each delay is scaled by a random factor in [1 - jitter, 1 + jitter]
};

// The pause before the next attempt after `failures` (>= 1) failed ones: initial *
// multiplier^(failures-1), capped at max, scaled by jitter; `unit` is a random number in [0, 1).
std::chrono::milliseconds backoff_delay(const retry_policy& policy, std::uint32_t failures,
                                        double unit) noexcept;

// The facts beside the machine's state that decide when a message acts. All but not_before are
// persisted in the record; the backoff lives in memory (after a restart the action runs at once).
struct control {
    std::optional<time_point> deadline;   // expectedResponseDateTime
    std::optional<time_point> lock_until; // incoming, Locked: when the end system's lock expires
    std::uint32_t attempt = 0;            // failed attempts of the pending action
    std::optional<time_point> not_before; // backoff after a retryable failure
    friend bool operator==(const control&, const control&) = default;
};

// What a decision needs from outside.
struct context {
    time_point now{};
    retry_policy retry{};
    double unit = 0.5; // uniform in [0, 1): the backoff's jitter
    std::chrono::milliseconds lock_timeout{std::chrono::minutes(5)};
};

template <class Snapshot>
struct transition {
    statemachine::verdict verdict = verdict::ignored;
    Snapshot before{};
    Snapshot after{};                // equal to before unless accepted
    statemachine::control control{}; // after the event
    std::string_view event;          // its name in the history
    status_list statuses;            // to record with it, in order
    std::string_view note;           // why it was ignored or rejected, or what was implied
    bool moved() const noexcept { return after.state != before.state; }
};

transition<outgoing_snapshot> decide(const outgoing_snapshot& s, const control& c, const outgoing_event& e,
                                     const context& ctx);
transition<incoming_snapshot> decide(const incoming_snapshot& s, const control& c, const incoming_event& e,
                                     const context& ctx);

// A new outgoing record: an end system's message is "submitted" in Created; a status message
// this engine sends back is "created" in Resolved (it needs no token or lookup). Both record
// OPPRETTET.
transition<outgoing_snapshot> create_outgoing(outgoing_kind kind, time_point deadline, const context& ctx);
// A broker file first seen: "listed" in Listed.
transition<incoming_snapshot> create_incoming(const context& ctx);

template <class Event>
struct step {
    enum class kind : std::uint8_t {
        perform, // run `act` (holding an admission slot when needs_slot)
        fire,    // apply `timer` now
        wait,    // sleep until `until` (none: until an outside event pokes the message)
        finish,  // nothing more will happen: the message may leave memory
    };
    step::kind what = kind::finish;
    action act = action::none;
    bool needs_slot = false;
    Event timer{};
    std::optional<time_point> until;
};

// Outgoing: the deadline ends a message that is not finished (fired as deadline_passed); a
// message waiting for receipts sleeps until its deadline; a backoff delays the action; while
// sending is paused, the actions that lead to an upload wait (until resumed); every action
// holds a slot.
step<outgoing_event> next_step(const outgoing_snapshot& s, const control& c, time_point now,
                               bool sending_paused);

// Incoming: the deadline ends a message the end system has not taken (where the machine takes
// deadline_passed); a lock expires at lock_until (fired as lock_expired); a queued or locked
// message sleeps until the first of the two; a backoff delays the action; download, open and
// confirm hold a slot, the local status submissions do not.
step<incoming_event> next_step(const incoming_snapshot& s, const control& c, time_point now);

// Whether the machine ends a message in this state when its deadline passes.
bool deadline_applies(incoming_state s) noexcept;
bool deadline_applies(const outgoing_snapshot& s) noexcept;

} // namespace kurer::statemachine

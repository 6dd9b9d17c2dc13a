// The incoming machine's transition table (Boost.MSM functor front-end). As for the outgoing
// machine, rows are the accepted transitions; anything else is classified by classify_unhandled().
#include "msm_config.hpp"

#include <kurer/statemachine/incoming.hpp>

namespace kurer::statemachine {
namespace {

using namespace detail;
using msm::front::none;
using msm::front::Row;
namespace ev = in_event;

using Listed = state_of<incoming_state::listed>;
using Downloaded = state_of<incoming_state::downloaded>;
using Stored = state_of<incoming_state::stored>;
using Confirmed = state_of<incoming_state::confirmed>;
using Queued = state_of<incoming_state::queued>;
using Locked = state_of<incoming_state::locked>;
using Taken = state_of<incoming_state::taken>;
using LevertSent = state_of<incoming_state::levert_sent>;
using Routed = state_of<incoming_state::routed>;
using Duplicate = state_of<incoming_state::duplicate>;
using Rejected = state_of<incoming_state::rejected>;
using Expired = state_of<incoming_state::expired>;

template <eformidling_status... Statuses>
struct record {
    template <class Event, class Fsm, class Source, class Target>
    void operator()(const Event&, Fsm& fsm, Source&, Target&) const {
        fsm.out.verdict = verdict::accepted;
        (fsm.out.statuses.push_back({Statuses, false}), ...);
    }
};
using accept = record<>;

// The broker has been told (or telling it failed for good; the history says which).
struct confirm_done {
    template <class Event, class Fsm, class Source, class Target>
    void operator()(const Event&, Fsm& fsm, Source&, Target&) const {
        fsm.out.verdict = verdict::accepted;
        fsm.snap.confirm_done = true;
    }
};

struct retry_same_action {
    template <class Event, class Fsm, class Source, class Target>
    void operator()(const Event&, Fsm& fsm, Source&, Target&) const {
        fsm.out.verdict = verdict::accepted;
        fsm.out.retry = true;
    }
};

struct confirm_pending {
    template <class Event, class Fsm, class Source, class Target>
    bool operator()(const Event&, Fsm& fsm, Source&, Target&) const {
        return !fsm.snap.confirm_done;
    }
};

// The decision order for an opened package: status, duplicate, expired, stored.
struct is_status {
    template <class Fsm, class Source, class Target>
    bool operator()(const ev::opened& e, Fsm&, Source&, Target&) const {
        return e.is_status;
    }
};
struct is_duplicate {
    template <class Fsm, class Source, class Target>
    bool operator()(const ev::opened& e, Fsm&, Source&, Target&) const {
        return !e.is_status && e.duplicate;
    }
};
struct is_expired {
    template <class Fsm, class Source, class Target>
    bool operator()(const ev::opened& e, Fsm&, Source&, Target&) const {
        return !e.is_status && !e.duplicate && e.expired;
    }
};
struct is_new_message {
    template <class Fsm, class Source, class Target>
    bool operator()(const ev::opened& e, Fsm&, Source&, Target&) const {
        return !e.is_status && !e.duplicate && !e.expired;
    }
};

using eformidling_status::feil;
using eformidling_status::innkommende_levert;
using eformidling_status::innkommende_mottatt;
using eformidling_status::levetid_utlopt;
using eformidling_status::opprettet;

// The machines that end early still owe the broker a download confirmation.
template <class S>
using ending_rows = mpl::vector<Row<S, ev::download_confirmed, none, confirm_done, confirm_pending>,
                                Row<S, ev::retryable_failure, none, retry_same_action, confirm_pending>,
                                Row<S, ev::permanent_failure, none, confirm_done, confirm_pending>>;

using main_rows =
    mpl::vector<Row<restoring, restore<Listed>, Listed>, Row<restoring, restore<Downloaded>, Downloaded>,
                Row<restoring, restore<Stored>, Stored>, Row<restoring, restore<Confirmed>, Confirmed>,
                Row<restoring, restore<Queued>, Queued>, Row<restoring, restore<Locked>, Locked>,
                Row<restoring, restore<Taken>, Taken>, Row<restoring, restore<LevertSent>, LevertSent>,
                Row<restoring, restore<Routed>, Routed>, Row<restoring, restore<Duplicate>, Duplicate>,
                Row<restoring, restore<Rejected>, Rejected>, Row<restoring, restore<Expired>, Expired>,
                //  Source       Event                    Target       Action                      Guard
                Row<Listed, ev::downloaded, Downloaded, accept>,
                Row<Listed, ev::retryable_failure, none, retry_same_action>,
                Row<Listed, ev::permanent_failure, Rejected, record<feil>>,

                Row<Downloaded, ev::opened, Stored, record<opprettet>, is_new_message>,
                Row<Downloaded, ev::opened, Expired, record<levetid_utlopt>, is_expired>,
                Row<Downloaded, ev::opened, Duplicate, accept, is_duplicate>,
                Row<Downloaded, ev::opened, Routed, accept, is_status>,
                Row<Downloaded, ev::package_rejected, Rejected, record<feil>>,
                Row<Downloaded, ev::retryable_failure, none, retry_same_action>,
                Row<Downloaded, ev::permanent_failure, Rejected, record<feil>>,

                // A confirmation that fails for good does not hold the message back from the end system.
                Row<Stored, ev::download_confirmed, Confirmed, confirm_done>,
                Row<Stored, ev::retryable_failure, none, retry_same_action>,
                Row<Stored, ev::permanent_failure, Confirmed, confirm_done>,
                Row<Stored, ev::deadline_passed, Expired, record<levetid_utlopt>>>;

using queue_rows =
    mpl::vector<Row<Confirmed, ev::status_submitted, Queued, record<innkommende_mottatt>>,
                Row<Confirmed, ev::retryable_failure, none, retry_same_action>,
                Row<Confirmed, ev::deadline_passed, Expired, record<levetid_utlopt>>,

                // Taken only from Locked: the end system peeks before it may say it has the message.
                Row<Queued, ev::peeked, Locked, accept>,
                Row<Queued, ev::deadline_passed, Expired, record<levetid_utlopt>>,

                Row<Locked, ev::taken, Taken, record<innkommende_levert>>,
                Row<Locked, ev::lock_expired, Queued, accept>,
                Row<Locked, ev::deadline_passed, Expired, record<levetid_utlopt>>,

                Row<Taken, ev::status_submitted, LevertSent, accept>,
                Row<Taken, ev::retryable_failure, none, retry_same_action>>;

struct incoming_def : msm::front::state_machine_def<incoming_def> {
    using no_exception_thrown = int;
    using no_message_queue = int;
    using initial_state = restoring;

    using transition_table =
        mpl::joint_view<mpl::joint_view<main_rows, queue_rows>,
                        mpl::joint_view<mpl::joint_view<ending_rows<Routed>, ending_rows<Duplicate>>,
                                        mpl::joint_view<ending_rows<Rejected>, ending_rows<Expired>>>>;

    template <class Fsm, class Event>
    void no_transition(const Event&, Fsm&, int) {}

    incoming_snapshot snap;
    incoming_outcome out;
};

using incoming_sm = msm::back::state_machine<incoming_def>;

void restore_state(incoming_sm& sm, incoming_state s) {
    switch (s) {
    case incoming_state::listed:
        sm.process_event(restore<Listed>{});
        return;
    case incoming_state::downloaded:
        sm.process_event(restore<Downloaded>{});
        return;
    case incoming_state::stored:
        sm.process_event(restore<Stored>{});
        return;
    case incoming_state::confirmed:
        sm.process_event(restore<Confirmed>{});
        return;
    case incoming_state::queued:
        sm.process_event(restore<Queued>{});
        return;
    case incoming_state::locked:
        sm.process_event(restore<Locked>{});
        return;
    case incoming_state::taken:
        sm.process_event(restore<Taken>{});
        return;
    case incoming_state::levert_sent:
        sm.process_event(restore<LevertSent>{});
        return;
    case incoming_state::routed:
        sm.process_event(restore<Routed>{});
        return;
    case incoming_state::duplicate:
        sm.process_event(restore<Duplicate>{});
        return;
    case incoming_state::rejected:
        sm.process_event(restore<Rejected>{});
        return;
    case incoming_state::expired:
        sm.process_event(restore<Expired>{});
        return;
    }
}

int progress(incoming_state s) noexcept {
    switch (s) {
    case incoming_state::listed:
        return 0;
    case incoming_state::downloaded:
        return 1;
    case incoming_state::stored:
        return 2;
    case incoming_state::confirmed:
        return 3;
    case incoming_state::queued:
    case incoming_state::locked:
        return 4;
    case incoming_state::taken:
        return 5;
    case incoming_state::levert_sent:
        return 6;
    case incoming_state::routed:
    case incoming_state::duplicate:
    case incoming_state::rejected:
    case incoming_state::expired:
        return 7;
    }
    return 7;
}

void classify_unhandled(const incoming_snapshot& s, const incoming_event& e, incoming_outcome& out) {
    out.verdict = verdict::ignored;
    const int at = progress(s.state);
    const auto stale_after = [&](int step, std::string_view stale, std::string_view early) {
        if (at > step) {
            out.note = stale;
        } else {
            out.verdict = verdict::rejected;
            out.note = early;
        }
    };
    std::visit(
        [&]<class E>(const E&) {
            if constexpr (std::is_same_v<E, ev::downloaded>) {
                stale_after(0, "stale result: already downloaded", "out of order");
            } else if constexpr (std::is_same_v<E, ev::opened> || std::is_same_v<E, ev::package_rejected>) {
                stale_after(1, "stale result: already opened", "out of order: not downloaded yet");
            } else if constexpr (std::is_same_v<E, ev::download_confirmed>) {
                stale_after(2, "duplicate: the download is already confirmed",
                            "out of order: not stored yet");
            } else if constexpr (std::is_same_v<E, ev::status_submitted>) {
                stale_after(3, "duplicate: that status is already submitted",
                            "out of order: not confirmed yet");
            } else if constexpr (std::is_same_v<E, ev::peeked>) {
                out.verdict = verdict::rejected;
                out.note = "not available on the queue";
            } else if constexpr (std::is_same_v<E, ev::taken>) {
                if (s.state == incoming_state::taken || s.state == incoming_state::levert_sent) {
                    out.note = "duplicate: already taken";
                } else if (s.state == incoming_state::queued) {
                    out.verdict = verdict::rejected;
                    out.note = "not locked: the end system must peek it first";
                } else {
                    out.verdict = verdict::rejected;
                    out.note = "not on the queue";
                }
            } else if constexpr (std::is_same_v<E, ev::lock_expired>) {
                out.note = "stale timer: not locked any more";
            } else if constexpr (std::is_same_v<E, ev::retryable_failure> ||
                                 std::is_same_v<E, ev::permanent_failure>) {
                if (is_waiting(next_action(s))) {
                    out.note = "stale failure: no action runs in this state";
                } else {
                    out.verdict = verdict::rejected;
                    out.note = "submitting a status is a local write: it cannot fail for good";
                }
            } else if constexpr (std::is_same_v<E, ev::deadline_passed>) {
                out.note = s.state == incoming_state::taken ? "the end system already took it"
                                                            : "no deadline applies in this state";
            }
        },
        e);
}

} // namespace

std::string_view event_name(const incoming_event& e) noexcept {
    static constexpr std::string_view names[] = {
        "downloaded", "opened",       "package_rejected",  "download_confirmed", "status_submitted", "peeked",
        "taken",      "lock_expired", "retryable_failure", "permanent_failure",  "deadline_passed",
    };
    static_assert(std::size(names) == std::variant_size_v<incoming_event>);
    return names[e.index()];
}

action next_action(const incoming_snapshot& s) noexcept {
    switch (s.state) {
    case incoming_state::listed:
        return action::download;
    case incoming_state::downloaded:
        return action::open_package;
    case incoming_state::stored:
        return action::confirm_download;
    case incoming_state::confirmed:
        return action::send_mottatt;
    case incoming_state::queued:
    case incoming_state::locked:
        return action::await_end_system;
    case incoming_state::taken:
        return action::send_levert;
    case incoming_state::levert_sent:
        return action::none;
    case incoming_state::routed:
    case incoming_state::duplicate:
    case incoming_state::rejected:
    case incoming_state::expired:
        return s.confirm_done ? action::none : action::confirm_download;
    }
    return action::none;
}

incoming_outcome incoming_machine::handle(const incoming_event& e) {
    incoming_outcome out;
    out.after = snapshot_;
    out.next = next_action(snapshot_);

    incoming_sm sm;
    sm.start();
    restore_state(sm, snapshot_.state);
    sm.snap = snapshot_;
    std::visit([&](const auto& event) { sm.process_event(event); }, e);

    if (sm.out.verdict != verdict::accepted) {
        classify_unhandled(snapshot_, e, out);
        return out;
    }
    out.verdict = verdict::accepted;
    out.after = sm.snap;
    out.statuses = sm.out.statuses;
    out.retry = sm.out.retry;
    out.next = next_action(out.after);
    if (snapshot_.state == incoming_state::stored && std::holds_alternative<ev::permanent_failure>(e))
        out.note = "the download could not be confirmed; the message goes to the end system all the same";
    snapshot_ = out.after;
    return out;
}

} // namespace kurer::statemachine

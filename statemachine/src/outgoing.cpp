// The outgoing machine's transition table (Boost.MSM functor front-end). Only accepted
// transitions are rows; an event no row takes is classified afterwards (ignored or rejected) by
// classify_unhandled(), which keeps the table to what actually happens.
#include "msm_config.hpp"

#include <kurer/statemachine/outgoing.hpp>

namespace kurer::statemachine {
namespace {

using namespace detail;
using eformidling_status::feil;
using eformidling_status::lest;
using eformidling_status::levert;
using eformidling_status::levetid_utlopt;
using eformidling_status::mottatt;
using eformidling_status::sendt;
using msm::front::none;
using msm::front::Row;
namespace ev = out_event;

using Created = state_of<outgoing_state::created>;
using Authorized = state_of<outgoing_state::authorized>;
using Resolved = state_of<outgoing_state::resolved>;
using Packed = state_of<outgoing_state::packed>;
using UploadInitiated = state_of<outgoing_state::upload_initiated>;
using Uploaded = state_of<outgoing_state::uploaded>;
using Delivered = state_of<outgoing_state::delivered>;
using Received = state_of<outgoing_state::received>;
using Failed = state_of<outgoing_state::failed>;
using Expired = state_of<outgoing_state::expired>;

// A status a row records; `implied` ones follow from the event rather than being received.
template <eformidling_status S, bool Implied = false>
struct st {
    static constexpr eformidling_status status = S;
    static constexpr bool implied = Implied;
};

// Row action: accept the event and record the statuses not yet recorded, in order.
template <class... Statuses>
struct record {
    template <class Event, class Fsm, class Source, class Target>
    void operator()(const Event&, Fsm& fsm, Source&, Target&) const {
        fsm.out.verdict = verdict::accepted;
        (fsm.add(Statuses::status, Statuses::implied), ...);
    }
};
using accept = record<>;

struct retry_same_action {
    template <class Event, class Fsm, class Source, class Target>
    void operator()(const Event&, Fsm& fsm, Source&, Target&) const {
        fsm.out.verdict = verdict::accepted;
        fsm.out.retry = true;
    }
};

// A retried message starts a new attempt at the conversation: its FEIL no longer holds.
struct restart {
    template <class Event, class Fsm, class Source, class Target>
    void operator()(const Event&, Fsm& fsm, Source&, Target&) const {
        fsm.out.verdict = verdict::accepted;
        fsm.snap.recorded.erase(feil);
    }
};

template <eformidling_status S>
struct not_recorded {
    template <class Event, class Fsm, class Source, class Target>
    bool operator()(const Event&, Fsm& fsm, Source&, Target&) const {
        return !fsm.snap.recorded.contains(S);
    }
};

struct never_accepted_by_broker {
    template <class Event, class Fsm, class Source, class Target>
    bool operator()(const Event&, Fsm& fsm, Source&, Target&) const {
        return !fsm.snap.recorded.contains(sendt);
    }
};

// Created..UploadInitiated: an action is running. A receipt here means the broker evidently
// has the file (a crash after the upload, before its record): move forward, SENDT implied.
template <class S>
using sending_rows = mpl::vector<
    //  Source  Event                  Target     Action                                              Guard
    Row<S, ev::status_mottatt, Delivered, record<st<sendt, true>, st<mottatt>>>,
    Row<S, ev::status_levert, Received, record<st<sendt, true>, st<mottatt, true>, st<levert>>>,
    Row<S, ev::kvittering_ok, Received, record<st<sendt, true>, st<lest>>>,
    Row<S, ev::kvittering_error, Failed, record<st<sendt, true>, st<feil>>>,
    Row<S, ev::retryable_failure, none, retry_same_action>,
    Row<S, ev::permanent_failure, Failed, record<st<feil>>>,
    Row<S, ev::deadline_passed, Expired, record<st<levetid_utlopt>>>>;

using progress_rows = mpl::vector<
    Row<restoring, restore<Created>, Created>, Row<restoring, restore<Authorized>, Authorized>,
    Row<restoring, restore<Resolved>, Resolved>, Row<restoring, restore<Packed>, Packed>,
    Row<restoring, restore<UploadInitiated>, UploadInitiated>, Row<restoring, restore<Uploaded>, Uploaded>,
    Row<restoring, restore<Delivered>, Delivered>, Row<restoring, restore<Received>, Received>,
    Row<restoring, restore<Failed>, Failed>, Row<restoring, restore<Expired>, Expired>,
    //  Source           Event                  Target           Action
    Row<Created, ev::token_obtained, Authorized, accept>,
    Row<Authorized, ev::record_resolved, Resolved, accept>, Row<Resolved, ev::packed, Packed, accept>,
    Row<Packed, ev::upload_initiated, UploadInitiated, accept>,
    Row<UploadInitiated, ev::uploaded, Uploaded, record<st<sendt>>>>;

using waiting_rows = mpl::vector<
    //  Source     Event                  Target     Action                                   Guard
    Row<Uploaded, ev::status_mottatt, Delivered, record<st<mottatt>>>,
    Row<Uploaded, ev::status_levert, Received, record<st<mottatt, true>, st<levert>>>,
    Row<Uploaded, ev::kvittering_ok, Received, record<st<lest>>>,
    Row<Uploaded, ev::kvittering_error, Failed, record<st<feil>>>,
    Row<Uploaded, ev::deadline_passed, Expired, record<st<levetid_utlopt>>>,

    Row<Delivered, ev::status_levert, Received, record<st<levert>>>,
    Row<Delivered, ev::kvittering_ok, Received, record<st<lest>>>,
    Row<Delivered, ev::kvittering_error, Failed, record<st<feil>>>,
    Row<Delivered, ev::deadline_passed, Expired, record<st<levetid_utlopt>>>,

    // Finished: late receipts are recorded once, the state stays.
    Row<Received, ev::status_mottatt, none, record<st<mottatt>>, not_recorded<mottatt>>,
    Row<Received, ev::status_levert, none, record<st<levert>>, not_recorded<levert>>,
    Row<Received, ev::kvittering_ok, none, record<st<lest>>, not_recorded<lest>>,
    Row<Received, ev::kvittering_error, none, record<st<feil>>, not_recorded<feil>>,

    Row<Failed, ev::status_mottatt, none, record<st<mottatt>>, not_recorded<mottatt>>,
    Row<Failed, ev::status_levert, none, record<st<levert>>, not_recorded<levert>>,
    Row<Failed, ev::kvittering_ok, none, record<st<lest>>, not_recorded<lest>>,
    Row<Failed, ev::kvittering_error, none, record<st<feil>>, not_recorded<feil>>,
    Row<Failed, ev::retry_requested, Created, restart, never_accepted_by_broker>,

    // Expired: proof that the end system took it moves it to Received.
    Row<Expired, ev::status_mottatt, none, record<st<mottatt>>, not_recorded<mottatt>>,
    Row<Expired, ev::status_levert, Received, record<st<mottatt, true>, st<levert>>>,
    Row<Expired, ev::kvittering_ok, Received, record<st<lest>>>,
    Row<Expired, ev::kvittering_error, none, record<st<feil>>, not_recorded<feil>>>;

struct outgoing_def : msm::front::state_machine_def<outgoing_def> {
    using no_exception_thrown = int;
    using no_message_queue = int;
    using initial_state = restoring;

    using transition_table = mpl::joint_view<
        mpl::joint_view<progress_rows, waiting_rows>,
        mpl::joint_view<mpl::joint_view<sending_rows<Created>, sending_rows<Authorized>>,
                        mpl::joint_view<mpl::joint_view<sending_rows<Resolved>, sending_rows<Packed>>,
                                        sending_rows<UploadInitiated>>>>;

    // Events no row takes are classified by the wrapper (guard rejections never reach here).
    template <class Fsm, class Event>
    void no_transition(const Event&, Fsm&, int) {}

    void add(eformidling_status s, bool implied) {
        if (snap.recorded.contains(s))
            return;
        snap.recorded.insert(s);
        out.statuses.push_back({s, implied});
    }

    outgoing_snapshot snap;
    outgoing_outcome out;
};

using outgoing_sm = msm::back::state_machine<outgoing_def>;

template <class State>
void restore_to(outgoing_sm& sm) {
    sm.process_event(restore<State>{});
}

void restore_state(outgoing_sm& sm, outgoing_state s) {
    switch (s) {
    case outgoing_state::created:
        return restore_to<Created>(sm);
    case outgoing_state::authorized:
        return restore_to<Authorized>(sm);
    case outgoing_state::resolved:
        return restore_to<Resolved>(sm);
    case outgoing_state::packed:
        return restore_to<Packed>(sm);
    case outgoing_state::upload_initiated:
        return restore_to<UploadInitiated>(sm);
    case outgoing_state::uploaded:
        return restore_to<Uploaded>(sm);
    case outgoing_state::delivered:
        return restore_to<Delivered>(sm);
    case outgoing_state::received:
        return restore_to<Received>(sm);
    case outgoing_state::failed:
        return restore_to<Failed>(sm);
    case outgoing_state::expired:
        return restore_to<Expired>(sm);
    }
}

// How far along the sending steps a state is; results of an earlier step are stale there.
int progress(outgoing_state s) noexcept {
    switch (s) {
    case outgoing_state::created:
        return 0;
    case outgoing_state::authorized:
        return 1;
    case outgoing_state::resolved:
        return 2;
    case outgoing_state::packed:
        return 3;
    case outgoing_state::upload_initiated:
        return 4;
    case outgoing_state::uploaded:
        return 5;
    case outgoing_state::delivered:
        return 6;
    case outgoing_state::received:
    case outgoing_state::failed:
    case outgoing_state::expired:
        return 7;
    }
    return 7;
}

// The progress of the state whose action produces the event; -1 for outside events.
int produced_at(const outgoing_event& e) noexcept {
    switch (e.index()) {
    case 0: // token_obtained
        return 0;
    case 1: // record_resolved
        return 1;
    case 2: // packed
        return 2;
    case 3: // upload_initiated
        return 3;
    case 4: // uploaded
        return 4;
    default:
        return -1;
    }
}

void classify_unhandled(const outgoing_snapshot& s, const outgoing_event& e, outgoing_outcome& out) {
    out.verdict = verdict::ignored;
    if (const int step = produced_at(e); step >= 0) {
        if (progress(s.state) > step) {
            out.note = "stale result: the message has already moved past that step";
        } else {
            out.verdict = verdict::rejected;
            out.note = "out of order: that step's result cannot come before the steps ahead of it";
        }
        return;
    }
    if (std::holds_alternative<out_event::status_mottatt>(e) ||
        std::holds_alternative<out_event::status_levert>(e) ||
        std::holds_alternative<out_event::kvittering_ok>(e) ||
        std::holds_alternative<out_event::kvittering_error>(e)) {
        out.note = "duplicate: that status is already recorded";
    } else if (std::holds_alternative<out_event::retryable_failure>(e) ||
               std::holds_alternative<out_event::permanent_failure>(e)) {
        out.note = "stale failure: no action runs in this state";
    } else if (std::holds_alternative<out_event::deadline_passed>(e)) {
        out.note = "the message is already finished";
    } else if (std::holds_alternative<out_event::retry_requested>(e)) {
        out.verdict = verdict::rejected;
        out.note =
            s.state == outgoing_state::failed
                ? "the broker already accepted this message (SENDT): sending it again would deliver it twice"
                : "only a Failed message can be retried";
    }
}

} // namespace

std::string_view event_name(const outgoing_event& e) noexcept {
    static constexpr std::string_view names[] = {
        "token_obtained",    "record_resolved", "packed",          "upload_initiated", "uploaded",
        "status_mottatt",    "status_levert",   "kvittering_ok",   "kvittering_error", "retryable_failure",
        "permanent_failure", "deadline_passed", "retry_requested",
    };
    static_assert(std::size(names) == std::variant_size_v<outgoing_event>);
    return names[e.index()];
}

action next_action(const outgoing_snapshot& s) noexcept {
    switch (s.state) {
    case outgoing_state::created:
        return action::authorize;
    case outgoing_state::authorized:
        return action::resolve;
    case outgoing_state::resolved:
        return action::pack;
    case outgoing_state::packed:
        return action::initiate_upload;
    case outgoing_state::upload_initiated:
        return action::upload;
    case outgoing_state::uploaded:
        return s.kind == outgoing_kind::status ? action::none : action::await_receipts;
    case outgoing_state::delivered:
        return action::await_receipts;
    case outgoing_state::received:
    case outgoing_state::failed:
    case outgoing_state::expired:
        return action::none;
    }
    return action::none;
}

outgoing_outcome outgoing_machine::handle(const outgoing_event& e) {
    outgoing_outcome out;
    out.after = snapshot_;
    out.next = next_action(snapshot_);
    if (snapshot_.kind == outgoing_kind::status && snapshot_.state == outgoing_state::uploaded) {
        out.note = "a status message is finished once uploaded";
        return out;
    }

    outgoing_sm sm;
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
    if (!out.statuses.empty() && out.statuses[0].implied && out.statuses[0].status == sendt)
        out.note = "a receipt before the upload was recorded: the broker evidently has the file";
    else if (out.statuses.size() > 1 && out.statuses[0].implied)
        out.note = "LEVERT before MOTTATT: MOTTATT implied";
    snapshot_ = out.after;
    return out;
}

} // namespace kurer::statemachine

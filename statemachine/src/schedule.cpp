#include <kurer/statemachine/schedule.hpp>

#include <algorithm>
#include <cmath>

namespace kurer::statemachine {
namespace {

template <class Snapshot, class Outcome>
transition<Snapshot> from_outcome(const Snapshot& s, const control& c, const Outcome& o,
                                  std::string_view event, const context& ctx) {
    transition<Snapshot> t;
    t.verdict = o.verdict;
    t.before = s;
    t.after = o.verdict == verdict::accepted ? o.after : s;
    t.control = c;
    t.event = event;
    t.statuses = o.statuses;
    t.note = o.note;
    if (o.verdict != verdict::accepted)
        return t;
    // A retried action counts its failures; a new state starts the count again.
    t.control.attempt = o.retry ? c.attempt + 1 : (t.moved() ? 0 : c.attempt);
    t.control.not_before.reset();
    if (o.retry)
        t.control.not_before = ctx.now + backoff_delay(ctx.retry, t.control.attempt, ctx.unit);
    return t;
}

std::optional<time_point> earliest(std::optional<time_point> a, std::optional<time_point> b) {
    if (!a)
        return b;
    if (!b)
        return a;
    return std::min(*a, *b);
}

// Actions that lead to an upload, which pausing holds back (receipts and receiving go on).
bool is_sending(action a) noexcept {
    return a == action::authorize || a == action::resolve || a == action::pack ||
           a == action::initiate_upload || a == action::upload;
}

template <class Event>
step<Event> waiting(std::optional<time_point> until) {
    step<Event> s;
    s.what = step<Event>::kind::wait;
    s.until = until;
    return s;
}

template <class Event>
step<Event> firing(Event e) {
    step<Event> s;
    s.what = step<Event>::kind::fire;
    s.timer = e;
    return s;
}

template <class Event>
step<Event> performing(action a, bool needs_slot) {
    step<Event> s;
    s.what = step<Event>::kind::perform;
    s.act = a;
    s.needs_slot = needs_slot;
    return s;
}

} // namespace

std::chrono::milliseconds backoff_delay(const retry_policy& policy, std::uint32_t failures,
                                        double unit) noexcept {
    const double base = static_cast<double>(policy.initial.count()) *
                        std::pow(policy.multiplier, static_cast<double>(failures == 0 ? 0 : failures - 1));
    const double capped = std::min(base, static_cast<double>(policy.max.count()));
    const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
    const double scaled = capped * (1.0 - jitter + 2.0 * jitter * std::clamp(unit, 0.0, 1.0));
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::max(0.0, scaled)));
}

transition<outgoing_snapshot> decide(const outgoing_snapshot& s, const control& c, const outgoing_event& e,
                                     const context& ctx) {
    outgoing_machine m(s);
    return from_outcome(s, c, m.handle(e), event_name(e), ctx);
}

transition<incoming_snapshot> decide(const incoming_snapshot& s, const control& c, const incoming_event& e,
                                     const context& ctx) {
    incoming_machine m(s);
    auto t = from_outcome(s, c, m.handle(e), event_name(e), ctx);
    if (t.verdict != verdict::accepted)
        return t;
    // The end system's lock: taken by a peek, held while Locked, gone in every other state.
    if (t.after.state != incoming_state::locked)
        t.control.lock_until.reset();
    else if (std::holds_alternative<in_event::peeked>(e))
        t.control.lock_until = ctx.now + ctx.lock_timeout;
    return t;
}

transition<outgoing_snapshot> create_outgoing(outgoing_kind kind, time_point deadline, const context&) {
    transition<outgoing_snapshot> t;
    t.verdict = verdict::accepted;
    t.after.kind = kind;
    t.after.state = kind == outgoing_kind::message ? outgoing_state::created : outgoing_state::resolved;
    t.after.recorded.insert(eformidling_status::opprettet);
    t.before = t.after;
    t.control.deadline = deadline;
    t.event = kind == outgoing_kind::message ? "submitted" : "created";
    t.statuses.push_back({eformidling_status::opprettet, false});
    return t;
}

transition<incoming_snapshot> create_incoming(const context&) {
    transition<incoming_snapshot> t;
    t.verdict = verdict::accepted;
    t.event = "listed";
    return t;
}

bool deadline_applies(const outgoing_snapshot& s) noexcept {
    return next_action(s) != action::none;
}

bool deadline_applies(incoming_state s) noexcept {
    return s == incoming_state::stored || s == incoming_state::confirmed || s == incoming_state::queued ||
           s == incoming_state::locked;
}

step<outgoing_event> next_step(const outgoing_snapshot& s, const control& c, time_point now,
                               bool sending_paused) {
    using out = step<outgoing_event>;
    const auto act = next_action(s);
    if (act == action::none)
        return out{};
    if (c.deadline && now >= *c.deadline)
        return firing<outgoing_event>(out_event::deadline_passed{});
    if (act == action::await_receipts)
        return waiting<outgoing_event>(c.deadline);
    if (c.not_before && now < *c.not_before)
        return waiting<outgoing_event>(earliest(c.not_before, c.deadline));
    if (sending_paused && is_sending(act))
        return waiting<outgoing_event>(c.deadline);
    return performing<outgoing_event>(act, true);
}

step<incoming_event> next_step(const incoming_snapshot& s, const control& c, time_point now) {
    const auto act = next_action(s);
    if (act == action::none)
        return step<incoming_event>{};
    const auto deadline = deadline_applies(s.state) ? c.deadline : std::nullopt;
    if (deadline && now >= *deadline)
        return firing<incoming_event>(in_event::deadline_passed{});
    const auto lock = s.state == incoming_state::locked ? c.lock_until : std::nullopt;
    if (lock && now >= *lock)
        return firing<incoming_event>(in_event::lock_expired{});
    if (act == action::await_end_system)
        return waiting<incoming_event>(earliest(deadline, lock));
    if (c.not_before && now < *c.not_before)
        return waiting<incoming_event>(earliest(c.not_before, deadline));
    const bool remote =
        act == action::download || act == action::open_package || act == action::confirm_download;
    return performing<incoming_event>(act, remote);
}

} // namespace kurer::statemachine

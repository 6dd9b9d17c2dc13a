// The timing rules as tables, with the clock passed in: what a message does next (perform, fire
// a timer event, wait, finish) in every state under deadlines, locks, backoffs and a pause; how
// an event changes the control facts (attempts, backoff, lock); and that every timer event the
// schedule fires is one the machine takes, so the driver can never spin on it.
#include <kurer/statemachine/schedule.hpp>

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace kurer::statemachine;
using namespace std::chrono_literals;

namespace {

const time_point t0 = time_point(std::chrono::milliseconds(1'800'000'000'000));

std::string at(std::optional<time_point> t) {
    if (!t)
        return "poked";
    return "t0" + std::string((*t - t0).count() >= 0 ? "+" : "") + std::to_string((*t - t0).count()) + "ms";
}

template <class Event>
std::string describe(const step<Event>& s) {
    switch (s.what) {
    case step<Event>::kind::perform:
        return "perform " + std::string(to_string(s.act)) + (s.needs_slot ? " slot" : "");
    case step<Event>::kind::fire:
        return "fire " + std::string(event_name(s.timer));
    case step<Event>::kind::wait:
        return "wait " + at(s.until);
    case step<Event>::kind::finish:
        return "finish";
    }
    return "?";
}

control with_deadline(std::chrono::milliseconds from_now) {
    control c;
    c.deadline = t0 + from_now;
    return c;
}

outgoing_snapshot out(outgoing_state s, outgoing_kind k = outgoing_kind::message) {
    return {s, k, {}};
}

} // namespace

BOOST_AUTO_TEST_SUITE(schedule)

BOOST_AUTO_TEST_CASE(outgoing_steps_by_state_deadline_backoff_and_pause) {
    struct row {
        outgoing_snapshot s;
        control c;
        bool paused;
        std::string expected;
    };
    auto backoff = with_deadline(1h);
    backoff.not_before = t0 + 5s;
    auto late_backoff = with_deadline(2s);
    late_backoff.not_before = t0 + 5s;
    auto backoff_over = with_deadline(1h);
    backoff_over.not_before = t0 - 1ms;
    const std::vector<row> rows = {
        {out(outgoing_state::created), with_deadline(1h), false, "perform authorize slot"},
        {out(outgoing_state::authorized), with_deadline(1h), false, "perform resolve slot"},
        {out(outgoing_state::resolved), with_deadline(1h), false, "perform pack slot"},
        {out(outgoing_state::packed), with_deadline(1h), false, "perform initiate_upload slot"},
        {out(outgoing_state::upload_initiated), with_deadline(1h), false, "perform upload slot"},
        {out(outgoing_state::uploaded), with_deadline(1h), false, "wait t0+3600000ms"},
        {out(outgoing_state::delivered), with_deadline(1h), false, "wait t0+3600000ms"},
        {out(outgoing_state::received), with_deadline(1h), false, "finish"},
        {out(outgoing_state::failed), with_deadline(1h), false, "finish"},
        {out(outgoing_state::expired), with_deadline(-1h), false, "finish"},
        // The deadline: at it, not before it, in every unfinished state.
        {out(outgoing_state::created), with_deadline(0ms), false, "fire deadline_passed"},
        {out(outgoing_state::created), with_deadline(1ms), false, "perform authorize slot"},
        {out(outgoing_state::uploaded), with_deadline(-1ms), false, "fire deadline_passed"},
        {out(outgoing_state::delivered), with_deadline(-1h), false, "fire deadline_passed"},
        {out(outgoing_state::received), with_deadline(-1h), false, "finish"},
        // A backoff delays the action, never past the deadline.
        {out(outgoing_state::packed), backoff, false, "wait t0+5000ms"},
        {out(outgoing_state::packed), late_backoff, false, "wait t0+2000ms"},
        {out(outgoing_state::packed), backoff_over, false, "perform initiate_upload slot"},
        // Pausing holds back everything that leads to an upload, nothing else.
        {out(outgoing_state::created), with_deadline(1h), true, "wait t0+3600000ms"},
        {out(outgoing_state::upload_initiated), with_deadline(1h), true, "wait t0+3600000ms"},
        {out(outgoing_state::uploaded), with_deadline(1h), true, "wait t0+3600000ms"},
        {out(outgoing_state::created), with_deadline(-1s), true, "fire deadline_passed"},
        // Status messages finish once uploaded.
        {out(outgoing_state::resolved, outgoing_kind::status), with_deadline(1h), false, "perform pack slot"},
        {out(outgoing_state::uploaded, outgoing_kind::status), with_deadline(1h), false, "finish"},
        {out(outgoing_state::uploaded, outgoing_kind::status), with_deadline(-1h), false, "finish"},
    };
    for (const auto& r : rows)
        BOOST_TEST(describe(next_step(r.s, r.c, t0, r.paused)) == r.expected,
                   to_string(r.s.state) << (r.paused ? " paused" : "") << " deadline " << at(r.c.deadline));
}

BOOST_AUTO_TEST_CASE(incoming_steps_by_state_deadline_lock_and_backoff) {
    struct row {
        incoming_snapshot s;
        control c;
        std::string expected;
    };
    control none;
    auto locked = with_deadline(1h);
    locked.lock_until = t0 + 5min;
    auto lock_over = with_deadline(1h);
    lock_over.lock_until = t0;
    auto lock_past_deadline = with_deadline(1min);
    lock_past_deadline.lock_until = t0 + 5min;
    auto both_over = with_deadline(-1s);
    both_over.lock_until = t0 - 1s;
    auto backoff = with_deadline(1h);
    backoff.not_before = t0 + 3s;
    auto backoff_listed = none;
    backoff_listed.not_before = t0 + 3s;
    const std::vector<row> rows = {
        {{incoming_state::listed}, none, "perform download slot"},
        {{incoming_state::downloaded}, none, "perform open_package slot"},
        {{incoming_state::stored}, with_deadline(1h), "perform confirm_download slot"},
        {{incoming_state::confirmed}, with_deadline(1h), "perform send_mottatt"},
        {{incoming_state::queued}, with_deadline(1h), "wait t0+3600000ms"},
        {{incoming_state::queued}, none, "wait poked"},
        {{incoming_state::locked}, locked, "wait t0+300000ms"},
        {{incoming_state::locked}, lock_past_deadline, "wait t0+60000ms"},
        {{incoming_state::taken}, with_deadline(-1h), "perform send_levert"},
        {{incoming_state::levert_sent}, with_deadline(-1h), "finish"},
        {{incoming_state::routed, false}, none, "perform confirm_download slot"},
        {{incoming_state::routed, true}, none, "finish"},
        {{incoming_state::rejected, false}, with_deadline(-1h), "perform confirm_download slot"},
        {{incoming_state::expired, false}, with_deadline(-1h), "perform confirm_download slot"},
        {{incoming_state::expired, true}, with_deadline(-1h), "finish"},
        {{incoming_state::duplicate, true}, none, "finish"},
        // The deadline ends what the end system has not taken, and nothing before it is opened.
        {{incoming_state::stored}, with_deadline(0ms), "fire deadline_passed"},
        {{incoming_state::confirmed}, with_deadline(-1ms), "fire deadline_passed"},
        {{incoming_state::queued}, with_deadline(-1h), "fire deadline_passed"},
        {{incoming_state::locked}, both_over, "fire deadline_passed"},
        {{incoming_state::downloaded}, with_deadline(-1h), "perform open_package slot"},
        {{incoming_state::taken}, with_deadline(-1ms), "perform send_levert"},
        // The lock: it expires at lock_until, and only a Locked message has one.
        {{incoming_state::locked}, lock_over, "fire lock_expired"},
        {{incoming_state::queued}, lock_over, "wait t0+3600000ms"},
        // A backoff delays the action, never past the deadline.
        {{incoming_state::stored}, backoff, "wait t0+3000ms"},
        {{incoming_state::listed}, backoff_listed, "wait t0+3000ms"},
    };
    for (const auto& r : rows)
        BOOST_TEST(describe(next_step(r.s, r.c, t0)) == r.expected,
                   to_string(r.s.state) << (r.s.confirm_done ? "+" : "") << " deadline " << at(r.c.deadline));
}

BOOST_AUTO_TEST_CASE(every_timer_event_the_schedule_fires_is_taken_by_the_machine) {
    const context ctx{t0, {}, 0.5, 5min};
    for (const auto kind : {outgoing_kind::message, outgoing_kind::status})
        for (const auto state : all_outgoing_states)
            for (const auto deadline : {-1h, 0h, 1h}) {
                const outgoing_snapshot s{state, kind, {}};
                const auto c = with_deadline(deadline);
                const auto st = next_step(s, c, t0, false);
                if (st.what == step<outgoing_event>::kind::fire)
                    BOOST_TEST((decide(s, c, st.timer, ctx).verdict == verdict::accepted), to_string(state));
                if (st.what == step<outgoing_event>::kind::perform)
                    BOOST_TEST((st.act == next_action(s)));
            }
    for (const auto state : all_incoming_states)
        for (const bool confirmed : {false, true})
            for (const auto deadline : {-1h, 0h, 1h})
                for (const auto lock : {-1min, 1min}) {
                    const incoming_snapshot s{state, confirmed};
                    auto c = with_deadline(deadline);
                    c.lock_until = t0 + lock;
                    const auto st = next_step(s, c, t0);
                    if (st.what == step<incoming_event>::kind::fire)
                        BOOST_TEST((decide(s, c, st.timer, ctx).verdict == verdict::accepted),
                                   to_string(state) << " " << event_name(st.timer));
                    if (st.what == step<incoming_event>::kind::perform)
                        BOOST_TEST((st.act == next_action(s)));
                }
}

BOOST_AUTO_TEST_CASE(failures_count_attempts_and_back_off_and_progress_resets_them) {
    context ctx{t0, {1000ms, 10000ms, 2.0, 0.2}, 0.5, 5min};
    const auto packed = out(outgoing_state::packed);
    const auto first = decide(packed, with_deadline(1h), out_event::retryable_failure{}, ctx);
    BOOST_TEST((first.verdict == verdict::accepted));
    BOOST_TEST(!first.moved());
    BOOST_TEST(first.control.attempt == 1u);
    BOOST_TEST(at(first.control.not_before) == "t0+1000ms");
    const auto second = decide(packed, first.control, out_event::retryable_failure{}, ctx);
    BOOST_TEST(second.control.attempt == 2u);
    BOOST_TEST(at(second.control.not_before) == "t0+2000ms");
    ctx.unit = 0.0; // the low end of the jitter
    const auto third = decide(packed, second.control, out_event::retryable_failure{}, ctx);
    BOOST_TEST(at(third.control.not_before) == "t0+3200ms");
    // The action succeeds: a new state, a new count, no backoff.
    const auto done = decide(packed, third.control, out_event::upload_initiated{}, ctx);
    BOOST_TEST(done.moved());
    BOOST_TEST(done.control.attempt == 0u);
    BOOST_TEST(!done.control.not_before.has_value());
    BOOST_TEST((done.control.deadline == third.control.deadline), "the deadline is the record's");
    // An ignored event changes nothing.
    const auto stale = decide(done.after, done.control, out_event::packed{}, ctx);
    BOOST_TEST((stale.verdict == verdict::ignored));
    BOOST_TEST((stale.control == done.control));
    BOOST_TEST((stale.after == done.after));

    BOOST_TEST(backoff_delay({1000ms, 60000ms, 2.0, 0.2}, 30, 0.5).count() == 60000, "capped");
    BOOST_TEST(backoff_delay({1000ms, 60000ms, 2.0, 0.2}, 1, 0.999999).count() >= 1199);
}

BOOST_AUTO_TEST_CASE(a_peek_takes_the_lock_for_lock_timeout_and_every_way_out_of_locked_drops_it) {
    const context ctx{t0, {}, 0.5, 2min};
    const auto c = with_deadline(1h);
    const auto peeked = decide({incoming_state::queued}, c, in_event::peeked{}, ctx);
    BOOST_TEST((peeked.after.state == incoming_state::locked));
    BOOST_TEST(at(peeked.control.lock_until) == "t0+120000ms");
    for (const incoming_event e :
         {incoming_event{in_event::lock_expired{}}, incoming_event{in_event::taken{}},
          incoming_event{in_event::deadline_passed{}}}) {
        const auto t = decide(peeked.after, peeked.control, e, ctx);
        BOOST_TEST((t.verdict == verdict::accepted), event_name(e));
        BOOST_TEST(!t.control.lock_until.has_value(), event_name(e));
    }
    // A second peek of a locked message is not the machine's to take: the lock stays as it was.
    const auto again = decide(peeked.after, peeked.control, in_event::peeked{}, ctx);
    BOOST_TEST((again.verdict != verdict::accepted));
    BOOST_TEST((again.control.lock_until == peeked.control.lock_until));
}

BOOST_AUTO_TEST_CASE(records_begin_as_their_machines_first_transition) {
    const context ctx{t0, {}, 0.5, 5min};
    const auto message = create_outgoing(outgoing_kind::message, t0 + 24h, ctx);
    BOOST_TEST((message.verdict == verdict::accepted));
    BOOST_TEST(message.event == "submitted");
    BOOST_TEST((message.after.state == outgoing_state::created));
    BOOST_TEST((message.before == message.after));
    BOOST_TEST(message.after.recorded.contains(eformidling_status::opprettet));
    BOOST_TEST_REQUIRE(message.statuses.size() == 1u);
    BOOST_TEST((message.statuses[0].status == eformidling_status::opprettet));
    BOOST_TEST(at(message.control.deadline) == "t0+86400000ms");
    BOOST_TEST(describe(next_step(message.after, message.control, t0, false)) == "perform authorize slot");

    const auto status = create_outgoing(outgoing_kind::status, t0 + 24h, ctx);
    BOOST_TEST(status.event == "created");
    BOOST_TEST((status.after.state == outgoing_state::resolved));
    BOOST_TEST(describe(next_step(status.after, status.control, t0, false)) == "perform pack slot");

    const auto listed = create_incoming(ctx);
    BOOST_TEST(listed.event == "listed");
    BOOST_TEST((listed.after.state == incoming_state::listed));
    BOOST_TEST(listed.statuses.empty());
    BOOST_TEST(describe(next_step(listed.after, listed.control, t0)) == "perform download slot");
}

BOOST_AUTO_TEST_SUITE_END()

// The incoming machine as a table: every event in every state (the states that end early twice:
// with the broker confirmation still owed and with it done).
#include <kurer/statemachine/incoming.hpp>

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace kurer::statemachine;
namespace ev = in_event;

namespace {

std::string describe(const incoming_outcome& o) {
    if (o.verdict != verdict::accepted)
        return std::string(to_string(o.verdict));
    std::string out = "accepted " + std::string(to_string(o.after.state));
    if (o.after.confirm_done)
        out += "+";
    if (o.retry)
        out += " retry";
    for (std::size_t i = 0; i < o.statuses.size(); ++i) {
        out += i == 0 ? " " : ",";
        out += to_string(o.statuses[i].status);
    }
    return out;
}

ev::opened opened(bool is_status, bool duplicate, bool expired) {
    return {is_status, duplicate, expired};
}

const std::vector<std::pair<std::string, incoming_event>> every_event = {
    {"downloaded", ev::downloaded{}},
    {"opened message", opened(false, false, false)},
    {"opened status", opened(true, false, false)},
    {"opened expired status", opened(true, false, true)},
    {"opened duplicate", opened(false, true, false)},
    {"opened expired", opened(false, false, true)},
    {"opened expired duplicate", opened(false, true, true)},
    {"package_rejected", ev::package_rejected{}},
    {"download_confirmed", ev::download_confirmed{}},
    {"status_submitted", ev::status_submitted{}},
    {"peeked", ev::peeked{}},
    {"taken", ev::taken{}},
    {"lock_expired", ev::lock_expired{}},
    {"retryable_failure", ev::retryable_failure{}},
    {"permanent_failure", ev::permanent_failure{}},
    {"deadline_passed", ev::deadline_passed{}},
};

struct table_row {
    incoming_snapshot state; // confirm_done shown as "+" after the state in the outcomes
    std::vector<std::string> outcomes;
};

constexpr auto ign = "ignored";
constexpr auto rej = "rejected";

// An early-ending state still owing the broker a confirmation, and the same state after it.
table_row owes_confirmation(incoming_state s) {
    const std::string name(to_string(s));
    return {{s, false},
            {ign, ign, ign, ign, ign, ign, ign, ign, "accepted " + name + "+", ign, rej, rej, ign,
             "accepted " + name + " retry", "accepted " + name + "+", ign}};
}
table_row confirmed_already(incoming_state s) {
    return {{s, true}, {ign, ign, ign, ign, ign, ign, ign, ign, ign, ign, rej, rej, ign, ign, ign, ign}};
}

// clang-format off
const std::vector<table_row> table = {
    {{incoming_state::listed}, {
        "accepted Downloaded", rej, rej, rej, rej, rej, rej, rej, rej, rej, rej, rej, ign,
        "accepted Listed retry", "accepted Rejected FEIL", ign}},
    {{incoming_state::downloaded}, {
        ign, "accepted Stored OPPRETTET", "accepted Routed", "accepted Routed", "accepted Duplicate",
        "accepted Expired LEVETID_UTLOPT", "accepted Duplicate", "accepted Rejected FEIL",
        rej, rej, rej, rej, ign, "accepted Downloaded retry", "accepted Rejected FEIL", ign}},
    {{incoming_state::stored}, {
        ign, ign, ign, ign, ign, ign, ign, ign, "accepted Confirmed+", rej, rej, rej, ign,
        "accepted Stored retry", "accepted Confirmed+", "accepted Expired LEVETID_UTLOPT"}},
    {{incoming_state::confirmed, true}, {
        ign, ign, ign, ign, ign, ign, ign, ign, ign, "accepted Queued+ INNKOMMENDE_MOTTATT", rej, rej, ign,
        "accepted Confirmed+ retry", rej, "accepted Expired+ LEVETID_UTLOPT"}},
    {{incoming_state::queued, true}, {
        ign, ign, ign, ign, ign, ign, ign, ign, ign, ign, "accepted Locked+",
        rej, ign, ign, ign, "accepted Expired+ LEVETID_UTLOPT"}},
    {{incoming_state::locked, true}, {
        ign, ign, ign, ign, ign, ign, ign, ign, ign, ign, rej, "accepted Taken+ INNKOMMENDE_LEVERT",
        "accepted Queued+", ign, ign, "accepted Expired+ LEVETID_UTLOPT"}},
    {{incoming_state::taken, true}, {
        ign, ign, ign, ign, ign, ign, ign, ign, ign, "accepted LevertSent+", rej, ign, ign,
        "accepted Taken+ retry", rej, ign}},
    {{incoming_state::levert_sent, true}, {
        ign, ign, ign, ign, ign, ign, ign, ign, ign, ign, rej, ign, ign, ign, ign, ign}},
    owes_confirmation(incoming_state::routed),    confirmed_already(incoming_state::routed),
    owes_confirmation(incoming_state::duplicate), confirmed_already(incoming_state::duplicate),
    owes_confirmation(incoming_state::rejected),  confirmed_already(incoming_state::rejected),
    owes_confirmation(incoming_state::expired),   confirmed_already(incoming_state::expired),
};
// clang-format on

} // namespace

BOOST_AUTO_TEST_SUITE(incoming)

BOOST_AUTO_TEST_CASE(the_table_covers_every_state_and_event) {
    for (const auto s : all_incoming_states) {
        const auto n =
            std::count_if(table.begin(), table.end(), [&](const auto& r) { return r.state.state == s; });
        BOOST_TEST(n >= 1, to_string(s));
    }
    for (const auto& row : table)
        BOOST_TEST(row.outcomes.size() == every_event.size(), to_string(row.state.state));
    std::vector<std::size_t> seen;
    for (const auto& [name, e] : every_event)
        seen.push_back(e.index());
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    BOOST_TEST(seen.size() == std::variant_size_v<incoming_event>);
}

BOOST_AUTO_TEST_CASE(every_event_in_every_state) {
    for (const auto& row : table) {
        for (std::size_t i = 0; i < every_event.size(); ++i) {
            incoming_machine m(row.state);
            const auto outcome = m.handle(every_event[i].second);
            BOOST_TEST(describe(outcome) == row.outcomes[i], to_string(row.state.state)
                                                                 << (row.state.confirm_done ? "+" : "")
                                                                 << " + " << every_event[i].first);
            if (outcome.verdict == verdict::accepted) {
                BOOST_TEST((m.snapshot() == outcome.after));
                BOOST_TEST((outcome.next == next_action(outcome.after)));
            } else {
                BOOST_TEST((m.snapshot() == row.state));
                BOOST_TEST(!outcome.note.empty());
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(each_state_names_its_next_action) {
    const std::pair<incoming_snapshot, action> expected[] = {
        {{incoming_state::listed}, action::download},
        {{incoming_state::downloaded}, action::open_package},
        {{incoming_state::stored}, action::confirm_download},
        {{incoming_state::confirmed, true}, action::send_mottatt},
        {{incoming_state::queued, true}, action::await_end_system},
        {{incoming_state::locked, true}, action::await_end_system},
        {{incoming_state::taken, true}, action::send_levert},
        {{incoming_state::levert_sent, true}, action::none},
        {{incoming_state::duplicate, false}, action::confirm_download},
        {{incoming_state::duplicate, true}, action::none},
        {{incoming_state::expired, false}, action::confirm_download},
        {{incoming_state::expired, true}, action::none},
    };
    for (const auto& [snapshot, act] : expected)
        BOOST_TEST((next_action(snapshot) == act), to_string(snapshot.state));
}

BOOST_AUTO_TEST_CASE(the_usual_path_from_listing_to_levert) {
    incoming_machine m;
    const incoming_event path[] = {ev::downloaded{},
                                   opened(false, false, false),
                                   ev::download_confirmed{},
                                   ev::status_submitted{},
                                   ev::peeked{},
                                   ev::taken{},
                                   ev::status_submitted{}};
    std::vector<std::string> statuses;
    for (const auto& e : path) {
        const auto o = m.handle(e);
        BOOST_TEST_REQUIRE((o.verdict == verdict::accepted), event_name(e));
        for (const auto& s : o.statuses)
            statuses.emplace_back(to_string(s.status));
    }
    BOOST_TEST((m.snapshot().state == incoming_state::levert_sent));
    BOOST_TEST(is_finished(m.snapshot()));
    BOOST_TEST(
        (statuses == std::vector<std::string>{"OPPRETTET", "INNKOMMENDE_MOTTATT", "INNKOMMENDE_LEVERT"}));
}

BOOST_AUTO_TEST_CASE(an_expired_lock_puts_the_message_back_on_the_queue) {
    incoming_machine m({incoming_state::queued, true});
    BOOST_TEST((m.handle(ev::peeked{}).after.state == incoming_state::locked));
    BOOST_TEST((m.handle(ev::peeked{}).verdict == verdict::rejected),
               "a locked message cannot be peeked again");
    BOOST_TEST((m.handle(ev::lock_expired{}).after.state == incoming_state::queued));
    BOOST_TEST((m.handle(ev::lock_expired{}).verdict == verdict::ignored), "a second timer is stale");
    BOOST_TEST((m.handle(ev::peeked{}).after.state == incoming_state::locked));
}

BOOST_AUTO_TEST_CASE(only_a_locked_message_can_be_taken) {
    incoming_machine m({incoming_state::queued, true});
    const auto early = m.handle(ev::taken{});
    BOOST_TEST((early.verdict == verdict::rejected), "a DELETE without a peek is refused, as the reference");
    BOOST_TEST(early.note == "not locked: the end system must peek it first");
    BOOST_TEST(early.statuses.empty(), "no INNKOMMENDE_LEVERT for what was never downloaded");
    BOOST_TEST((m.snapshot().state == incoming_state::queued));
    BOOST_TEST((m.handle(ev::peeked{}).after.state == incoming_state::locked));
    BOOST_TEST(describe(m.handle(ev::taken{})) == "accepted Taken+ INNKOMMENDE_LEVERT");
}

BOOST_AUTO_TEST_CASE(a_message_expired_before_confirmation_still_confirms_and_sends_no_mottatt) {
    incoming_machine m({incoming_state::stored});
    const auto o = m.handle(ev::deadline_passed{});
    BOOST_TEST(describe(o) == "accepted Expired LEVETID_UTLOPT");
    BOOST_TEST((o.next == action::confirm_download));
    BOOST_TEST((m.handle(ev::download_confirmed{}).next == action::none));
}

BOOST_AUTO_TEST_CASE(a_duplicate_wins_over_expiry_so_a_repeat_never_touches_the_original) {
    incoming_machine m({incoming_state::downloaded});
    BOOST_TEST((m.handle(opened(false, true, true)).after.state == incoming_state::duplicate));
}

BOOST_AUTO_TEST_SUITE_END()

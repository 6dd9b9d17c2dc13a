// The outgoing machine as a table: every event in every state, with the outcome spelled out.
#include <kurer/statemachine/outgoing.hpp>

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace kurer::statemachine;
namespace ev = out_event;

namespace {

using S = eformidling_status;

// The statuses a message has recorded when it sits in a state after the usual path.
status_set usual_recorded(outgoing_state s) {
    status_set r;
    r.insert(S::opprettet);
    switch (s) {
    case outgoing_state::received:
        r.insert(S::levert);
        [[fallthrough]];
    case outgoing_state::delivered:
        r.insert(S::mottatt);
        [[fallthrough]];
    case outgoing_state::uploaded:
        r.insert(S::sendt);
        break;
    case outgoing_state::failed:
        r.insert(S::feil);
        break;
    case outgoing_state::expired:
        r.insert(S::sendt);
        r.insert(S::levetid_utlopt);
        break;
    default:
        break;
    }
    return r;
}

outgoing_snapshot at(outgoing_state s, outgoing_kind kind = outgoing_kind::message) {
    return {s, kind, status_set{}};
}

// "accepted Delivered SENDT*,MOTTATT" (* = implied), "accepted Created retry", "ignored", "rejected".
std::string describe(const outgoing_outcome& o) {
    if (o.verdict != verdict::accepted)
        return std::string(to_string(o.verdict));
    std::string out = "accepted " + std::string(to_string(o.after.state));
    if (o.retry)
        out += " retry";
    for (std::size_t i = 0; i < o.statuses.size(); ++i) {
        out += i == 0 ? " " : ",";
        out += to_string(o.statuses[i].status);
        if (o.statuses[i].implied)
            out += '*';
    }
    return out;
}

const std::vector<outgoing_event> every_event = {
    ev::token_obtained{},    ev::record_resolved{},   ev::packed{},
    ev::upload_initiated{},  ev::uploaded{},          ev::status_mottatt{},
    ev::status_levert{},     ev::kvittering_ok{},     ev::kvittering_error{},
    ev::retryable_failure{}, ev::permanent_failure{}, ev::deadline_passed{},
    ev::retry_requested{},
};

struct table_row {
    outgoing_state state;
    std::vector<std::string> outcomes; // in the order of every_event
};

// clang-format off
const std::vector<table_row> table = {
    {outgoing_state::created, {
        "accepted Authorized", "rejected", "rejected", "rejected", "rejected",
        "accepted Delivered SENDT*,MOTTATT", "accepted Received SENDT*,MOTTATT*,LEVERT",
        "accepted Received SENDT*,LEST", "accepted Failed SENDT*,FEIL",
        "accepted Created retry", "accepted Failed FEIL", "accepted Expired LEVETID_UTLOPT", "rejected"}},
    {outgoing_state::authorized, {
        "ignored", "accepted Resolved", "rejected", "rejected", "rejected",
        "accepted Delivered SENDT*,MOTTATT", "accepted Received SENDT*,MOTTATT*,LEVERT",
        "accepted Received SENDT*,LEST", "accepted Failed SENDT*,FEIL",
        "accepted Authorized retry", "accepted Failed FEIL", "accepted Expired LEVETID_UTLOPT", "rejected"}},
    {outgoing_state::resolved, {
        "ignored", "ignored", "accepted Packed", "rejected", "rejected",
        "accepted Delivered SENDT*,MOTTATT", "accepted Received SENDT*,MOTTATT*,LEVERT",
        "accepted Received SENDT*,LEST", "accepted Failed SENDT*,FEIL",
        "accepted Resolved retry", "accepted Failed FEIL", "accepted Expired LEVETID_UTLOPT", "rejected"}},
    {outgoing_state::packed, {
        "ignored", "ignored", "ignored", "accepted UploadInitiated", "rejected",
        "accepted Delivered SENDT*,MOTTATT", "accepted Received SENDT*,MOTTATT*,LEVERT",
        "accepted Received SENDT*,LEST", "accepted Failed SENDT*,FEIL",
        "accepted Packed retry", "accepted Failed FEIL", "accepted Expired LEVETID_UTLOPT", "rejected"}},
    {outgoing_state::upload_initiated, {
        "ignored", "ignored", "ignored", "ignored", "accepted Uploaded SENDT",
        "accepted Delivered SENDT*,MOTTATT", "accepted Received SENDT*,MOTTATT*,LEVERT",
        "accepted Received SENDT*,LEST", "accepted Failed SENDT*,FEIL",
        "accepted UploadInitiated retry", "accepted Failed FEIL", "accepted Expired LEVETID_UTLOPT", "rejected"}},
    {outgoing_state::uploaded, {
        "ignored", "ignored", "ignored", "ignored", "ignored",
        "accepted Delivered MOTTATT", "accepted Received MOTTATT*,LEVERT",
        "accepted Received LEST", "accepted Failed FEIL",
        "ignored", "ignored", "accepted Expired LEVETID_UTLOPT", "rejected"}},
    {outgoing_state::delivered, {
        "ignored", "ignored", "ignored", "ignored", "ignored",
        "ignored", "accepted Received LEVERT", "accepted Received LEST", "accepted Failed FEIL",
        "ignored", "ignored", "accepted Expired LEVETID_UTLOPT", "rejected"}},
    {outgoing_state::received, {
        "ignored", "ignored", "ignored", "ignored", "ignored",
        "ignored", "ignored", "accepted Received LEST", "accepted Received FEIL",
        "ignored", "ignored", "ignored", "rejected"}},
    {outgoing_state::failed, {
        "ignored", "ignored", "ignored", "ignored", "ignored",
        "accepted Failed MOTTATT", "accepted Failed LEVERT", "accepted Failed LEST", "ignored",
        "ignored", "ignored", "ignored", "accepted Created"}},
    {outgoing_state::expired, {
        "ignored", "ignored", "ignored", "ignored", "ignored",
        "accepted Expired MOTTATT", "accepted Received MOTTATT*,LEVERT", "accepted Received LEST",
        "accepted Expired FEIL",
        "ignored", "ignored", "ignored", "rejected"}},
};
// clang-format on

} // namespace

BOOST_AUTO_TEST_SUITE(outgoing)

BOOST_AUTO_TEST_CASE(the_table_covers_every_state) {
    BOOST_TEST(table.size() == std::size(all_outgoing_states));
    for (std::size_t i = 0; i < table.size(); ++i) {
        BOOST_TEST((table[i].state == all_outgoing_states[i]));
        BOOST_TEST(table[i].outcomes.size() == every_event.size());
    }
}

BOOST_AUTO_TEST_CASE(every_event_in_every_state) {
    for (const auto& row : table) {
        for (std::size_t i = 0; i < every_event.size(); ++i) {
            outgoing_machine m({row.state, outgoing_kind::message, usual_recorded(row.state)});
            const auto before = m.snapshot();
            const auto outcome = m.handle(every_event[i]);
            BOOST_TEST(describe(outcome) == row.outcomes[i], to_string(row.state)
                                                                 << " + " << event_name(every_event[i]));
            if (outcome.verdict == verdict::accepted) {
                BOOST_TEST((m.snapshot() == outcome.after));
                BOOST_TEST((outcome.next == next_action(outcome.after)));
                for (const auto& s : outcome.statuses)
                    BOOST_TEST(outcome.after.recorded.contains(s.status));
            } else {
                BOOST_TEST((m.snapshot() == before), "a machine that did not accept stays put");
                BOOST_TEST(!outcome.note.empty(), "an ignored or rejected event says why");
                BOOST_TEST(outcome.statuses.empty());
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(each_state_names_its_next_action) {
    const std::pair<outgoing_state, action> expected[] = {
        {outgoing_state::created, action::authorize},
        {outgoing_state::authorized, action::resolve},
        {outgoing_state::resolved, action::pack},
        {outgoing_state::packed, action::initiate_upload},
        {outgoing_state::upload_initiated, action::upload},
        {outgoing_state::uploaded, action::await_receipts},
        {outgoing_state::delivered, action::await_receipts},
        {outgoing_state::received, action::none},
        {outgoing_state::failed, action::none},
        {outgoing_state::expired, action::none},
    };
    for (const auto& [state, act] : expected) {
        BOOST_TEST((outgoing_machine(at(state)).next() == act), to_string(state));
        BOOST_TEST(is_finished(at(state)) == is_terminal(state), to_string(state));
    }
}

BOOST_AUTO_TEST_CASE(the_usual_path_records_each_status_once) {
    outgoing_machine m;
    const outgoing_event path[] = {ev::token_obtained{},   ev::record_resolved{}, ev::packed{},
                                   ev::upload_initiated{}, ev::uploaded{},        ev::status_mottatt{},
                                   ev::status_levert{}};
    std::vector<std::string> statuses;
    for (const auto& e : path) {
        const auto o = m.handle(e);
        BOOST_TEST_REQUIRE((o.verdict == verdict::accepted), event_name(e));
        for (const auto& s : o.statuses)
            statuses.emplace_back(to_string(s.status));
    }
    BOOST_TEST((m.snapshot().state == outgoing_state::received));
    BOOST_TEST((statuses == std::vector<std::string>{"SENDT", "MOTTATT", "LEVERT"}));
    // LEST after Received ends the conversation as the reference does; a second one is a duplicate.
    BOOST_TEST((m.handle(ev::kvittering_ok{}).verdict == verdict::accepted));
    BOOST_TEST((m.handle(ev::kvittering_ok{}).verdict == verdict::ignored));
    BOOST_TEST((m.snapshot().state == outgoing_state::received));
}

BOOST_AUTO_TEST_CASE(levert_before_mottatt_implies_mottatt_and_the_late_mottatt_is_a_duplicate) {
    outgoing_machine m(
        {outgoing_state::uploaded, outgoing_kind::message, usual_recorded(outgoing_state::uploaded)});
    const auto o = m.handle(ev::status_levert{});
    BOOST_TEST(describe(o) == "accepted Received MOTTATT*,LEVERT");
    BOOST_TEST(o.note.find("MOTTATT implied") != std::string_view::npos);
    const auto late = m.handle(ev::status_mottatt{});
    BOOST_TEST((late.verdict == verdict::ignored));
    BOOST_TEST(late.note.find("duplicate") != std::string_view::npos);
}

BOOST_AUTO_TEST_CASE(a_receipt_before_the_upload_record_moves_forward_without_another_upload) {
    // A crash after the broker accepted the file but before Uploaded was recorded.
    outgoing_machine m(
        {outgoing_state::upload_initiated, outgoing_kind::message, usual_recorded(outgoing_state::created)});
    const auto o = m.handle(ev::status_mottatt{});
    BOOST_TEST(describe(o) == "accepted Delivered SENDT*,MOTTATT");
    BOOST_TEST((o.next == action::await_receipts));
    // The upload that was still running reports back: a stale result, nothing to persist.
    BOOST_TEST((m.handle(ev::uploaded{}).verdict == verdict::ignored));
    BOOST_TEST((m.handle(ev::retryable_failure{}).verdict == verdict::ignored));
    BOOST_TEST((m.snapshot().state == outgoing_state::delivered));
}

BOOST_AUTO_TEST_CASE(a_failed_message_is_retried_only_when_the_broker_never_had_it) {
    outgoing_machine never_sent(at(outgoing_state::packed));
    BOOST_TEST((never_sent.handle(ev::permanent_failure{}).after.state == outgoing_state::failed));
    const auto retried = never_sent.handle(ev::retry_requested{});
    BOOST_TEST(describe(retried) == "accepted Created");
    BOOST_TEST(!retried.after.recorded.contains(S::feil), "the new attempt may record FEIL again");
    BOOST_TEST((retried.next == action::authorize));

    outgoing_machine archived_with_error(
        {outgoing_state::delivered, outgoing_kind::message, usual_recorded(outgoing_state::delivered)});
    BOOST_TEST((archived_with_error.handle(ev::kvittering_error{}).after.state == outgoing_state::failed));
    const auto refused = archived_with_error.handle(ev::retry_requested{});
    BOOST_TEST((refused.verdict == verdict::rejected));
    BOOST_TEST(refused.note.find("twice") != std::string_view::npos);
}

BOOST_AUTO_TEST_CASE(a_late_levert_after_expiry_is_recorded_and_the_message_counts_as_received) {
    outgoing_machine m(
        {outgoing_state::delivered, outgoing_kind::message, usual_recorded(outgoing_state::delivered)});
    BOOST_TEST(describe(m.handle(ev::deadline_passed{})) == "accepted Expired LEVETID_UTLOPT");
    BOOST_TEST(describe(m.handle(ev::status_levert{})) == "accepted Received LEVERT");
    BOOST_TEST(m.snapshot().recorded.contains(S::levetid_utlopt), "the expiry stays in the conversation");
    BOOST_TEST((m.handle(ev::deadline_passed{}).verdict == verdict::ignored));
}

BOOST_AUTO_TEST_CASE(a_status_message_is_finished_once_uploaded) {
    outgoing_machine m(at(outgoing_state::upload_initiated, outgoing_kind::status));
    const auto o = m.handle(ev::uploaded{});
    BOOST_TEST(describe(o) == "accepted Uploaded SENDT");
    BOOST_TEST((o.next == action::none));
    BOOST_TEST(is_finished(m.snapshot()));
    for (const auto& e : every_event) {
        const auto after = m.handle(e);
        BOOST_TEST((after.verdict == verdict::ignored), event_name(e));
    }
    // Before the upload it expires like any message (its own 24 h deadline).
    outgoing_machine waiting(at(outgoing_state::packed, outgoing_kind::status));
    BOOST_TEST(describe(waiting.handle(ev::deadline_passed{})) == "accepted Expired LEVETID_UTLOPT");
}

BOOST_AUTO_TEST_CASE(event_names_are_distinct) {
    std::vector<std::string_view> names;
    for (const auto& e : every_event)
        names.push_back(event_name(e));
    std::sort(names.begin(), names.end());
    BOOST_TEST((std::adjacent_find(names.begin(), names.end()) == names.end()));
    BOOST_TEST(names.size() == std::variant_size_v<outgoing_event>);
}

BOOST_AUTO_TEST_SUITE_END()

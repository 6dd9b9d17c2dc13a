#include <kurer/statemachine/outcome.hpp>
#include <kurer/statemachine/states.hpp>

#include <boost/test/unit_test.hpp>

using namespace kurer::statemachine;

BOOST_AUTO_TEST_SUITE(states)

BOOST_AUTO_TEST_CASE(each_outgoing_state_reports_its_eformidling_status) {
    const std::pair<outgoing_state, std::string_view> expected[] = {
        {outgoing_state::created, "OPPRETTET"},
        {outgoing_state::authorized, "OPPRETTET"},
        {outgoing_state::resolved, "OPPRETTET"},
        {outgoing_state::packed, "OPPRETTET"},
        {outgoing_state::upload_initiated, "OPPRETTET"},
        {outgoing_state::uploaded, "SENDT"},
        {outgoing_state::delivered, "MOTTATT"},
        {outgoing_state::received, "LEVERT"},
        {outgoing_state::failed, "FEIL"},
        {outgoing_state::expired, "LEVETID_UTLOPT"},
    };
    for (const auto& [state, status] : expected)
        BOOST_TEST(to_string(reported_status(state)) == status, to_string(state));
}

BOOST_AUTO_TEST_CASE(state_names_round_trip_and_unknown_names_are_refused) {
    for (const auto s : all_outgoing_states)
        BOOST_TEST((outgoing_state_from_string(to_string(s)) == s));
    for (const auto s : all_incoming_states)
        BOOST_TEST((incoming_state_from_string(to_string(s)) == s));
    for (int i = 0; i <= static_cast<int>(action::await_end_system); ++i)
        BOOST_TEST((action_from_string(to_string(static_cast<action>(i))) == static_cast<action>(i)));
    BOOST_TEST(!outgoing_state_from_string("created").has_value()); // names are case-sensitive
    BOOST_TEST(!outgoing_state_from_string("").has_value());
    BOOST_TEST((eformidling_status_from_string("LEVETID_UTLOPT") == eformidling_status::levetid_utlopt));
}

BOOST_AUTO_TEST_CASE(only_received_failed_and_expired_are_terminal) {
    BOOST_TEST(is_terminal(outgoing_state::received));
    BOOST_TEST(is_terminal(outgoing_state::failed));
    BOOST_TEST(is_terminal(outgoing_state::expired));
    BOOST_TEST(!is_terminal(outgoing_state::delivered));
    BOOST_TEST(!is_terminal(outgoing_state::uploaded));
    BOOST_TEST(!is_terminal(outgoing_state::created));
    BOOST_TEST(!is_terminal(outgoing_state::upload_initiated));
}

BOOST_AUTO_TEST_CASE(persisted_values_never_change) {
    // storage/ writes these numbers; a renumbering would misread every stored message.
    BOOST_TEST(static_cast<int>(outgoing_state::created) == 0);
    BOOST_TEST(static_cast<int>(outgoing_state::uploaded) == 4);
    BOOST_TEST(static_cast<int>(outgoing_state::expired) == 8);
    BOOST_TEST(static_cast<int>(outgoing_state::upload_initiated) == 9);
    BOOST_TEST(static_cast<int>(incoming_state::expired) == 11);
    BOOST_TEST(static_cast<int>(action::await_end_system) == 12);
}

BOOST_AUTO_TEST_SUITE_END()

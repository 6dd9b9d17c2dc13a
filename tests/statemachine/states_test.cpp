#include <kurer/statemachine/states.hpp>

#include <boost/test/unit_test.hpp>

using namespace kurer::statemachine;

BOOST_AUTO_TEST_SUITE(states)

BOOST_AUTO_TEST_CASE(each_outgoing_state_reports_its_eformidling_status) {
    const std::pair<outgoing_state, std::string_view> expected[] = {
        {outgoing_state::created, "OPPRETTET"},  {outgoing_state::authorized, "OPPRETTET"},
        {outgoing_state::resolved, "OPPRETTET"}, {outgoing_state::packed, "OPPRETTET"},
        {outgoing_state::uploaded, "SENDT"},     {outgoing_state::delivered, "MOTTATT"},
        {outgoing_state::received, "LEVERT"},    {outgoing_state::failed, "FEIL"},
        {outgoing_state::expired, "LEVETID_UTLOPT"},
    };
    for (const auto& [state, status] : expected)
        BOOST_TEST(to_string(reported_status(state)) == status, to_string(state));
}

BOOST_AUTO_TEST_CASE(state_names_round_trip_and_unknown_names_are_refused) {
    for (int i = 0; i <= static_cast<int>(outgoing_state::expired); ++i) {
        const auto s = static_cast<outgoing_state>(i);
        BOOST_TEST((outgoing_state_from_string(to_string(s)) == s));
    }
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
}

BOOST_AUTO_TEST_SUITE_END()

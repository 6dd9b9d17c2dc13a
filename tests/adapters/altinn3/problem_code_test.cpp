#include <kurer/altinn3/problem_code.hpp>

#include <boost/test/unit_test.hpp>

using namespace kurer::altinn3;

BOOST_AUTO_TEST_SUITE(problem_codes)

BOOST_AUTO_TEST_CASE(parses_known_codes_only) {
    BOOST_TEST((parse_problem_code("BRO-00007") == problem_code::not_ready_for_download));
    BOOST_TEST((parse_problem_code("BRO-00029") == problem_code::unsatisfiable_range));
    BOOST_TEST(!parse_problem_code("BRO-00011").has_value());
    BOOST_TEST(!parse_problem_code("BRO-7").has_value());
    BOOST_TEST(!parse_problem_code("bro-00007").has_value());
}

BOOST_AUTO_TEST_CASE(only_broker_side_conditions_are_retryable) {
    BOOST_TEST(is_retryable(problem_code::storage_not_ready));
    BOOST_TEST(is_retryable(problem_code::not_ready_for_download));
    BOOST_TEST(!is_retryable(problem_code::already_uploaded));
    BOOST_TEST(!is_retryable(problem_code::no_access));
    BOOST_TEST(!is_retryable(problem_code::checksum_mismatch));
}

BOOST_AUTO_TEST_SUITE_END()

#include <kurer/engine/config.hpp>
#include <kurer/engine/polling.hpp>

#include <boost/test/unit_test.hpp>

using namespace kurer::engine;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(policies)

BOOST_AUTO_TEST_CASE(backoff_grows_by_the_multiplier_up_to_the_cap_within_the_jitter) {
    const retry_policy p{1000ms, 60000ms, 2.0, 0.2};
    BOOST_TEST(backoff_delay(p, 1, 0.5).count() == 1000);
    BOOST_TEST(backoff_delay(p, 2, 0.5).count() == 2000);
    BOOST_TEST(backoff_delay(p, 4, 0.5).count() == 8000);
    BOOST_TEST(backoff_delay(p, 30, 0.5).count() == 60000, "capped");
    BOOST_TEST(backoff_delay(p, 1, 0.0).count() == 800, "jitter at its low end");
    BOOST_TEST(backoff_delay(p, 1, 0.999999).count() >= 1199);
    BOOST_TEST(backoff_delay({1000ms, 60000ms, 2.0, 0.0}, 3, 0.1).count() == 4000, "no jitter, no spread");
}

BOOST_AUTO_TEST_CASE(the_channel_rule_matches_the_reference) {
    // Without a channel: UUID references and none pass, channel names are someone else's.
    BOOST_TEST(accepts_transfer("", ""));
    BOOST_TEST(accepts_transfer("", "5f1c0a52-3b44-4b8e-9a0f-1d2e3f405162"));
    BOOST_TEST(!accepts_transfer("", "arkiv_2"));
    // With one: only files addressed to it.
    BOOST_TEST(accepts_transfer("arkiv_2", "arkiv_2"));
    BOOST_TEST(!accepts_transfer("arkiv_2", "arkiv_3"));
    BOOST_TEST(!accepts_transfer("arkiv_2", "5f1c0a52-3b44-4b8e-9a0f-1d2e3f405162"));
    BOOST_TEST(is_channel_name("A-z_09"));
    BOOST_TEST(!is_channel_name("with space"));
    BOOST_TEST(!is_channel_name(std::string(26, 'a')));
}

BOOST_AUTO_TEST_SUITE_END()

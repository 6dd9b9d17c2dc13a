#include <kurer/altinn2/addressing.hpp>
#include <kurer/core/uuid.hpp>

#include <boost/test/unit_test.hpp>

namespace altinn2 = kurer::altinn2;

BOOST_AUTO_TEST_SUITE(addressing)

BOOST_AUTO_TEST_CASE(reportee_is_the_bare_organisation_number) {
    BOOST_TEST(altinn2::reportee_from_identifier("0192:910077473") == "910077473");
    BOOST_TEST(altinn2::reportee_from_identifier("0192:910077473:910075918") == "910075918");
    BOOST_TEST(altinn2::reportee_from_identifier("910077473") == "910077473");
}

BOOST_AUTO_TEST_CASE(channel_shape) {
    BOOST_TEST(altinn2::is_channel_shaped("arkiv_system-2"));
    BOOST_TEST(altinn2::is_channel_shaped(std::string(25, 'a')));
    BOOST_TEST(altinn2::is_channel_shaped("")); // the reference's {0,25}
    BOOST_TEST(!altinn2::is_channel_shaped(std::string(26, 'a')));
    BOOST_TEST(!altinn2::is_channel_shaped("with space"));
    BOOST_TEST(!altinn2::is_channel_shaped("æøå"));
    BOOST_TEST(!altinn2::is_channel_shaped(kurer::random_uuid())); // 36 characters
}

BOOST_AUTO_TEST_CASE(outgoing_reference_is_a_uuid_unless_a_reply_goes_to_another_channel) {
    const std::optional<std::string_view> none;
    // Ordinary messages always get a fresh UUID, whatever channels exist.
    const auto a = altinn2::outgoing_senders_reference(false, "theirs", "mine");
    const auto b = altinn2::outgoing_senders_reference(false, none, none);
    BOOST_TEST(kurer::is_uuid(a));
    BOOST_TEST(kurer::is_uuid(b));
    BOOST_TEST(a != b);
    // A status or receipt for a message from another channel goes back on that channel.
    BOOST_TEST(altinn2::outgoing_senders_reference(true, "theirs", "mine") == "theirs");
    BOOST_TEST(altinn2::outgoing_senders_reference(true, "theirs", none) == "theirs");
    // ... but not when it is our own channel, or when the original carried none.
    BOOST_TEST(kurer::is_uuid(altinn2::outgoing_senders_reference(true, "mine", "mine")));
    BOOST_TEST(kurer::is_uuid(altinn2::outgoing_senders_reference(true, none, "mine")));
    BOOST_TEST(kurer::is_uuid(altinn2::outgoing_senders_reference(true, "", none)));
}

BOOST_AUTO_TEST_CASE(incoming_filter_keeps_channels_apart) {
    const std::optional<std::string> absent;
    const std::optional<std::string> uuid = kurer::random_uuid();
    const std::optional<std::string> mine = std::string("mine");
    const std::optional<std::string> theirs = std::string("theirs");
    // With an own channel: only that channel.
    BOOST_TEST(altinn2::accepts_incoming(mine, "mine"));
    BOOST_TEST(!altinn2::accepts_incoming(theirs, "mine"));
    BOOST_TEST(!altinn2::accepts_incoming(uuid, "mine"));
    BOOST_TEST(!altinn2::accepts_incoming(absent, "mine"));
    // Without: everything that is not some channel's.
    BOOST_TEST(altinn2::accepts_incoming(absent, std::nullopt));
    BOOST_TEST(altinn2::accepts_incoming(uuid, std::nullopt));
    BOOST_TEST(altinn2::accepts_incoming(std::string("a reference with spaces"), std::nullopt));
    BOOST_TEST(!altinn2::accepts_incoming(theirs, std::nullopt));
    BOOST_TEST(!altinn2::accepts_incoming(std::string(), std::nullopt)); // empty is channel-shaped
}

BOOST_AUTO_TEST_SUITE_END()

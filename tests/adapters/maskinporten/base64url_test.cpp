#include <kurer/maskinporten/base64url.hpp>

#include <boost/test/unit_test.hpp>

using namespace kurer::maskinporten;

BOOST_AUTO_TEST_SUITE(base64url)

BOOST_AUTO_TEST_CASE(encodes_rfc7515_example_header) {
    // RFC 7515 appendix A.1: {"typ":"JWT",\r\n "alg":"HS256"}
    const std::string header = "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}";
    BOOST_TEST(base64url_encode(header) == "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9");
    BOOST_TEST(base64url_decode("eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9").value() == header);
}

BOOST_AUTO_TEST_CASE(round_trips_every_length_and_uses_the_url_alphabet) {
    std::string bytes;
    for (int i = 0; i < 300; ++i) {
        const auto enc = base64url_encode(bytes);
        BOOST_TEST(enc.find_first_of("+/=") == std::string::npos);
        BOOST_TEST_REQUIRE(base64url_decode(enc).has_value());
        BOOST_TEST(*base64url_decode(enc) == bytes);
        bytes += static_cast<char>((i * 37 + 251) & 0xff);
    }
}

BOOST_AUTO_TEST_CASE(rejects_padding_foreign_characters_and_bad_lengths) {
    BOOST_TEST(!base64url_decode("eyJ=").has_value());
    BOOST_TEST(!base64url_decode("ab+/").has_value());
    BOOST_TEST(!base64url_decode("abcde").has_value());
    BOOST_TEST(!base64url_decode("QR").has_value()); // non-zero trailing bits
    BOOST_TEST(base64url_decode("QQ").value() == "A");
}

BOOST_AUTO_TEST_SUITE_END()

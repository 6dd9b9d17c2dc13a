// DigDir's documented token answer parses as a token.
#include <kurer/core/files.hpp>
#include <kurer/maskinporten/token_provider.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_CASE(documented_token_response_parses) {
    const auto body = kurer::read_small_file(
                          kurer::testing::reference_data("maskinporten/token-response-example.json"), 1 << 16)
                          .value();
    const auto t = kurer::maskinporten::parse_token_response(200, "application/json", body,
                                                             std::chrono::steady_clock::now());
    BOOST_TEST_REQUIRE(t.has_value(), t.error().message);
    BOOST_TEST(t->value == "IxC0B76vlWl3fiQhAwZUmD0hr_PPwC9hSIXRdoUslPU=");
    BOOST_TEST(t->expires_in.count() == 599);
    BOOST_TEST(t->scope == "difitest:test1");
}

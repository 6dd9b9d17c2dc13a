#include <kurer/http/url.hpp>

#include <boost/test/unit_test.hpp>

using kurer::http::parse_url;

BOOST_AUTO_TEST_SUITE(url)

BOOST_AUTO_TEST_CASE(parses_endpoint_urls_from_the_config) {
    auto u = parse_url("https://127.0.0.1:8443/adressetjeneste");
    BOOST_TEST_REQUIRE(u.has_value());
    BOOST_TEST(u->scheme == "https");
    BOOST_TEST(u->host == "127.0.0.1");
    BOOST_TEST(u->port == 8443);
    BOOST_TEST(u->target == "/adressetjeneste");
    BOOST_TEST(u->origin() == "https://127.0.0.1:8443");
    BOOST_TEST(u->with_path("/identifier/910075918").target == "/adressetjeneste/identifier/910075918");

    auto q = parse_url("https://tt02.altinn.no/ServiceEngineExternal/BrokerServiceExternalBasic.svc?wsdl");
    BOOST_TEST_REQUIRE(q.has_value());
    BOOST_TEST(q->port == 443);
    BOOST_TEST(q->target == "/ServiceEngineExternal/BrokerServiceExternalBasic.svc?wsdl");
    BOOST_TEST(q->origin() == "https://tt02.altinn.no");

    auto root = parse_url("https://test.maskinporten.no");
    BOOST_TEST_REQUIRE(root.has_value());
    BOOST_TEST(root->target == "/");
}

BOOST_AUTO_TEST_CASE(rejects_what_cannot_be_an_endpoint) {
    for (const char* bad :
         {"ftp://example.org/", "not a url", "https:///path", "https://host:0/", "/relative"}) {
        auto u = parse_url(bad);
        BOOST_TEST(u.has_error(), bad);
        if (u.has_error())
            BOOST_TEST(u.error().message.find(bad) != std::string::npos);
    }
}

BOOST_AUTO_TEST_SUITE_END()

#include <kurer/service_registry/identifier.hpp>

#include <boost/test/unit_test.hpp>

using namespace kurer::service_registry;

BOOST_AUTO_TEST_SUITE(identifier)

BOOST_AUTO_TEST_CASE(accepts_iso6523_and_bare_organisation_numbers) {
    BOOST_TEST(organization_number("0192:910075918").value() == "910075918");
    BOOST_TEST(organization_number("910075918").value() == "910075918");
    BOOST_TEST(iso6523("910075918") == "0192:910075918");
}

BOOST_AUTO_TEST_CASE(rejects_legacy_icds_persons_and_junk) {
    BOOST_TEST(!organization_number("9908:910075918").has_value());
    BOOST_TEST(!organization_number("09118532322").has_value());
    BOOST_TEST(!organization_number("0192:91007591").has_value());
    BOOST_TEST(!organization_number("0192:91007591x").has_value());
    BOOST_TEST(!organization_number("").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

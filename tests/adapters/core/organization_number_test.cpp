// The organisation number of an enterprise certificate in either profile (SEID 1 serialNumber,
// SEID 2.0 organizationIdentifier NTRNO-…): ../shared/protocol/enterprise-certificates.md.
#include <kurer/core/organization_number.hpp>

#include <boost/system/errc.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace {

using strings = std::vector<std::string>;

kurer::result<std::string> number(strings serial_numbers, strings organization_identifiers) {
    return kurer::organization_number_in_subject(serial_numbers, organization_identifiers);
}

// The refusal's message, or a note that there was none.
std::string refusal(const kurer::result<std::string>& r) {
    if (r)
        return "(accepted: " + *r + ")";
    BOOST_TEST(r.error().code == make_error_code(boost::system::errc::invalid_argument));
    BOOST_TEST(!r.error().retryable);
    return r.error().message;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(organization_number)

BOOST_AUTO_TEST_CASE(nine_digits_are_an_organisation_number) {
    BOOST_TEST(kurer::is_organization_number("910077473"));
    BOOST_TEST(!kurer::is_organization_number("91007747"));
    BOOST_TEST(!kurer::is_organization_number("9100774730"));
    BOOST_TEST(!kurer::is_organization_number("91007747x"));
    BOOST_TEST(!kurer::is_organization_number(" 910077473"));
    BOOST_TEST(!kurer::is_organization_number(""));
}

BOOST_AUTO_TEST_CASE(seid1_names_the_number_in_serial_number) {
    BOOST_TEST(number({"910077473"}, {}).value() == "910077473");
}

BOOST_AUTO_TEST_CASE(seid2_names_the_number_in_organization_identifier) {
    BOOST_TEST(number({}, {"NTRNO-910077473"}).value() == "910077473");
}

BOOST_AUTO_TEST_CASE(both_profiles_agreeing_name_one_number) {
    BOOST_TEST(number({"910077473"}, {"NTRNO-910077473"}).value() == "910077473");
}

BOOST_AUTO_TEST_CASE(both_profiles_disagreeing_are_refused_naming_both_numbers) {
    const auto message = refusal(number({"910075918"}, {"NTRNO-910077473"}));
    BOOST_TEST(contains(message, "the certificate names two different organisation numbers: 910077473 "
                                 "(organizationIdentifier) and 910075918 (serialNumber)"),
               message);
}

BOOST_AUTO_TEST_CASE(a_certificate_naming_no_number_is_refused) {
    const auto none = refusal(number({}, {}));
    BOOST_TEST(contains(none, "the certificate names no organisation number (neither organizationIdentifier "
                              "NTRNO-<9 digits> nor a 9-digit serialNumber)"),
               none);
    // What it does carry is shown, so that the reader sees why.
    const auto other = refusal(number({"12345"}, {"VATNO-910077473MVA"}));
    BOOST_TEST(contains(other, "names no organisation number"), other);
    BOOST_TEST(contains(other, "its organizationIdentifier: 'VATNO-910077473MVA'"), other);
    BOOST_TEST(contains(other, "its serialNumber: '12345'"), other);
}

BOOST_AUTO_TEST_CASE(a_malformed_ntrno_identifier_is_refused_even_beside_a_serial_number) {
    for (const std::string bad : {"NTRNO-91007747", "NTRNO-9100774730", "NTRNO-91007747x", "NTRNO-",
                                  "NTRNO- 910077473", "NTRNO-910077473 "}) {
        const auto alone = refusal(number({}, {bad}));
        BOOST_TEST(contains(alone, "has a malformed organizationIdentifier '" + bad +
                                       "' (expected NTRNO- followed by 9 digits)"),
                   alone);
        // The serialNumber does not rescue it: the issuer meant to state the number and did not.
        const auto beside = refusal(number({"910077473"}, {bad}));
        BOOST_TEST(contains(beside, "malformed organizationIdentifier"), beside);
    }
}

BOOST_AUTO_TEST_CASE(identifiers_of_other_schemes_are_passed_over) {
    // Not case-folded: "ntrno-" is no NTRNO identifier.
    BOOST_TEST(number({"910077473"}, {"VATNO-910075918MVA"}).value() == "910077473");
    BOOST_TEST(number({"910077473"}, {"ntrno-910075918"}).value() == "910077473");
    BOOST_TEST(number({}, {"VATNO-910075918MVA", "NTRNO-910077473"}).value() == "910077473");
}

BOOST_AUTO_TEST_CASE(a_serial_number_that_is_not_nine_digits_does_not_make_a_seid2_certificate_ambiguous) {
    for (const std::string other :
         {"B12345678", "1234567890123", "91007747", "NTRNO-910075918", "910075918 "})
        BOOST_TEST(number({other}, {"NTRNO-910077473"}).value() == "910077473", other);
    // Nor is it read as a number on its own: SEID 1 means exactly 9 digits.
    BOOST_TEST(refusal(number({"NTRNO-910077473"}, {})).find("names no organisation number") !=
               std::string::npos);
    BOOST_TEST(refusal(number({"91007747-3"}, {})).find("names no organisation number") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(multi_valued_attributes_must_name_one_number) {
    BOOST_TEST(number({}, {"NTRNO-910077473", "NTRNO-910077473"}).value() == "910077473");
    BOOST_TEST(number({"910077473", "910077473"}, {}).value() == "910077473");
    BOOST_TEST(number({"B1234", "910077473"}, {"NTRNO-910077473"}).value() == "910077473");

    const auto two_identifiers = refusal(number({}, {"NTRNO-910077473", "NTRNO-910075918"}));
    BOOST_TEST(contains(two_identifiers,
                        "two different organisation numbers: 910077473 (organizationIdentifier) "
                        "and 910075918 (organizationIdentifier)"),
               two_identifiers);
    const auto two_serials = refusal(number({"910077473", "910075918"}, {}));
    BOOST_TEST(contains(two_serials, "two different organisation numbers: 910077473 (serialNumber) and "
                                     "910075918 (serialNumber)"),
               two_serials);
    const auto third = refusal(number({"910077473", "910075918"}, {"NTRNO-910077473"}));
    BOOST_TEST(contains(third, "910077473 (organizationIdentifier) and 910075918 (serialNumber)"), third);
}

BOOST_AUTO_TEST_CASE(errors_name_the_certificate_as_the_caller_describes_it) {
    const strings none;
    const auto r = kurer::organization_number_in_subject(none, none, "the receiver's certificate (CN=R)");
    BOOST_TEST(refusal(r).starts_with("the receiver's certificate (CN=R) names no organisation number"));
}

BOOST_AUTO_TEST_CASE(values_in_messages_are_quoted_cleaned_and_cut) {
    const auto message = refusal(number({"line\nbreak" + std::string(100, 'x')}, {}));
    BOOST_TEST(contains(message, "'line?break"), message);
    BOOST_TEST(!contains(message, "\n"), message);
    BOOST_TEST(!contains(message, std::string(70, 'x')), message);
}

BOOST_AUTO_TEST_CASE(a_subject_is_read_by_attribute_oid) {
    using kurer::subject_attribute;
    const std::vector<subject_attribute> seid2{{"2.5.4.6", "NO"},
                                               {"2.5.4.10", "EKSEMPEL AS"},
                                               {"2.5.4.97", "NTRNO-910077473"},
                                               {"2.5.4.5", "B-1234"},
                                               {"2.5.4.3", "EKSEMPEL AS"}};
    BOOST_TEST(kurer::organization_number_in_attributes(seid2).value() == "910077473");
    const std::vector<subject_attribute> seid1{{"2.5.4.3", "910075918"}, {"2.5.4.5", "910077473"}};
    BOOST_TEST(kurer::organization_number_in_attributes(seid1).value() == "910077473"); // CN is not read
    const std::vector<subject_attribute> both{{"2.5.4.5", "910075918"}, {"2.5.4.97", "NTRNO-910077473"}};
    BOOST_TEST(contains(refusal(kurer::organization_number_in_attributes(both)), "two different"));
    const std::vector<subject_attribute> neither{{"2.5.4.3", "910077473"}};
    BOOST_TEST(contains(refusal(kurer::organization_number_in_attributes(neither, "my certificate")),
                        "my certificate names no organisation number"));
}

BOOST_AUTO_TEST_SUITE_END()

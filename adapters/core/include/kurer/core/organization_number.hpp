// The organisation number an enterprise certificate (virksomhetssertifikat, eSeal) names, in
// either of the two Norwegian subject profiles:
//
//   SEID 1    serialNumber (2.5.4.5)            = the 9 digits            serialNumber=910077473
//   SEID 2.0  organizationIdentifier (2.5.4.97) = "NTRNO-" + the 9 digits
//   organizationIdentifier=NTRNO-910077473
//
// The one implementation of the rule; every adapter that ties a certificate to an organisation
// extracts the subject's attribute values (with Botan) and calls it:
//
// * An organizationIdentifier "NTRNO-" followed by exactly 9 digits names that number. One that
//   starts with "NTRNO-" but is not followed by exactly 9 digits is malformed, and the
//   certificate is refused (its issuer meant to state a Norwegian number and did not).
//   Another scheme (VATNO-…, NTRSE-…, PSD…) names no Norwegian organisation number and is
//   passed over.
// * A serialNumber of exactly 9 digits names that number. Any other serialNumber (SEID 2.0
//   certificates may carry other serial numbers, "NTRNO-910077473" included) is passed over: it
//   does not make a certificate ambiguous.
// * Every value counts (multi-valued attributes): the numbers named must all be one. Two
//   different ones, whether within one attribute or between the two, refuse the certificate.
//   Where both profiles agree, or only SEID 2.0 names a number, the organizationIdentifier's
//   number is the answer ("prefer organizationIdentifier"); a serialNumber alone is SEID 1.
// * A certificate that names no number at all is refused.
//
// Nothing is trimmed or case-folded: certificates are read as issued.
#pragma once

#include <kurer/core/error.hpp>

#include <span>
#include <string>
#include <string_view>

namespace kurer {

inline constexpr std::string_view serial_number_oid = "2.5.4.5";
inline constexpr std::string_view organization_identifier_oid = "2.5.4.97";

// True for exactly 9 ASCII digits.
bool is_organization_number(std::string_view text) noexcept;

// The organisation number the certificate's subject names, from its serialNumber values and
// organizationIdentifier values (each in the order the subject holds them). `certificate` is how
// the errors name the certificate ("the receiver's certificate (CN=…)"); errors are
// errc::invalid_argument with a message that says what is wrong.
result<std::string> organization_number_in_subject(std::span<const std::string> serial_numbers,
                                                   std::span<const std::string> organization_identifiers,
                                                   std::string_view certificate = "the certificate");

// One attribute of a distinguished name: its OID in dotted form ("2.5.4.97") and its value as
// UTF-8. Multi-valued RDNs contribute one entry per value.
struct subject_attribute {
    std::string oid;
    std::string value;
};

// The same rule over a whole subject: picks the serialNumber and organizationIdentifier
// attributes by OID and ignores the others.
result<std::string> organization_number_in_attributes(std::span<const subject_attribute> subject,
                                                      std::string_view certificate = "the certificate");

} // namespace kurer

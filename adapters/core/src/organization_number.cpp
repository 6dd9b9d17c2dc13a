#include <kurer/core/organization_number.hpp>

#include <boost/system/errc.hpp>

#include <algorithm>
#include <optional>
#include <vector>

namespace kurer {
namespace {

constexpr std::string_view ntr_norway = "NTRNO-";
constexpr std::size_t max_quoted = 64;

error invalid(std::string message) {
    return make_error(make_error_code(boost::system::errc::invalid_argument), std::move(message));
}

// A subject value as it may appear in a message: quoted, control characters replaced, long
// values cut (a certificate is outside input).
std::string quoted(std::string_view value) {
    std::string out = "'";
    for (std::size_t i = 0; i < value.size() && i < max_quoted; ++i) {
        const auto c = static_cast<unsigned char>(value[i]);
        out += c < 0x20 || c == 0x7f ? '?' : value[i];
    }
    if (value.size() > max_quoted)
        out += "…";
    return out + "'";
}

std::string quoted_list(std::span<const std::string> values) {
    std::string out;
    for (const auto& v : values)
        out += (out.empty() ? "" : ", ") + quoted(v);
    return out;
}

struct named {
    std::string number;
    std::string_view attribute; // "organizationIdentifier" or "serialNumber"
};

} // namespace

bool is_organization_number(std::string_view text) noexcept {
    return text.size() == 9 &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

result<std::string> organization_number_in_subject(std::span<const std::string> serial_numbers,
                                                   std::span<const std::string> organization_identifiers,
                                                   std::string_view certificate) {
    const std::string who(certificate);
    std::optional<named> found;
    const auto take = [&](std::string number, std::string_view attribute) -> std::optional<error> {
        if (!found) {
            found = named{std::move(number), attribute};
            return std::nullopt;
        }
        if (found->number == number)
            return std::nullopt;
        return invalid(who + " names two different organisation numbers: " + found->number + " (" +
                       std::string(found->attribute) + ") and " + number + " (" + std::string(attribute) +
                       ")");
    };
    // organizationIdentifier first: when both profiles name the number, it is the one reported.
    for (const auto& v : organization_identifiers) {
        if (!std::string_view(v).starts_with(ntr_norway))
            continue; // another scheme: no Norwegian organisation number
        const auto digits = std::string_view(v).substr(ntr_norway.size());
        if (!is_organization_number(digits))
            return invalid(who + " has a malformed organizationIdentifier " + quoted(v) +
                           " (expected NTRNO- followed by 9 digits)");
        if (auto conflict = take(std::string(digits), "organizationIdentifier"))
            return *conflict;
    }
    for (const auto& v : serial_numbers) {
        if (!is_organization_number(v))
            continue; // not an organisation number: SEID 2.0 certificates carry other serial numbers
        if (auto conflict = take(v, "serialNumber"))
            return *conflict;
    }
    if (found)
        return std::move(found->number);
    std::string message =
        who + " names no organisation number (neither organizationIdentifier NTRNO-<9 digits> nor a 9-digit "
              "serialNumber)";
    if (!organization_identifiers.empty())
        message += "; its organizationIdentifier: " + quoted_list(organization_identifiers);
    if (!serial_numbers.empty())
        message += "; its serialNumber: " + quoted_list(serial_numbers);
    return invalid(std::move(message));
}

result<std::string> organization_number_in_attributes(std::span<const subject_attribute> subject,
                                                      std::string_view certificate) {
    std::vector<std::string> serial_numbers;
    std::vector<std::string> organization_identifiers;
    for (const auto& a : subject) {
        if (a.oid == serial_number_oid)
            serial_numbers.push_back(a.value);
        else if (a.oid == organization_identifier_oid)
            organization_identifiers.push_back(a.value);
    }
    return organization_number_in_subject(serial_numbers, organization_identifiers, certificate);
}

} // namespace kurer

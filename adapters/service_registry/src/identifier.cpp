#include <kurer/service_registry/identifier.hpp>

#include <algorithm>

namespace kurer::service_registry {

std::optional<std::string> organization_number(std::string_view identifier) {
    constexpr std::string_view icd = "0192:";
    if (identifier.starts_with(icd))
        identifier.remove_prefix(icd.size());
    if (identifier.size() != 9 ||
        !std::all_of(identifier.begin(), identifier.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    return std::string(identifier);
}

std::string iso6523(std::string_view organization_number) {
    return "0192:" + std::string(organization_number);
}

} // namespace kurer::service_registry

// Organisation identifiers as eFormidling writes them: ISO 6523 "0192:<9 digits>".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kurer::service_registry {

// Accepts "0192:910075918" or a bare "910075918" and returns the 9-digit organisation number;
// nullopt for anything else (other ICDs such as the legacy 9908, persons, junk).
std::optional<std::string> organization_number(std::string_view identifier);

// "0192:<orgnr>" for a 9-digit organisation number.
std::string iso6523(std::string_view organization_number);

} // namespace kurer::service_registry

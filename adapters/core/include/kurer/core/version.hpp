// The product's version, as every executable prints it with --version.
#pragma once

#include <string_view>

namespace kurer {

std::string_view version() noexcept;

} // namespace kurer

// What every kurer executable does with --version and --help, so they all answer alike.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace kurer::engine {

// Handles a leading --version or --help (or -h): prints "<program> <version>" or `usage` to
// stdout and returns the exit code; nullopt when the arguments ask for something else.
std::optional<int> handle_common_options(std::string_view program, std::string_view usage,
                                         std::span<char* const> args);

} // namespace kurer::engine

// `kurer run --config FILE`: the daemon around the embeddable engine.
#pragma once

#include <filesystem>

namespace kurer::daemon {

// Exit codes: 0 after a graceful stop (SIGTERM/SIGINT), 1 when the engine cannot start or
// stops on an error, 2 for a usage or configuration error (nothing was started).
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_config = 2;

// Runs the engine `config_file` describes until SIGTERM or SIGINT; returns the exit code.
int run(const std::filesystem::path& config_file);

} // namespace kurer::daemon

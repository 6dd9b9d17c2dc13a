// Named kill points for crash tests: `KURER_KILL_AT=<name>[:<nth>]` in the environment makes the
// process SIGKILL itself the nth time (default: the first) execution passes kill_point(<name>).
//
// A kill point sits wherever a crash would leave something half done: between each persisted
// transition and the side effect it announces, between each side effect and the record of its
// result, and inside a group commit (before the synced write, and after it but before any
// waiter is told). Unarmed, a kill point is one relaxed atomic load.
#pragma once

#include <atomic>
#include <string_view>

namespace kurer::storage {

namespace detail {
extern std::atomic<bool> kill_point_armed;
void kill_point_reached(std::string_view name) noexcept;
} // namespace detail

inline void kill_point(std::string_view name) noexcept {
    if (detail::kill_point_armed.load(std::memory_order_relaxed)) [[unlikely]]
        detail::kill_point_reached(name);
}

// Arms a kill point from code (tests); `spec` has the environment variable's syntax. An empty
// spec disarms. Returns false for a malformed spec.
bool arm_kill_point(std::string_view spec) noexcept;

} // namespace kurer::storage

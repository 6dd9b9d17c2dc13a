#include <kurer/storage/kill_point.hpp>

#include <charconv>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unistd.h>

namespace kurer::storage {
namespace detail {
std::atomic<bool> kill_point_armed{false};
} // namespace detail

namespace {

struct armed_point {
    std::mutex mutex;
    std::string name;
    unsigned long nth = 1;
    unsigned long hits = 0;
};

armed_point& point() {
    static armed_point p;
    return p;
}

bool parse_and_arm(std::string_view spec) {
    auto& p = point();
    std::lock_guard lock(p.mutex);
    if (spec.empty()) {
        detail::kill_point_armed.store(false);
        return true;
    }
    std::string_view name = spec;
    unsigned long nth = 1;
    if (const auto colon = spec.rfind(':'); colon != std::string_view::npos) {
        name = spec.substr(0, colon);
        const auto digits = spec.substr(colon + 1);
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), nth);
        if (ec != std::errc() || end != digits.data() + digits.size() || nth == 0)
            return false;
    }
    if (name.empty())
        return false;
    p.name = name;
    p.nth = nth;
    p.hits = 0;
    detail::kill_point_armed.store(true);
    return true;
}

// Arms the point named in the environment before main runs.
const bool armed_from_environment = [] {
    if (const char* spec = std::getenv("KURER_KILL_AT"); spec != nullptr && *spec != '\0')
        return parse_and_arm(spec);
    return false;
}();

} // namespace

namespace detail {

void kill_point_reached(std::string_view name) noexcept {
    auto& p = point();
    {
        std::lock_guard lock(p.mutex);
        if (name != p.name || ++p.hits != p.nth)
            return;
    }
    // Say where, so a crash test can tell a kill point from any other death; then die at once,
    // with nothing flushed or unwound, as a power cut or the OOM killer would.
    std::string line = "kurer: kill point " + std::string(name) + " reached\n";
    [[maybe_unused]] const auto n = ::write(STDERR_FILENO, line.data(), line.size());
    ::kill(::getpid(), SIGKILL);
    ::_exit(137);
}

} // namespace detail

bool arm_kill_point(std::string_view spec) noexcept {
    (void)armed_from_environment;
    return parse_and_arm(spec);
}

} // namespace kurer::storage

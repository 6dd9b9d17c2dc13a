// The runner's settings. Durations of 0 switch the feature off where the comment says so; the
// JSON config (docs/configuration.md) maps onto these fields.
#pragma once

#include <kurer/core/log.hpp>
#include <kurer/statemachine/schedule.hpp>
#include <kurer/storage/store.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace kurer::engine {

using namespace std::chrono_literals;

// Retries back off exponentially with jitter: the rule is the machines' (statemachine/schedule.hpp).
using statemachine::backoff_delay;
using statemachine::retry_policy;

// Logging is the one kurer::logger (core/log.hpp): level, component, sink, JSON lines.
using kurer::log_fields;
using kurer::log_level;
using kurer::log_sink;
using kurer::logger;
using kurer::to_string;

// JSON lines on stderr at `minimum` and above.
inline logger stderr_log(log_level minimum = log_level::info) {
    return logger(minimum);
}

// One per core (std::thread::hardware_concurrency), at least one.
inline unsigned default_io_threads() noexcept {
    return std::max(1u, std::thread::hardware_concurrency());
}

struct runner_config {
    std::filesystem::path data_dir; // required: the store lives here
    std::string organization;       // required: 9 digits, the sender of outgoing messages
    std::vector<std::string> scopes{"eformidling:dpo"};
    unsigned io_threads = default_io_threads(); // threads running the io_context: one per core
    unsigned worker_threads = 2;                // the pool for packing and other blocking work
    std::size_t max_in_flight = 1000;           // messages whose actions run at once; the rest wait in order
    retry_policy retry;
    std::chrono::milliseconds polling_interval{15000}; // between broker polls; 0 = do not poll
    std::chrono::milliseconds lock_timeout{5min};      // a peeked message goes back to the queue after this
    std::chrono::hours default_ttl{24};                // deadline of a message submitted without one
    std::string message_channel;                       // this installation's channel ("" = none)
    std::chrono::milliseconds shutdown_grace{10000};   // in-flight actions get this long to finish
    bool remove_finished_files = true;                 // delete packages and documents of finished messages
    storage::store_options store;
    logger log = stderr_log(); // the runner names itself "runner" in every line
};

} // namespace kurer::engine

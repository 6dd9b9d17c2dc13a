// A small thread-safe metrics registry: counters, gauges and histograms with labels, rendered in
// the Prometheus text exposition format (version 0.0.4) for /admin/metrics.
//
//   metrics m;
//   auto& uploads = m.counter("kurer_uploads_total", "Packages the broker accepted.", {{"broker",
//   "altinn3"}}); uploads.inc(); m.histogram("kurer_adapter_duration_seconds", "...", {{"operation",
//   "upload"}}).observe(0.042); std::string text = m.render();
//
// A series is created the first time its name and labels are asked for; the reference returned
// stays valid as long as the registry, so hot paths look it up once and keep it. Updating a
// series is lock-free (atomics); creating one and rendering take a mutex. Values that are read
// rather than counted (queue lengths, the store's group-commit histogram) come from collectors,
// callbacks run at the start of every render.
//
// Besides the registry this header offers the two ways the engine feeds it: instrument() wraps
// the ports (adapter latencies, outcomes and bytes) and runner_metrics subscribes to a runner
// (transitions, retries, messages by state, in-flight actions, group-commit batch sizes).
#pragma once

#include <kurer/engine/ports.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kurer::engine {

class runner;

using metric_labels = std::vector<std::pair<std::string, std::string>>;

class counter_metric {
public:
    void inc(double by = 1) noexcept { value_.fetch_add(by, std::memory_order_relaxed); }
    // For counters mirrored from a total kept elsewhere: raises the value to `total`, never lowers it.
    void advance_to(double total) noexcept {
        auto current = value_.load(std::memory_order_relaxed);
        while (current < total && !value_.compare_exchange_weak(current, total, std::memory_order_relaxed)) {
        }
    }
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0};
};

class gauge_metric {
public:
    void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
    void add(double by) noexcept { value_.fetch_add(by, std::memory_order_relaxed); }
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0};
};

class histogram_metric {
public:
    explicit histogram_metric(std::vector<double> upper_bounds);
    void observe(double v) noexcept;
    // Replaces the whole distribution at once (collectors that copy a histogram kept elsewhere):
    // `counts` are per bucket (not cumulative), one more than the bounds (the +Inf bucket).
    void assign(std::span<const std::uint64_t> counts, double sum) noexcept;

    const std::vector<double>& upper_bounds() const noexcept { return bounds_; }
    std::vector<std::uint64_t> cumulative_counts() const; // one per bound, then +Inf (= count)
    double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
    std::uint64_t count() const noexcept;

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_; // bounds_.size() + 1
    std::atomic<double> sum_{0};
};

// Seconds, for adapter calls and state durations: 1 ms to 2 minutes.
inline constexpr double latency_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                             0.5,   1,      2.5,   5,    10,    30,   60,  120};

class metrics {
public:
    metrics();
    ~metrics();
    metrics(const metrics&) = delete;
    metrics& operator=(const metrics&) = delete;

    // Find or create a series. Names follow Prometheus rules ([a-zA-Z_:][a-zA-Z0-9_:]*, label
    // names [a-zA-Z_][a-zA-Z0-9_]*); a bad name, or a name already registered with another type,
    // is a programming error and throws std::invalid_argument. The help text of the first call wins.
    counter_metric& counter(std::string_view name, std::string_view help, const metric_labels& labels = {});
    gauge_metric& gauge(std::string_view name, std::string_view help, const metric_labels& labels = {});
    histogram_metric& histogram(std::string_view name, std::string_view help,
                                const metric_labels& labels = {},
                                std::span<const double> upper_bounds = latency_buckets);

    // Run at the start of every render(), without the registry's lock held (they set gauges).
    using collector = std::function<void(metrics&)>;
    std::uint64_t add_collector(collector c);
    void remove_collector(std::uint64_t id);

    // Every family sorted by name, each with # HELP and # TYPE, series sorted by labels.
    std::string render() const;

    struct family;

private:
    template <class Series, class Make>
    Series& find_or_create(std::string_view name, std::string_view help, const metric_labels& labels,
                           int type, Make make);

    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<family>, std::less<>> families_;
    mutable std::mutex collectors_mutex_;
    std::map<std::uint64_t, collector> collectors_;
    std::uint64_t next_collector_ = 1;
};

// The ports with every call measured: kurer_adapter_duration_seconds{adapter,operation,outcome}
// (outcome ok, retryable, permanent or exception) and kurer_adapter_bytes_total{adapter,operation}
// for packages packed, uploaded, downloaded and opened. Null ports stay null. `m` must outlive
// the returned ports.
ports instrument(ports p, metrics& m);

// Feeds a registry from a runner for as long as it lives: every durable transition
// (kurer_transitions_total{direction,event}, kurer_retries_total{direction,state},
// kurer_state_entered_total{direction,state}) and, at each render, messages by live state,
// actors, in-flight actions and the store's group commits (kurer_commit_group_size). The runner
// must outlive it, and `m` must outlive the runner (a callback may still be running when this
// object is destroyed).
class runner_metrics {
public:
    runner_metrics(runner& r, metrics& m);
    ~runner_metrics();
    runner_metrics(const runner_metrics&) = delete;
    runner_metrics& operator=(const runner_metrics&) = delete;

private:
    runner& runner_;
    metrics& metrics_;
    std::uint64_t subscription_ = 0;
    std::uint64_t collector_ = 0;
};

} // namespace kurer::engine

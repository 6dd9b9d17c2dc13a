// A sandbox and the organisations' engines in one scratch directory: what the end-to-end tests,
// the torture test and `kurer-bench e2e` start before they send anything.
//
//   kurer::testing::cluster c({.organizations = {"910077473", "910075918"}});
//   auto& b = c.start_daemon("910075918");               // `kurer run`, ready when this returns
//   auto a = c.start_engine("910077473");                // kurer::engine::engine in this process
//   ... a->submit(...); a->wait_for(id, ..., 60s); b.terminate(); b.kill(); c.start_daemon(...)
//
// Each organisation's kurer.json is the one `kurer-sandbox init` wrote (orgs/<org>/kurer.json,
// rewritten by `serve` with the sandbox's port); `tune` may change it before an engine starts.
// Daemon logs go to logs/<org>.<n>.log, one file per start.
#pragma once

#include <kurer/engine/engine.hpp>
#include <kurer/sandbox/child.hpp>
#include <kurer/testing/paths.hpp>
#include <kurer/testing/process.hpp>

#include <boost/json/object.hpp>

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace kurer::testing {

struct cluster_options {
    std::vector<std::string> organizations{"910077473", "910075918"};
    // Organisations whose enterprise certificate has a SEID 2.0 subject (organizationIdentifier
    // NTRNO-<orgnr>; `kurer-sandbox init --seid2`); the others have SEID 1's serialNumber.
    std::vector<std::string> seid2_organizations{};
    std::string broker = "altinn2";
    std::vector<std::string> serve_args{}; // e.g. {"--fault", "{...}"}
    // Applied to every organisation's kurer.json before its engine first starts.
    std::function<void(boost::json::object&)> tune{};
};

class cluster {
public:
    explicit cluster(cluster_options options = {});
    ~cluster(); // daemons first (SIGKILL if still running), then the sandbox

    const std::filesystem::path& dir() const noexcept { return dir_.path(); }
    sandbox::child& sandbox() noexcept { return sandbox_; }
    std::filesystem::path config_file(const std::string& organization) const;

    // The sandbox's control endpoints (/sandbox/faults, /sandbox/stats, ...) over TLS with its
    // CA: the answer's JSON (null for an empty body); an error for a non-2xx answer.
    result<boost::json::value> control(std::string method, std::string path, std::string body = {});

    // `kurer run --config orgs/<org>/kurer.json`; returns once its readiness line arrived. A
    // daemon of that organisation still running is an error (one store, one process).
    daemon& start_daemon(const std::string& organization);
    daemon& daemon_of(const std::string& organization);

    // The same organisation as an embedded engine (log lines are kept in logs/<org>.engine.log).
    std::unique_ptr<engine::engine> start_engine(const std::string& organization,
                                                 engine::engine_options options = {});

private:
    void tune(const std::string& organization);

    scratch_dir dir_;
    cluster_options options_;
    sandbox::child sandbox_;
    std::map<std::string, daemon> daemons_;
    std::map<std::string, int> starts_;
    std::map<std::string, bool> tuned_;
};

// An end system on an embedded engine: takes every message that reaches its queue (peek, pop,
// take) on its own thread, woken by the engine's transitions (no polling), and counts what it
// took per messageId. The payload of each is kept as the file pop() named, copied to `keep_dir`
// when one is given.
class end_system {
public:
    explicit end_system(engine::engine& e, std::filesystem::path keep_dir = {});
    ~end_system(); // stop()
    void stop();

    // Waits until `n` distinct messages were taken (or the timeout); returns whether they were.
    bool wait_for_count(std::size_t n, std::chrono::milliseconds timeout);
    std::map<std::string, int> taken() const; // messageId -> times taken
    std::vector<std::string> errors() const;

private:
    void run();

    engine::engine& engine_;
    std::filesystem::path keep_dir_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    bool stopping_ = false;
    std::uint64_t wakeups_ = 0;
    std::map<std::string, int> taken_;
    std::vector<std::string> errors_;
    std::uint64_t subscription_ = 0;
    std::thread thread_;
};

} // namespace kurer::testing

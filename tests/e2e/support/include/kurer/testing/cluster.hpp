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

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kurer::testing {

struct cluster_options {
    std::vector<std::string> organizations{"910077473", "910075918"};
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

} // namespace kurer::testing

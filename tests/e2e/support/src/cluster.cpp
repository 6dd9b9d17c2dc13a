#include <kurer/core/files.hpp>
#include <kurer/testing/cluster.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fstream>
#include <mutex>
#include <stdexcept>

namespace kurer::testing {
namespace {

sandbox::child start_sandbox(const std::filesystem::path& dir, const cluster_options& o) {
    sandbox::child_options c;
    c.organizations = o.organizations;
    c.broker = o.broker;
    c.serve_args = o.serve_args;
    auto started = sandbox::child::start(executable("kurer-sandbox"), dir, c);
    if (!started)
        throw std::runtime_error("kurer-sandbox did not start: " + started.error().message);
    return std::move(*started);
}

} // namespace

cluster::cluster(cluster_options options)
    : options_(std::move(options))
    , sandbox_(start_sandbox(dir_ / "sandbox", options_)) {
    std::filesystem::create_directories(dir_ / "logs");
}

cluster::~cluster() {
    for (auto& [org, d] : daemons_)
        d.kill();
    daemons_.clear();
    sandbox_.stop();
}

std::filesystem::path cluster::config_file(const std::string& organization) const {
    return sandbox_.dir() / "orgs" / organization / "kurer.json";
}

void cluster::tune(const std::string& organization) {
    if (!options_.tune || tuned_[organization])
        return;
    const auto file = config_file(organization);
    auto text = read_small_file(file, 1 << 20);
    if (!text)
        throw std::runtime_error(text.error().message);
    auto config = boost::json::parse(*text).as_object();
    options_.tune(config);
    if (auto written = write_file_durably(file, boost::json::serialize(config)); !written)
        throw std::runtime_error(written.error().message);
    tuned_[organization] = true;
}

daemon& cluster::start_daemon(const std::string& organization) {
    if (auto it = daemons_.find(organization); it != daemons_.end() && it->second.running())
        throw std::logic_error("a kurer of " + organization + " is running already");
    tune(organization);
    const auto n = ++starts_[organization];
    const auto log = dir_ / "logs" / (organization + "." + std::to_string(n) + ".log");
    auto started = daemon::start(config_file(organization), log);
    if (!started)
        throw std::runtime_error(started.error().message);
    daemons_.insert_or_assign(organization, std::move(*started));
    return daemons_.at(organization);
}

daemon& cluster::daemon_of(const std::string& organization) {
    return daemons_.at(organization);
}

std::unique_ptr<engine::engine> cluster::start_engine(const std::string& organization,
                                                      engine::engine_options options) {
    tune(organization);
    if (!options.log) {
        auto file =
            std::make_shared<std::ofstream>(dir_ / "logs" / (organization + ".engine.log"), std::ios::app);
        auto mutex = std::make_shared<std::mutex>();
        options.log = [file, mutex](engine::log_level, std::string_view line) {
            std::lock_guard lock(*mutex);
            *file << line << '\n';
            file->flush();
        };
    }
    auto started = engine::engine::start(config_file(organization), std::move(options));
    if (!started)
        throw std::runtime_error("the engine of " + organization +
                                 " did not start: " + started.error().message);
    return std::move(*started);
}

} // namespace kurer::testing

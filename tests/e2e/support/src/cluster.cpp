#include <kurer/core/files.hpp>
#include <kurer/http/client.hpp>
#include <kurer/testing/cluster.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
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
    c.seid2_organizations = o.seid2_organizations;
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

result<boost::json::value> cluster::control(std::string method, std::string path, std::string body) {
    boost::asio::io_context io;
    auto client = http::client::create(io.get_executor(), {.ca_bundle = sandbox_.dir() / "ca" / "ca.pem"});
    if (!client)
        return client.error();
    http::request req;
    req.method = boost::beast::http::string_to_verb(method);
    req.url = sandbox_.base_url() + path;
    if (!body.empty()) {
        req.headers.set("Content-Type", "application/json");
        req.body = http::body_source::from_string(std::move(body));
    }
    std::optional<result<http::response>> answer;
    boost::asio::co_spawn(io, client->send(std::move(req)),
                          [&](std::exception_ptr e, result<http::response> r) {
                              if (e)
                                  answer.emplace(make_error(http::errc::bad_message, "the request threw"));
                              else
                                  answer.emplace(std::move(r));
                          });
    io.run_for(std::chrono::seconds(30));
    client->shutdown();
    io.run_for(std::chrono::seconds(1));
    if (!answer)
        return make_error(http::errc::timeout, path + ": no answer within 30 s");
    if (!*answer)
        return answer->error();
    const auto& r = **answer;
    if (!r.ok())
        return make_error(http::errc::unexpected_status,
                          path + ": HTTP " + std::to_string(r.status) + " " + r.body);
    if (r.body.empty())
        return boost::json::value();
    boost::system::error_code ec;
    auto parsed = boost::json::parse(r.body, ec);
    if (ec)
        return make_error(http::errc::bad_message, path + ": not JSON: " + r.body.substr(0, 200));
    return parsed;
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

end_system::end_system(engine::engine& e, std::filesystem::path keep_dir)
    : engine_(e)
    , keep_dir_(std::move(keep_dir)) {
    subscription_ = engine_.subscribe([this](const engine::transition_event& t) {
        if (t.kind != storage::record_kind::incoming ||
            t.to != static_cast<std::uint8_t>(statemachine::incoming_state::queued))
            return;
        std::lock_guard lock(mutex_);
        ++wakeups_;
        changed_.notify_all();
    });
    thread_ = std::thread([this] { run(); });
}

end_system::~end_system() {
    stop();
}

void end_system::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && !thread_.joinable())
            return;
        stopping_ = true;
        changed_.notify_all();
    }
    if (thread_.joinable())
        thread_.join();
    engine_.unsubscribe(subscription_);
}

void end_system::run() {
    std::uint64_t seen = 0;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            if (stopping_)
                return;
        }
        // Drain the queue, then sleep until a message is queued again. A wakeup that arrives
        // while draining is counted, so the next wait returns at once.
        for (;;) {
            auto peeked = engine_.core().peek_blocking();
            if (!peeked) {
                std::lock_guard lock(mutex_);
                errors_.push_back("peek: " + peeked.error().describe());
                break;
            }
            if (!*peeked)
                break;
            const auto id = (*peeked)->message_id;
            auto payload = engine_.core().pop(id);
            if (!payload) {
                std::lock_guard lock(mutex_);
                errors_.push_back("pop " + id + ": " + payload.error().describe());
                break;
            }
            if (!keep_dir_.empty()) {
                std::error_code ec;
                std::filesystem::create_directories(keep_dir_ / id, ec);
                std::filesystem::copy_file(*payload, keep_dir_ / id / payload->filename(),
                                           std::filesystem::copy_options::overwrite_existing, ec);
            }
            if (auto took = engine_.core().take_blocking(id); !took) {
                std::lock_guard lock(mutex_);
                errors_.push_back("take " + id + ": " + took.error().describe());
                break;
            }
            std::lock_guard lock(mutex_);
            ++taken_[id];
            changed_.notify_all();
            if (stopping_)
                return;
        }
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return stopping_ || wakeups_ != seen; });
        seen = wakeups_;
    }
}

bool end_system::wait_for_count(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return taken_.size() >= n; });
}

std::map<std::string, int> end_system::taken() const {
    std::lock_guard lock(mutex_);
    return taken_;
}

std::vector<std::string> end_system::errors() const {
    std::lock_guard lock(mutex_);
    return errors_;
}

} // namespace kurer::testing

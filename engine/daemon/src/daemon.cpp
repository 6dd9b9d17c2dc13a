// `kurer run --config FILE`: load the config, start the engine, wait for SIGTERM or SIGINT, stop.
#include "daemon.hpp"

#include <kurer/core/version.hpp>
#include <kurer/engine/admin_daemon.hpp>
#include <kurer/engine/engine.hpp>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <csignal>
#include <ctime>
#include <iostream>
#include <pthread.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace kurer::daemon {
namespace {

namespace json = boost::json;
using kurer::engine::log_level;

std::string now_text() {
    const auto now = std::chrono::system_clock::now();
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    const std::time_t secs = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char tail[8];
    std::snprintf(tail, sizeof tail, ".%03dZ", static_cast<int>(ms));
    return std::string(buf, n) + tail;
}

// The daemon's own lines, in the runner's format: {"time","level","msg",...}.
void log(const engine::log_sink& sink, log_level level, std::string_view message, json::object fields = {}) {
    json::object line;
    line["time"] = now_text();
    line["level"] = engine::to_string(level);
    line["msg"] = message;
    for (auto& [k, v] : fields)
        line[k] = std::move(v);
    sink(level, json::serialize(line));
}

// The admin server's lines in the daemon's format: "msg" (it writes "message") and the UTC time.
engine::log_sink admin_lines(engine::log_sink sink) {
    return [sink = std::move(sink)](log_level level, std::string_view line) {
        boost::system::error_code ec;
        auto parsed = json::parse(line, ec);
        if (ec || !parsed.is_object()) {
            sink(level, line);
            return;
        }
        auto& in = parsed.as_object();
        json::object out;
        out["time"] = now_text();
        out["level"] = engine::to_string(level);
        out["msg"] = in.contains("message") ? in["message"] : json::value("admin");
        for (auto& [k, v] : in)
            if (k != "time" && k != "level" && k != "message" && k != "msg")
                out[k] = std::move(v);
        sink(level, json::serialize(out));
    };
}

bool is_config_error(const error& e) {
    return e.code.category() == engine::config_category();
}

} // namespace

int run(const std::filesystem::path& file) {
    // Everything kurer writes is the owner's only: the store's files (RocksDB's included, which
    // it creates 0644 less the umask), packages, documents, sockets. Set before any thread exists.
    ::umask(077);

    // Signals are taken by sigwait below, in this thread only: block them before any thread
    // exists so that every thread the engine starts inherits the mask.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN); // a closed stderr or socket is an error value, not a death

    auto config = engine::load_config(file);
    if (!config) {
        log(engine::stderr_log(log_level::debug), log_level::error, "configuration error",
            {{"error", config.error().message}});
        return exit_config;
    }
    const auto sink = engine::stderr_log(config->level);
    log(sink, log_level::info, "starting",
        {{"version", std::string(kurer::version())},
         {"config", config->file.string()},
         {"organization", config->runner.organization},
         {"broker", std::string(engine::to_string(config->broker.kind))},
         {"data_dir", config->runner.data_dir.string()},
         {"pid", static_cast<std::int64_t>(::getpid())}});

    // Outlives the engine: the adapters and the runner feed it, /admin/metrics renders it.
    engine::metrics registry;
    engine::engine_options options;
    options.log = sink;
    options.observer = engine::metrics_observer(registry);
    const json::object ready_fields{{"organization", config->runner.organization},
                                    {"admin_socket", config->admin_socket.string()}};
    auto started = engine::engine::start(std::move(*config), std::move(options));
    if (!started) {
        log(sink, log_level::error, is_config_error(started.error()) ? "configuration error" : "cannot start",
            {{"error", started.error().describe()}});
        return is_config_error(started.error()) ? exit_config : exit_failure;
    }
    auto& kurer_engine = **started;
    auto admin = engine::admin_service::start(
        kurer_engine, registry, {.capabilities = kurer_engine.capabilities(), .log = admin_lines(sink)});
    if (!admin) {
        log(sink, log_level::error, "cannot start the admin socket", {{"error", admin.error().describe()}});
        kurer_engine.stop();
        return exit_failure;
    }

    log(sink, log_level::info, "running", ready_fields);
    // The readiness line: the only thing kurer writes to stdout (docs/operations.md).
    {
        json::object ready = ready_fields;
        ready["ready"] = true;
        ready["pid"] = static_cast<std::int64_t>(::getpid());
        std::cout << json::serialize(ready) << std::endl;
    }

    int signal = 0;
    while (sigwait(&stop_signals, &signal) != 0) {
    }
    log(sink, log_level::info, "stopping on a signal",
        {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
    (*admin)->stop(); // no new requests while the engine winds down
    kurer_engine.stop();
    log(sink, log_level::info, "stopped");
    return exit_ok;
}

} // namespace kurer::daemon

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
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kurer::daemon {
namespace {

namespace json = boost::json;
using kurer::engine::log_level;
using kurer::engine::logger;

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
        logger(log_level::debug)
            .component("daemon")
            .error("configuration error", {{"error", config.error().message}});
        return exit_config;
    }
    const auto log = logger(config->level).component("daemon");
    log.info("starting", {{"version", std::string(kurer::version())},
                          {"config", config->file.string()},
                          {"organization", config->runner.organization},
                          {"broker", std::string(engine::to_string(config->broker.kind))},
                          {"data_dir", config->runner.data_dir.string()},
                          {"pid", static_cast<std::int64_t>(::getpid())}});

    // Admin connections, broker connections and RocksDB's files all count against the open-files
    // limit; a soft limit below the hard one only makes the daemon fail earlier than it must.
    if (rlimit files{}; ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        const auto before = files.rlim_cur;
        files.rlim_cur = files.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &files) == 0)
            log.debug("open-files limit raised", {{"from", static_cast<std::uint64_t>(before)},
                                                  {"to", static_cast<std::uint64_t>(files.rlim_cur)}});
    }

    // Outlives the engine: the adapters and the runner feed it, /admin/metrics renders it.
    engine::metrics registry;
    engine::engine_options options;
    options.observer = engine::metrics_observer(registry);
    const json::object ready_fields{{"organization", config->runner.organization},
                                    {"admin_socket", config->admin_socket.string()}};
    auto started = engine::engine::start(std::move(*config), std::move(options));
    if (!started) {
        log.error(is_config_error(started.error()) ? "configuration error" : "cannot start",
                  {{"error", started.error().describe()}});
        return is_config_error(started.error()) ? exit_config : exit_failure;
    }
    auto& kurer_engine = **started;
    auto admin =
        engine::admin_service::start(kurer_engine, registry, {.capabilities = kurer_engine.capabilities()});
    if (!admin) {
        log.error("cannot start the admin socket", {{"error", admin.error().describe()}});
        kurer_engine.stop();
        return exit_failure;
    }

    log.info("running", {{"organization", ready_fields.at("organization")},
                         {"admin_socket", ready_fields.at("admin_socket")}});
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
    log.info("stopping on a signal", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
    (*admin)->stop(); // no new requests while the engine winds down
    kurer_engine.stop();
    log.info("stopped");
    return exit_ok;
}

} // namespace kurer::daemon

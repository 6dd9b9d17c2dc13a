// The admin socket of `kurer run` in one call: the server, on its own thread, configured from
// the daemon's config (admin_socket, admin_tcp, admin, organization, default_process, default_ttl,
// message_channel; drafts under data_dir/admin-drafts), fed by the engine's runner.
//
//   kurer::engine::metrics registry;                            // outlives the engine
//   options.observer = kurer::engine::metrics_observer(registry); // adapter latencies and bytes
//   auto e = kurer::engine::engine::start(std::move(config), std::move(options)).value();
//   auto admin = kurer::engine::admin_service::start(*e, registry, {.log = sink}).value();
//   ...                                                          // serve until a signal
//   admin->stop();                                               // before e->stop()
//   e->stop();
//
// A failure to start (a live socket at admin_socket, a bad admin_tcp, an unreadable token file)
// is an error naming the field; the daemon reports it and exits.
#pragma once

#include <kurer/engine/admin_server.hpp>
#include <kurer/engine/config.hpp>
#include <kurer/engine/engine.hpp>
#include <kurer/engine/metrics.hpp>
#include <kurer/engine/wiring.hpp>

#include <functional>
#include <memory>

namespace kurer::engine {

struct admin_service_options {
    // GET /api/capabilities/{receiver}; null answers 503 (the daemon passes the Service
    // Registry lookup when it has one).
    capabilities_lookup capabilities = {};
    // The server's lines (components "admin" and "http.server") at the config's log_level;
    // empty: the engine's own logger.
    log_sink log = {};
    // Changes to the admin_config built from the daemon config (limits, timeouts), or empty.
    std::function<void(admin_config&)> tune = {};
};

class admin_service {
public:
    static result<std::unique_ptr<admin_service>> start(engine& e, metrics& registry,
                                                        admin_service_options options = {});
    ~admin_service(); // stop()
    admin_service(const admin_service&) = delete;
    admin_service& operator=(const admin_service&) = delete;

    // Stops the server (connections close, the socket file goes) and its thread. Idempotent.
    void stop();
    admin_server& server() noexcept { return *server_; }

    struct threads;

private:
    admin_service(std::unique_ptr<threads> t, std::unique_ptr<admin_server> s);
    std::unique_ptr<threads> threads_;
    std::unique_ptr<admin_server> server_;
};

// Records every adapter call the wiring reports in the registry:
// kurer_adapter_duration_seconds{adapter,operation,outcome="ok"|"failed"} and
// kurer_adapter_bytes_total{adapter,operation}. `m` must outlive the engine.
adapter_observer metrics_observer(metrics& m);

} // namespace kurer::engine

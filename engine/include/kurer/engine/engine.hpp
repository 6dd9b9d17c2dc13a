// The embeddable engine: what `kurer run` is, as a C++ object an integration product can own.
//
//   auto config = kurer::engine::load_config("kurer.json").value();
//   auto e = kurer::engine::engine::start(std::move(config)).value();
//   e->subscribe([](const kurer::engine::transition_event& t) { ... });
//   auto sent = e->submit({.message_id = kurer::random_uuid(), .receiver = "910075918", ...});
//   ...
//   e->stop();
//
// start() loads the certificate and key, builds the ports over the real adapters (wiring.hpp),
// opens the store in data_dir, resumes every unfinished message (recovery) and starts polling
// the broker. stop() (also the destructor) shuts down gracefully: actions in flight get
// shutdown_grace to finish, then the network stops. docs/embedding.md has a complete example.
//
// The class is kurer::engine::engine (kurer::engine is the namespace of the whole module).
#pragma once

#include <kurer/engine/daemon_config.hpp>
#include <kurer/engine/ports.hpp>
#include <kurer/engine/runner.hpp>
#include <kurer/engine/wiring.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace kurer::engine {

struct engine_options {
    log_sink log;              // lines at the config's log_level; empty: JSON lines on stderr
    adapter_observer observer; // every adapter call (metrics)
    // Replaces the broker the config names (an embedder's own transport, tests).
    std::shared_ptr<broker_port> broker;
    // Replaces every port: nothing is loaded or contacted (tests with fakes, tools).
    std::optional<struct ports> ports;
};

class engine {
public:
    static result<std::unique_ptr<engine>> start(daemon_config config, engine_options options = {});
    static result<std::unique_ptr<engine>> start(const std::filesystem::path& config_file,
                                                 engine_options options = {});

    ~engine(); // stop()
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    // Graceful shutdown; idempotent. Blocking calls made afterwards fail with errc::stopping.
    void stop();

    // ---- sending
    // Submits a message (idempotent by messageId, see runner::submit). An empty process is the
    // config's default_process; an empty document type is arkivmelding's. Documents larger than
    // limits.max_message_bytes together are refused (errc::invalid_request).
    result<submit_result> submit(submit_request request);
    boost::asio::awaitable<result<submit_result>> async_submit(submit_request request);

    // ---- looking up
    result<std::optional<outgoing_view>> find(const std::string& id) const;
    result<std::optional<incoming_view>> find_incoming(const std::string& reference) const;

    // Blocks until the outgoing message `id` is in a state `done` accepts (checked at once and
    // after each of its transitions), or `timeout` passes; returns the state it saw last.
    result<statemachine::outgoing_state> wait_for(const std::string& id,
                                                  std::function<bool(statemachine::outgoing_state)> done,
                                                  std::chrono::milliseconds timeout);

    // ---- observing: called after each durable transition (see runner::subscribe).
    std::uint64_t subscribe(std::function<void(const transition_event&)> callback);
    void unsubscribe(std::uint64_t id);

    // Everything else (the end system's inbox: peek/pop/take; pause/resume; retry; lists;
    // stats) is on the runner.
    runner& core() noexcept { return *runner_; }
    const daemon_config& config() const noexcept { return config_; }
    // The Service Registry lookup behind GET /api/capabilities (admin_daemon.hpp); null when
    // every port was replaced.
    const capabilities_lookup& capabilities() const noexcept { return capabilities_; }

private:
    engine(daemon_config config, std::unique_ptr<runner> r, std::shared_ptr<network> net);

    daemon_config config_;
    std::unique_ptr<runner> runner_;
    std::shared_ptr<network> network_; // null when every port was replaced
    capabilities_lookup capabilities_;
};

} // namespace kurer::engine

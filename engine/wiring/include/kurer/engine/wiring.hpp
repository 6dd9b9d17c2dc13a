// The engine's ports over the real adapters: Maskinporten tokens, Service Registry lookups, DPO
// packing and the Altinn broker, built from a daemon_config.
//
//   auto wired = kurer::engine::wire(config).value();   // loads the certificate and key once
//   auto runner = kurer::engine::runner::open(config.runner, wired.ports).value();
//   ... runner->start(); ... runner->stop();
//   wired.network->stop();                              // after the runner has stopped
//
// The HTTP adapters run on the network's own io_context (config.runner.io_threads threads):
// every port call hops there and its result comes back to the caller's executor, so the
// adapters never share threads with the runner's actors and outlive them cleanly. The packer is
// synchronous (the runner calls it on its worker pool).
//
// Each port reports every adapter call (duration, bytes, success) to `observer` when one is
// given; the metrics registry hooks in there.
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/engine/daemon_config.hpp>
#include <kurer/engine/ports.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

namespace kurer::engine {

// One finished adapter call, as the metrics see it.
struct adapter_call {
    std::string_view adapter;   // "maskinporten", "service_registry", "dpo", "altinn2", "altinn3"
    std::string_view operation; // "token", "resolve", "pack", "pack_status", "open", "initiate", ...
    std::chrono::nanoseconds duration{};
    std::uint64_t bytes = 0; // package bytes written or moved, where that applies
    bool ok = false;
};
using adapter_observer = std::function<void(const adapter_call&)>;

// The HTTP side of the wiring: an io_context with its threads, the HTTPS client, the token
// provider and the Service Registry client. Shared by the ports that use it.
class network {
public:
    virtual ~network() = default;
    // Stops the threads after closing idle connections. Call it after the runner has stopped;
    // port calls made later fail with a retryable error. Idempotent.
    virtual void stop() = 0;
    virtual boost::asio::any_io_executor executor() = 0;
};

struct wiring_options {
    adapter_observer observer;
    // Replaces the broker the config names (tests, and embedders with their own transport).
    std::shared_ptr<broker_port> broker;
};

struct wired {
    engine::ports ports;
    std::shared_ptr<engine::network> network;
    // The receiver's service records from the Service Registry (GET /api/capabilities).
    capabilities_lookup capabilities;
};

// Loads the certificate and key (errors name the `certificate`/`private_key` field), checks
// that the certificate is the organisation's, prepares the package directories (removing what a
// killed pack or decrypt left behind) and builds every port. Nothing is sent yet.
result<wired> wire(const daemon_config& config, wiring_options options = {});

// The packer alone (no network): for tools and tests. Prepares nothing on disk.
result<std::shared_ptr<packer_port>> make_dpo_packer(const daemon_config& config,
                                                     adapter_observer observer = {});

// Removes the leftovers of killed packs and decrypts under `data_dir`'s package directories;
// returns how many it removed. wire() calls it.
result<std::size_t> clean_package_directories(const std::filesystem::path& data_dir);

} // namespace kurer::engine

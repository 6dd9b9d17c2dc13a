// The wiring's insides: the network (io_context, HTTPS client, token provider, SR client) and
// the ports built on it. Internal to engine/.
#pragma once

#include <kurer/dpo/keys.hpp>
#include <kurer/dpo/trust.hpp>
#include <kurer/engine/wiring.hpp>
#include <kurer/http/client.hpp>
#include <kurer/maskinporten/token_provider.hpp>
#include <kurer/service_registry/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

namespace kurer::engine::wiring_detail {

namespace asio = boost::asio;

class network_impl final : public network {
public:
    network_impl(unsigned threads, adapter_observer observer);
    ~network_impl() override;

    void stop() override;
    asio::any_io_executor executor() override { return io.get_executor(); }
    bool stopped() const noexcept { return stopped_; }

    // Runs `op` on this network's io_context and resumes the caller on its own executor with
    // the result. After stop() the result is a retryable "stopped" error.
    template <class T>
    asio::awaitable<result<T>> run(asio::awaitable<result<T>> op) {
        if (stopped_)
            co_return stopped_error();
        auto r = co_await asio::co_spawn(io, std::move(op), asio::use_awaitable);
        co_return r;
    }

    void observe(std::string_view adapter, std::string_view operation,
                 std::chrono::steady_clock::time_point began, std::uint64_t bytes, bool ok) const;

    static error stopped_error();

    // Declared first: everything below holds its executors and is destroyed before it.
    asio::io_context io;
    asio::thread_pool blocking{2};      // grant signatures, SR signature checks, broker XML and files
    std::shared_ptr<http::client> http; // shared with the broker clients
    std::optional<maskinporten::token_provider> tokens;
    std::optional<service_registry::client> registry;
    adapter_observer observer;

private:
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
    std::vector<std::thread> threads_;
    std::atomic<bool> stopped_{false};
};

std::shared_ptr<token_port> make_token_port(std::shared_ptr<network_impl> net);
std::shared_ptr<resolver_port> make_resolver_port(std::shared_ptr<network_impl> net);
capabilities_lookup make_capabilities_lookup(std::shared_ptr<network_impl> net);

struct packer_settings {
    dpo::identity identity;
    std::string organization;
    signature_digest digest = signature_digest::sha256;
    bool altinn2_manifest = false; // Altinn 2 mode writes the broker's manifest.xml and recipients.xml
    adapter_observer observer;
    // Whom incoming packages are believed from (absent: no signed package is accepted).
    std::optional<dpo::trust_anchors> anchors{};
    dpo::signing_delegations delegations{};
};
std::shared_ptr<packer_port> make_packer_port(packer_settings settings);

// The broker the config names, over the network's HTTPS client.
result<std::shared_ptr<broker_port>> make_altinn2_broker(std::shared_ptr<network_impl> net,
                                                         const daemon_config& config);
result<std::shared_ptr<broker_port>> make_altinn3_broker(std::shared_ptr<network_impl> net,
                                                         const daemon_config& config);

// Reads the certificate and key files once (errors name the config field).
struct own_keys {
    std::string certificate_pem;
    std::string private_key_pem;
};
result<own_keys> read_own_keys(const daemon_config& config);
result<dpo::identity> load_identity(const daemon_config& config, const own_keys& keys);
// The packer's settings from the config: the identity, and the enterprise CAs (errors name the
// config field).
result<packer_settings> packer_settings_of(const daemon_config& config, dpo::identity id,
                                           adapter_observer observer);

} // namespace kurer::engine::wiring_detail

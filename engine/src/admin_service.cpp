// admin_service: the admin server for `kurer run`, from the daemon config, on its own thread.
#include <kurer/engine/admin_daemon.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <thread>

namespace kurer::engine {

struct admin_service::threads {
    boost::asio::io_context io{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
    std::thread thread;

    void stop() {
        work.reset();
        io.stop();
        if (thread.joinable())
            thread.join();
    }
};

admin_service::admin_service(std::unique_ptr<threads> t, std::unique_ptr<admin_server> s)
    : threads_(std::move(t))
    , server_(std::move(s)) {}

admin_service::~admin_service() {
    stop();
}

void admin_service::stop() {
    if (server_)
        server_->stop();
    if (threads_)
        threads_->stop();
}

result<std::unique_ptr<admin_service>> admin_service::start(engine& e, metrics& registry,
                                                            admin_service_options options) {
    const auto& c = e.config();
    admin_context ctx{.engine = e.core(),
                      .registry = registry,
                      .capabilities = std::move(options.capabilities),
                      .organization = c.runner.organization,
                      .default_process = c.default_process,
                      .default_ttl = c.runner.default_ttl,
                      .message_channel = c.runner.message_channel};
    admin_config config;
    config.socket_path = c.admin_socket;
    config.drafts_dir = c.runner.data_dir / "admin-drafts";
    config.max_file_bytes = c.max_message_bytes;
    config.max_message_bytes = c.max_message_bytes;
    config.max_connections = c.admin.max_connections;
    config.max_event_clients = c.admin.max_event_clients;
    config.first_request_timeout = c.admin.first_request_timeout;
    config.header_timeout = c.admin.header_timeout;
    config.idle_timeout = c.admin.idle_timeout;
    if (c.admin_tcp) {
        admin_tcp_config tcp;
        // The config accepts "localhost"; the listener binds addresses, not names.
        tcp.address = c.admin_tcp->address == "localhost" ? "127.0.0.1" : c.admin_tcp->address;
        tcp.port = c.admin_tcp->port;
        tcp.token_file = c.admin_tcp->token_file;
        tcp.max_connections = c.admin_tcp->max_connections;
        config.tcp = std::move(tcp);
    }
    config.log = options.log ? logger(c.level, options.log) : c.runner.log;
    if (options.tune)
        options.tune(config);

    auto t = std::make_unique<threads>();
    t->thread = std::thread([io = &t->io] { io->run(); });
    auto server = admin_server::start(std::move(ctx), std::move(config), t->io.get_executor());
    if (!server) {
        t->stop();
        return server.error();
    }
    return std::unique_ptr<admin_service>(new admin_service(std::move(t), std::move(*server)));
}

adapter_observer metrics_observer(metrics& m) {
    return [registry = &m](const adapter_call& call) {
        const std::string adapter(call.adapter);
        const std::string operation(call.operation);
        registry
            ->histogram(
                "kurer_adapter_duration_seconds",
                "Time spent in each call to an outside party or the packer, by outcome.",
                {{"adapter", adapter}, {"operation", operation}, {"outcome", call.ok ? "ok" : "failed"}})
            .observe(std::chrono::duration<double>(call.duration).count());
        if (call.ok && call.bytes > 0)
            registry
                ->counter("kurer_adapter_bytes_total",
                          "Package bytes packed, uploaded, downloaded and opened.",
                          {{"adapter", adapter}, {"operation", operation}})
                .inc(static_cast<double>(call.bytes));
    };
}

} // namespace kurer::engine

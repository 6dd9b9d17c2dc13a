#include <kurer/core/files.hpp>
#include <kurer/http/server.hpp>
#include <kurer/sandbox/faults.hpp>
#include <kurer/sandbox/init.hpp>
#include <kurer/sandbox/request_log.hpp>
#include <kurer/sandbox/serve.hpp>
#include <kurer/sandbox/service.hpp>
#include <kurer/sandbox/settings.hpp>
#include <kurer/sandbox/token_authority.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>

#include <botan/data_src.h>
#include <botan/pkcs8.h>

#include <csignal>
#include <iostream>

namespace kurer::sandbox {
namespace {

namespace json = boost::json;
using boost::beast::http::verb;
using asio_void = boost::asio::awaitable<void>;

class sandbox_context final : public context {
public:
    sandbox_context(std::filesystem::path dir, state st, boost::asio::any_io_executor io,
                    boost::asio::any_io_executor pool, bool verbose)
        : dir_(std::move(dir))
        , state_(std::move(st))
        , io_(std::move(io))
        , pool_(std::move(pool))
        , log_(logger(verbose ? log_level::debug : log_level::info).component("sandbox")) {}

    const std::filesystem::path& dir() const override { return dir_; }
    const state& current_state() const override { return state_; }
    std::string base_url() const override { return sandbox::base_url(port_); }
    token_authority& authority() override { return *authority_; }
    settings& switches() override { return settings_; }
    std::chrono::system_clock::time_point now() const override {
        return std::chrono::system_clock::now() + settings_.clock_skew;
    }
    boost::asio::any_io_executor executor() const override { return io_; }
    boost::asio::any_io_executor blocking() const override { return pool_; }
    void log(log_level level, std::string_view message) override { log_(level, message); }

    void set_port(std::uint16_t port) { port_ = port; }
    void set_authority(std::unique_ptr<token_authority> a) { authority_ = std::move(a); }

private:
    std::filesystem::path dir_;
    state state_;
    boost::asio::any_io_executor io_;
    boost::asio::any_io_executor pool_;
    logger log_;
    std::uint16_t port_ = 0;
    std::unique_ptr<token_authority> authority_;
    settings settings_;
};

void add_control_routes(http::router& r, sandbox_context& ctx, fault_injector& faults, request_log& log,
                        const std::vector<std::unique_ptr<service>>& services) {
    json::array names;
    for (const auto& s : services)
        names.emplace_back(s->name());
    r.add(verb::get, "/sandbox/health", [names](http::exchange ex) -> asio_void {
        const json::object health{{"status", "ok"}, {"services", names}};
        co_await ex.send(http::reply::json(200, json::serialize(health)));
    });
    r.add(verb::get, "/sandbox/faults", [&faults](http::exchange ex) -> asio_void {
        const json::object rules{{"rules", faults.list()}};
        co_await ex.send(http::reply::json(200, json::serialize(rules)));
    });
    r.add(verb::post, "/sandbox/faults", [&faults](http::exchange ex) -> asio_void {
        auto body = co_await ex.read_body(1 << 20);
        boost::system::error_code ec;
        const auto v = body ? json::parse(*body, ec) : json::value();
        if (!body || ec) {
            co_await ex.send(http::reply::json(400, R"({"error":"expected a JSON fault rule"})"));
            co_return;
        }
        json::object answer;
        unsigned status = 200;
        if (auto added = faults.add(v); !added) {
            answer["error"] = added.error().message;
            status = 400;
        } else {
            answer["rules"] = faults.list();
        }
        co_await ex.send(http::reply::json(status, json::serialize(answer)));
    });
    r.add(verb::delete_, "/sandbox/faults", [&faults](http::exchange ex) -> asio_void {
        faults.clear();
        co_await ex.send(http::reply::json(200, R"({"rules":[]})"));
    });
    r.add(verb::get, "/sandbox/settings", [&ctx](http::exchange ex) -> asio_void {
        co_await ex.send(http::reply::json(200, json::serialize(ctx.switches().to_json())));
    });
    r.add(verb::post, "/sandbox/settings", [&ctx](http::exchange ex) -> asio_void {
        auto body = co_await ex.read_body(1 << 20);
        boost::system::error_code ec;
        const auto v = body ? json::parse(*body, ec) : json::value();
        if (!body || ec || !v.is_object()) {
            co_await ex.send(http::reply::json(400, R"({"error":"expected a JSON object of settings"})"));
            co_return;
        }
        json::object answer;
        unsigned status = 200;
        if (auto applied = ctx.switches().apply(v.as_object()); !applied) {
            answer["error"] = applied.error().message;
            status = 400;
        } else {
            answer = ctx.switches().to_json();
        }
        co_await ex.send(http::reply::json(status, json::serialize(answer)));
    });
    r.add(verb::get, "/sandbox/stats", [&log](http::exchange ex) -> asio_void {
        const json::object counts{{"requests", log.counts()}};
        co_await ex.send(http::reply::json(200, json::serialize(counts)));
    });
    r.add(verb::delete_, "/sandbox/stats", [&log](http::exchange ex) -> asio_void {
        log.reset_counts();
        co_await ex.send(http::reply::json(200, R"({"requests":{}})"));
    });
}

} // namespace

int serve(const std::filesystem::path& dir, const serve_options& options, std::ostream& ready_out) {
    const auto fail = [](const std::string& message) {
        std::cerr << "kurer-sandbox: " << message << "\n";
        return 1;
    };
    auto st = load_state(dir);
    if (!st)
        return fail(st.error().message);
    std::signal(SIGPIPE, SIG_IGN);

    boost::asio::io_context io(1);
    boost::asio::thread_pool pool(2);
    sandbox_context ctx(dir, *st, io.get_executor(), pool.get_executor(), options.verbose);

    for (const auto& s : options.settings) {
        boost::system::error_code ec;
        const auto v = json::parse(s, ec);
        if (ec || !v.is_object())
            return fail("--set " + s + ": expected a JSON object");
        if (auto r = ctx.switches().apply(v.as_object()); !r)
            return fail("--set: " + r.error().message);
    }
    fault_injector faults(io.get_executor());
    for (const auto& f : options.faults) {
        boost::system::error_code ec;
        const auto v = json::parse(f, ec);
        if (ec)
            return fail("--fault " + f + ": not JSON");
        if (auto r = faults.add(v); !r)
            return fail("--fault: " + r.error().message);
    }
    auto log = request_log::open(dir / "requests.jsonl");
    if (!log)
        return fail(log.error().message);

    auto key_pem = read_small_file(dir / st->maskinporten_signing_key, 1 << 20);
    if (!key_pem)
        return fail(key_pem.error().message);
    std::shared_ptr<const Botan::Private_Key> mp_key;
    try {
        Botan::DataSource_Memory source(*key_pem);
        mp_key = std::shared_ptr<const Botan::Private_Key>(Botan::PKCS8::load_key(source));
    } catch (const std::exception& e) {
        return fail("cannot load the Maskinporten signing key: " + std::string(e.what()));
    }

    http::router router;
    router.use((*log)->middleware());
    router.use(faults.middleware());
    auto services = make_services();
    for (auto& s : services)
        s->register_routes(router, ctx);
    add_control_routes(router, ctx, faults, **log, services);

    auto tls = http::make_server_tls(dir / st->server_certificate, dir / st->server_private_key);
    if (!tls)
        return fail(tls.error().message);
    http::server_config server_config;
    server_config.max_body_bytes = 64 * 1024 * 1024;
    http::server server(io.get_executor(), std::move(router), server_config);
    auto endpoint = server.listen_tls({boost::asio::ip::make_address("127.0.0.1"), st->port}, **tls);
    if (!endpoint)
        return fail(endpoint.error().message);
    const auto port = endpoint->port();
    ctx.set_port(port);
    ctx.set_authority(std::make_unique<token_authority>(base_url(port) + "/", mp_key));
    if (st->port == 0)
        if (auto r = write_kurer_configs(dir, *st, port); !r)
            return fail(r.error().message);

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (ec)
            return;
        ctx.log(log_level::info, "stopping");
        server.stop();
        io.stop();
    });
    ready_out << "ready " << base_url(port) << std::endl;
    ctx.log(log_level::info, "serving " + base_url(port) + " from " + dir.string());
    io.run();
    pool.join();
    return 0;
}

} // namespace kurer::sandbox

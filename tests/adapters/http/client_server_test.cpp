// The HTTPS client against the server toolkit over real TLS on loopback.
#include "run.hpp"

#include <kurer/http/client.hpp>
#include <kurer/http/range.hpp>
#include <kurer/http/server.hpp>
#include <kurer/sandbox/pki.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <fstream>
#include <sstream>

namespace asio = boost::asio;
namespace http = kurer::http;
using namespace std::chrono_literals;
using asio::awaitable;
using asio::use_awaitable;

namespace {

// A CA, a server certificate for 127.0.0.1 only (so "localhost" does not match it), and a
// server with a few routes.
struct fixture {
    kurer::testing::scratch_dir dir;
    asio::io_context io;
    std::shared_ptr<asio::ssl::context> tls;
    std::unique_ptr<http::server> server;
    asio::ip::tcp::endpoint endpoint;
    std::atomic<int> in_flight{0};
    std::atomic<int> max_in_flight{0};
    std::atomic<int> parked{0};
    std::atomic<bool> release{false};
    std::vector<std::string> log_lines;

    static const kurer::sandbox::certificate_authority& ca() {
        static const auto instance = kurer::sandbox::certificate_authority::create("kurer test CA");
        return instance;
    }
    static const kurer::sandbox::issued& server_certificate() {
        static const auto instance = ca().issue({.common_name = "127.0.0.1",
                                                 .organization = "kurer test",
                                                 .ip_address = "127.0.0.1",
                                                 .usage = kurer::sandbox::key_usage::digital_signature |
                                                          kurer::sandbox::key_usage::key_encipherment,
                                                 .server_auth = true});
        return instance;
    }

    explicit fixture(http::server_config cfg = {}) {
        write(dir / "ca.pem", ca().certificate_pem());
        write(dir / "server.pem", server_certificate().certificate_pem);
        write(dir / "server.key", server_certificate().private_key_pem);
        tls = http::make_server_tls(dir / "server.pem", dir / "server.key").value();
        cfg.log = [this](kurer::log_level, std::string_view line) {
            log_lines.emplace_back(line);
        };
        server = std::make_unique<http::server>(io.get_executor(), routes(), cfg);
        endpoint = server->listen_tls({asio::ip::make_address("127.0.0.1"), 0}, *tls).value();
    }

    static void write(const std::filesystem::path& p, std::string_view s) {
        std::ofstream(p, std::ios::binary) << s;
    }

    std::string url(std::string_view path) const {
        return "https://127.0.0.1:" + std::to_string(endpoint.port()) + std::string(path);
    }

    http::client make_client(http::client_config cfg = {}) {
        cfg.ca_bundle = dir / "ca.pem";
        return http::client::create(io.get_executor(), cfg).value();
    }

    http::router routes() {
        http::router r;
        r.add(http::verb::get, "/hello/{name}", [](http::exchange ex) -> awaitable<void> {
            co_await ex.send(http::reply::text(200, "hello " + ex.param("name") + " " +
                                                        ex.query("greeting").value_or("-")));
        });
        r.add(http::verb::post, "/echo", [](http::exchange ex) -> awaitable<void> {
            auto body = co_await ex.read_body(1024 * 1024);
            if (!body) {
                co_await ex.send(http::reply::text(413, body.error().message));
                co_return;
            }
            co_await ex.send(http::reply::text(200, *body, ex.header("Content-Type")));
        });
        r.add(http::verb::get, "/files/{rest*}", [this](http::exchange ex) -> awaitable<void> {
            co_await ex.send_file(dir / ex.param("rest"), "application/octet-stream");
        });
        r.add(http::verb::put, "/files/{name}", [this](http::exchange ex) -> awaitable<void> {
            auto n = co_await ex.read_body_to_file(dir / ("received-" + ex.param("name")));
            if (!n) {
                co_await ex.send(http::reply::text(500, n.error().message));
                co_return;
            }
            co_await ex.send(http::reply::text(200, std::to_string(*n)));
        });
        r.add(http::verb::get, "/status/{code}", [](http::exchange ex) -> awaitable<void> {
            co_await ex.send(
                http::reply::text(static_cast<unsigned>(std::stoi(ex.param("code"))), "as you wish"));
        });
        r.add(http::verb::get, "/park", [this](http::exchange ex) -> awaitable<void> {
            const int now = ++in_flight;
            int seen = max_in_flight.load();
            while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
            }
            ++parked;
            asio::steady_timer t(co_await asio::this_coro::executor);
            while (!release) {
                t.expires_after(5ms);
                co_await t.async_wait(use_awaitable);
            }
            --in_flight;
            co_await ex.send(http::reply::text(200, "released"));
        });
        r.add(http::verb::get, "/silent", [](http::exchange ex) -> awaitable<void> {
            asio::steady_timer t(co_await asio::this_coro::executor, 30s);
            auto [ec] = co_await t.async_wait(asio::as_tuple(use_awaitable));
            (void)ec;
            co_await ex.send(http::reply::text(200, "too late"));
        });
        r.add(http::verb::get, "/reset", [](http::exchange ex) -> awaitable<void> {
            ex.reset_connection_after(200);
            co_await ex.send(http::reply::text(200, std::string(1 << 20, 'x')));
        });
        r.add(http::verb::get, "/stream", [](http::exchange ex) -> awaitable<void> {
            http::fields h;
            h.set("Content-Type", "text/event-stream");
            if (!co_await ex.start_chunked(200, h))
                co_return;
            for (const char* part : {"one\n", "two\n", "three\n"})
                if (!co_await ex.write_chunk(part))
                    co_return;
            co_await ex.finish_chunked();
        });
        r.add(http::verb::get, "/throws", [](http::exchange) -> awaitable<void> {
            throw std::runtime_error("handler bug");
            co_return;
        });
        return r;
    }

    // Waits (running the io_context) until `done()` holds, up to `limit`.
    template <class Pred>
    bool wait_until(Pred done, std::chrono::milliseconds limit = 5s) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        io.restart();
        while (!done()) {
            if (std::chrono::steady_clock::now() >= deadline)
                return false;
            io.run_one_for(10ms);
        }
        return true;
    }
};

http::request get(std::string url) {
    http::request r;
    r.url = std::move(url);
    return r;
}

void write_pattern_file(const std::filesystem::path& p, std::uint64_t size) {
    std::ofstream out(p, std::ios::binary);
    std::string block(1 << 20, '\0');
    std::uint64_t x = 0x9e3779b97f4a7c15ull;
    for (std::uint64_t written = 0; written < size;) {
        for (auto& c : block) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            c = static_cast<char>(x);
        }
        const auto n = std::min<std::uint64_t>(block.size(), size - written);
        out.write(block.data(), static_cast<std::streamsize>(n));
        written += n;
    }
}

bool same_files(const std::filesystem::path& a, const std::filesystem::path& b) {
    std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
    std::string ba(1 << 20, '\0'), bb(1 << 20, '\0');
    for (;;) {
        fa.read(ba.data(), static_cast<std::streamsize>(ba.size()));
        fb.read(bb.data(), static_cast<std::streamsize>(bb.size()));
        if (fa.gcount() != fb.gcount())
            return false;
        if (fa.gcount() == 0)
            return true;
        if (std::memcmp(ba.data(), bb.data(), static_cast<std::size_t>(fa.gcount())) != 0)
            return false;
    }
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Peak resident memory since the last reset, in bytes.
std::uint64_t peak_rss() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0)
            return std::stoull(line.substr(6)) * 1024;
    return 0;
}
void reset_peak_rss() {
    std::ofstream("/proc/self/clear_refs") << "5";
}

} // namespace

BOOST_AUTO_TEST_SUITE(client_server)

BOOST_AUTO_TEST_CASE(routes_parameters_queries_and_unknown_paths) {
    fixture f;
    auto c = f.make_client();
    auto r = kurer::test::run(f.io, c.send(get(f.url("/hello/w%C3%B8rld?greeting=hei%20der"))));
    BOOST_TEST_REQUIRE(r.has_value(), r.error().message);
    BOOST_TEST(r->status == 200u);
    BOOST_TEST(r->body == "hello w\xc3\xb8rld hei der");

    auto missing = kurer::test::run(f.io, c.send(get(f.url("/nothing/here"))));
    BOOST_TEST_REQUIRE(missing.has_value());
    BOOST_TEST(missing->status == 404u);

    http::request del = get(f.url("/echo"));
    del.method = http::verb::delete_;
    auto wrong = kurer::test::run(f.io, c.send(std::move(del)));
    BOOST_TEST_REQUIRE(wrong.has_value());
    BOOST_TEST(wrong->status == 405u);
    BOOST_TEST(wrong->header("Allow") == "POST");
}

BOOST_AUTO_TEST_CASE(keeps_connections_alive_and_reuses_them) {
    fixture f;
    auto c = f.make_client();
    for (int i = 0; i < 5; ++i) {
        http::request post = get(f.url("/echo"));
        post.method = http::verb::post;
        post.body = http::body_source::from_string("message " + std::to_string(i));
        auto r = kurer::test::run(f.io, c.send(std::move(post)));
        BOOST_TEST_REQUIRE(r.has_value(), r.error().message);
        BOOST_TEST(r->body == "message " + std::to_string(i));
        BOOST_TEST(r->reused_connection == (i > 0));
    }
    BOOST_TEST(c.stats().connections_opened == 1u);
    BOOST_TEST(c.stats().reused == 4u);
    BOOST_TEST(f.server->connections_accepted() == 1u);
}

BOOST_AUTO_TEST_CASE(bounds_connections_per_host_and_queues_the_rest) {
    fixture f;
    auto c = f.make_client({.max_connections_per_host = 2});
    constexpr int requests = 8;
    std::atomic<int> ok{0};
    for (int i = 0; i < requests; ++i)
        asio::co_spawn(f.io, c.send(get(f.url("/park"))),
                       [&](std::exception_ptr e, kurer::result<http::response> r) {
                           if (!e && r && r->status == 200)
                               ++ok;
                       });
    // Two requests reach the server; the others wait for a connection.
    BOOST_TEST_REQUIRE(f.wait_until([&] { return f.parked == 2; }));
    BOOST_TEST(c.stats().open_connections == 2u);
    f.release = true;
    BOOST_TEST_REQUIRE(f.wait_until([&] { return ok == requests; }));
    BOOST_TEST(f.max_in_flight <= 2);
    BOOST_TEST(f.server->connections_accepted() == 2u);
    BOOST_TEST(c.stats().connections_opened == 2u);
}

BOOST_AUTO_TEST_CASE(closes_idle_connections_after_the_idle_timeout) {
    fixture f;
    auto c = f.make_client({.idle_timeout = 200ms});
    auto r = kurer::test::run(f.io, c.send(get(f.url("/hello/a"))));
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(c.stats().idle_connections == 1u);
    BOOST_TEST(
        f.wait_until([&] { return c.stats().open_connections == 0 && f.server->active_connections() == 0; }));
    auto again = kurer::test::run(f.io, c.send(get(f.url("/hello/b"))));
    BOOST_TEST_REQUIRE(again.has_value());
    BOOST_TEST(!again->reused_connection);
    BOOST_TEST(c.stats().connections_opened == 2u);
}

BOOST_AUTO_TEST_CASE(a_connection_the_server_closed_is_replaced_transparently) {
    fixture f({.keep_alive_timeout = 100ms});
    auto c = f.make_client();
    BOOST_TEST_REQUIRE(kurer::test::run(f.io, c.send(get(f.url("/hello/a")))).has_value());
    BOOST_TEST_REQUIRE(f.wait_until([&] { return f.server->active_connections() == 0; }));
    auto r = kurer::test::run(f.io, c.send(get(f.url("/hello/b"))));
    BOOST_TEST_REQUIRE(r.has_value(), r.error().message);
    BOOST_TEST(r->body == "hello b -");
    BOOST_TEST(c.stats().connections_opened == 2u);
}

BOOST_AUTO_TEST_CASE(host_name_mismatch_is_a_permanent_certificate_error) {
    fixture f;
    auto c = f.make_client();
    auto r = kurer::test::run(
        f.io, c.send(get("https://localhost:" + std::to_string(f.endpoint.port()) + "/hello/a")));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == make_error_code(http::errc::certificate_rejected));
    BOOST_TEST(!r.error().retryable);
    BOOST_TEST(r.error().message.find("hostname mismatch") != std::string::npos, r.error().message);
}

BOOST_AUTO_TEST_CASE(an_untrusted_certificate_is_a_permanent_error) {
    fixture f;
    kurer::testing::scratch_dir other;
    const auto stranger = kurer::sandbox::certificate_authority::create("someone else");
    fixture::write(other / "ca.pem", stranger.certificate_pem());
    auto c = http::client::create(f.io.get_executor(), {.ca_bundle = other / "ca.pem"}).value();
    auto r = kurer::test::run(f.io, c.send(get(f.url("/hello/a"))));
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == make_error_code(http::errc::certificate_rejected));
    BOOST_TEST(!r.error().retryable);
}

BOOST_AUTO_TEST_CASE(plain_http_and_malformed_urls_are_refused_before_any_io) {
    fixture f;
    auto c = f.make_client();
    for (const char* u : {"http://127.0.0.1:1/", "not a url"}) {
        auto r = kurer::test::run(f.io, c.send(get(u)));
        BOOST_TEST_REQUIRE(r.has_error());
        BOOST_TEST(r.error().code == make_error_code(http::errc::invalid_request));
    }
    BOOST_TEST(c.stats().connections_opened == 0u);
}

BOOST_AUTO_TEST_CASE(statuses_classify_as_retryable_or_permanent) {
    fixture f;
    auto c = f.make_client();
    for (auto [code, retryable] :
         {std::pair{503, true}, {500, true}, {429, true}, {404, false}, {400, false}}) {
        auto r = kurer::test::run(f.io, c.send(get(f.url("/status/" + std::to_string(code)))));
        BOOST_TEST_REQUIRE(r.has_value());
        BOOST_TEST(r->status == static_cast<unsigned>(code));
        const auto e = http::status_error(*r, "test call");
        BOOST_TEST(e.retryable == retryable, code);
        BOOST_TEST(e.message.find(std::to_string(code)) != std::string::npos);
        BOOST_TEST(e.message.find("as you wish") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(transport_failures_are_retryable) {
    fixture f;
    auto c = f.make_client({.request_timeout = 300ms});
    auto slow = kurer::test::run(f.io, c.send(get(f.url("/silent"))));
    BOOST_TEST_REQUIRE(slow.has_error());
    BOOST_TEST(slow.error().code == make_error_code(http::errc::timeout));
    BOOST_TEST(slow.error().retryable);

    auto reset = kurer::test::run(f.io, c.send(get(f.url("/reset"))));
    BOOST_TEST_REQUIRE(reset.has_error());
    BOOST_TEST(reset.error().code == make_error_code(http::errc::connection_lost), reset.error().message);
    BOOST_TEST(reset.error().retryable);

    // Nobody listens on the port of a stopped server.
    const auto port = f.endpoint.port();
    f.server->stop();
    f.wait_until([&] { return f.server->active_connections() == 0; });
    auto refused = kurer::test::run(f.io, c.send(get("https://127.0.0.1:" + std::to_string(port) + "/")));
    BOOST_TEST_REQUIRE(refused.has_error());
    BOOST_TEST(refused.error().code == make_error_code(http::errc::connect_failed), refused.error().message);
    BOOST_TEST(refused.error().retryable);
}

BOOST_AUTO_TEST_CASE(a_cancelled_request_returns_at_once_and_drops_its_connection) {
    using namespace asio::experimental::awaitable_operators;
    fixture f;
    auto c = f.make_client(); // request_timeout 30 s: only the cancellation can end this early
    auto race = [&c, &f]() -> awaitable<bool> {
        asio::steady_timer t(co_await asio::this_coro::executor, 100ms);
        auto request = get(f.url("/silent"));
        auto r = co_await (c.send(std::move(request)) || t.async_wait(use_awaitable));
        co_return r.index() == 1;
    };
    const auto started = std::chrono::steady_clock::now();
    BOOST_TEST(kurer::test::run(f.io, race(), 5s));
    BOOST_TEST((std::chrono::steady_clock::now() - started < 5s));
    BOOST_TEST(f.wait_until([&] { return c.stats().open_connections == 0; }));
    // The client is still usable.
    auto ok = kurer::test::run(f.io, c.send(get(f.url("/hello/after"))));
    BOOST_TEST_REQUIRE(ok.has_value(), ok.error().message);
    BOOST_TEST(!ok->reused_connection);
}

BOOST_AUTO_TEST_CASE(a_failing_session_does_not_stop_the_listener) {
    fixture f;
    // Plain text on the TLS port, then a handler that throws.
    asio::ip::tcp::socket raw(f.io);
    raw.connect(f.endpoint);
    asio::write(raw, asio::buffer(std::string_view("GET / HTTP/1.1\r\n\r\n")));
    auto c = f.make_client();
    auto r = kurer::test::run(f.io, c.send(get(f.url("/throws"))));
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->status == 500u);
    auto ok = kurer::test::run(f.io, c.send(get(f.url("/hello/again"))));
    BOOST_TEST_REQUIRE(ok.has_value());
    BOOST_TEST(ok->status == 200u);
    bool logged = false;
    for (const auto& line : f.log_lines)
        logged = logged || line.find("handler bug") != std::string::npos;
    BOOST_TEST(logged);
}

// The TLS listener's slots: a connection stuck before its handshake is idle and makes room for a
// working client; when the only slot is busy, a new connection is closed at once.
BOOST_AUTO_TEST_CASE(a_tls_connection_that_never_shakes_hands_is_shed_and_a_busy_listener_refuses_at_once) {
    fixture f({.max_connections = 1});
    asio::ip::tcp::socket mute(f.io);
    mute.connect(f.endpoint);
    BOOST_TEST_REQUIRE(f.wait_until([&] { return f.server->listeners().at(0).open == 1u; }));
    auto c = f.make_client();
    auto r = kurer::test::run(f.io, c.send(get(f.url("/hello/tls"))));
    BOOST_TEST_REQUIRE(r.has_value(), r.error().message);
    BOOST_TEST(r->status == 200u);
    BOOST_TEST(f.server->listeners().at(0).shed == 1u);

    std::atomic<bool> answered{false};
    asio::co_spawn(f.io, c.send(get(f.url("/park"))),
                   [&](std::exception_ptr e, kurer::result<http::response> a) {
                       answered = !e && a && a->status == 200;
                   });
    BOOST_TEST_REQUIRE(f.wait_until([&] { return f.parked == 1; }));
    auto other = f.make_client();
    const auto started = std::chrono::steady_clock::now();
    auto refused = kurer::test::run(f.io, other.send(get(f.url("/hello/refused"))));
    BOOST_TEST(refused.has_error());
    BOOST_TEST((std::chrono::steady_clock::now() - started < 2s));
    BOOST_TEST(f.server->listeners().at(0).refused >= 1u);
    f.release = true;
    BOOST_TEST(f.wait_until([&] { return answered.load(); }), "the busy request was not disturbed");
}

BOOST_AUTO_TEST_CASE(request_bodies_mix_memory_and_file_ranges_and_may_be_chunked) {
    fixture f;
    fixture::write(f.dir / "part.bin", "0123456789");
    auto c = f.make_client();
    for (bool chunked : {false, true}) {
        http::request post = get(f.url("/echo"));
        post.method = http::verb::post;
        post.body.append("<head>").append_file(f.dir / "part.bin", 2, 5).append("<tail>").chunked(chunked);
        auto r = kurer::test::run(f.io, c.send(std::move(post)));
        BOOST_TEST_REQUIRE(r.has_value(), r.error().message);
        BOOST_TEST(r->body == "<head>23456<tail>");
    }
    // A generator of unknown length goes chunked.
    int calls = 0;
    http::request gen = get(f.url("/echo"));
    gen.method = http::verb::post;
    gen.body = http::body_source::from_generator([&calls](std::span<char> buf) -> kurer::result<std::size_t> {
        if (calls++ == 3)
            return std::size_t{0};
        buf[0] = static_cast<char>('a' + calls);
        return std::size_t{1};
    });
    auto r = kurer::test::run(f.io, c.send(std::move(gen)));
    BOOST_TEST_REQUIRE(r.has_value(), r.error().message);
    BOOST_TEST(r->body == "bcd");
    // A missing file fails before anything is sent.
    http::request bad = get(f.url("/echo"));
    bad.method = http::verb::post;
    bad.body = http::body_source::from_file(f.dir / "absent.bin");
    auto e = kurer::test::run(f.io, c.send(std::move(bad)));
    BOOST_TEST_REQUIRE(e.has_error());
    BOOST_TEST(e.error().code == make_error_code(http::errc::body_source_failed));
}

BOOST_AUTO_TEST_CASE(limits_refuse_oversized_bodies) {
    fixture f;
    auto c = f.make_client({.max_response_bytes = 1000});
    http::request post = get(f.url("/echo"));
    post.method = http::verb::post;
    post.body = http::body_source::from_string(std::string(2 * 1024 * 1024, 'b'));
    auto refused = kurer::test::run(f.io, c.send(std::move(post)));
    BOOST_TEST_REQUIRE(refused.has_value(), refused.error().message);
    BOOST_TEST(refused->status == 413u);

    http::request big = get(f.url("/echo"));
    big.method = http::verb::post;
    big.body = http::body_source::from_string(std::string(5000, 'c'));
    auto too_large = kurer::test::run(f.io, c.send(std::move(big)));
    BOOST_TEST_REQUIRE(too_large.has_error());
    BOOST_TEST(too_large.error().code == make_error_code(http::errc::message_too_large));
    BOOST_TEST(!too_large.error().retryable);
}

BOOST_AUTO_TEST_CASE(files_are_served_with_ranges_and_downloads_resume) {
    fixture f;
    std::string content;
    for (int i = 0; i < 1000; ++i)
        content += std::to_string(i) + ",";
    fixture::write(f.dir / "data.bin", content);
    auto c = f.make_client();

    http::request part = get(f.url("/files/data.bin"));
    part.headers.set("Range", "bytes=10-19");
    auto r = kurer::test::run(f.io, c.send(std::move(part)));
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->status == 206u);
    BOOST_TEST(r->body == content.substr(10, 10));
    BOOST_TEST(r->header("Content-Range") == "bytes 10-19/" + std::to_string(content.size()));

    http::request beyond = get(f.url("/files/data.bin"));
    beyond.headers.set("Range", "bytes=999999-");
    auto unsatisfiable = kurer::test::run(f.io, c.send(std::move(beyond)));
    BOOST_TEST_REQUIRE(unsatisfiable.has_value());
    BOOST_TEST(unsatisfiable->status == 416u);

    // Resume: the first 100 bytes are already on disk.
    fixture::write(f.dir / "download.bin", content.substr(0, 100));
    http::request rest = get(f.url("/files/data.bin"));
    rest.headers.set("Range", http::range_from(100));
    rest.sink = http::file_sink{f.dir / "download.bin", true};
    auto resumed = kurer::test::run(f.io, c.send(std::move(rest)));
    BOOST_TEST_REQUIRE(resumed.has_value(), resumed.error().message);
    BOOST_TEST(resumed->status == 206u);
    BOOST_TEST(read_file(f.dir / "download.bin") == content);

    // An error answer never lands in the file.
    http::request missing = get(f.url("/files/absent.bin"));
    missing.sink = http::file_sink{f.dir / "untouched.bin"};
    auto nf = kurer::test::run(f.io, c.send(std::move(missing)));
    BOOST_TEST_REQUIRE(nf.has_value());
    BOOST_TEST(nf->status == 404u);
    BOOST_TEST(!std::filesystem::exists(f.dir / "untouched.bin"));
    BOOST_TEST(!nf->body.empty());
}

BOOST_AUTO_TEST_CASE(chunked_responses_stream) {
    fixture f;
    auto c = f.make_client();
    auto r = kurer::test::run(f.io, c.send(get(f.url("/stream"))));
    BOOST_TEST_REQUIRE(r.has_value(), r.error().message);
    BOOST_TEST(r->body == "one\ntwo\nthree\n");
    BOOST_TEST(r->header("Transfer-Encoding") == "chunked");
}

BOOST_AUTO_TEST_CASE(serves_plain_http_on_a_unix_socket) {
    fixture f;
    http::router r;
    r.add(http::verb::get, "/api/capabilities/{id}", [](http::exchange ex) -> awaitable<void> {
        co_await ex.send(http::reply::json(200, "{\"id\":\"" + ex.param("id") + "\",\"remote\":\"" +
                                                    ex.remote_address() + "\"}"));
    });
    http::server unix_server(f.io.get_executor(), std::move(r));
    const auto path = f.dir / "admin.sock";
    BOOST_TEST_REQUIRE(unix_server.listen_unix(path).has_value());
    const auto perms = std::filesystem::status(path).permissions();
    BOOST_TEST(((perms & std::filesystem::perms::all) ==
                (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write)));

    auto call = [](std::string p) -> awaitable<std::string> {
        namespace bhttp = boost::beast::http;
        asio::local::stream_protocol::socket s(co_await asio::this_coro::executor);
        co_await s.async_connect(asio::local::stream_protocol::endpoint(p), use_awaitable);
        bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/api/capabilities/910075918", 11};
        req.set(bhttp::field::host, "localhost");
        co_await bhttp::async_write(s, req, use_awaitable);
        boost::beast::flat_buffer buf;
        bhttp::response<bhttp::string_body> res;
        co_await bhttp::async_read(s, buf, res, use_awaitable);
        co_return std::to_string(res.result_int()) + " " + res.body();
    };
    const auto answer = kurer::test::run(f.io, call(path.string()));
    BOOST_TEST(answer == "200 {\"id\":\"910075918\",\"remote\":\"unix\"}");
    unix_server.stop();
}

// Route parameters are percent-decoded; a path whose %-escapes are not two hex digits is refused
// with 400 and the reason, whichever route it would have matched.
BOOST_AUTO_TEST_CASE(path_segments_are_decoded_and_bad_escapes_refused) {
    fixture f;
    http::router r;
    r.add(http::verb::get, "/api/capabilities/{id}", [](http::exchange ex) -> awaitable<void> {
        co_await ex.send(http::reply::text(200, ex.param("id")));
    });
    r.add(http::verb::get, "/files/{rest*}", [](http::exchange ex) -> awaitable<void> {
        co_await ex.send(http::reply::text(200, ex.param("rest")));
    });
    http::server unix_server(f.io.get_executor(), std::move(r));
    const auto path = f.dir / "admin.sock";
    BOOST_TEST_REQUIRE(unix_server.listen_unix(path).has_value());

    auto call = [](std::string p, std::string target) -> awaitable<std::string> {
        namespace bhttp = boost::beast::http;
        asio::local::stream_protocol::socket s(co_await asio::this_coro::executor);
        co_await s.async_connect(asio::local::stream_protocol::endpoint(p), use_awaitable);
        bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target, 11};
        req.set(bhttp::field::host, "localhost");
        co_await bhttp::async_write(s, req, use_awaitable);
        boost::beast::flat_buffer buf;
        bhttp::response<bhttp::string_body> res;
        co_await bhttp::async_read(s, buf, res, use_awaitable);
        co_return std::to_string(res.result_int()) + " " + res.body();
    };
    const auto get_path = [&](std::string target) {
        return kurer::test::run(f.io, call(path.string(), std::move(target)));
    };
    BOOST_TEST(get_path("/api/capabilities/0192%3A910075918") == "200 0192:910075918");
    BOOST_TEST(get_path("/api/capabilities/a+b%20c%2Fd") == "200 a+b c/d");
    BOOST_TEST(get_path("/api%2Fcapabilities/x").starts_with("404 "));
    BOOST_TEST(get_path("/files/a%20b/c%C3%B8") == "200 a b/c\xc3\xb8");
    const auto invalid = get_path("/api/capabilities/%G1");
    BOOST_TEST(invalid.starts_with("400 "), invalid);
    BOOST_TEST(invalid.find("invalid %-escape") != std::string::npos, invalid);
    const auto cut = get_path("/files/a/b%4");
    BOOST_TEST(cut.starts_with("400 "), cut);
    BOOST_TEST(cut.find("truncated %-escape") != std::string::npos, cut);
    BOOST_TEST(get_path("/nowhere/%zz").starts_with("400 "));
    unix_server.stop();
}

// 200 MB up and 200 MB down, streamed from and to files, with memory staying flat.
BOOST_AUTO_TEST_CASE(streams_200_megabytes_both_ways_in_bounded_memory) {
    constexpr std::uint64_t size = 200ull * 1024 * 1024;
    fixture f;
    write_pattern_file(f.dir / "big.bin", size);
    auto c = f.make_client();
    reset_peak_rss();
    const auto before = peak_rss();

    http::request up = get(f.url("/files/big-upload.bin"));
    up.method = http::verb::put;
    up.body = http::body_source::from_file(f.dir / "big.bin");
    auto uploaded = kurer::test::run(f.io, c.send(std::move(up)));
    BOOST_TEST_REQUIRE(uploaded.has_value(), uploaded.error().message);
    BOOST_TEST(uploaded->body == std::to_string(size));

    http::request down = get(f.url("/files/big.bin"));
    down.sink = http::file_sink{f.dir / "big-download.bin"};
    auto downloaded = kurer::test::run(f.io, c.send(std::move(down)));
    BOOST_TEST_REQUIRE(downloaded.has_value(), downloaded.error().message);
    BOOST_TEST(downloaded->body_size == size);
    const auto growth = peak_rss() - before;

    BOOST_TEST(same_files(f.dir / "big.bin", f.dir / "received-big-upload.bin"));
    BOOST_TEST(same_files(f.dir / "big.bin", f.dir / "big-download.bin"));
    BOOST_TEST_MESSAGE("peak RSS growth while moving 2 x 200 MB: " << growth / 1024 << " KiB");
#if !defined(__SANITIZE_ADDRESS__)
    // The allocator quarantine of AddressSanitizer keeps freed buffers; elsewhere memory is flat.
    BOOST_TEST(growth < 32ull * 1024 * 1024);
#endif
}

BOOST_AUTO_TEST_SUITE_END()

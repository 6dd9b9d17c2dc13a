// The server toolkit's connection slots and deadlines, over real sockets on loopback: a new
// connection never waits (an idle one makes room, a busy one is never pushed out, a listener
// whose every connection is busy answers 503 at once), slow request heads are dropped,
// unauthenticated connections are shed first, and each listener has its own limit.
#include <kurer/http/server.hpp>
#include <kurer/testing/paths.hpp>
#include <kurer/testing/raw_socket.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace http = kurer::http;
using kurer::testing::raw_socket;
using namespace std::chrono_literals;
using asio::awaitable;
using clock_type = std::chrono::steady_clock;

namespace {

const std::string hello = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string park = "GET /park HTTP/1.1\r\nHost: x\r\n\r\n";

std::string with_token(std::string_view token) {
    return "GET /hello HTTP/1.1\r\nHost: x\r\nX-Token: " + std::string(token) + "\r\n\r\n";
}

bool starts_with(const std::string& s, std::string_view prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

// A server on its own I/O thread with a TCP listener and a Unix listener, a route that answers
// at once and one that holds its request until released. A request carrying "X-Token: secret"
// authenticates its connection; a wrong token gets a 401.
struct fixture {
    kurer::testing::scratch_dir dir;
    asio::io_context io;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::unique_ptr<http::server> server;
    std::thread thread;
    std::atomic<int> parked{0};
    std::atomic<bool> release{false};
    unsigned short port = 0;
    std::filesystem::path socket;

    explicit fixture(http::server_config config, http::listener_options tcp = {},
                     http::listener_options local = {}) {
        config.log = kurer::logger::silent();
        server = std::make_unique<http::server>(io.get_executor(), routes(), config);
        port = server->listen_plain({asio::ip::make_address("127.0.0.1"), 0}, tcp).value().port();
        socket = dir / "server.sock";
        BOOST_TEST_REQUIRE(
            server
                ->listen_unix(socket,
                              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, local)
                .has_value());
        work.emplace(io.get_executor());
        thread = std::thread([this] { io.run(); });
    }

    ~fixture() {
        release = true;
        server->stop();
        work.reset();
        io.stop();
        thread.join();
    }

    http::router routes() {
        http::router r;
        r.use([](http::exchange ex, http::handler next) -> awaitable<void> {
            const auto token = ex.header("X-Token");
            if (!token.empty()) {
                if (token != "secret") {
                    co_await ex.send(http::reply::text(401, "wrong token\n"));
                    co_return;
                }
                ex.authenticated();
            }
            co_await next(ex);
        });
        r.add(http::verb::get, "/hello", [](http::exchange ex) -> awaitable<void> {
            co_await ex.send(http::reply::text(200, "hello"));
        });
        r.add(http::verb::get, "/park", [this](http::exchange ex) -> awaitable<void> {
            ++parked;
            asio::steady_timer t(co_await asio::this_coro::executor);
            while (!release) {
                t.expires_after(5ms);
                co_await t.async_wait(asio::use_awaitable);
            }
            co_await ex.send(http::reply::text(200, "released"));
        });
        r.add(http::verb::put, "/upload", [](http::exchange ex) -> awaitable<void> {
            auto body = co_await ex.read_body();
            // Named before the co_await: GCC 12 destroys temporaries of a ?: in it twice.
            auto reply = body ? http::reply::text(200, std::to_string(body->size()))
                              : http::reply::text(400, body.error().message);
            co_await ex.send(std::move(reply));
        });
        return r;
    }

    http::listener_stats stats(std::size_t index) const { return server->listeners().at(index); }

    template <class Predicate>
    static bool wait_until(Predicate p, std::chrono::milliseconds limit = 5s) {
        const auto until = clock_type::now() + limit;
        while (!p()) {
            if (clock_type::now() > until)
                return false;
            std::this_thread::sleep_for(5ms);
        }
        return true;
    }
};

// One complete exchange on a new connection.
std::string ask(raw_socket s, const std::string& request = hello) {
    BOOST_TEST_REQUIRE(s.ok());
    BOOST_TEST_REQUIRE(s.send(request));
    return s.read_response(5s);
}

} // namespace

BOOST_AUTO_TEST_SUITE(listeners)

BOOST_AUTO_TEST_CASE(a_full_listener_closes_its_longest_idle_connection_to_let_a_new_one_in) {
    fixture f({.max_connections = 3});
    // Three connections that never send a byte fill the TCP listener, oldest first.
    std::vector<raw_socket> idle;
    for (int i = 0; i < 3; ++i) {
        idle.push_back(raw_socket::tcp(f.port));
        BOOST_TEST_REQUIRE(f.wait_until([&] { return f.stats(0).open == idle.size(); }));
    }
    // A new client is answered at once, and the oldest idle connection made room for it.
    const auto started = clock_type::now();
    BOOST_TEST(starts_with(ask(raw_socket::tcp(f.port)), "HTTP/1.1 200"));
    BOOST_TEST((clock_type::now() - started < 2s));
    BOOST_TEST(idle[0].closed_within(2s), "the longest idle connection was shed");
    BOOST_TEST(!idle[2].closed_within(100ms), "a younger one was not");
    idle.clear();
    BOOST_TEST_REQUIRE(f.wait_until([&] { return f.stats(0).open == 0; }));

    // A kept-alive connection waiting for its next request is idle too: when it has waited
    // longest, it goes before younger connections that have not sent anything yet.
    auto kept = raw_socket::tcp(f.port);
    BOOST_TEST_REQUIRE(kept.send(hello));
    BOOST_TEST_REQUIRE(starts_with(kept.read_response(5s), "HTTP/1.1 200"));
    BOOST_TEST_REQUIRE(f.wait_until([&] { return f.stats(0).busy == 0; }));
    std::this_thread::sleep_for(20ms);
    for (int i = 0; i < 2; ++i)
        idle.push_back(raw_socket::tcp(f.port));
    BOOST_TEST_REQUIRE(f.wait_until([&] { return f.stats(0).open == 3; }));
    BOOST_TEST(starts_with(ask(raw_socket::tcp(f.port)), "HTTP/1.1 200"));
    BOOST_TEST(kept.closed_within(2s));
    BOOST_TEST(!idle[0].closed_within(100ms));
    const auto s = f.stats(0);
    BOOST_TEST(s.open <= 3u);
    BOOST_TEST(s.accepted == 8u);
    BOOST_TEST(s.shed == 2u);
    BOOST_TEST(s.refused == 0u);
    BOOST_TEST(f.stats(1).accepted == 0u, "the Unix listener has its own slots and saw nothing");
}

BOOST_AUTO_TEST_CASE(when_every_connection_is_busy_a_new_one_gets_a_503_at_once_and_busy_ones_are_kept) {
    fixture f({.max_connections = 2});
    std::vector<raw_socket> busy;
    for (int i = 0; i < 2; ++i) {
        busy.push_back(raw_socket::local(f.socket));
        BOOST_TEST_REQUIRE(busy.back().send(park));
    }
    BOOST_TEST_REQUIRE(f.wait_until([&] { return f.parked == 2; }));
    const auto started = clock_type::now();
    const auto refused = ask(raw_socket::local(f.socket));
    BOOST_TEST((clock_type::now() - started < 2s), "refused at once, not kept waiting");
    BOOST_TEST(starts_with(refused, "HTTP/1.1 503"), refused);
    BOOST_TEST(refused.find("Retry-After: 1") != std::string::npos, refused);
    BOOST_TEST(refused.find("every one of the 2 connections") != std::string::npos, refused);
    BOOST_TEST(f.stats(1).refused == 1u);
    // The requests in progress were not disturbed, and once they end the listener serves again.
    f.release = true;
    for (auto& b : busy)
        BOOST_TEST(starts_with(b.read_response(5s), "HTTP/1.1 200"));
    BOOST_TEST_REQUIRE(f.wait_until([&] { return f.stats(1).busy == 0; }));
    const auto after = ask(raw_socket::local(f.socket));
    BOOST_TEST(starts_with(after, "HTTP/1.1 200"), after);
}

BOOST_AUTO_TEST_CASE(a_slow_request_head_is_dropped_at_the_header_deadline) {
    fixture f({.first_request_timeout = 400ms, .header_timeout = 400ms, .keep_alive_timeout = 10s});
    // Slowloris: the head trickles in, a header line every 100 ms, and never ends.
    auto slow = raw_socket::tcp(f.port);
    BOOST_TEST_REQUIRE(slow.send("GET /hello HTTP/1.1\r\n"));
    const auto started = clock_type::now();
    bool closed = false;
    for (int i = 0; i < 50 && !closed; ++i) {
        slow.send("X-Slow-" + std::to_string(i) + ": 1\r\n");
        closed = slow.closed_within(100ms);
    }
    const auto took = clock_type::now() - started;
    BOOST_TEST(closed);
    BOOST_TEST((took >= 300ms && took < 2s),
               std::chrono::duration_cast<std::chrono::milliseconds>(took).count());

    // The same on a kept-alive connection: its next head is bounded by header_timeout from its
    // first byte, not by the (long) keep-alive wait.
    auto kept = raw_socket::tcp(f.port);
    BOOST_TEST_REQUIRE(kept.send(hello));
    BOOST_TEST_REQUIRE(starts_with(kept.read_response(5s), "HTTP/1.1 200"));
    std::this_thread::sleep_for(600ms);
    BOOST_TEST(!kept.closed_within(10ms), "waiting for the next request is not held to the head deadline");
    BOOST_TEST_REQUIRE(kept.send("GET /hello HTTP/1.1\r\n"));
    BOOST_TEST(kept.closed_within(2s));

    // A new connection that says nothing is closed after first_request_timeout.
    auto mute = raw_socket::local(f.socket);
    const auto opened = clock_type::now();
    BOOST_TEST(mute.closed_within(3s));
    BOOST_TEST((clock_type::now() - opened < 2s));
    BOOST_TEST(starts_with(ask(raw_socket::tcp(f.port)), "HTTP/1.1 200"), "the listener still serves");
}

BOOST_AUTO_TEST_CASE(unauthenticated_connections_go_first_and_cannot_push_out_a_request_in_progress) {
    fixture f({.max_connections = 4}, {.authenticate = true});
    // An authenticated client kept alive, and another one in the middle of sending a body.
    auto kept = raw_socket::tcp(f.port);
    BOOST_TEST_REQUIRE(kept.send(with_token("secret")));
    BOOST_TEST_REQUIRE(starts_with(kept.read_response(5s), "HTTP/1.1 200"));
    auto uploading = raw_socket::tcp(f.port);
    BOOST_TEST_REQUIRE(uploading.send(
        "PUT /upload HTTP/1.1\r\nHost: x\r\nX-Token: secret\r\nContent-Length: 10\r\n\r\n12345"));
    BOOST_TEST_REQUIRE(f.wait_until([&] { return f.stats(0).busy == 1u; }));
    // A flood of connections that never present a token.
    std::vector<raw_socket> flood;
    for (int i = 0; i < 200; ++i) {
        flood.push_back(raw_socket::tcp(f.port));
        BOOST_TEST_REQUIRE(flood.back().ok());
    }
    BOOST_TEST_REQUIRE(f.wait_until([&] { return f.stats(0).accepted >= 202u; }));
    // Both clients are still there: the upload completes, the kept connection serves again.
    BOOST_TEST_REQUIRE(uploading.send("67890"));
    BOOST_TEST(starts_with(uploading.read_response(5s), "HTTP/1.1 200"));
    BOOST_TEST_REQUIRE(kept.send(with_token("secret")));
    BOOST_TEST(starts_with(kept.read_response(5s), "HTTP/1.1 200"));
    BOOST_TEST(f.stats(0).shed >= 198u);
    BOOST_TEST(f.stats(0).refused == 0u);

    // A wrong token gets its 401 and the connection is closed; so is one after a request that
    // did not authenticate it.
    auto wrong = raw_socket::tcp(f.port);
    BOOST_TEST_REQUIRE(wrong.send(with_token("guess")));
    const auto denied = wrong.read_response(5s);
    BOOST_TEST(starts_with(denied, "HTTP/1.1 401"), denied);
    BOOST_TEST(denied.find("Connection: close") != std::string::npos, denied);
    BOOST_TEST(wrong.closed_within(2s));
    auto anonymous = raw_socket::tcp(f.port);
    BOOST_TEST_REQUIRE(anonymous.send(hello));
    BOOST_TEST(starts_with(anonymous.read_response(5s), "HTTP/1.1 200"));
    BOOST_TEST(anonymous.closed_within(2s));
    // On the Unix listener (no authentication) a connection stays open after the same request.
    auto local = raw_socket::local(f.socket);
    BOOST_TEST_REQUIRE(local.send(hello));
    BOOST_TEST(starts_with(local.read_response(5s), "HTTP/1.1 200"));
    BOOST_TEST(!local.closed_within(300ms));
}

BOOST_AUTO_TEST_CASE(each_listener_has_its_own_limit) {
    fixture f({.max_connections = 50}, {.max_connections = 2, .name = "tcp"}, {.max_connections = 3});
    BOOST_TEST(f.stats(0).name == "tcp");
    BOOST_TEST(f.stats(0).max_connections == 2u);
    BOOST_TEST(f.stats(1).name == "unix " + f.socket.string());
    BOOST_TEST(f.stats(1).max_connections == 3u);
    // Busy requests fill the TCP listener; the Unix listener still has room.
    std::vector<raw_socket> busy;
    for (int i = 0; i < 2; ++i) {
        busy.push_back(raw_socket::tcp(f.port));
        BOOST_TEST_REQUIRE(busy.back().send(park));
    }
    BOOST_TEST_REQUIRE(f.wait_until([&] { return f.parked == 2; }));
    BOOST_TEST(starts_with(ask(raw_socket::tcp(f.port)), "HTTP/1.1 503"));
    BOOST_TEST(starts_with(ask(raw_socket::local(f.socket)), "HTTP/1.1 200"));
    f.release = true;
}

BOOST_AUTO_TEST_SUITE_END()

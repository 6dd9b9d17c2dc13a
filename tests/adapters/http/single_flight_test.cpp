#include "run.hpp"

#include <kurer/asio/offload.hpp>
#include <kurer/http/single_flight.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <thread>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using cache_type = kurer::http::single_flight_cache<int>;

namespace {

struct fake_clock {
    cache_type::clock::time_point now = cache_type::clock::time_point(1h);
};

// A fetch that completes when the test opens the gate.
struct gated_fetch {
    asio::io_context& io;
    int fetches = 0;
    bool open = false;
    int value = 42;
    bool fail = false;

    asio::awaitable<kurer::result<int>> operator()() {
        ++fetches;
        asio::steady_timer t(io);
        while (!open) {
            t.expires_after(1ms);
            co_await t.async_wait(asio::use_awaitable);
        }
        if (fail)
            co_return kurer::http::make_http_error(kurer::http::errc::server_error, "upstream failed");
        co_return value;
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(single_flight)

BOOST_AUTO_TEST_CASE(concurrent_misses_share_one_fetch) {
    asio::io_context io;
    fake_clock clock;
    cache_type cache(io.get_executor(), [&] { return clock.now; });
    gated_fetch fetch{io};
    std::vector<int> results;
    for (int i = 0; i < 50; ++i)
        asio::co_spawn(io,
                       cache.get(
                           "k", [&] { return fetch(); }, [](const int&) { return 10s; }),
                       [&](std::exception_ptr, kurer::result<int> r) { results.push_back(r ? *r : -1); });
    io.run_for(20ms);
    BOOST_TEST(results.empty());
    fetch.open = true;
    io.restart();
    io.run_for(200ms);
    BOOST_TEST(results.size() == 50u);
    BOOST_TEST(std::count(results.begin(), results.end(), 42) == 50);
    BOOST_TEST(fetch.fetches == 1);
    BOOST_TEST(cache.fetches() == 1u);

    // Cached until the TTL passes.
    auto again = kurer::test::run(io, cache.get(
                                          "k", [&] { return fetch(); }, [](const int&) { return 10s; }));
    BOOST_TEST(*again == 42);
    BOOST_TEST(fetch.fetches == 1);
    clock.now += 11s;
    fetch.value = 7;
    auto refreshed = kurer::test::run(io, cache.get(
                                              "k", [&] { return fetch(); }, [](const int&) { return 10s; }));
    BOOST_TEST(*refreshed == 7);
    BOOST_TEST(fetch.fetches == 2);
}

BOOST_AUTO_TEST_CASE(expired_entries_are_forgotten) {
    asio::io_context io;
    fake_clock clock;
    cache_type cache(io.get_executor(), [&] { return clock.now; });
    gated_fetch fetch{io};
    fetch.open = true;
    for (int i = 0; i < 300; ++i) {
        auto fetch_one = [&] {
            return fetch();
        };
        auto r = kurer::test::run(
            io, cache.get("key-" + std::to_string(i), fetch_one, [](const int&) { return 10s; }));
        BOOST_TEST_REQUIRE(r.has_value());
        clock.now += 1s; // each value lives 10 s, so at most ~10 stay fresh
    }
    BOOST_TEST(cache.size() < 60u);
}

BOOST_AUTO_TEST_CASE(errors_reach_every_waiter_and_are_not_cached) {
    asio::io_context io;
    cache_type cache(io.get_executor());
    gated_fetch fetch{io};
    fetch.open = true;
    fetch.fail = true;
    auto first = kurer::test::run(io, cache.get(
                                          "k", [&] { return fetch(); }, [](const int&) { return 10s; }));
    BOOST_TEST_REQUIRE(first.has_error());
    BOOST_TEST(first.error().retryable);
    fetch.fail = false;
    auto second = kurer::test::run(io, cache.get(
                                           "k", [&] { return fetch(); }, [](const int&) { return 10s; }));
    BOOST_TEST(*second == 42);
    BOOST_TEST(fetch.fetches == 2);
}

BOOST_AUTO_TEST_CASE(a_cancelled_waiter_does_not_cancel_the_fetch) {
    using namespace asio::experimental::awaitable_operators;
    asio::io_context io;
    cache_type cache(io.get_executor());
    gated_fetch fetch{io};
    auto impatient = [&]() -> asio::awaitable<bool> {
        asio::steady_timer t(io, 10ms);
        auto r = co_await (cache.get(
                               "k", [&] { return fetch(); }, [](const int&) { return 10s; }) ||
                           t.async_wait(asio::use_awaitable));
        co_return r.index() == 1; // the timer won
    };
    BOOST_TEST(kurer::test::run(io, impatient()));
    fetch.open = true;
    auto patient = kurer::test::run(io, cache.get(
                                            "k", [&] { return fetch(); }, [](const int&) { return 10s; }));
    BOOST_TEST(*patient == 42);
    BOOST_TEST(fetch.fetches == 1);
}

BOOST_AUTO_TEST_CASE(blocking_work_runs_on_the_pool_and_returns_to_the_caller) {
    asio::io_context io;
    asio::thread_pool pool(1);
    const auto io_thread = std::this_thread::get_id();
    auto work = [&]() -> asio::awaitable<bool> {
        const auto worker =
            co_await kurer::offload(pool.get_executor(), [] { return std::this_thread::get_id(); });
        co_return worker != io_thread&& std::this_thread::get_id() == io_thread;
    };
    BOOST_TEST(kurer::test::run(io, work()));
    pool.join();
}

BOOST_AUTO_TEST_SUITE_END()

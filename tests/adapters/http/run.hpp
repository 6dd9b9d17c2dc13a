// Runs a coroutine on an io_context until it finishes, failing the test after a deadline.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <exception>
#include <optional>

namespace kurer::test {

template <class T>
T run(boost::asio::io_context& io, boost::asio::awaitable<T> work,
      std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    std::optional<T> out;
    std::exception_ptr failure;
    bool done = false;
    boost::asio::co_spawn(io, std::move(work), [&](std::exception_ptr e, T value) {
        failure = e;
        if (!e)
            out.emplace(std::move(value));
        done = true;
    });
    const auto deadline = std::chrono::steady_clock::now() + limit;
    io.restart();
    while (!done && std::chrono::steady_clock::now() < deadline)
        io.run_one_for(std::chrono::milliseconds(50));
    BOOST_TEST_REQUIRE(done, "the operation did not finish within " << limit.count() << " ms");
    if (failure)
        std::rethrow_exception(failure);
    return std::move(*out);
}

inline void run(boost::asio::io_context& io, boost::asio::awaitable<void> work,
                std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    auto wrapped = [](boost::asio::awaitable<void> w) -> boost::asio::awaitable<bool> {
        co_await std::move(w);
        co_return true;
    };
    (void)run(io, wrapped(std::move(work)), limit);
}

} // namespace kurer::test

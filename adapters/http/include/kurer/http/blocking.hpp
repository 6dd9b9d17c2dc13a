// Running blocking work (RSA, fsync, zip, XML) off the I/O threads and awaiting its result.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <type_traits>

namespace kurer::http {

// Runs `work()` on `pool` (e.g. a thread_pool's executor) and resumes the caller on its own
// executor with the result; exceptions propagate. With a null executor the work runs inline.
template <class F>
boost::asio::awaitable<std::invoke_result_t<F>> run_blocking(boost::asio::any_io_executor pool, F work) {
    using R = std::invoke_result_t<F>;
    if (!pool) {
        if constexpr (std::is_void_v<R>) {
            work();
            co_return;
        } else {
            co_return work();
        }
    }
    co_return co_await boost::asio::co_spawn(
        pool, [w = std::move(work)]() mutable -> boost::asio::awaitable<R> { co_return w(); },
        boost::asio::use_awaitable);
}

} // namespace kurer::http

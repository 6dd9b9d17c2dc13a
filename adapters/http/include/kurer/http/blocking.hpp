// Running blocking work (RSA, fsync, zip, XML) off the I/O threads and awaiting its result.
//
// GCC 12 note for every coroutine in this project: a closure or aggregate created as a temporary
// inside a co_await expression can be destroyed at the wrong address (a std::string captured in
// it is freed from inside the coroutine frame). Name such objects first and std::move them in:
//   auto work = [s = text] { return sign(s); };
//   auto r = co_await run_blocking(pool, std::move(work));
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
    // Named, not a temporary: GCC 12 mis-destroys closures created inside a co_await expression.
    auto task = [w = std::move(work)]() mutable -> boost::asio::awaitable<R> {
        co_return w();
    };
    co_return co_await boost::asio::co_spawn(pool, std::move(task), boost::asio::use_awaitable);
}

} // namespace kurer::http

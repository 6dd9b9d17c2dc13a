// Running blocking work (RSA, fsync, zip, XML, RocksDB reads) off an event loop and awaiting its
// result: the one way every layer does it.
//
// GCC 12 note for every coroutine in this project: a closure or aggregate created as a temporary
// inside a co_await expression can be destroyed at the wrong address (a std::string captured in
// it is freed from inside the coroutine frame). Name such objects first and std::move them in:
//   auto work = [s = text] { return sign(s); };
//   auto r = co_await kurer::offload(pool, std::move(work));
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace kurer {

// Wraps a completion handler so that calling it, from any thread, posts it to its own
// (associated) executor instead of running it on the caller's thread.
template <class Handler>
auto posting(Handler handler) {
    return [h = std::move(handler)](auto... args) mutable {
        auto ex = boost::asio::get_associated_executor(h);
        boost::asio::post(
            ex, [h = std::move(h), ... a = std::move(args)]() mutable { std::move(h)(std::move(a)...); });
    };
}

// Runs `work()` on `pool` (a thread_pool's executor, say) and resumes the caller on its own
// executor with the result; an exception `work` throws is rethrown in the caller. With a null
// executor the work runs inline.
template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> offload(boost::asio::any_io_executor pool, F work) {
    using R = std::invoke_result_t<F&>;
    if (!pool) {
        if constexpr (std::is_void_v<R>) {
            work();
            co_return;
        } else {
            co_return work();
        }
    }
    if constexpr (std::is_void_v<R>) {
        auto initiation = [](auto handler, boost::asio::any_io_executor on, F fn) {
            boost::asio::post(on, [fn = std::move(fn), done = posting(std::move(handler))]() mutable {
                std::exception_ptr failed;
                try {
                    fn();
                } catch (...) {
                    failed = std::current_exception();
                }
                done(failed);
            });
        };
        co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, void(std::exception_ptr)>(
            std::move(initiation), boost::asio::use_awaitable, std::move(pool), std::move(work));
    } else {
        using answer = std::optional<R>;
        auto initiation = [](auto handler, boost::asio::any_io_executor on, F fn) {
            boost::asio::post(on, [fn = std::move(fn), done = posting(std::move(handler))]() mutable {
                std::exception_ptr failed;
                answer value;
                try {
                    value.emplace(fn());
                } catch (...) {
                    failed = std::current_exception();
                }
                done(failed, std::move(value));
            });
        };
        auto got = co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>,
                                                        void(std::exception_ptr, answer)>(
            std::move(initiation), boost::asio::use_awaitable, std::move(pool), std::move(work));
        co_return std::move(*got);
    }
}

} // namespace kurer

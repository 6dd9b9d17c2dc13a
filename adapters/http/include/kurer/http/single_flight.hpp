// A keyed cache whose misses are fetched once, however many coroutines ask at the same time.
//
// Maskinporten tokens and Service Registry lookups use it: when 500 messages need a token at
// once, one token request is made and all 500 get its result. A fetch runs in its own coroutine,
// so a caller that is cancelled stops waiting without cancelling the fetch the others wait for.
// Errors are handed to every waiter but never cached. Thread-safe.
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/core/log.hpp>
#include <kurer/http/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace kurer::http {

template <class Value>
class single_flight_cache {
public:
    using clock = std::chrono::steady_clock;
    using fetch_function = std::function<boost::asio::awaitable<result<Value>>()>;
    // How long a fetched value may be reused (zero or less: not cached at all).
    using ttl_function = std::function<clock::duration(const Value&)>;

    // Fetches run on `executor`; `now` is replaceable so tests can move time.
    explicit single_flight_cache(
        boost::asio::any_io_executor executor,
        std::function<clock::time_point()> now = [] { return clock::now(); })
        : state_(std::make_shared<state>(std::move(executor), std::move(now))) {}

    // The cached value for `key` while fresh; otherwise the result of one `fetch` shared by all
    // callers that ask for `key` until it completes. `fetch` must keep alive what it uses.
    boost::asio::awaitable<result<Value>> get(std::string key, fetch_function fetch, ttl_function ttl) {
        auto self = state_;
        auto waiter = std::make_shared<channel>(co_await boost::asio::this_coro::executor, 1);
        bool leader = false;
        {
            std::lock_guard lock(self->mutex);
            if (++self->lookups_started % 256 == 0)
                self->forget_expired();
            auto& e = self->entries[key];
            if (e.value && self->now() < e.expires)
                co_return *e.value;
            if (!e.waiters) {
                e.waiters = std::make_shared<std::vector<std::shared_ptr<channel>>>();
                leader = true;
            }
            e.waiters->push_back(waiter);
        }
        if (leader) {
            ++self->fetches;
            boost::asio::co_spawn(
                self->executor, run_fetch(self, key, std::move(fetch), std::move(ttl)),
                [](std::exception_ptr e) {
                    if (!e)
                        return;
                    try {
                        std::rethrow_exception(e);
                    } catch (const std::exception& x) {
                        logger().component("http.single_flight").error("fetch failed", {{"error", x.what()}});
                    }
                });
        }
        auto [ec, shared] = co_await waiter->async_receive(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (ec || !shared)
            co_return make_http_error(errc::cancelled, "cancelled while waiting for " + key);
        co_return *shared;
    }

    // Forgets the cached value (a fetch in flight still completes and is cached).
    void invalidate(const std::string& key) {
        std::lock_guard lock(state_->mutex);
        auto it = state_->entries.find(key);
        if (it != state_->entries.end())
            it->second.value.reset();
    }

    void clear() {
        std::lock_guard lock(state_->mutex);
        for (auto& [k, e] : state_->entries)
            e.value.reset();
    }

    // How many fetches were started (for tests and metrics).
    std::uint64_t fetches() const {
        std::lock_guard lock(state_->mutex);
        return state_->fetches;
    }

    // Keys with an entry (cached or being fetched).
    std::size_t size() const {
        std::lock_guard lock(state_->mutex);
        return state_->entries.size();
    }

private:
    // One result shared by every waiter of a fetch: handed over as a pointer, copied out once each.
    using shared_result = std::shared_ptr<const result<Value>>;
    using channel =
        boost::asio::experimental::concurrent_channel<void(boost::system::error_code, shared_result)>;

    struct entry {
        std::optional<Value> value;
        clock::time_point expires;
        std::shared_ptr<std::vector<std::shared_ptr<channel>>> waiters; // set while a fetch runs
    };

    struct state {
        state(boost::asio::any_io_executor ex, std::function<clock::time_point()> n)
            : executor(std::move(ex))
            , now(std::move(n)) {}
        boost::asio::any_io_executor executor;
        std::function<clock::time_point()> now;
        mutable std::mutex mutex;
        std::map<std::string, entry> entries;
        std::uint64_t fetches = 0;
        std::uint64_t lookups_started = 0;

        // Keeps the map bounded by the keys in use: drops expired values nobody is fetching.
        void forget_expired() {
            const auto t = now();
            std::erase_if(entries, [t](const auto& kv) {
                return !kv.second.waiters && (!kv.second.value || kv.second.expires <= t);
            });
        }
    };

    static boost::asio::awaitable<void> run_fetch(std::shared_ptr<state> self, std::string key,
                                                  fetch_function fetch, ttl_function ttl) {
        shared_result r;
        try {
            r = std::make_shared<const result<Value>>(co_await fetch());
        } catch (const std::exception& e) {
            r = std::make_shared<const result<Value>>(
                make_http_error(errc::invalid_request, "fetching " + key + " failed: " + e.what()));
        }
        std::shared_ptr<std::vector<std::shared_ptr<channel>>> waiters;
        {
            std::lock_guard lock(self->mutex);
            auto& e = self->entries[key];
            waiters = std::move(e.waiters);
            e.waiters.reset();
            if (r->has_value()) {
                const auto lifetime = ttl(**r);
                if (lifetime > clock::duration::zero()) {
                    e.value = **r;
                    e.expires = self->now() + lifetime;
                }
            }
        }
        if (waiters)
            for (auto& w : *waiters)
                w->try_send(boost::system::error_code{}, r);
    }

    std::shared_ptr<state> state_;
};

} // namespace kurer::http

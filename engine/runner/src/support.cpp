// Small pieces of the runner: errors, backoff, logging, the channel rule, the slot queue,
// and what both actor kinds share.
#include "runtime.hpp"

#include <kurer/engine/polling.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cmath>
#include <iostream>

namespace kurer::engine {
namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "kurer.engine"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::invalid_request:
            return "invalid request";
        case errc::conflict:
            return "conflict with an existing message";
        case errc::not_found:
            return "not found";
        case errc::not_locked:
            return "the message is not locked by a peek";
        case errc::not_retryable:
            return "the message cannot be retried";
        case errc::stopping:
            return "the engine is stopping";
        }
        return "unknown engine error";
    }
};

} // namespace

const boost::system::error_category& engine_category() noexcept {
    static const category instance;
    return instance;
}

boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), engine_category()};
}

time_point now_ms() noexcept {
    return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::string format_time(time_point t) {
    const auto ms = t.time_since_epoch().count() % 1000;
    const std::time_t secs = std::chrono::system_clock::to_time_t(std::chrono::system_clock::time_point(t));
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char tail[8];
    std::snprintf(tail, sizeof tail, ".%03dZ", static_cast<int>(ms < 0 ? 0 : ms));
    return std::string(buf, n) + tail;
}

bool is_channel_name(std::string_view text) noexcept {
    if (text.size() > 25)
        return false;
    for (const char c : text)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_'))
            return false;
    return true;
}

bool accepts_transfer(std::string_view own_channel, std::string_view senders_reference) noexcept {
    if (!own_channel.empty())
        return senders_reference == own_channel;
    return senders_reference.empty() || !is_channel_name(senders_reference);
}

// ---- slot_queue

bool slot_queue::acquire_or_wait(const std::shared_ptr<ticket>& t) {
    std::lock_guard lock(mutex_);
    if (used_ < capacity_ && queue_.empty()) {
        ++used_;
        return true;
    }
    queue_.push_back(t);
    return false;
}

void slot_queue::cancel(const std::shared_ptr<ticket>& t) {
    std::lock_guard lock(mutex_);
    t->cancelled = true;
}

void slot_queue::release() {
    std::shared_ptr<ticket> next;
    {
        std::lock_guard lock(mutex_);
        while (!queue_.empty() && queue_.front()->cancelled)
            queue_.pop_front();
        if (queue_.empty()) {
            --used_;
            return;
        }
        next = std::move(queue_.front());
        queue_.pop_front();
    }
    next->grant(); // the slot passes straight to the next in line
}

std::size_t slot_queue::in_use() const {
    std::lock_guard lock(mutex_);
    return used_;
}

std::size_t slot_queue::waiting() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& t : queue_)
        n += t->cancelled ? 0 : 1;
    return n;
}

// ---- actor_base

actor_base::actor_base(runtime& r, std::string i)
    : rt(r)
    , id(std::move(i))
    , sequence(r.actors_created++)
    , strand(asio::make_strand(r.io))
    , wake(strand) {}

asio::awaitable<void> actor_base::sleep_until(time_point t) {
    wake.expires_at(std::chrono::system_clock::time_point(t));
    co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
}

bool actor_base::want_slot() {
    if (has_slot)
        return true;
    if (ticket)
        return false; // in line already
    auto t = std::make_shared<slot_queue::ticket>();
    // The grant arrives on whichever thread released a slot: hop to the strand. If this actor no
    // longer waits for it by then (the ticket was dropped), the slot is passed on at once.
    std::weak_ptr<slot_queue::ticket> weak = t;
    std::weak_ptr<actor_base> self = weak_from_this();
    t->grant = [self, weak, on = strand, &rt = rt] {
        asio::post(on, [self, weak, &rt] {
            auto actor = self.lock();
            auto mine = weak.lock();
            if (actor && mine && actor->ticket == mine) {
                actor->ticket.reset();
                actor->has_slot = true;
                actor->poke();
            } else {
                rt.slots.release();
            }
        });
    };
    if (rt.slots.acquire_or_wait(t)) {
        has_slot = true;
        return true;
    }
    ticket = std::move(t);
    return false;
}

void actor_base::release_slot() {
    if (has_slot) {
        has_slot = false;
        rt.slots.release();
    }
}

void actor_base::drop_ticket() {
    if (ticket) {
        rt.slots.cancel(ticket);
        ticket.reset();
    }
}

// ---- runtime helpers

std::chrono::milliseconds runtime::backoff(std::uint32_t failures) {
    double unit = 0;
    {
        std::lock_guard lock(random_mutex);
        unit = std::uniform_real_distribution<double>(0.0, 1.0)(random);
    }
    return backoff_delay(config.retry, failures, unit);
}

sm::context runtime::context() {
    sm::context c;
    c.now = now_ms();
    c.retry = config.retry;
    c.lock_timeout = config.lock_timeout;
    std::lock_guard lock(random_mutex);
    c.unit = std::uniform_real_distribution<double>(0.0, 1.0)(random);
    return c;
}

std::string join_detail(std::string_view a, std::string_view b) {
    if (a.empty())
        return std::string(b);
    if (b.empty())
        return std::string(a);
    return std::string(a) + "; " + std::string(b);
}

std::string timer_detail(const sm::outgoing_event&, const sm::control& c) {
    return c.deadline ? "the deadline " + format_time(*c.deadline) + " passed" : "the deadline passed";
}

std::string timer_detail(const sm::incoming_event& e, const sm::control& c) {
    if (std::holds_alternative<sm::in_event::lock_expired>(e))
        return "the end system's lock expired";
    return c.deadline ? "the deadline " + format_time(*c.deadline) + " passed" : "the deadline passed";
}

void runtime::notify(const transition_event& e) {
    decltype(subscribers) current;
    {
        std::lock_guard lock(subscribers_mutex);
        current = subscribers;
    }
    for (const auto& [id, callback] : *current) {
        try {
            callback(e);
        } catch (const std::exception& ex) {
            log(log_level::error, "a transition subscriber threw", {{"error", ex.what()}});
        }
    }
}

void runtime::coroutine_started() {
    std::lock_guard lock(alive_mutex);
    ++alive;
}

void runtime::coroutine_finished(std::string_view what, std::exception_ptr e) {
    if (e) {
        try {
            std::rethrow_exception(e);
        } catch (const boost::system::system_error& ex) {
            if (!(stopping && ex.code() == asio::error::operation_aborted))
                log(log_level::error, "a coroutine ended with an exception",
                    {{"what", what}, {"error", ex.what()}});
        } catch (const std::exception& ex) {
            log(log_level::error, "a coroutine ended with an exception",
                {{"what", what}, {"error", ex.what()}});
        }
    }
    std::lock_guard lock(alive_mutex);
    --alive;
    alive_changed.notify_all();
}

} // namespace kurer::engine

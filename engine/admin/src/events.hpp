// The live transition stream behind /admin/events.
//
// The hub subscribes to the runner once and turns each durable transition into one JSON line.
// Every connected client has its own bounded buffer: publishing appends to it and rings the
// client's doorbell, never waits. A client whose buffer would grow past its limit (it reads
// slower than the engine moves) is marked dropped and its stream is ended, so a slow reader can
// never hold the engine back or grow memory without bound.
#pragma once

#include <kurer/engine/runner.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kurer::engine::admin {

// {"type":"transition","time":..,"direction":..,"id":..,"messageId":..,"seq":..,"from":..,"to":..,
//  "event":..,"attempt":..,"detail":..,"statuses":[{"status":..,"implied":..}]}
std::string event_line(const transition_event& e);

class event_client {
public:
    event_client(const boost::asio::any_io_executor& executor, std::size_t limit, std::string message_id);

    // Called by the hub (any thread): queues the line unless the client filters it out or is
    // dropped; drops the client when the line does not fit (returns true then, once).
    bool offer(const transition_event& e, const std::string& line);
    // Ends the stream from outside (server stopping).
    void close();

    // The client's side: waits for the doorbell (the caller races it against a heartbeat).
    boost::asio::experimental::concurrent_channel<void(boost::system::error_code)>& doorbell() {
        return doorbell_;
    }
    struct batch {
        std::string bytes; // complete lines
        bool dropped = false;
        bool closed = false;
    };
    batch take();

    const std::string& filter() const noexcept { return message_id_; }

private:
    void ring();

    boost::asio::experimental::concurrent_channel<void(boost::system::error_code)> doorbell_;
    std::size_t limit_;
    std::string message_id_;
    std::mutex mutex_;
    std::string pending_;
    bool dropped_ = false;
    bool closed_ = false;
};

class event_hub {
public:
    event_hub() = default;
    ~event_hub();
    event_hub(const event_hub&) = delete;
    event_hub& operator=(const event_hub&) = delete;

    // Subscribes to the runner (once). `owner` (what holds this hub) is kept alive by the
    // subscription, so a callback still running after detach() never sees a destroyed hub.
    // `on_drop` is told of every client dropped for overflow.
    void attach(runner& r, std::shared_ptr<const void> owner, std::function<void()> on_drop);
    void detach();

    // Adds the client unless `limit` (0: none) clients are following already; false then.
    bool add(const std::shared_ptr<event_client>& c, std::size_t limit = 0);
    void remove(const std::shared_ptr<event_client>& c);
    // Ends every stream (server stopping).
    void close_all();
    std::size_t clients() const;

    // What the runner's subscription calls; public for tests that feed events directly.
    void publish(const transition_event& e);

private:
    runner* runner_ = nullptr;
    std::uint64_t subscription_ = 0;
    std::function<void()> on_drop_;
    mutable std::mutex mutex_;
    std::vector<std::shared_ptr<event_client>> clients_;
};

} // namespace kurer::engine::admin

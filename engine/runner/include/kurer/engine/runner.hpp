// The runner: the engine's heart. It owns the store, an io_context with its threads and a
// worker pool, and one coroutine per live message that repeats "persist the transition, then
// perform the next action" until the message is finished. A poller brings incoming files in.
//
// Everything a later layer needs (the admin socket, the embeddable kurer::engine) is here:
// submit, look up, list, pause/resume, retry, subscribe, and the end system's queue.
//
// Threading contract
// - Awaitables (submit, retry, peek, take, async_*): start them on any executor; they never
//   block it. Store reads run on the runner's reader pool, document copies on its worker pool,
//   events go to the message's actor on the runner's threads; the call resumes on the executor
//   it was started on. No RocksDB read or file I/O happens under a lock of the runner's.
// - Blocking calls (*_blocking, find_*, list_*, pop, pause/resume, count_unfinished): they read
//   or commit on the calling thread and may wait for the disk. Call them from tools, tests or a
//   pool of your own, never from the runner's threads (executor()) or an event loop that must
//   stay responsive; there, use the awaitable twin.
// - Never blocking and safe from any thread: stats(), sending_paused(), subscribe/unsubscribe,
//   executor(). Subscribers are called on a runner thread after the transition is durable.
// - stop() blocks until every action has recorded its result and the store is closed. A call
//   that races it either completes or answers errc::stopping; none touches a closed store.
//   Do not call stop() from the runner's own threads.
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/engine/config.hpp>
#include <kurer/engine/ports.hpp>
#include <kurer/statemachine/incoming.hpp>
#include <kurer/statemachine/outgoing.hpp>
#include <kurer/storage/records.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_category.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kurer::engine {

enum class errc {
    invalid_request = 1, // a submitted message or argument is malformed: the message says which field
    conflict,            // the messageId exists with different content
    not_found,
    not_locked,    // pop/take of a message the end system has not peeked
    not_retryable, // retry of a message that is not Failed or was already accepted by the broker
    stopping,      // the runner is shutting down
};

const boost::system::error_category& engine_category() noexcept;
boost::system::error_code make_error_code(errc e) noexcept;

// A document to send: either its bytes or a file to copy (streamed, never whole in memory).
struct document_source {
    std::string name; // file name inside the ASiC
    std::string mime_type;
    bool primary = false;
    std::string bytes;
    std::optional<std::filesystem::path> file; // when set, `bytes` is ignored
};

struct submit_request {
    std::string message_id;      // UUID, required; the idempotency key
    std::string conversation_id; // UUID; generated when empty
    std::string receiver;        // 9 digits
    std::string process;
    std::string document_type;
    std::optional<time_point> deadline; // expectedResponseDateTime; default now + default_ttl
    std::string business_message;       // JSON
    std::vector<document_source> documents;
};

struct submit_result {
    std::string id;
    bool created = false; // false: the same message was submitted before and is returned as it is
    statemachine::outgoing_state state = statemachine::outgoing_state::created;
};

struct outgoing_view {
    storage::outgoing_record record;
    std::vector<storage::history_entry> history;
};

struct incoming_view {
    storage::incoming_record record;
    std::vector<storage::history_entry> history;
};

// A transition that is on disk, as subscribers see it.
struct transition_event {
    storage::record_kind kind;
    std::string id; // outgoing id or incoming broker reference
    std::string message_id;
    std::uint32_t seq = 0; // the history entry's sequence number
    std::uint8_t from = 0;
    std::uint8_t to = 0;
    std::string event;
    std::uint32_t attempt = 0;
    std::string detail;
    std::vector<statemachine::status_record> statuses;
    time_point time{};
    std::string rejection{}; // an incoming package refused: why, as a rejection:: code (ports.hpp)
};

// What the end system gets from peek.
struct inbox_message {
    std::string message_id;
    std::string reference;
    std::string conversation_id;
    std::string sender;
    std::string process;
    std::string document_type;
    std::string sbd;
    storage::package_kind kind = storage::package_kind::message;
};

struct peek_filter {
    std::string process;         // "" = any
    std::string conversation_id; // "" = any
    std::string message_id;      // "" = any
    std::string sender;          // 9 digits; "" = any
    std::string receiver;        // 9 digits; "" = any
};

struct runner_stats {
    std::size_t live_outgoing = 0; // actors in memory
    std::size_t live_incoming = 0;
    std::size_t in_flight = 0; // actions running now
    std::size_t waiting_for_slot = 0;
    std::uint64_t transitions = 0; // committed since start
    storage::committer_stats commits;
};

// The id of the outgoing status message (MOTTATT or LEVERT) that answers an incoming message.
std::string status_message_id(std::string_view message_id, statemachine::eformidling_status status);

class runner {
public:
    // Opens the store in config.data_dir; nothing runs until start().
    static result<std::unique_ptr<runner>> open(runner_config config, ports p);

    ~runner(); // stop()
    runner(const runner&) = delete;
    runner& operator=(const runner&) = delete;

    // Starts the threads, resumes every non-terminal message at its pending action (recovery)
    // and starts the poller.
    result<void> start();

    // Graceful shutdown: no new work; actions in flight get config.shutdown_grace to finish and
    // record their result, then are cancelled (recovery repeats them); the committer is flushed
    // and the store closed. Idempotent.
    void stop();

    // ---- outgoing
    boost::asio::awaitable<result<submit_result>> submit(submit_request request);
    result<submit_result> submit_blocking(submit_request request);

    result<std::optional<outgoing_view>> find_outgoing(const std::string& id) const;
    boost::asio::awaitable<result<std::optional<outgoing_view>>> async_find_outgoing(std::string id);
    result<std::vector<std::string>> list_outgoing(statemachine::outgoing_state state,
                                                   std::size_t limit = 0) const;

    // Stops starting authorize..upload actions (persisted across restarts); receipts still flow.
    result<void> pause_sending();
    result<void> resume_sending();
    bool sending_paused() const noexcept;

    // Restarts a Failed message that the broker never accepted (see outgoing.hpp).
    boost::asio::awaitable<result<void>> retry(std::string id);
    result<void> retry_blocking(std::string id);

    // ---- incoming: the end system's queue (NextMove peek/pop/DELETE)
    // Locks the oldest queued message matching the filter for config.lock_timeout.
    boost::asio::awaitable<result<std::optional<inbox_message>>> peek(peek_filter filter);
    result<std::optional<inbox_message>> peek_blocking(peek_filter filter = {});
    // The file to hand the end system for a locked message (its payload, else the package).
    result<std::filesystem::path> pop(const std::string& message_id) const;
    boost::asio::awaitable<result<std::filesystem::path>> async_pop(std::string message_id);
    // The end system has it: INNKOMMENDE_LEVERT, and LEVERT goes back to the sender.
    boost::asio::awaitable<result<void>> take(std::string message_id);
    result<void> take_blocking(std::string message_id);
    result<std::vector<inbox_message>> list_inbox(std::size_t limit = 0) const;
    boost::asio::awaitable<result<std::vector<inbox_message>>> async_list_inbox(std::size_t limit = 0);
    result<std::optional<incoming_view>> find_incoming(const std::string& reference) const;
    boost::asio::awaitable<result<std::optional<incoming_view>>> async_find_incoming(std::string reference);
    // The incoming message that stored this messageId (not its duplicates), with its history.
    result<std::optional<incoming_view>> find_incoming_by_message_id(const std::string& message_id) const;
    boost::asio::awaitable<result<std::optional<incoming_view>>>
    async_find_incoming_by_message_id(std::string message_id);
    // Broker references of incoming files in one state (as list_outgoing does for outgoing).
    result<std::vector<std::string>> list_incoming(statemachine::incoming_state state,
                                                   std::size_t limit = 0) const;

    // ---- observation
    // Called on a runner thread after each transition is durable. Keep it short (copy, post);
    // it never delays the committer, but it does delay that message. Returns an id for unsubscribe.
    std::uint64_t subscribe(std::function<void(const transition_event&)> callback);
    void unsubscribe(std::uint64_t id);

    runner_stats stats() const;
    // Messages of a kind the store holds as not finished (a scan of its live index: for tools and
    // tests; stats() counts the actors in memory instead).
    result<std::size_t> count_unfinished(storage::record_kind kind) const;
    boost::asio::any_io_executor executor() const;

    struct impl;

private:
    explicit runner(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

} // namespace kurer::engine

template <>
struct boost::system::is_error_code_enum<kurer::engine::errc> : std::true_type {};

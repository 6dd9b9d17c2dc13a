// The runner's insides: the shared runtime, the message actors and their admission queue.
// Internal to engine/.
#pragma once

#include <kurer/asio/offload.hpp>
#include <kurer/core/unique_function.hpp>
#include <kurer/engine/runner.hpp>
#include <kurer/statemachine/schedule.hpp>
#include <kurer/storage/store.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/system_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace kurer::engine {

namespace asio = boost::asio;
namespace sm = statemachine;
using strand_t = asio::strand<asio::io_context::executor_type>;

time_point now_ms() noexcept;
std::string format_time(time_point t);

// FIFO admission of actions: at most `capacity` run at once, the rest are granted in the order
// they asked. A grant is delivered by calling the ticket's callback (from whichever thread
// released the slot); a cancelled ticket is skipped.
class slot_queue {
public:
    struct ticket {
        std::function<void()> grant;
        bool cancelled = false; // guarded by the queue's mutex
    };

    explicit slot_queue(std::size_t capacity)
        : capacity_(capacity == 0 ? 1 : capacity) {}

    // True when a slot was free and is now held; otherwise the ticket waits in line.
    bool acquire_or_wait(const std::shared_ptr<ticket>& t);
    void cancel(const std::shared_ptr<ticket>& t);
    void release();
    std::size_t in_use() const;
    std::size_t waiting() const;

private:
    mutable std::mutex mutex_;
    std::size_t capacity_;
    std::size_t used_ = 0;
    std::deque<std::shared_ptr<ticket>> queue_;
};

struct runtime;

// What both kinds of actor share: a strand, a timer that doubles as the wake-up signal, the
// admission ticket and the backoff. Every member is touched only on the strand.
struct actor_base : std::enable_shared_from_this<actor_base> {
    actor_base(runtime& rt, std::string id);
    virtual ~actor_base() = default;

    runtime& rt;
    std::string id;
    std::uint64_t sequence; // creation order: resumed actors ask for slots in this order
    strand_t strand;
    asio::system_timer wake;
    asio::cancellation_signal cancel; // terminal cancellation at the end of the shutdown grace
    bool running = false;             // its coroutine is alive
    bool retired = false;             // removed from the runtime's map; deliveries go to a fresh actor
    bool has_slot = false;
    std::shared_ptr<slot_queue::ticket> ticket;
    std::optional<time_point> not_before; // backoff after a retryable failure

    void poke() { wake.cancel(); }
    // Sleeps until `t`, a poke, or cancellation.
    asio::awaitable<void> sleep_until(time_point t);
    // True when the actor holds a slot; otherwise it waits in line and is poked when granted.
    bool want_slot();
    void release_slot();
    void drop_ticket();
};

struct runtime;
template <class Traits>
struct actor;

// The outgoing direction as the driver (driver.hpp) sees it.
struct outgoing_traits {
    using record = storage::outgoing_record;
    using snapshot = sm::outgoing_snapshot;
    using event = sm::outgoing_event;
    static constexpr storage::record_kind kind = storage::record_kind::outgoing;
    static constexpr std::string_view name = "outgoing";
    static constexpr std::string_view id_key = "id"; // in log lines

    static const std::string& id(const record& r) noexcept { return r.id; }
    static sm::control control_of(const record& r);
    static void set_control(record& r, const sm::control& c);
    static event retryable_failure() { return sm::out_event::retryable_failure{}; }
    static event permanent_failure() { return sm::out_event::permanent_failure{}; }
    static sm::step<event> next_step(const runtime& rt, const record& r, const sm::control& c,
                                     time_point now);
    static result<std::optional<record>> load(const storage::store& s, const std::string& id);
    // The side effect of an action, its result applied as the next event.
    static asio::awaitable<void> perform(actor<outgoing_traits>& a, sm::action act);
    // The files of a message that just finished.
    static void finished(runtime& rt, const record& r);
    static std::string rejection_of(const record&, const storage::history_entry&) { return {}; }
};

// The incoming direction: one broker file.
struct incoming_traits {
    using record = storage::incoming_record;
    using snapshot = sm::incoming_snapshot;
    using event = sm::incoming_event;
    static constexpr storage::record_kind kind = storage::record_kind::incoming;
    static constexpr std::string_view name = "incoming";
    static constexpr std::string_view id_key = "reference";

    static const std::string& id(const record& r) noexcept { return r.reference; }
    static sm::control control_of(const record& r);
    static void set_control(record& r, const sm::control& c);
    static event retryable_failure() { return sm::in_event::retryable_failure{}; }
    static event permanent_failure() { return sm::in_event::permanent_failure{}; }
    static sm::step<event> next_step(const runtime& rt, const record& r, const sm::control& c,
                                     time_point now);
    static result<std::optional<record>> load(const storage::store& s, const std::string& id);
    static asio::awaitable<void> perform(actor<incoming_traits>& a, sm::action act);
    static void finished(runtime& rt, const record& r);
    // A package refused by this transition: why, for the metrics.
    static std::string rejection_of(const record& r, const storage::history_entry& e);
};

// One message in memory, run by the driver (driver.hpp). Every member is touched only on the
// strand.
template <class Traits>
struct actor final : actor_base {
    using record_type = typename Traits::record;
    using event_type = typename Traits::event;
    using mutation = std::function<void(record_type&)>;
    struct envelope {
        event_type event;
        std::string detail;
        mutation mutate;
        unique_function<void(result<sm::verdict>)> done;
    };

    actor(runtime& r, record_type rec)
        : actor_base(r, Traits::id(rec))
        , record(std::move(rec)) {}

    record_type record;
    std::deque<envelope> inbox; // outside events, applied in order before the next step

    // The record's control facts with the backoff kept in memory.
    sm::control control() const;
    static asio::awaitable<void> run(std::shared_ptr<actor> self);
    // The machine decides; an accepted transition is staged (with `extra`, more writes to commit
    // atomically with it) and committed before memory changes. `mutate` carries an action's
    // result into the record.
    asio::awaitable<result<sm::verdict>> apply(event_type event, std::string detail, mutation mutate,
                                               storage::write_batch* extra = nullptr);
    // A failed action: retryable (the same action after a backoff) or permanent.
    asio::awaitable<void> fail(sm::action a, error e);
    // After an action whose result could not be recorded: try again after a backoff.
    void record_outcome(const result<sm::verdict>& applied);
    void ensure_running();
    bool try_retire();
};

using outgoing_actor = actor<outgoing_traits>;
using incoming_actor = actor<incoming_traits>;
using outgoing_mutation = outgoing_actor::mutation;
using incoming_mutation = incoming_actor::mutation;

// The history's words for a timer event.
std::string timer_detail(const sm::outgoing_event& e, const sm::control& c);
std::string timer_detail(const sm::incoming_event& e, const sm::control& c);

struct runtime {
    runtime(runner_config c, ports p);

    runner_config config;
    engine::ports ports;
    // Declared first so that everything holding its executors (actors, timers, the committer's
    // pending completions) is gone before it is.
    asio::io_context io;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::vector<std::thread> threads;
    asio::thread_pool pool;
    slot_queue slots;
    asio::thread_pool readers{2}; // store reads behind the public API, away from packing
    std::unique_ptr<storage::store> store;
    std::filesystem::path files; // the store's data_dir, known after it is closed too
    // Every use of the store from the public API holds it shared (with_store, read, commit);
    // stop() takes it alone to close the store, so no call can meet a closed store.
    mutable std::shared_mutex store_gate;

    std::atomic<bool> started{false};
    std::atomic<bool> stopping{false};
    std::atomic<bool> paused{false};
    std::atomic<std::uint64_t> transitions{0};
    std::atomic<std::uint64_t> actors_created{0};

    // Live actors by id. An actor leaves the map when it retires (finished and nothing queued).
    mutable std::mutex actors_mutex;
    std::unordered_map<std::string, std::shared_ptr<outgoing_actor>> outgoing;
    std::unordered_map<std::string, std::shared_ptr<incoming_actor>> incoming;
    template <class Traits>
    auto& actors() {
        if constexpr (std::is_same_v<Traits, outgoing_traits>)
            return outgoing;
        else
            return incoming;
    }

    // Coroutines alive (actors, poller): shutdown waits for them.
    std::mutex alive_mutex;
    std::condition_variable alive_changed;
    std::size_t alive = 0;

    // messageIds being stored by an incoming actor, submits in progress, inbox entries being peeked.
    std::mutex claims_mutex;
    std::unordered_set<std::string> claimed_message_ids;
    std::unordered_set<std::string> submitting;
    std::unordered_set<std::string> peeking;

    std::mutex random_mutex;
    std::mt19937_64 random{std::random_device{}()};

    std::mutex subscribers_mutex;
    std::uint64_t next_subscriber = 1;
    std::shared_ptr<const std::vector<std::pair<std::uint64_t, std::function<void(const transition_event&)>>>>
        subscribers = std::make_shared<
            const std::vector<std::pair<std::uint64_t, std::function<void(const transition_event&)>>>>();

    std::optional<asio::system_timer> poll_timer;
    std::optional<strand_t> poll_strand;

    // ---- helpers
    void log(log_level level, std::string_view message, log_fields fields = {}) const {
        config.log(level, message, fields);
    }
    std::chrono::milliseconds backoff(std::uint32_t failures);
    // What a decision needs: the time, the retry policy, a random jitter, the lock timeout.
    sm::context context();
    void notify(const transition_event& e);
    void coroutine_started();
    void coroutine_finished(std::string_view what, std::exception_ptr e);

    // ---- the driver's generic parts (driver.hpp)
    template <class Traits>
    void spawn(std::shared_ptr<actor<Traits>> a);
    // The actor for an id, loaded from the store if it is not in memory.
    template <class Traits>
    asio::awaitable<result<std::shared_ptr<actor<Traits>>>> actor_for(const std::string& id);
    // Hands an event to a message's actor and waits until it is applied (and durable if accepted).
    template <class Traits>
    asio::awaitable<result<sm::verdict>> deliver(std::string id, typename Traits::event event,
                                                 std::string detail,
                                                 std::function<void(typename Traits::record&)> mutate = {});
    // A new record as its machine's first transition: staged into `batch` (with its history entry,
    // returned); after the batch is committed, launch() announces it and starts its actor.
    template <class Traits>
    storage::history_entry stage_new(storage::write_batch& batch, typename Traits::record& r,
                                     const sm::transition<typename Traits::snapshot>& t, std::string detail);
    template <class Traits>
    void launch(typename Traits::record r, const storage::history_entry& first);
    // Counts a durable transition and tells the subscribers.
    template <class Traits>
    void announce(const typename Traits::record& r, const storage::history_entry& e);

    // The store behind the public API, under the gate (blocking, on the calling thread): after
    // stop() has closed the store every such use answers errc::stopping instead of touching it.
    template <class F>
    auto with_store(F&& f) -> std::invoke_result_t<F&, storage::store&> {
        std::shared_lock gate(store_gate);
        if (!store)
            return make_error(errc::stopping, "the engine is not running");
        return f(*store);
    }
    template <class F>
    auto read(F&& f) const -> std::invoke_result_t<F&, const storage::store&> {
        std::shared_lock gate(store_gate);
        if (!store)
            return make_error(errc::stopping, "the engine is not running");
        return f(std::as_const(*store));
    }
    // The same read on the reader pool, resuming the caller on its own executor: every read an
    // awaitable API call makes goes this way, so none runs on an event loop.
    template <class F>
    asio::awaitable<std::invoke_result_t<F&, const storage::store&>> read_async(F f) {
        auto job = [this, f = std::move(f)]() mutable {
            return read(f);
        };
        auto r = co_await kurer::offload(readers.get_executor(), std::move(job));
        co_return r;
    }
    // A durable commit from an API call: handed to the committer under the gate (never waiting
    // under it); errc::stopping once the store is closed.
    asio::awaitable<result<void>> commit(storage::write_batch batch);

    // Blocking work on the worker pool (kurer::offload), resuming the caller on its executor.
    template <class F>
    asio::awaitable<std::invoke_result_t<F&>> offload(F f) {
        return kurer::offload(pool.get_executor(), std::move(f));
    }

    static asio::awaitable<void> poll_loop(runtime* rt);
    asio::awaitable<std::size_t> poll_once(); // how many new files it recorded
};

// A port that throws (a bug, or a dependency that is down) fails the action retryably, except
// for the cancellation that ends a shutdown grace period.
template <class T>
asio::awaitable<result<T>> guarded(runtime* rt, asio::awaitable<result<T>> op, const char* what) {
    try {
        auto r = co_await std::move(op);
        co_return r;
    } catch (const boost::system::system_error& e) {
        if (rt->stopping && e.code() == asio::error::operation_aborted)
            throw;
        co_return make_error(e.code(), std::string(what) + " threw: " + e.what(), retry::yes);
    } catch (const std::exception& e) {
        co_return make_error(make_error_code(boost::system::errc::io_error),
                             std::string(what) + " threw: " + e.what(), retry::yes);
    }
}

// SHA-256 helpers (lower-case hex).
std::string sha256_hex(std::string_view bytes);
result<std::string> sha256_file(const std::filesystem::path& path);
// Copies `from` to `to` in chunks, fsyncs it and returns {size, sha256}.
result<std::pair<std::uint64_t, std::string>> copy_file_durably(const std::filesystem::path& from,
                                                                const std::filesystem::path& to);

} // namespace kurer::engine

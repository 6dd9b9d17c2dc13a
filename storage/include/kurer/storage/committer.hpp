// Group commit: one thread writes every batch queued while the previous synced write was in
// flight as one synced RocksDB write, then completes all their waiters.
//
// With many messages moving at once, one fdatasync covers many transitions, so durable
// throughput is far above one fsync per transition (kurer-bench storage measures the ratio).
// A waiter is completed only after its batch is on disk, through the executor associated with
// its completion handler, never on the committer thread: a slow waiter cannot stall commits.
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/core/unique_function.hpp>
#include <kurer/storage/database.hpp>
#include <kurer/storage/write_batch.hpp>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace kurer::storage {

struct committer_options {
    // false: one synced write per batch (the baseline kurer-bench storage compares against).
    bool group = true;
    // Most batches folded into one write (bounds the latency of a single write); 0 = no bound.
    std::size_t max_group = 4096;
};

struct committer_stats {
    std::uint64_t writes = 0;  // synced RocksDB writes
    std::uint64_t batches = 0; // batches (transitions) committed by them
    std::uint64_t largest_group = 0;
    // groups of 1, 2-3, 4-7, 8-15, ... , 2^15 and more batches per write
    std::array<std::uint64_t, 16> group_sizes{};
};

class committer {
public:
    committer(database& db, committer_options options = {});
    ~committer(); // commits what is queued, then stops
    committer(const committer&) = delete;
    committer& operator=(const committer&) = delete;

    // Commits `batch` durably. Completion signature void(kurer::result<void>), delivered through
    // the handler's associated executor. Not cancellable: once queued the batch is written. The
    // committer thread holds a copy of that executor until it has posted the completion, so the
    // executor's execution context must outlive the committer (stop() it first).
    template <class CompletionToken>
    auto async_commit(write_batch batch, CompletionToken&& token) {
        return boost::asio::async_initiate<CompletionToken, void(result<void>)>(
            [this](auto handler, write_batch b) {
                auto ex = boost::asio::get_associated_executor(handler);
                enqueue(std::move(b), completion([h = std::move(handler), ex](result<void> r) mutable {
                            boost::asio::post(ex, [h = std::move(h), r = std::move(r)]() mutable {
                                std::move(h)(std::move(r));
                            });
                        }));
            },
            token, std::move(batch));
    }

    // The blocking form, for tools and tests: returns when the batch is on disk.
    result<void> commit(write_batch batch);

    committer_stats stats() const;

    // Writes what is queued, refuses new batches (errc::closed) and joins the thread.
    void stop();

private:
    using completion = unique_function<void(result<void>)>;

    struct pending {
        write_batch batch;
        completion done;
    };

    void enqueue(write_batch batch, completion done);
    void run();

    database& db_;
    committer_options options_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<pending> queue_;
    bool stopping_ = false;
    committer_stats stats_;
    std::thread thread_;
};

} // namespace kurer::storage

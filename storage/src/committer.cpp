#include <kurer/storage/committer.hpp>
#include <kurer/storage/kill_point.hpp>

#include <bit>
#include <future>

namespace kurer::storage {

committer::committer(database& db, committer_options options)
    : db_(db)
    , options_(options)
    , thread_([this] { run(); }) {}

committer::~committer() {
    stop();
}

void committer::enqueue(write_batch batch, completion done) {
    {
        std::lock_guard lock(mutex_);
        if (!stopping_) {
            queue_.push_back({std::move(batch), std::move(done)});
            wake_.notify_one();
            return;
        }
    }
    done(make_error(errc::closed, "the store is shutting down: transition not committed"));
}

result<void> committer::commit(write_batch batch) {
    std::promise<result<void>> promise;
    auto future = promise.get_future();
    enqueue(std::move(batch), completion([&promise](result<void> r) { promise.set_value(std::move(r)); }));
    return future.get();
}

committer_stats committer::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

void committer::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        wake_.notify_one();
    }
    if (thread_.joinable())
        thread_.join();
}

void committer::run() {
    std::vector<pending> group;
    std::vector<const write_batch*> batches;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return !queue_.empty() || stopping_; });
            if (queue_.empty())
                return; // stopping and drained
            // Everything that queued up while the previous write was syncing goes in this one.
            const std::size_t limit =
                options_.group ? (options_.max_group == 0 ? queue_.size() : options_.max_group) : 1;
            const std::size_t n = std::min(limit, queue_.size());
            group.clear();
            for (std::size_t i = 0; i < n; ++i) {
                group.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        batches.clear();
        for (const auto& p : group)
            batches.push_back(&p.batch);

        kill_point("commit.before_write");
        auto written = db_.write(batches, true);
        kill_point("commit.after_write");

        {
            std::lock_guard lock(mutex_);
            ++stats_.writes;
            stats_.batches += group.size();
            stats_.largest_group = std::max<std::uint64_t>(stats_.largest_group, group.size());
            const auto bucket =
                std::min<std::size_t>(std::bit_width(group.size()) - 1, stats_.group_sizes.size() - 1);
            ++stats_.group_sizes[bucket];
        }
        for (auto& p : group)
            p.done(written);
        // Drop the completions (and the executors they hold) now, not at the next write.
        group.clear();
    }
}

} // namespace kurer::storage

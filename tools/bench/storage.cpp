// kurer-bench storage: how many durable transitions per second the store commits when many
// messages move at once, with group commit and with one synced write per transition, measured in
// the same run on the same disk. A transition here is what the runner writes: the record, a
// history entry and the index updates, one write_batch, sync = true.
#include "options.hpp"

#include <kurer/core/uuid.hpp>
#include <kurer/storage/store.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>

namespace kurer::bench {
namespace {

namespace asio = boost::asio;
namespace sm = statemachine;

constexpr std::string_view usage = R"(usage: kurer-bench storage [--transitions N] [--writers W] [--dir PATH]

Commits N transitions from W messages moving at once (W coroutines on one I/O thread, as in the
runner), first with group commit, then with one synced write per transition (the baseline runs
min(N, 2000) transitions: its rate is the point, not its total). Prints both rates and their ratio.
  --transitions N  transitions with group commit (default 20000)
  --writers W      messages moving at once (default 256)
  --dir PATH       where to put the scratch databases (default: the system's temp directory);
                   put it on the disk you want to measure. Removed afterwards.
)";

storage::outgoing_record sample_record(std::size_t writer) {
    storage::outgoing_record r;
    r.id = random_uuid();
    r.message_id = r.id;
    r.conversation_id = random_uuid();
    r.sender = "910077473";
    r.receiver = "910075918";
    r.process = "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0";
    r.document_type = "urn:no:difi:arkivmelding:xsd::arkivmelding";
    r.senders_reference = random_uuid();
    r.created = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    r.updated = r.created;
    r.deadline = r.created + std::chrono::hours(24);
    r.content_digest = std::string(64, 'a');
    r.business_message =
        R"({"arkivmelding":{"tittel":"benchmark message )" + std::to_string(writer) + R"("}})";
    r.documents = {
        {"arkivmelding.xml", "application/xml", false, {"documents/x/0", 2048, std::string(64, 'b')}},
        {"brev.pdf", "application/pdf", true, {"documents/x/1", 1 << 20, std::string(64, 'c')}}};
    r.package = {"packages/out/x.zip", 1 << 20, std::string(64, 'd')};
    r.broker_reference = random_uuid();
    return r;
}

// One message's transitions, cycling through the states the runner writes most.
asio::awaitable<void> writer(storage::store* s, std::size_t index, std::size_t count) {
    auto record = sample_record(index);
    const sm::outgoing_state cycle[] = {sm::outgoing_state::created,          sm::outgoing_state::authorized,
                                        sm::outgoing_state::resolved,         sm::outgoing_state::packed,
                                        sm::outgoing_state::upload_initiated, sm::outgoing_state::uploaded};
    bool first = true;
    for (std::size_t i = 0; i < count; ++i) {
        auto next = record;
        next.machine.state = cycle[i % std::size(cycle)];
        storage::history_entry entry{next.history_size++,
                                     next.updated,
                                     static_cast<std::uint8_t>(record.machine.state),
                                     static_cast<std::uint8_t>(next.machine.state),
                                     "benchmark",
                                     0,
                                     "",
                                     {}};
        storage::write_batch batch;
        storage::store::stage(batch, first ? nullptr : &record, next, &entry);
        auto r = co_await s->commit(std::move(batch), asio::use_awaitable);
        if (!r)
            throw std::runtime_error(r.error().describe());
        record = std::move(next);
        first = false;
    }
}

struct measurement {
    double per_second = 0;
    double seconds = 0;
    storage::committer_stats stats;
};

measurement measure(const std::filesystem::path& dir, bool group, std::size_t transitions,
                    std::size_t writers) {
    storage::store_options options;
    options.commit.group = group;
    asio::io_context io; // outlives the store's committer, which posts completions to it
    auto s = storage::store::open(dir, options);
    if (!s)
        throw std::runtime_error(s.error().describe());
    const std::size_t each = transitions / writers, extra = transitions % writers;
    for (std::size_t w = 0; w < writers; ++w) {
        auto job = writer(s->get(), w, each + (w < extra ? 1 : 0));
        asio::co_spawn(io, std::move(job), [](std::exception_ptr e) {
            if (e)
                std::rethrow_exception(e);
        });
    }
    const auto start = std::chrono::steady_clock::now();
    io.run();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    measurement m;
    m.seconds = seconds;
    m.per_second = static_cast<double>(transitions) / seconds;
    m.stats = (*s)->commit_stats();
    return m;
}

} // namespace

int storage(arguments args) {
    auto o = options::parse(args, {"transitions", "writers", "dir"}, usage);
    if (!o)
        return args.empty() || std::string_view(args[0]) != "--help" ? 2 : 0;
    std::size_t transitions = 0, writers = 0;
    if (!o->number("transitions", transitions, 20000) || !o->number("writers", writers, 256))
        return 2;
    const auto base =
        std::filesystem::path(o->text("dir").value_or(std::filesystem::temp_directory_path().string())) /
        ("kurer-bench-storage-" + random_uuid());
    const std::size_t baseline_transitions = std::min<std::size_t>(transitions, 2000);
    std::printf("kurer-bench storage: %zu writers, %zu transitions with group commit, %zu with one fsync "
                "each, in %s\n",
                writers, transitions, baseline_transitions, base.string().c_str());
    try {
        const auto grouped = measure(base / "grouped", true, transitions, writers);
        const auto single = measure(base / "single", false, baseline_transitions, writers);
        std::error_code ignored;
        std::filesystem::remove_all(base, ignored);
        const auto groups = [](const measurement& m) {
            return static_cast<double>(m.stats.batches) /
                   static_cast<double>(std::max<std::uint64_t>(1, m.stats.writes));
        };
        std::printf("group commit:        %10.0f transitions/s  (%.2f s, %llu synced writes, %.1f "
                    "transitions per write, "
                    "largest %llu)\n",
                    grouped.per_second, grouped.seconds,
                    static_cast<unsigned long long>(grouped.stats.writes), groups(grouped),
                    static_cast<unsigned long long>(grouped.stats.largest_group));
        std::printf("one fsync each:      %10.0f transitions/s  (%.2f s, %llu synced writes)\n",
                    single.per_second, single.seconds, static_cast<unsigned long long>(single.stats.writes));
        std::printf("ratio:               %10.1fx\n", grouped.per_second / single.per_second);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "kurer-bench storage: %s\n", e.what());
        std::error_code ignored;
        std::filesystem::remove_all(base, ignored);
        return 1;
    }
    return 0;
}

namespace {
const registrar registered("storage",
                           "durable transitions per second: group commit against one synced write each",
                           [](arguments args) { return storage(args.subspan(1)); });
} // namespace

} // namespace kurer::bench

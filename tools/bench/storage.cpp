// kurer-bench storage: how many durable transitions per second the store commits when many
// messages move at once, with group commit and with one synced write per transition, measured in
// the same run on the same disk. A transition here is what the runner writes: the record, a
// history entry and the index updates, one write_batch, sync = true.
#include "bench.hpp"

#include <kurer/core/uuid.hpp>
#include <kurer/engine/cli.hpp>
#include <kurer/storage/store.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace kurer::bench {
namespace {

namespace asio = boost::asio;
namespace sm = statemachine;

struct options {
    std::size_t transitions = 20000;
    std::size_t writers = 256;
    std::string dir = std::filesystem::temp_directory_path().string();
};

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

int storage(const options& o) {
    const std::size_t transitions = o.transitions, writers = o.writers;
    const auto base = std::filesystem::path(o.dir) / ("kurer-bench-storage-" + random_uuid());
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

command_fn setup(CLI::App& command) {
    auto o = std::make_shared<options>();
    engine::cli::synopsis(command, "usage: kurer-bench storage [--transitions N] [--writers W] [--dir PATH]");
    command.footer(
        "Commits N transitions from W messages moving at once (W coroutines on one I/O thread, as in the\n"
        "runner), first with group commit, then with one synced write per transition (the baseline runs\n"
        "min(N, 2000) transitions: its rate is the point, not its total). Prints both rates and their\n"
        "ratio. Put --dir on the disk you want to measure.");
    command.add_option("--transitions", o->transitions, "transitions with group commit (default 20000)")
        ->type_name("N")
        ->check(engine::cli::whole_number());
    command.add_option("--writers", o->writers, "messages moving at once (default 256)")
        ->type_name("W")
        ->check(engine::cli::whole_number());
    command
        .add_option("--dir", o->dir,
                    "where to put the scratch databases (default: the system's temp directory); removed "
                    "afterwards")
        ->type_name("PATH");
    return [o] {
        return storage(*o);
    };
}

const registrar registered("storage",
                           "durable transitions per second: group commit against one synced write each",
                           &setup);

} // namespace

} // namespace kurer::bench

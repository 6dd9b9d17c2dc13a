// kurer-bench memory: resident memory of N live messages held by the runner. The store is seeded
// with N outgoing messages as recovery finds them after a restart: most waiting for receipts
// (Uploaded, Delivered), the rest not yet authorized (Created) with a token port that never
// answers, so max_in_flight of them hold an action slot and the others wait in line. Then a
// runner opens the store, recovers every message into its actor and coroutine, and the process's
// RSS is read from /proc/self/status.
#include "bench.hpp"

#include <kurer/core/uuid.hpp>
#include <kurer/engine/cli.hpp>
#include <kurer/engine/runner.hpp>
#include <kurer/engine/testing/fakes.hpp>
#include <kurer/storage/store.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>

namespace kurer::bench {
namespace {

namespace sm = statemachine;
using namespace std::chrono_literals;

struct options {
    std::size_t messages = 100000;
    std::size_t waiting_percent = 10;
    std::string dir = std::filesystem::temp_directory_path().string();
};

std::size_t rss_kib() {
    std::ifstream in("/proc/self/status");
    std::string key;
    while (in >> key) {
        if (key == "VmRSS:") {
            std::size_t kib = 0;
            in >> kib;
            return kib;
        }
        std::getline(in, key);
    }
    return 0;
}

storage::outgoing_record seed(std::size_t i, sm::outgoing_state state, storage::time_point now) {
    storage::outgoing_record r;
    r.id = random_uuid();
    r.message_id = r.id;
    r.conversation_id = random_uuid();
    r.machine.state = state;
    r.machine.recorded.insert(sm::eformidling_status::opprettet);
    if (state != sm::outgoing_state::created)
        r.machine.recorded.insert(sm::eformidling_status::sendt);
    if (state == sm::outgoing_state::delivered)
        r.machine.recorded.insert(sm::eformidling_status::mottatt);
    r.sender = "910077473";
    r.receiver = "910075918";
    r.process = "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0";
    r.document_type = "urn:no:difi:arkivmelding:xsd::arkivmelding";
    r.senders_reference = random_uuid();
    r.created = now;
    r.updated = now;
    r.deadline = now + std::chrono::hours(24);
    r.history_size = 1;
    r.content_digest = std::string(64, 'a');
    r.business_message = R"({"arkivmelding":{"tittel":"memory benchmark )" + std::to_string(i) + R"("}})";
    r.documents = {
        {"arkivmelding.xml", "application/xml", false, {"documents/x/0", 2048, std::string(64, 'b')}},
        {"brev.pdf", "application/pdf", true, {"documents/x/1", 1 << 20, std::string(64, 'c')}}};
    if (state != sm::outgoing_state::created) {
        r.package = {"packages/out/" + r.id + ".zip", 1 << 20, std::string(64, 'd')};
        r.broker_reference = random_uuid();
    }
    return r;
}

} // namespace

int memory(const options& o) {
    const std::size_t messages = o.messages;
    const std::size_t waiting_percent = std::min<std::size_t>(o.waiting_percent, 100);
    const auto dir = std::filesystem::path(o.dir) / ("kurer-bench-memory-" + random_uuid());
    const std::size_t waiting = messages * waiting_percent / 100;

    // Seed in a store of its own, closed again before the runner starts.
    const auto seed_start = std::chrono::steady_clock::now();
    {
        auto s = storage::store::open(dir / "data");
        if (!s) {
            std::fprintf(stderr, "kurer-bench memory: %s\n", s.error().describe().c_str());
            return 1;
        }
        const auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
        storage::write_batch batch;
        for (std::size_t i = 0; i < messages; ++i) {
            const auto state = i < waiting
                                   ? sm::outgoing_state::created
                                   : (i % 2 ? sm::outgoing_state::uploaded : sm::outgoing_state::delivered);
            auto r = seed(i, state, now);
            storage::history_entry e{0, now, 0, static_cast<std::uint8_t>(state), "seeded", 0, {}, {}};
            storage::store::stage(batch, nullptr, r, &e);
            if ((i + 1) % 2000 == 0 || i + 1 == messages) {
                if (auto c = (*s)->commit_blocking(std::move(batch)); !c) {
                    std::fprintf(stderr, "kurer-bench memory: %s\n", c.error().describe().c_str());
                    return 1;
                }
                batch = {};
            }
        }
    }
    const double seed_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - seed_start).count();
    const auto before = rss_kib();

    engine::testing::fake_context fakes;
    fakes.faults->always("get_token", engine::testing::fault::stall);
    engine::runner_config c;
    c.data_dir = dir / "data";
    c.organization = "910077473";
    c.polling_interval = 0ms; // outgoing only
    c.shutdown_grace = 200ms;
    c.log = engine::stderr_log(engine::log_level::warning);
    auto r = engine::runner::open(c, engine::testing::make_fake_ports(dir / "broker", "910077473", fakes));
    if (!r) {
        std::fprintf(stderr, "kurer-bench memory: %s\n", r.error().describe().c_str());
        return 1;
    }
    const auto start = std::chrono::steady_clock::now();
    if (auto started = (*r)->start(); !started) {
        std::fprintf(stderr, "kurer-bench memory: %s\n", started.error().describe().c_str());
        return 1;
    }
    // Every waiting message either holds a slot (stalled in get_token) or waits in line.
    const std::size_t busy = std::min(waiting, c.max_in_flight);
    while (fakes.faults->stalled() < busy || (*r)->stats().waiting_for_slot < waiting - busy) {
        if (std::chrono::steady_clock::now() - start > 300s) {
            std::fprintf(stderr, "kurer-bench memory: the runner did not settle within 300 s\n");
            return 1;
        }
        std::this_thread::sleep_for(20ms); // polling a benchmark's progress, not a test
    }
    const double recovery_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto after = rss_kib();
    const auto stats = (*r)->stats();

    std::printf("kurer-bench memory: %zu live messages (%zu at Created competing for %zu slots, %zu awaiting "
                "receipts)\n",
                messages, waiting, c.max_in_flight, messages - waiting);
    std::printf("seeded in %.1f s; recovered and running in %.1f s\n", seed_seconds, recovery_seconds);
    std::printf("actors in memory:   %zu (in flight %zu, waiting for a slot %zu)\n", stats.live_outgoing,
                stats.in_flight, stats.waiting_for_slot);
    std::printf("RSS before runner:  %8.1f MiB\n", static_cast<double>(before) / 1024.0);
    std::printf("RSS with runner:    %8.1f MiB\n", static_cast<double>(after) / 1024.0);
    std::printf("per live message:   %8.0f bytes (RSS growth / messages)\n",
                static_cast<double>(after - std::min(after, before)) * 1024.0 /
                    static_cast<double>(messages));
    (*r)->stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    return 0;
}

namespace {

command_fn setup(CLI::App& command) {
    auto o = std::make_shared<options>();
    engine::cli::synopsis(command,
                          "usage: kurer-bench memory [--messages N] [--waiting-percent P] [--dir PATH]");
    command.footer(
        "Seeds N live outgoing messages into a fresh store, opens a runner on it and reports the resident\n"
        "memory once every message is recovered and running.");
    command.add_option("--messages", o->messages, "live messages (default 100000)")
        ->type_name("N")
        ->check(engine::cli::whole_number());
    command
        .add_option("--waiting-percent", o->waiting_percent,
                    "share (0-100) still at Created, competing for action slots (default 10)")
        ->type_name("P")
        ->check(engine::cli::whole_number(0));
    command
        .add_option("--dir", o->dir,
                    "scratch directory (default: the system's temp directory); removed afterwards")
        ->type_name("PATH");
    return [o] {
        return memory(*o);
    };
}

const registrar registered("memory", "resident memory of live messages held by the runner", &setup);

} // namespace

} // namespace kurer::bench

// kurer-bench e2e: the sandbox and two `kurer run` daemons as real processes; N messages of a
// given size submitted through the sender's admin socket with C in flight, the receiver's end
// system taking each over its admin socket. The bench follows the sender's transitions on one
// /admin/events stream, as an integration product would (no per-message polling). Reports
// messages per second Created→Uploaded and Created→Received, latency percentiles per state,
// CPU time per message of each process (user+sys from /proc: sender, receiver, sandbox, the bench
// itself), each process's peak RSS, and this machine's RSA-2048 private-key rate measured in the
// same run, since one signature (sender) and one decryption (receiver) per message is the floor.
// --concurrency 50,200,1000 runs each in a fresh cluster and prints a table.
#include "bench.hpp"
#include "e2e_support.hpp"

#include <kurer/dpo/date_time.hpp>
#include <kurer/engine/cli.hpp>

#include <botan/auto_rng.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <unordered_map>

namespace kurer::bench {
namespace {

using namespace e2e;
using clock = std::chrono::steady_clock;

struct options {
    std::size_t messages = 200;
    std::string concurrency = "50"; // one value, or a comma-separated sweep
    std::string size = "100KB";
    std::string broker = "altinn2";
    unsigned io_threads = 0; // 0: the daemons' default (one per core)
};

std::optional<std::size_t> parse_size(const std::string& text) {
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc())
        return std::nullopt;
    const std::string unit(end, text.data() + text.size());
    if (unit.empty() || unit == "B")
        return n;
    if (unit == "KB" || unit == "K" || unit == "KiB")
        return n * 1024;
    if (unit == "MB" || unit == "M" || unit == "MiB")
        return n * 1024 * 1024;
    return std::nullopt;
}

// RSA-2048 PKCS#1 v1.5 SHA-256 signatures per second, on `threads` threads for about `seconds`.
double rsa_ops_per_second(unsigned threads, double seconds) {
    Botan::AutoSeeded_RNG rng;
    const Botan::RSA_PrivateKey key(rng, 2048);
    std::atomic<std::uint64_t> ops{0};
    const auto start = clock::now();
    const auto until =
        start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; ++t)
        workers.emplace_back([&] {
            Botan::AutoSeeded_RNG local;
            Botan::PK_Signer signer(key, local, "EMSA3(SHA-256)");
            const std::vector<std::uint8_t> data(64, 0x42);
            std::uint64_t n = 0;
            while (clock::now() < until) {
                (void)signer.sign_message(data, local);
                ++n;
            }
            ops += n;
        });
    for (auto& w : workers)
        w.join();
    return static_cast<double>(ops) / std::chrono::duration<double>(clock::now() - start).count();
}

double percentile(std::vector<double> v, double p) {
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const auto i =
        static_cast<std::size_t>(std::min<double>(v.size() - 1, p / 100.0 * static_cast<double>(v.size())));
    return v[i];
}

std::optional<dpo::instant> instant_of(const json::value& v, std::string_view key) {
    if (!v.is_object() || !v.as_object().contains(key) || !v.at(key).is_string())
        return std::nullopt;
    auto t = dpo::parse_date_time(v.at(key).as_string());
    if (!t)
        return std::nullopt;
    return t->utc;
}

// The sender's transitions as an integration product sees them: one /admin/events stream. For
// each message of the run, the time each state was first reached; a message is finished at
// Received, Failed or Expired, and whoever waits for it is woken then (no polling).
class event_follower {
public:
    event_follower(fs::path socket, const std::vector<std::string>& ids)
        : socket_(std::move(socket)) {
        for (std::size_t i = 0; i < ids.size(); ++i)
            index_.emplace(ids[i], i);
        reached_.resize(ids.size());
        finished_.assign(ids.size(), std::string());
        thread_ = std::thread([this] { run(); });
    }
    ~event_follower() {
        stop_ = true;
        // The stream ends at the next line; a transition or the engine's heartbeat brings one.
        thread_.join();
    }
    // The state message i finished in ("" when the timeout came first).
    std::string wait_finished(std::size_t i, std::chrono::seconds timeout) {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, timeout, [&] { return !finished_[i].empty(); });
        return finished_[i];
    }
    std::vector<std::map<std::string, dpo::instant>> reached() const {
        std::lock_guard lock(mutex_);
        return reached_;
    }
    std::size_t lines() const { return lines_; }

private:
    void run() {
        engine::admin_client client({.socket = socket_}, 0s);
        auto status = client.stream_lines("/admin/events", [this](std::string_view line) {
            ++lines_;
            boost::system::error_code ec;
            const auto v = json::parse(line, ec);
            std::lock_guard lock(mutex_);
            if (!connected_) {
                connected_ = true;
                changed_.notify_all();
            }
            if (ec || !v.is_object() || v.at("type") != "transition" || v.at("direction") != "outgoing")
                return !stop_;
            const auto it = index_.find(std::string(v.at("id").as_string()));
            if (it == index_.end())
                return !stop_;
            const std::string to(v.at("to").as_string());
            if (const auto t = instant_of(v, "time"))
                reached_[it->second].try_emplace(to, *t);
            if (to == "Received" || to == "Failed" || to == "Expired") {
                finished_[it->second] = to;
                changed_.notify_all();
            }
            return !stop_;
        });
        std::lock_guard lock(mutex_);
        connected_ = true;
        if (!status)
            broken_ = status.error().describe();
        changed_.notify_all();
    }

    fs::path socket_;
    std::unordered_map<std::string, std::size_t> index_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::map<std::string, dpo::instant>> reached_;
    std::vector<std::string> finished_;
    bool connected_ = false;
    std::string broken_;
    std::atomic<bool> stop_{false};
    std::atomic<std::size_t> lines_{0};
    std::thread thread_;
};

struct figures {
    std::size_t concurrency = 0, messages = 0, uploaded = 0, received = 0, failed = 0;
    double wall = 0, up_rate = 0, recv_rate = 0;
    std::map<std::string, std::vector<double>> latency_ms;                   // per state, from Created
    double cpu_sender = 0, cpu_receiver = 0, cpu_sandbox = 0, cpu_bench = 0; // seconds in the run
    std::uint64_t rss_sender = 0, rss_receiver = 0, rss_sandbox = 0;         // KiB, peak
    std::vector<std::string> failures;
};

figures run_once(const options& opts, std::size_t concurrency, const std::string& attachment) {
    figures f;
    f.concurrency = concurrency;
    f.messages = opts.messages;
    testing::cluster_options o;
    o.broker = opts.broker;
    o.tune = [io_threads = opts.io_threads](json::object& config) {
        config["polling_interval_ms"] = 200;
        config["retry"] = {{"initial_backoff_ms", 100}, {"max_backoff_ms", 1000}};
        if (io_threads > 0)
            config["io_threads"] = io_threads;
    };
    testing::cluster c(o);
    auto& a = c.start_daemon(org_a);
    auto& b = c.start_daemon(org_b);
    const auto socket_a = socket_of(c, org_a), socket_b = socket_of(c, org_b);
    std::cout << "kurer-bench e2e: " << opts.messages << " messages of " << attachment.size() << " bytes, "
              << concurrency << " in flight, broker " << opts.broker
              << ", polling interval 200 ms, io_threads "
              << (opts.io_threads > 0 ? std::to_string(opts.io_threads) : std::string("default")) << "\n"
              << std::flush;

    // One more message than measured: the warm-up (last) opens the event stream (which says
    // nothing before a transition) and the broker connections and tokens; the clock starts
    // once it is Received.
    std::vector<std::string> ids(opts.messages + 1);
    for (auto& id : ids)
        id = random_uuid();
    event_follower events(socket_a, ids);
    if (auto e = submit(socket_a, ids.back(), org_b, attachment)) {
        f.failures.push_back("warm-up: " + *e);
        return f;
    }
    {
        polling_end_system b_end(socket_b);
        if (const auto end = events.wait_finished(opts.messages, 120s); end != "Received") {
            f.failures.push_back("warm-up ended " + (end.empty() ? std::string("unknown after 120 s") : end));
            return f;
        }
    }
    std::mutex mutex;
    std::atomic<std::size_t> next{0};
    const double cpu_a0 = cpu_seconds(a.pid()), cpu_b0 = cpu_seconds(b.pid()),
                 cpu_s0 = cpu_seconds(c.sandbox().pid()), cpu_self0 = cpu_seconds(0);
    const auto started = clock::now();
    {
        polling_end_system b_end(socket_b);
        std::vector<std::thread> senders;
        for (std::size_t t = 0; t < std::min(concurrency, opts.messages); ++t)
            senders.emplace_back([&] {
                for (auto i = next++; i < opts.messages; i = next++) {
                    const auto& id = ids[i];
                    if (auto e = submit(socket_a, id, org_b, attachment)) {
                        std::lock_guard lock(mutex);
                        f.failures.push_back(id + ": " + *e);
                        continue;
                    }
                    // In flight until Received (or finished otherwise): the slot frees then.
                    const auto end = events.wait_finished(i, 300s);
                    if (end != "Received") {
                        std::lock_guard lock(mutex);
                        f.failures.push_back(id + ": ended " + (end.empty() ? "unknown after 300 s" : end));
                    }
                }
            });
        for (auto& s : senders)
            s.join();
    }
    f.wall = std::chrono::duration<double>(clock::now() - started).count();
    f.cpu_sender = cpu_seconds(a.pid()) - cpu_a0;
    f.cpu_receiver = cpu_seconds(b.pid()) - cpu_b0;
    f.cpu_sandbox = cpu_seconds(c.sandbox().pid()) - cpu_s0;
    f.cpu_bench = cpu_seconds(0) - cpu_self0;
    f.rss_sender = peak_rss_kib(a.pid());
    f.rss_receiver = peak_rss_kib(b.pid());
    f.rss_sandbox = peak_rss_kib(c.sandbox().pid());

    std::optional<dpo::instant> first_created, last_uploaded, last_received;
    auto reached = events.reached();
    reached.pop_back(); // the warm-up
    for (const auto& states : reached) {
        const auto created = states.find("Created");
        if (created == states.end())
            continue;
        if (!first_created || created->second < *first_created)
            first_created = created->second;
        for (const auto& [to, t] : states) {
            if (to == "Created")
                continue;
            f.latency_ms[to].push_back(
                std::chrono::duration<double, std::milli>(t - created->second).count());
            if (to == "Uploaded") {
                ++f.uploaded;
                last_uploaded = std::max(last_uploaded.value_or(t), t);
            }
            if (to == "Received") {
                ++f.received;
                last_received = std::max(last_received.value_or(t), t);
            }
        }
    }
    f.failed = f.failures.size();
    const auto rate = [&](std::size_t n, const std::optional<dpo::instant>& last) {
        if (!first_created || !last || n == 0)
            return 0.0;
        return static_cast<double>(n) / std::chrono::duration<double>(*last - *first_created).count();
    };
    f.up_rate = rate(f.uploaded, last_uploaded);
    f.recv_rate = rate(f.received, last_received);
    a.terminate();
    b.terminate();
    return f;
}

void print_run(const figures& f) {
    std::printf("wall time %.2f s; %zu Uploaded, %zu Received, %zu failed\n", f.wall, f.uploaded, f.received,
                f.failed);
    for (std::size_t i = 0; i < std::min<std::size_t>(f.failures.size(), 5); ++i)
        std::printf("  failed: %s\n", f.failures[i].c_str());
    std::printf("messages/s Created->Uploaded %.2f, Created->Received %.2f\n", f.up_rate, f.recv_rate);
    std::printf("latency from Created (ms), sender's states:\n  %-12s %6s %8s %8s %8s\n", "state", "n", "p50",
                "p90", "p99");
    for (const char* s : {"Authorized", "Resolved", "Packed", "Uploaded", "Delivered", "Received"})
        if (const auto it = f.latency_ms.find(s); it != f.latency_ms.end())
            std::printf("  %-12s %6zu %8.0f %8.0f %8.0f\n", s, it->second.size(), percentile(it->second, 50),
                        percentile(it->second, 90), percentile(it->second, 99));
    const double n = static_cast<double>(std::max<std::size_t>(1, f.messages));
    std::printf("CPU per message (user+sys from /proc, ms): sender %.2f, receiver %.2f, sandbox %.2f, "
                "bench %.2f\n",
                1000 * f.cpu_sender / n, 1000 * f.cpu_receiver / n, 1000 * f.cpu_sandbox / n,
                1000 * f.cpu_bench / n);
    std::printf("peak RSS (VmHWM): sender %.1f MiB, receiver %.1f MiB, sandbox %.1f MiB\n",
                static_cast<double>(f.rss_sender) / 1024, static_cast<double>(f.rss_receiver) / 1024,
                static_cast<double>(f.rss_sandbox) / 1024);
}

std::optional<std::vector<std::size_t>> parse_list(const std::string& text) {
    std::vector<std::size_t> out;
    std::size_t from = 0;
    while (from <= text.size()) {
        const auto comma = std::min(text.find(',', from), text.size());
        std::size_t v = 0;
        const auto [end, ec] = std::from_chars(text.data() + from, text.data() + comma, v);
        if (ec != std::errc() || end != text.data() + comma || v == 0)
            return std::nullopt;
        out.push_back(v);
        from = comma + 1;
    }
    return out;
}

int run(const CLI::App& command, const options& opts) {
    const auto size = parse_size(opts.size);
    if (!size)
        return engine::cli::usage_error(command,
                                        "--size: '" + opts.size + "' is not a size (like 100KB, 2MB, 512B)");
    if (opts.broker != "altinn2" && opts.broker != "altinn3")
        return engine::cli::usage_error(command,
                                        "--broker: '" + opts.broker + "' is neither altinn2 nor altinn3");
    const auto sweep = parse_list(opts.concurrency);
    if (!sweep)
        return engine::cli::usage_error(command,
                                        "--concurrency: '" + opts.concurrency +
                                            "' is not a list of positive integers (like 50,200,1000)");
    find_executables_next_to_me();

    std::string attachment(*size, '\0');
    std::mt19937_64 random(42);
    for (auto& c : attachment)
        c = static_cast<char>(random()); // incompressible, like a scanned PDF

    std::vector<figures> runs;
    for (const auto concurrency : *sweep) {
        runs.push_back(run_once(opts, concurrency, attachment));
        print_run(runs.back());
    }

    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const double rsa_1 = rsa_ops_per_second(1, 2.0), rsa_n = rsa_ops_per_second(cores, 2.0);
    std::printf("RSA-2048 private-key ops/s (PKCS#1 v1.5 SHA-256 sign): 1 thread %.0f, %u threads %.0f\n",
                rsa_1, cores, rsa_n);
    std::printf(
        "\n| in flight | messages | Created->Uploaded msg/s | Created->Received msg/s | Packed p50 ms | "
        "Uploaded p50 ms | Received p50 / p99 ms | CPU ms/msg sender / receiver / sandbox / bench | "
        "peak RSS MiB sender / receiver | RSA-floor ratio (%u threads) |\n|---|---|---|---|---|---|---|---|"
        "---|---|\n",
        cores);
    bool ok = true;
    for (const auto& f : runs) {
        const auto p = [&](const char* s, double q) {
            const auto it = f.latency_ms.find(s);
            return it == f.latency_ms.end() ? 0.0 : percentile(it->second, q);
        };
        const double n = static_cast<double>(std::max<std::size_t>(1, f.messages));
        std::printf("| %zu | %zu | %.1f | %.1f | %.0f | %.0f | %.0f / %.0f | %.2f / %.2f / %.2f / %.2f | "
                    "%.0f / %.0f | "
                    "%.4f |\n",
                    f.concurrency, f.messages, f.up_rate, f.recv_rate, p("Packed", 50), p("Uploaded", 50),
                    p("Received", 50), p("Received", 99), 1000 * f.cpu_sender / n, 1000 * f.cpu_receiver / n,
                    1000 * f.cpu_sandbox / n, 1000 * f.cpu_bench / n,
                    static_cast<double>(f.rss_sender) / 1024, static_cast<double>(f.rss_receiver) / 1024,
                    f.recv_rate / (rsa_n / 2));
        ok = ok && f.failures.empty() && f.received == f.messages;
    }
    return ok ? 0 : 1;
}

command_fn setup(CLI::App& command) {
    auto o = std::make_shared<options>();
    engine::cli::synopsis(command,
                          "usage: kurer-bench e2e [--messages N] [--concurrency C[,C...]] [--size SIZE] "
                          "[--broker altinn2|altinn3]");
    command.footer(
        "Starts kurer-sandbox and two `kurer run` daemons in a scratch directory, submits N messages\n"
        "(default 200) with an attachment of SIZE (default 100KB; B, KB, MB) from the first organisation\n"
        "to the second through its admin socket, keeping C (default 50) in flight until each is Received,\n"
        "while the receiver's end system takes them over its admin socket. Reports messages/s, latency\n"
        "percentiles per state, peak RSS per process and the RSA-2048 private-key rate of this machine.");
    command.add_option("--messages", o->messages, "messages to send (default 200)")
        ->type_name("N")
        ->check(engine::cli::whole_number());
    command
        .add_option("--concurrency", o->concurrency,
                    "messages in flight (default 50), or a sweep such as 50,200,1000: one run each")
        ->type_name("C[,C...]");
    command.add_option("--size", o->size, "the attachment's size (default 100KB; B, KB, MB)")
        ->type_name("SIZE");
    command.add_option("--broker", o->broker, "the broker (default altinn2)")->type_name("altinn2|altinn3");
    command
        .add_option("--io-threads", o->io_threads, "the daemons' io_threads (default: theirs, one per core)")
        ->type_name("N");
    return [o, &command] {
        return run(command, *o);
    };
}

const registrar
    registered("e2e", "sandbox + two kurer daemons: messages/s, latency per state, RSS, RSA floor", &setup);

} // namespace
} // namespace kurer::bench

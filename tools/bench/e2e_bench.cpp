// kurer-bench e2e: the sandbox and two `kurer run` daemons as real processes; N messages of a
// given size submitted through the sender's admin socket with C in flight, the receiver's end
// system taking each over its admin socket. Reports messages per second Created→Uploaded and
// Created→Received, latency percentiles per state reached (from each message's timed history),
// each process's peak RSS, and this machine's RSA-2048 private-key rate measured in the same
// run, since one signature (sender) and one decryption (receiver) per message is the floor.
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
#include <memory>
#include <random>

namespace kurer::bench {
namespace {

using namespace e2e;
using clock = std::chrono::steady_clock;

struct options {
    std::size_t messages = 200;
    std::size_t concurrency = 50;
    std::string size = "100KB";
    std::string broker = "altinn2";
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

int run(const CLI::App& command, const options& opts) {
    const std::size_t messages = opts.messages, concurrency = opts.concurrency;
    const auto size = parse_size(opts.size);
    if (!size)
        return engine::cli::usage_error(command,
                                        "--size: '" + opts.size + "' is not a size (like 100KB, 2MB, 512B)");
    const auto& broker = opts.broker;
    if (broker != "altinn2" && broker != "altinn3")
        return engine::cli::usage_error(command, "--broker: '" + broker + "' is neither altinn2 nor altinn3");
    find_executables_next_to_me();

    std::string attachment(*size, '\0');
    std::mt19937_64 random(42);
    for (auto& c : attachment)
        c = static_cast<char>(random()); // incompressible, like a scanned PDF

    testing::cluster_options o;
    o.broker = broker;
    o.tune = [](json::object& config) {
        config["polling_interval_ms"] = 200;
        config["retry"] = {{"initial_backoff_ms", 100}, {"max_backoff_ms", 1000}};
    };
    testing::cluster c(o);
    auto& a = c.start_daemon(org_a);
    auto& b = c.start_daemon(org_b);
    const auto socket_a = socket_of(c, org_a), socket_b = socket_of(c, org_b);
    std::cout << "kurer-bench e2e: " << messages << " messages of " << *size << " bytes, " << concurrency
              << " in flight, broker " << broker << ", polling interval 200 ms\n"
              << std::flush;

    std::vector<std::string> ids(messages);
    for (auto& id : ids)
        id = random_uuid();
    std::vector<std::string> failures;
    std::mutex mutex;
    std::atomic<std::size_t> next{0};
    const auto started = clock::now();
    {
        polling_end_system b_end(socket_b);
        std::vector<std::thread> senders;
        for (std::size_t t = 0; t < std::min(concurrency, messages); ++t)
            senders.emplace_back([&] {
                for (auto i = next++; i < messages; i = next++) {
                    const auto& id = ids[i];
                    if (auto e = submit(socket_a, id, org_b, attachment)) {
                        std::lock_guard lock(mutex);
                        failures.push_back(id + ": " + *e);
                        continue;
                    }
                    // In flight until Received (or finished otherwise): the slot frees then.
                    const auto deadline = clock::now() + 300s;
                    for (;;) {
                        const auto state = state_of(socket_a, id);
                        if (state == "Received")
                            break;
                        if (state == "Failed" || state == "Expired" || clock::now() > deadline) {
                            std::lock_guard lock(mutex);
                            failures.push_back(id + ": ended " + (state.empty() ? "unknown" : state));
                            break;
                        }
                        std::this_thread::sleep_for(50ms); // the bench's poll of the admin API
                    }
                }
            });
        for (auto& s : senders)
            s.join();
    }
    const double wall = std::chrono::duration<double>(clock::now() - started).count();

    // Each message's timed history: the time each state was first reached, from Created.
    std::map<std::string, std::vector<double>> latency_ms;
    std::optional<dpo::instant> first_created, last_uploaded, last_received;
    std::size_t uploaded = 0, received = 0;
    for (const auto& id : ids) {
        const auto m = get_json(socket_a, "/admin/messages/" + id);
        if (!m)
            continue;
        const auto created = instant_of(*m, "created");
        if (!created || !m->as_object().contains("history"))
            continue;
        if (!first_created || *created < *first_created)
            first_created = created;
        std::set<std::string> seen;
        for (const auto& h : m->at("history").as_array()) {
            const std::string to(h.at("to").as_string());
            const auto t = instant_of(h, "time");
            if (!t || !seen.insert(to).second)
                continue;
            latency_ms[to].push_back(std::chrono::duration<double, std::milli>(*t - *created).count());
            if (to == "Uploaded") {
                ++uploaded;
                last_uploaded = std::max(last_uploaded.value_or(*t), *t);
            }
            if (to == "Received") {
                ++received;
                last_received = std::max(last_received.value_or(*t), *t);
            }
        }
    }
    const auto rss_a = peak_rss_kib(a.pid()), rss_b = peak_rss_kib(b.pid()),
               rss_s = peak_rss_kib(c.sandbox().pid());
    const auto stop_a = a.terminate(), stop_b = b.terminate();

    const auto rate = [&](std::size_t n, const std::optional<dpo::instant>& last) {
        if (!first_created || !last || n == 0)
            return 0.0;
        return static_cast<double>(n) / std::chrono::duration<double>(*last - *first_created).count();
    };
    const double up_rate = rate(uploaded, last_uploaded), recv_rate = rate(received, last_received);
    std::printf("wall time %.2f s; %zu Uploaded, %zu Received, %zu failed\n", wall, uploaded, received,
                failures.size());
    for (std::size_t i = 0; i < std::min<std::size_t>(failures.size(), 5); ++i)
        std::printf("  failed: %s\n", failures[i].c_str());
    std::printf("messages/s Created->Uploaded %.2f, Created->Received %.2f\n", up_rate, recv_rate);
    std::printf("latency from Created (ms), sender's states:\n  %-12s %6s %8s %8s %8s\n", "state", "n", "p50",
                "p90", "p99");
    for (const char* s : {"Authorized", "Resolved", "Packed", "Uploaded", "Delivered", "Received"})
        if (const auto it = latency_ms.find(s); it != latency_ms.end())
            std::printf("  %-12s %6zu %8.0f %8.0f %8.0f\n", s, it->second.size(), percentile(it->second, 50),
                        percentile(it->second, 90), percentile(it->second, 99));
    std::printf("peak RSS (VmHWM): sender %.1f MiB, receiver %.1f MiB, sandbox %.1f MiB; exits %d %d\n",
                static_cast<double>(rss_a) / 1024, static_cast<double>(rss_b) / 1024,
                static_cast<double>(rss_s) / 1024, stop_a, stop_b);

    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const double rsa_1 = rsa_ops_per_second(1, 2.0), rsa_n = rsa_ops_per_second(cores, 2.0);
    std::printf("RSA-2048 private-key ops/s (PKCS#1 v1.5 SHA-256 sign): 1 thread %.0f, %u threads %.0f\n",
                rsa_1, cores, rsa_n);
    std::printf("ratio messages/s / (RSA ops/s / 2): Received %.4f (1 thread) %.4f (%u threads); Uploaded "
                "%.4f %.4f\n",
                recv_rate / (rsa_1 / 2), recv_rate / (rsa_n / 2), cores, up_rate / (rsa_1 / 2),
                up_rate / (rsa_n / 2));
    return failures.empty() && received == messages ? 0 : 1;
}

command_fn setup(CLI::App& command) {
    auto o = std::make_shared<options>();
    engine::cli::synopsis(command, "usage: kurer-bench e2e [--messages N] [--concurrency C] [--size SIZE] "
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
    command.add_option("--concurrency", o->concurrency, "messages in flight (default 50)")
        ->type_name("C")
        ->check(engine::cli::whole_number());
    command.add_option("--size", o->size, "the attachment's size (default 100KB; B, KB, MB)")
        ->type_name("SIZE");
    command.add_option("--broker", o->broker, "the broker (default altinn2)")->type_name("altinn2|altinn3");
    return [o, &command] {
        return run(command, *o);
    };
}

const registrar
    registered("e2e", "sandbox + two kurer daemons: messages/s, latency per state, RSS, RSA floor", &setup);

} // namespace
} // namespace kurer::bench

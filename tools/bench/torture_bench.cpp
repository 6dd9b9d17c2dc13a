// kurer-bench torture: the crash test's run (tests/e2e/torture_test.cpp) for as long as asked.
// Both organisations run as `kurer run` processes; N messages go both ways while either daemon
// is SIGKILLed at a random moment and restarted, again and again, for S seconds, and each end
// system takes what arrives over its admin socket. Then, calm: every message must end Received
// at its sender and be taken exactly once. Reports messages, kills, lost, duplicated and the
// broker uploads per message from the sandbox's request log.
#include "bench.hpp"
#include "e2e_support.hpp"

#include <kurer/engine/cli.hpp>

#include <cstdio>
#include <iostream>
#include <memory>
#include <random>

namespace kurer::bench {
namespace {

using namespace e2e;
using clock = std::chrono::steady_clock;

struct options {
    std::size_t seconds = 60;
    std::size_t messages = 200;
};

// Altinn 2 uploads in the sandbox's request log: UploadFileStreamedBasic calls (SOAPAction).
std::size_t uploads_in(const fs::path& log) {
    std::ifstream in(log);
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) {
        boost::system::error_code ec;
        const auto v = json::parse(line, ec);
        if (ec || !v.is_object() || v.at("method").as_string() != "POST")
            continue;
        const auto text = json::serialize(v.at("headers")) + std::string(v.at("target").as_string());
        if (text.find("UploadFileStreamedBasic") != std::string::npos)
            ++n;
    }
    return n;
}

int run(const options& opts) {
    const std::size_t seconds = opts.seconds, messages = opts.messages;
    find_executables_next_to_me();

    testing::cluster_options o;
    o.tune = [](json::object& config) {
        config["polling_interval_ms"] = 200;
        config["retry"] = {{"initial_backoff_ms", 100}, {"max_backoff_ms", 1000}};
        // A peek whose answer died with its engine leaves the message locked until the lock
        // expires (NextMove's rule): keep that short.
        config["lock_timeout_ms"] = 2000;
    };
    testing::cluster c(o);
    c.start_daemon(org_a);
    c.start_daemon(org_b);
    const auto socket_a = socket_of(c, org_a), socket_b = socket_of(c, org_b);

    // Messages are submitted at an even pace over the first 80% of the chaos, so kills land while
    // messages are at every step; a submission cut short by a kill is finished once its engine is
    // back (the draft is dropped and sent again under the same id, unless the send had landed).
    std::vector<std::tuple<std::string, std::string, std::string>> sent(messages); // (from, to, id)
    for (std::size_t i = 0; i < messages; ++i) {
        const bool from_a = i % 2 == 0;
        sent[i] = {from_a ? org_a : org_b, from_a ? org_b : org_a, random_uuid()};
    }
    std::cout << "kurer-bench torture: " << messages << " messages, chaos for " << seconds << " s\n"
              << std::flush;

    int kills = 0;
    std::size_t lost = 0, duplicated = 0, not_received = 0, resubmitted = 0;
    double calm_seconds = 0;
    {
        polling_end_system a_end(socket_a), b_end(socket_b);
        const auto pace =
            std::chrono::duration<double>(0.8 * static_cast<double>(seconds)) / static_cast<double>(messages);
        std::thread submitter([&] {
            const auto begin = clock::now();
            for (std::size_t i = 0; i < messages; ++i) {
                std::this_thread::sleep_until(begin + std::chrono::duration_cast<clock::duration>(pace * i));
                const auto& [from, to, id] = sent[i];
                const auto socket = from == org_a ? socket_a : socket_b;
                for (int attempt = 0; submit(socket, id, to, "torture " + from + " -> " + to); ++attempt) {
                    ++resubmitted;
                    std::this_thread::sleep_for(100ms); // its engine is down or restarting
                    if (const auto state = state_of(socket, id); !state.empty() && state != "Draft")
                        break; // the send landed; its answer died with the engine
                    engine::admin_client client({.socket = socket}, 10s);
                    (void)client.send(request(verb::delete_, "/api/messages/out/" + id));
                }
            }
        });
        std::mt19937 random(std::random_device{}());
        const auto chaos_until = clock::now() + std::chrono::seconds(seconds);
        while (clock::now() < chaos_until) {
            // The moment of the next kill is the chaos schedule, not a wait for an event.
            std::this_thread::sleep_for(std::chrono::milliseconds(100 + random() % 900));
            const std::string victim = random() % 2 ? org_a : org_b;
            c.daemon_of(victim).kill();
            ++kills;
            c.start_daemon(victim); // returns once it is ready again
        }
        submitter.join();

        const auto calm = clock::now();
        const auto deadline = calm + 180s;
        auto pending = sent;
        std::map<std::string, std::size_t> stuck; // state -> messages not Received at the deadline
        while (!pending.empty()) {
            const bool last_look = clock::now() >= deadline;
            std::erase_if(pending, [&](const auto& m) {
                const auto& [from, to, id] = m;
                const auto state = state_of(socket_of(c, from), id);
                if (state == "Received")
                    return true;
                if (state == "Failed" || state == "Expired" || last_look) {
                    ++stuck[state.empty() ? "(unknown to the sender)" : state];
                    if (stuck[state.empty() ? "(unknown to the sender)" : state] == 1)
                        std::cerr << "not Received: " << id << " from " << from << " is " << state << "\n";
                    ++not_received;
                    return true;
                }
                return false;
            });
            if (!pending.empty())
                std::this_thread::sleep_for(200ms);
        }
        for (const auto& [state, n] : stuck)
            std::printf("not Received at the sender: %zu %s\n", n, state.c_str());
        calm_seconds = std::chrono::duration<double>(clock::now() - calm).count();

        const auto taken_a = a_end.taken(), taken_b = b_end.taken();
        const auto unanswered_a = a_end.deletes_unanswered(), unanswered_b = b_end.deletes_unanswered();
        for (const auto& [from, to, id] : sent) {
            auto taken = to == org_a ? taken_a : taken_b;
            const auto& unanswered = to == org_a ? unanswered_a : unanswered_b;
            // A DELETE whose answer died with the engine still counts once if the engine took it.
            if (!taken.contains(id) && unanswered.contains(id) &&
                state_of(socket_of(c, to), id) == "LevertSent")
                ++taken[id];
            const auto it = taken.find(id);
            if (it == taken.end())
                ++lost;
            else if (it->second > 1)
                ++duplicated;
        }
    }
    const auto uploads = uploads_in(c.sandbox().dir() / "requests.jsonl");
    std::printf("messages %zu, kills %d, lost %zu, duplicated %zu, not Received at the sender %zu "
                "(calm phase %.1f s; %zu submissions cut by a kill and finished again)\n",
                messages, kills, lost, duplicated, not_received, calm_seconds, resubmitted);
    std::printf("broker uploads (UploadFileStreamedBasic) %zu for %zu messages: %.2f per message "
                "(each message also causes two status uploads, MOTTATT and LEVERT: 3.00 without retries)\n",
                uploads, messages, static_cast<double>(uploads) / static_cast<double>(messages));
    return lost == 0 && duplicated == 0 && not_received == 0 ? 0 : 1;
}

command_fn setup(CLI::App& command) {
    auto o = std::make_shared<options>();
    engine::cli::synopsis(command, "usage: kurer-bench torture [--seconds S] [--messages N]");
    command.footer(
        "Starts kurer-sandbox and two `kurer run` daemons and for S seconds (default 60) SIGKILLs one\n"
        "daemon or the other at random moments (0.1 to 1 s apart) and restarts it, while N messages\n"
        "(default 200, half each way) are submitted through the admin sockets over the first 80% of that\n"
        "time and each end system takes what arrives. Then waits (up to 180 s) for every message to be\n"
        "Received at its sender and checks that each receiving end system took each message exactly once.\n"
        "Exit 0 only if nothing was lost or duplicated.");
    command.add_option("--seconds", o->seconds, "how long to kill (default 60)")
        ->type_name("S")
        ->check(engine::cli::whole_number());
    command.add_option("--messages", o->messages, "messages, half each way (default 200)")
        ->type_name("N")
        ->check(engine::cli::whole_number());
    return [o] {
        return run(*o);
    };
}

const registrar registered("torture", "both daemons SIGKILLed at random while messages go both ways", &setup);

} // namespace
} // namespace kurer::bench

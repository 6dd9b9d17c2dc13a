// kurer-crash-child: the process the crash tests kill. It runs two engines, A (910077473) and B
// (910075918), on <dir>/a and <dir>/b with fake ports and a directory broker in <dir>/broker.
// A sends N messages to B (the same ids and content on every start: submits are idempotent); B's
// end system takes each one; MOTTATT and LEVERT travel back. It exits 0 printing "done" once
// every machine on both sides is finished and A's N messages are Received.
//
// What it did goes to two files the parent reads after it is gone:
//   <dir>/effects      every side effect of the fakes ("upload <ref>", ...), fsynced (the fakes' journal)
//   <dir>/transitions  every transition it was told is durable: "<engine> <kind> <id> <seq> <event>"
//                      (plain write(2): a SIGKILL keeps what the kernel has)
//   <dir>/taken        "<messageId>" for each message B's end system took
// KURER_KILL_AT=<point>[:<nth>] kills it at a named point (storage/kill_point.hpp).
#include <kurer/engine/runner.hpp>
#include <kurer/engine/testing/fakes.hpp>
#include <kurer/storage/store.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <execinfo.h>
#include <fcntl.h>
#include <iostream>
#include <string>
#include <thread>
#include <unistd.h>

namespace {

using namespace kurer::engine;
using namespace std::chrono_literals;
namespace sm = kurer::statemachine;

constexpr const char* org_a = "910077473";
constexpr const char* org_b = "910075918";

void append(const std::filesystem::path& file, const std::string& line) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    const auto text = line + "\n";
    [[maybe_unused]] const auto n = ::write(fd, text.data(), text.size());
    ::close(fd);
}

std::string message_id(int i) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", i);
    return buf;
}

submit_request message(int i) {
    submit_request r;
    r.message_id = message_id(i);
    r.conversation_id = "11111111-0000-4000-8000-" + message_id(i).substr(24);
    r.receiver = org_b;
    r.process = "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0";
    r.document_type = "urn:no:difi:arkivmelding:xsd::arkivmelding";
    r.deadline = kurer::storage::time_point(std::chrono::milliseconds(4'102'444'800'000)); // 2100-01-01
    r.business_message = R"({"arkivmelding":{"tittel":"crash test )" + std::to_string(i) + R"("}})";
    r.documents = {
        {"brev.pdf", "application/pdf", true, "%PDF-1.4 letter " + std::to_string(i), std::nullopt}};
    return r;
}

std::unique_ptr<runner> open_engine(const std::filesystem::path& dir, const char* name, const char* org,
                                    testing::fake_context fakes) {
    runner_config c;
    c.data_dir = dir / name;
    c.organization = org;
    c.polling_interval = 10ms;
    c.retry = {5ms, 50ms, 2.0, 0.2};
    c.shutdown_grace = 1s;
    // A lock taken by the end system just before a crash is forgotten with it: expire it soon.
    c.lock_timeout = 300ms;
    c.log = stderr_log(log_level::warning);
    auto r = runner::open(c, testing::make_fake_ports(dir / "broker", org, std::move(fakes)));
    if (!r) {
        std::cerr << "crash-child: cannot open engine " << name << ": " << r.error().describe() << "\n";
        std::exit(3);
    }
    const auto transitions = dir / "transitions";
    (*r)->subscribe([transitions, name](const transition_event& e) {
        append(transitions, std::string(name) + " " + static_cast<char>(e.kind) + " " + e.id + " " +
                                std::to_string(e.seq) + " " + e.event);
    });
    return std::move(*r);
}

// Done when A's messages are Received, neither store holds an unfinished machine, and the broker
// holds no file its receiver has not confirmed (a status SBD may still be on its way).
bool finished(runner& a, runner& b, int messages, const std::filesystem::path& broker) {
    for (int i = 0; i < messages; ++i) {
        auto v = a.find_outgoing(message_id(i));
        if (!v || !*v || (*v)->record.machine.state != sm::outgoing_state::received)
            return false;
    }
    for (auto* r : {&a, &b})
        for (const auto kind :
             {kurer::storage::record_kind::outgoing, kurer::storage::record_kind::incoming}) {
            auto n = r->count_unfinished(kind);
            if (!n || *n != 0)
                return false;
        }
    for (const auto& t : testing::directory_broker::transfers(broker))
        if (t.uploaded && !t.confirmed)
            return false;
    return true;
}

// --dump: every record and its history, for a person reading a failed run.
int dump(const std::filesystem::path& dir) {
    for (const auto* name : {"a", "b"}) {
        auto s = kurer::storage::store::open(dir / name);
        if (!s) {
            std::cerr << s.error().describe() << "\n";
            return 3;
        }
        const auto show = [&](kurer::storage::record_kind kind, const std::string& id,
                              std::string_view state) {
            std::cout << name << " " << static_cast<char>(kind) << " " << id << " " << state << "\n";
            for (const auto& e : (*s)->history(kind, id).value())
                std::cout << "    " << e.seq << " " << int(e.from) << "->" << int(e.to) << " " << e.event
                          << " a" << e.attempt << " " << e.detail << "\n";
        };
        for (const auto st : sm::all_outgoing_states)
            for (const auto& id :
                 (*s)->list(kurer::storage::record_kind::outgoing, static_cast<std::uint8_t>(st)).value())
                show(kurer::storage::record_kind::outgoing, id, sm::to_string(st));
        for (const auto st : sm::all_incoming_states)
            for (const auto& id :
                 (*s)->list(kurer::storage::record_kind::incoming, static_cast<std::uint8_t>(st)).value())
                show(kurer::storage::record_kind::incoming, id, sm::to_string(st));
    }
    return 0;
}

// A crash that is not ours (not SIGKILL) says where it happened before dying.
void report_fatal_signal(int sig) {
    void* frames[64];
    const int n = ::backtrace(frames, 64);
    const char* what = sig == SIGSEGV   ? "crash-child: SIGSEGV\n"
                       : sig == SIGABRT ? "crash-child: SIGABRT\n"
                                        : "crash-child: fatal signal\n";
    [[maybe_unused]] const auto w = ::write(STDERR_FILENO, what, std::strlen(what));
    ::backtrace_symbols_fd(frames, n, STDERR_FILENO);
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

} // namespace

int main(int argc, char** argv) {
    for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL})
        std::signal(sig, report_fatal_signal);
    if (argc == 3 && std::string_view(argv[1]) == "--dump")
        return dump(argv[2]);
    std::filesystem::path dir;
    int messages = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        if (flag == "--dir")
            dir = argv[i + 1];
        else if (flag == "--messages")
            messages = std::stoi(argv[i + 1]);
    }
    if (dir.empty()) {
        std::cerr << "usage: kurer-crash-child --dir DIR [--messages N]\n";
        return 2;
    }
    testing::fake_context fakes;
    fakes.log = std::make_shared<testing::journal>(dir / "effects");
    auto a = open_engine(dir, "a", org_a, fakes);
    auto b = open_engine(dir, "b", org_b, fakes);
    if (!a->start() || !b->start()) {
        std::cerr << "crash-child: cannot start\n";
        return 3;
    }
    for (int i = 0; i < messages; ++i) {
        auto r = a->submit_blocking(message(i));
        if (!r) {
            std::cerr << "crash-child: submit " << i << ": " << r.error().describe() << "\n";
            return 4;
        }
    }
    const auto give_up = std::chrono::steady_clock::now() + 30s;
    while (!finished(*a, *b, messages, dir / "broker")) {
        // B's end system: take whatever is queued.
        while (true) {
            auto m = b->peek_blocking();
            if (!m || !*m)
                break;
            if (!b->pop((*m)->message_id))
                break;
            if (!b->take_blocking((*m)->message_id))
                break;
            append(dir / "taken", (*m)->message_id);
        }
        if (std::chrono::steady_clock::now() > give_up) {
            std::cerr << "crash-child: not finished after 30 s\n";
            for (int i = 0; i < messages; ++i)
                if (auto v = a->find_outgoing(message_id(i)); v && *v)
                    std::cerr << "  " << message_id(i) << " " << sm::to_string((*v)->record.machine.state)
                              << "\n";
            std::cerr << "  live A " << a->stats().live_outgoing << "/" << a->stats().live_incoming << ", B "
                      << b->stats().live_outgoing << "/" << b->stats().live_incoming << "\n";
            return 5;
        }
        // The end system polls, as an archive system polls the NextMove API.
        std::this_thread::sleep_for(5ms);
    }
    a->stop();
    b->stop();
    std::cout << "done" << std::endl;
    return 0;
}

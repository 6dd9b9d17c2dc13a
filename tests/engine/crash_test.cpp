// Crash tests: kurer-crash-child is SIGKILLed at every named kill point and at random moments,
// restarted until it finishes, and then its stores, the broker directory and the journals of
// side effects and acknowledged transitions are checked against what durability promises.
#include <kurer/engine/runner.hpp>
#include <kurer/engine/testing/fakes.hpp>
#include <kurer/storage/store.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <optional>
#include <poll.h>
#include <random>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
namespace sm = kurer::statemachine;
namespace storage = kurer::storage;
using kurer::engine::testing::directory_broker;

struct run_result {
    bool killed = false; // by SIGKILL, from a kill point or from us
    bool done = false;   // exited 0 after printing "done"
    int exit_code = -1;
    int signal = 0;
};

// Runs the child once. `kill_at` arms a named kill point; `kill_after` SIGKILLs it from here.
run_result run_child(const std::filesystem::path& dir, int messages, const std::string& kill_at,
                     std::optional<std::chrono::milliseconds> kill_after) {
    int out[2];
    BOOST_TEST_REQUIRE(::pipe(out) == 0);
    const auto program = kurer::testing::executable("kurer-crash-child");
    const pid_t pid = ::fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
        ::dup2(out[1], STDOUT_FILENO);
        const int log = ::open((dir / "child.log").c_str(), O_WRONLY | O_APPEND | O_CREAT, 0600);
        if (log >= 0)
            ::dup2(log, STDERR_FILENO);
        ::close(out[0]);
        if (kill_at.empty())
            ::unsetenv("KURER_KILL_AT");
        else
            ::setenv("KURER_KILL_AT", kill_at.c_str(), 1);
        const std::string d = dir.string(), n = std::to_string(messages);
        ::execl(program.c_str(), program.c_str(), "--dir", d.c_str(), "--messages", n.c_str(), nullptr);
        ::_exit(127);
    }
    ::close(out[1]);
    const auto start = std::chrono::steady_clock::now();
    const auto hard_limit = start + 60s;
    std::string output;
    bool sent_kill = false;
    for (;;) {
        auto now = std::chrono::steady_clock::now();
        auto until = hard_limit;
        if (kill_after && !sent_kill)
            until = std::min(until, start + *kill_after);
        pollfd p{out[0], POLLIN, 0};
        const auto wait_ms =
            std::max<long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count());
        const int ready = ::poll(&p, 1, static_cast<int>(wait_ms));
        if (ready > 0) {
            char buf[256];
            const auto n = ::read(out[0], buf, sizeof buf);
            if (n <= 0)
                break; // the child is gone (or closed its stdout)
            output.append(buf, static_cast<std::size_t>(n));
            continue;
        }
        now = std::chrono::steady_clock::now();
        if (now >= hard_limit) {
            ::kill(pid, SIGKILL);
            BOOST_ERROR("the child ran for over 60 s");
            break;
        }
        if (kill_after && !sent_kill && now >= start + *kill_after) {
            ::kill(pid, SIGKILL);
            sent_kill = true;
        }
    }
    ::close(out[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    run_result r;
    r.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    r.done = r.exit_code == 0 && output.find("done") != std::string::npos;
    return r;
}

std::string message_id(int i) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", i);
    return buf;
}

std::map<std::string, int> count_effects(const std::filesystem::path& dir, std::string_view operation,
                                         bool first_word_only = false) {
    std::map<std::string, int> counts;
    for (const auto& l : kurer::engine::testing::journal::read(dir / "effects"))
        if (l.operation == operation)
            ++counts[first_word_only ? l.key.substr(0, l.key.find(' ')) : l.key];
    return counts;
}

std::string child_log(const std::filesystem::path& dir) {
    std::ifstream in(dir / "child.log");
    std::stringstream s;
    s << in.rdbuf();
    auto text = s.str();
    return text.size() > 4000 ? text.substr(text.size() - 4000) : text;
}

template <class Record>
void check_history(storage::store& s, storage::record_kind kind, const Record& r, const std::string& id,
                   std::uint8_t state) {
    auto h = s.history(kind, id);
    BOOST_TEST_REQUIRE(h.has_value());
    BOOST_TEST_REQUIRE(!h->empty(), id << " has no history");
    BOOST_TEST(h->size() == r.history_size, id << ": the record counts every history entry");
    for (std::size_t i = 0; i < h->size(); ++i) {
        BOOST_TEST((*h)[i].seq == i, id << ": history entries are numbered without gaps");
        if (i > 0)
            BOOST_TEST((*h)[i].from == (*h)[i - 1].to,
                       id << " entry " << i << " starts where the previous one ended");
    }
    BOOST_TEST(h->back().to == state, id << ": the last entry ends in the record's state");
}

// Everything the crash suite promises, checked on the stores and journals of a finished run.
void verify(const std::filesystem::path& dir, int messages, int crashes) {
    auto a = storage::store::open(dir / "a");
    auto b = storage::store::open(dir / "b");
    BOOST_TEST_REQUIRE(a.has_value());
    BOOST_TEST_REQUIRE(b.has_value());
    storage::store& sa = **a;
    storage::store& sb = **b;

    // 1. Every message reached its terminal state with every status, and nothing is left live.
    for (int i = 0; i < messages; ++i) {
        auto r = sa.find_outgoing(message_id(i)).value();
        BOOST_TEST_REQUIRE(r.has_value(), message_id(i));
        BOOST_TEST((r->machine.state == sm::outgoing_state::received), message_id(i));
        for (auto s :
             {sm::eformidling_status::sendt, sm::eformidling_status::mottatt, sm::eformidling_status::levert})
            BOOST_TEST(r->machine.recorded.contains(s), message_id(i) << " lacks " << sm::to_string(s));
    }
    BOOST_TEST(sa.recover().value().outgoing.empty());
    BOOST_TEST(sa.recover().value().incoming.empty());
    BOOST_TEST(sb.recover().value().outgoing.empty());
    BOOST_TEST(sb.recover().value().incoming.empty());

    // 2. Histories are unbroken sequences ending in the record's state; gather the records.
    std::map<std::string, storage::outgoing_record> outgoing; // by senders_reference
    std::map<std::string, int> stored_copies;                 // B: message copies that reached the queue
    for (auto* s : {&sa, &sb}) {
        for (const auto st : sm::all_outgoing_states)
            for (const auto& id :
                 s->list(storage::record_kind::outgoing, static_cast<std::uint8_t>(st)).value()) {
                auto r = s->find_outgoing(id).value().value();
                check_history(*s, storage::record_kind::outgoing, r, id, static_cast<std::uint8_t>(st));
                BOOST_TEST(sm::is_finished(r.machine), id);
                outgoing.emplace(r.senders_reference, r);
            }
        for (const auto st : sm::all_incoming_states)
            for (const auto& ref :
                 s->list(storage::record_kind::incoming, static_cast<std::uint8_t>(st)).value()) {
                auto r = s->find_incoming(ref).value().value();
                check_history(*s, storage::record_kind::incoming, r, ref, static_cast<std::uint8_t>(st));
                BOOST_TEST(sm::is_finished(r.machine), ref);
                BOOST_TEST((st == sm::incoming_state::levert_sent || st == sm::incoming_state::routed ||
                            st == sm::incoming_state::duplicate),
                           ref << " ended " << sm::to_string(st));
                if (st == sm::incoming_state::levert_sent)
                    ++stored_copies[r.message_id];
            }
    }
    BOOST_TEST(outgoing.size() == static_cast<std::size_t>(3 * messages),
               "N messages and 2N status messages");

    // 3. Exactly-once in effect: each message was stored and handed to B's end system once.
    for (int i = 0; i < messages; ++i)
        BOOST_TEST(stored_copies[message_id(i)] == 1, message_id(i) << " reached B's queue more than once");
    std::map<std::string, int> taken;
    {
        std::ifstream in(dir / "taken");
        std::string id;
        while (in >> id)
            ++taken[id];
    }
    for (const auto& [id, n] : taken)
        BOOST_TEST(n == 1, id << " was taken by the end system " << n << " times");

    // 4. The broker holds one uploaded transfer per outgoing message, on the reference recorded
    // before the upload; repeats after crashes never made a second one.
    std::map<std::string, int> uploaded_per_sender_reference, empty_per_sender_reference;
    for (const auto& t : directory_broker::transfers(dir / "broker")) {
        auto it = outgoing.find(t.senders_reference);
        BOOST_TEST_REQUIRE((it != outgoing.end()), "transfer " << t.reference << " belongs to no message");
        if (!t.uploaded) {
            // Initiated, then the crash came before its reference was recorded: never uploaded
            // to, so never delivered. One crash can leave one such transfer per message.
            ++empty_per_sender_reference[t.senders_reference];
            BOOST_TEST(it->second.broker_reference != t.reference);
            continue;
        }
        BOOST_TEST(t.confirmed, t.reference << " was never confirmed by its receiver");
        ++uploaded_per_sender_reference[t.senders_reference];
        BOOST_TEST(it->second.broker_reference == t.reference);
    }
    for (const auto& [ref, n] : uploaded_per_sender_reference)
        BOOST_TEST(n == 1, "sendersReference " << ref << " was uploaded in " << n << " transfers");
    BOOST_TEST(uploaded_per_sender_reference.size() == outgoing.size());
    for (const auto& [ref, n] : empty_per_sender_reference)
        BOOST_TEST(n <= crashes, "sendersReference " << ref << " has " << n << " empty transfers after "
                                                     << crashes << " crashes");

    // 5. At-least-once, bounded: every side effect happened at most once more per crash.
    const auto bounded = [&](std::string_view op, bool first_word) {
        for (const auto& [key, n] : count_effects(dir, op, first_word))
            BOOST_TEST(n <= 1 + crashes,
                       op << " " << key << " happened " << n << " times with " << crashes << " crashes");
    };
    for (const auto* op : {"pack", "pack_status", "download", "confirm", "upload_repeat"})
        bounded(op, false);
    bounded("initiate", true);
    for (const auto& [ref, n] : count_effects(dir, "upload"))
        BOOST_TEST(n == 1, "the broker accepted " << ref << " " << n << " times");

    // 6. No transition the child was told is durable is missing from the histories.
    std::ifstream in(dir / "transitions");
    std::string engine, kind, id, event;
    std::uint32_t seq = 0;
    std::size_t checked = 0;
    while (in >> engine >> kind >> id >> seq >> event) {
        auto& s = engine == "a" ? sa : sb;
        auto h = s.history(static_cast<storage::record_kind>(kind[0]), id).value();
        BOOST_TEST_REQUIRE(seq < h.size(),
                           engine << " " << id << " lost acknowledged transition " << seq << " " << event);
        BOOST_TEST(h[seq].event == event, engine << " " << id << " entry " << seq);
        ++checked;
    }
    BOOST_TEST(checked > 0u);
}

// Runs until done, counting crashes; the first run may be armed with a kill point.
int run_to_completion(const std::filesystem::path& dir, int messages, const std::string& kill_at) {
    int crashes = 0;
    auto first = run_child(dir, messages, kill_at, std::nullopt);
    if (first.killed)
        ++crashes;
    else
        BOOST_TEST_REQUIRE(first.done,
                           "the child failed (exit " << first.exit_code << "): " << child_log(dir));
    for (int round = 0; !first.done && round < 3; ++round) {
        auto again = run_child(dir, messages, "", std::nullopt);
        if (again.done)
            return crashes;
        BOOST_TEST_REQUIRE(!again.killed);
        BOOST_FAIL("the restarted child failed (exit " << again.exit_code << ", signal " << again.signal
                                                       << "): " << child_log(dir));
    }
    return crashes;
}

bool any_history_detail(const std::filesystem::path& dir, const std::string& needle) {
    for (const auto* name : {"a", "b"}) {
        auto s = storage::store::open(dir / name).value();
        for (const auto st : sm::all_outgoing_states)
            for (const auto& id :
                 s->list(storage::record_kind::outgoing, static_cast<std::uint8_t>(st)).value())
                for (const auto& e : s->history(storage::record_kind::outgoing, id).value())
                    if (e.detail.find(needle) != std::string::npos)
                        return true;
    }
    return false;
}

constexpr int messages = 3;

} // namespace

BOOST_AUTO_TEST_SUITE(crash)

BOOST_AUTO_TEST_CASE(a_run_without_crashes_meets_every_promise) {
    kurer::testing::scratch_dir dir;
    BOOST_TEST(run_to_completion(dir.path(), messages, "") == 0);
    verify(dir.path(), messages, 0);
}

// One kill at each named point; the second pass of most points, so one message is already past
// it when the process dies in the middle of another.
BOOST_AUTO_TEST_CASE(killed_at_every_named_kill_point) {
    const char* points[] = {
        "after.store_documents:2",
        "commit.before_write:3",
        "commit.after_write:3",
        "commit.before_write:40",
        "commit.after_write:40",
        "before.authorize:2",
        "after.authorize:2",
        "before.resolve:2",
        "after.resolve:2",
        "before.pack:2",
        "after.pack:2",
        "before.initiate_upload:2",
        "after.initiate_upload:2",
        "before.upload:2",
        "after.upload:2",
        "before.download:2",
        "after.download:2",
        "before.open_package:2",
        "after.open_package:2",
        "before.confirm_download:2",
        "after.confirm_download:2",
        "before.send_mottatt:2",
        "before.send_levert:2",
        "after.upload:5",
    };
    for (const auto* point : points) {
        BOOST_TEST_CONTEXT("kill point " << point) {
            kurer::testing::scratch_dir dir;
            const int crashes = run_to_completion(dir.path(), messages, point);
            BOOST_TEST(crashes == 1, "the kill point was reached");
            verify(dir.path(), messages, crashes);
            const std::string_view p = point;
            if (p.starts_with("after.upload"))
                BOOST_TEST(any_history_detail(dir.path(), "already had the file"),
                           "the repeated upload is recognised and recorded as such");
            if (p.starts_with("after.initiate_upload")) {
                int orphans = 0;
                for (const auto& t : directory_broker::transfers(dir.path() / "broker"))
                    orphans += t.uploaded ? 0 : 1;
                BOOST_TEST(orphans == 1,
                           "the unrecorded transfer stays empty; a second one carried the file");
            }
        }
    }
}

// A submit killed after writing its documents and before committing its record leaves them
// behind, named by nothing; the next start removes them (and says how many) and keeps the
// documents of the messages it has.
BOOST_AUTO_TEST_CASE(documents_a_killed_submit_left_behind_are_swept_at_the_next_start) {
    kurer::testing::scratch_dir dir;
    const auto killed = run_child(dir.path(), messages, "after.store_documents:2", std::nullopt);
    BOOST_TEST_REQUIRE(killed.killed, child_log(dir.path()));
    const auto documents = dir / "a" / "documents";
    const auto leftover = documents / message_id(1);
    BOOST_TEST_REQUIRE(std::filesystem::exists(leftover / "0"), "the second submit's document was written");
    {
        auto s = storage::store::open(dir / "a").value();
        BOOST_TEST_REQUIRE(!s->find_outgoing(message_id(1)).value().has_value(), "and its record was not");
        BOOST_TEST_REQUIRE(s->find_outgoing(message_id(0)).value().has_value());
    }

    std::vector<std::string> lines;
    kurer::engine::runner_config c;
    c.data_dir = dir / "a";
    c.organization = "910077473";
    c.log = [&lines](kurer::engine::log_level, std::string_view line) {
        lines.emplace_back(line);
    };
    auto reopened =
        kurer::engine::runner::open(c, kurer::engine::testing::make_fake_ports(dir / "broker", "910077473"));
    BOOST_TEST_REQUIRE(reopened.has_value(), (reopened ? "" : reopened.error().describe()));
    BOOST_TEST(!std::filesystem::exists(leftover), "the leftover is gone");
    BOOST_TEST(std::filesystem::exists(documents / message_id(0) / "0"),
               "the documents of a message the store has stay");
    const auto said = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
        return l.find("\"removed leftovers no message needs\"") != std::string::npos;
    });
    BOOST_TEST_REQUIRE((said != lines.end()), "the sweep is logged");
    BOOST_TEST(said->find("\"documents\":1") != std::string::npos, *said);
    (*reopened)->stop();
    reopened->reset();

    // The run goes on as usual: the killed submit is made again and every promise holds.
    BOOST_TEST(run_to_completion(dir.path(), messages, "") == 0);
    verify(dir.path(), messages, 1);
}

BOOST_AUTO_TEST_CASE(killed_at_random_moments_again_and_again) {
    std::mt19937 random(std::random_device{}());
    const int n = 12;
    // A machine fast enough to finish before the first kill gets a fresh attempt (at most three).
    for (int attempt = 0; attempt < 3; ++attempt) {
        kurer::testing::scratch_dir dir;
        int crashes = 0;
        bool done = false;
        for (int round = 0; round < 12 && !done; ++round) {
            const auto after = std::chrono::milliseconds(std::uniform_int_distribution<int>(5, 150)(random));
            auto r = run_child(dir.path(), n, "", after);
            BOOST_TEST_MESSAGE("attempt " << attempt << " round " << round << ": kill after " << after.count()
                                          << " ms: " << (r.killed ? "killed" : "finished first"));
            if (r.killed)
                ++crashes;
            else
                BOOST_TEST_REQUIRE(r.done, "the child failed (exit " << r.exit_code
                                                                     << "): " << child_log(dir.path()));
            done = r.done;
        }
        if (crashes == 0)
            continue;
        if (!done)
            BOOST_TEST_REQUIRE(run_child(dir.path(), n, "", std::nullopt).done, child_log(dir.path()));
        verify(dir.path(), n, crashes);
        return;
    }
    BOOST_FAIL("three attempts finished before any random kill: the window is too short for this machine");
}

BOOST_AUTO_TEST_SUITE_END()

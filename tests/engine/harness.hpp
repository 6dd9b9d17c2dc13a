// Two engines (organisations A and B) in one process, exchanging files through a directory
// broker, with fake ports; helpers to wait for transitions with a deadline (never a sleep).
#pragma once

#include <kurer/core/uuid.hpp>
#include <kurer/engine/runner.hpp>
#include <kurer/engine/testing/fakes.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

namespace kurer::engine::test {

using namespace std::chrono_literals;
namespace sm = statemachine;
using testing::fault;

inline constexpr const char* org_a = "910077473";
inline constexpr const char* org_b = "910075918";

// Collects transitions; wait() re-checks a predicate after each one until it holds or time runs
// out. The callback holds its state by shared_ptr, so a runner that outlives this object (and
// still reports transitions while it shuts down) never touches freed memory.
class transitions {
public:
    void attach(runner& r) {
        r.subscribe([state = state_](const transition_event& e) {
            std::lock_guard lock(state->mutex);
            state->seen.push_back(e);
            state->changed.notify_all();
        });
    }
    bool wait(const std::function<bool()>& done, std::chrono::milliseconds timeout = 15s) {
        const auto until = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (done())
                return true;
            std::unique_lock lock(state_->mutex);
            const auto seen = state_->seen.size();
            // Woken by a transition, or every 50 ms for conditions no transition announces.
            state_->changed.wait_until(lock, std::min(until, std::chrono::steady_clock::now() + 50ms),
                                       [&] { return state_->seen.size() != seen; });
            if (std::chrono::steady_clock::now() >= until) {
                lock.unlock();
                return done();
            }
        }
    }
    std::vector<transition_event> seen() const {
        std::lock_guard lock(state_->mutex);
        return state_->seen;
    }

private:
    struct state {
        std::mutex mutex;
        std::condition_variable changed;
        std::vector<transition_event> seen;
    };
    std::shared_ptr<state> state_ = std::make_shared<state>();
};

inline runner_config config_for(const std::filesystem::path& dir, const char* org) {
    runner_config c;
    c.data_dir = dir;
    c.organization = org;
    c.polling_interval = 20ms;
    c.retry = {5ms, 100ms, 2.0, 0.2};
    c.shutdown_grace = 2s;
    c.log = stderr_log(log_level::warning);
    return c;
}

inline std::unique_ptr<runner> open_runner(runner_config c, ports p) {
    auto r = runner::open(std::move(c), std::move(p));
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_error() ? r.error().describe() : ""));
    return std::move(*r);
}

inline submit_request message_to(const char* receiver, std::string id = random_uuid()) {
    submit_request r;
    r.message_id = std::move(id);
    r.conversation_id = random_uuid();
    r.receiver = receiver;
    r.process = "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0";
    r.document_type = "urn:no:difi:arkivmelding:xsd::arkivmelding";
    r.business_message = R"({"arkivmelding":{}})";
    r.documents = {{"arkivmelding.xml", "application/xml", false, "<arkivmelding/>", std::nullopt},
                   {"brev.pdf", "application/pdf", true, "%PDF-1.4 fake", std::nullopt}};
    return r;
}

inline std::optional<sm::outgoing_state> state_of(runner& r, const std::string& id) {
    auto v = r.find_outgoing(id);
    if (!v || !*v)
        return std::nullopt;
    return (*v)->record.machine.state;
}

// Whether a message got at least as far as `step` on the usual path (Failed and Expired never count).
inline bool reached(std::optional<sm::outgoing_state> s, sm::outgoing_state step) {
    static constexpr sm::outgoing_state order[] = {
        sm::outgoing_state::created,   sm::outgoing_state::authorized,       sm::outgoing_state::resolved,
        sm::outgoing_state::packed,    sm::outgoing_state::upload_initiated, sm::outgoing_state::uploaded,
        sm::outgoing_state::delivered, sm::outgoing_state::received};
    const auto rank = [](sm::outgoing_state x) {
        for (int i = 0; i < 8; ++i)
            if (order[i] == x)
                return i;
        return -1;
    };
    return s && rank(*s) >= 0 && rank(*s) >= rank(step);
}

inline std::vector<std::string> events_of(const std::vector<storage::history_entry>& h) {
    std::vector<std::string> out;
    for (const auto& e : h)
        out.push_back(e.event);
    return out;
}

// A and B with their own data directories, sharing one broker directory.
struct two_engines {
    kurer::testing::scratch_dir dir;
    testing::fake_context a_fakes, b_fakes;
    std::unique_ptr<runner> a, b;
    transitions a_seen, b_seen;

    explicit two_engines(std::function<void(runner_config&)> tune = {}) { open(std::move(tune)); }
    ~two_engines() {
        // Engines stop before the broker directory and the fakes they use go away.
        if (a)
            a->stop();
        if (b)
            b->stop();
    }

    void open(std::function<void(runner_config&)> tune = {}) {
        auto ca = config_for(dir / "a", org_a);
        auto cb = config_for(dir / "b", org_b);
        if (tune) {
            tune(ca);
            tune(cb);
        }
        a = open_runner(ca, testing::make_fake_ports(dir / "broker", org_a, a_fakes));
        b = open_runner(cb, testing::make_fake_ports(dir / "broker", org_b, b_fakes));
        a_seen.attach(*a);
        b_seen.attach(*b);
        BOOST_TEST_REQUIRE(a->start().has_value());
        BOOST_TEST_REQUIRE(b->start().has_value());
    }

    // B's end system takes everything on its queue.
    std::size_t take_all_at_b() {
        std::size_t n = 0;
        while (auto m = b->peek_blocking()) {
            if (!m->has_value())
                break;
            BOOST_TEST(b->pop((*m)->message_id).has_value());
            BOOST_TEST(b->take_blocking((*m)->message_id).has_value());
            ++n;
        }
        return n;
    }
};

} // namespace kurer::engine::test

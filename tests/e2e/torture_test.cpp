// Both organisations as `kurer run` processes, messages in both directions, and both daemons
// SIGKILLed at random moments and restarted, again and again, while their end systems take what
// arrives through the admin socket. Afterwards: every message is Received at its sender, and each
// receiving end system took each message exactly once. `kurer-bench torture` is the long run;
// this one stays around a minute.
#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/engine/admin_client.hpp>
#include <kurer/testing/cluster.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <tuple>

namespace fs = std::filesystem;
namespace json = boost::json;
namespace ke = kurer::engine;
using namespace std::chrono_literals;

namespace {

constexpr const char* org_a = "910077473";
constexpr const char* org_b = "910075918";

ke::admin_request request(boost::beast::http::verb method, std::string target) {
    ke::admin_request r;
    r.method = method;
    r.target = std::move(target);
    return r;
}
constexpr auto get = boost::beast::http::verb::get;

fs::path socket_of(kurer::testing::cluster& c, const std::string& org) {
    return c.config_file(org).parent_path() / "kurer.sock";
}

std::optional<json::value> get_json(const fs::path& socket, const std::string& target) {
    ke::admin_client client({.socket = socket}, 10s);
    auto r = client.send(request(get, target));
    if (!r || r->status != 200)
        return std::nullopt;
    boost::system::error_code ec;
    auto v = json::parse(r->body, ec);
    if (ec)
        return std::nullopt;
    return v;
}

std::string state_of(const fs::path& socket, const std::string& id) {
    auto m = get_json(socket, "/admin/messages/" + id);
    if (!m || !m->is_object() || !m->as_object().contains("state"))
        return {};
    return std::string(m->at("state").as_string());
}

// An end system polling its engine's queue over the admin socket: peek, pop, DELETE. Its engine
// may die under it at any moment; every failed step is simply tried again.
class polling_end_system {
public:
    polling_end_system(fs::path socket)
        : socket_(std::move(socket))
        , thread_([this] { run(); }) {}
    ~polling_end_system() {
        stop_ = true;
        thread_.join();
    }
    std::map<std::string, int> taken() const {
        std::lock_guard lock(mutex_);
        return taken_;
    }
    std::set<std::string> deletes_unanswered() const {
        std::lock_guard lock(mutex_);
        return unanswered_;
    }

private:
    void run() {
        // The message this end system has locked: after a failed pop or DELETE (its engine died)
        // it is fetched again by id, since the lock outlives the engine and a peek would not
        // offer it until the lock expires.
        std::string locked;
        while (!stop_) {
            ke::admin_client client({.socket = socket_}, 10s);
            if (locked.empty()) {
                auto peeked = client.send(request(get, "/api/messages/in/peek"));
                if (!peeked || peeked->status != 200) {
                    // Nothing waiting, or the engine is down: an end system polls again a little later.
                    std::this_thread::sleep_for(50ms);
                    continue;
                }
                boost::system::error_code ec;
                const auto sbd = json::parse(peeked->body, ec);
                if (ec)
                    continue;
                locked = std::string(sbd.at("standardBusinessDocumentHeader")
                                         .at("documentIdentification")
                                         .at("instanceIdentifier")
                                         .as_string());
            }
            const auto id = locked;
            auto popped = client.send(request(get, "/api/messages/in/pop/" + id));
            if (!popped) {
                std::this_thread::sleep_for(50ms);
                continue; // the engine is down: try this message again
            }
            if (popped->status != 200 && popped->status != 204) {
                locked.clear(); // no longer locked for us (the lock expired): peek again
                continue;
            }
            {
                std::lock_guard lock(mutex_);
                unanswered_.insert(id);
            }
            auto deleted = client.send(request(boost::beast::http::verb::delete_, "/api/messages/in/" + id));
            if (!deleted) {
                std::this_thread::sleep_for(50ms);
                continue; // did it land? the next attempt (or the final check) tells
            }
            locked.clear();
            if (deleted->status != 200)
                continue; // already taken by a DELETE whose answer was lost: counted at the end
            std::lock_guard lock(mutex_);
            unanswered_.erase(id);
            ++taken_[id];
        }
    }

    fs::path socket_;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::map<std::string, int> taken_;
    std::set<std::string> unanswered_; // DELETE sent, answer lost (the engine died)
    std::thread thread_;
};

std::vector<std::string> send_with_kurerctl(kurer::testing::cluster& c, const std::string& from,
                                            const std::string& to, int n) {
    const auto file = c.dir() / ("note-" + from + ".txt");
    kurer::write_file_durably(file, "torture " + from + " -> " + to).value();
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
        const auto id = kurer::random_uuid();
        auto sent = kurer::testing::run_to_end(kurer::testing::executable("kurerctl"),
                                               {"--socket", socket_of(c, from).string(), "send", "--to",
                                                std::string("0192:") + to, "--id", id, file.string()});
        BOOST_TEST_REQUIRE(sent.has_value());
        BOOST_TEST_REQUIRE(sent->exit_code == 0, sent->err);
        ids.push_back(id);
    }
    return ids;
}

} // namespace

BOOST_AUTO_TEST_SUITE(e2e_torture)

BOOST_AUTO_TEST_CASE(both_daemons_killed_at_random_lose_and_duplicate_nothing) {
    kurer::testing::cluster_options o;
    o.tune = [](json::object& config) {
        config["polling_interval_ms"] = 200;
        config["retry"] = {{"initial_backoff_ms", 100}, {"max_backoff_ms", 1000}};
        // A peek whose answer dies with its engine leaves the message locked, unknown to the end
        // system, until the lock expires (NextMove's rule): keep that short here.
        config["lock_timeout_ms"] = 2000;
    };
    kurer::testing::cluster c(o);
    c.start_daemon(org_a);
    c.start_daemon(org_b);

    constexpr int per_direction = 40;
    const auto to_b = send_with_kurerctl(c, org_a, org_b, per_direction);
    const auto to_a = send_with_kurerctl(c, org_b, org_a, per_direction);

    int kills = 0;
    {
        polling_end_system a_end(socket_of(c, org_a)), b_end(socket_of(c, org_b));
        std::mt19937 random(std::random_device{}());
        const auto chaos_until = std::chrono::steady_clock::now() + 15s;
        while (std::chrono::steady_clock::now() < chaos_until) {
            // The moment of the next kill is the test's chaos schedule, not a wait for an event.
            std::this_thread::sleep_for(std::chrono::milliseconds(100 + random() % 900));
            const std::string victim = random() % 2 ? org_a : org_b;
            c.daemon_of(victim).kill();
            ++kills;
            c.start_daemon(victim); // returns once it is ready again (recovery started)
        }

        // Calm: every message reaches Received.
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        std::vector<std::pair<std::string, std::string>> pending;
        for (const auto& id : to_b)
            pending.emplace_back(org_a, id);
        for (const auto& id : to_a)
            pending.emplace_back(org_b, id);
        while (!pending.empty() && std::chrono::steady_clock::now() < deadline) {
            const auto& [sender, id] = pending.back();
            const auto state = state_of(socket_of(c, sender), id);
            BOOST_TEST_REQUIRE((state != "Failed" && state != "Expired"), id << " ended " << state);
            if (state == "Received")
                pending.pop_back();
            else
                std::this_thread::sleep_for(50ms);
        }
        BOOST_TEST(pending.empty(), pending.size() << " messages not Received after " << kills << " kills");
        if (!pending.empty()) {
            const auto& [sender, id] = pending.back();
            auto shown =
                kurer::testing::run_to_end(kurer::testing::executable("kurerctl"),
                                           {"--socket", socket_of(c, sender).string(), "status", id});
            BOOST_TEST_MESSAGE("still pending at " << sender << ":\n"
                                                   << (shown ? shown->out + shown->err : ""));
            const auto receiver = sender == org_a ? org_b : org_a;
            auto there =
                kurer::testing::run_to_end(kurer::testing::executable("kurerctl"),
                                           {"--socket", socket_of(c, receiver).string(), "status", id});
            BOOST_TEST_MESSAGE("at " << receiver << ":\n" << (there ? there->out + there->err : ""));
        }

        for (auto [end, ids, receiver] :
             {std::tuple{&b_end, &to_b, org_b}, std::tuple{&a_end, &to_a, org_a}}) {
            auto taken = end->taken();
            // A DELETE whose answer died with the engine still counts once if the engine took it.
            for (const auto& id : end->deletes_unanswered())
                if (!taken.contains(id) && state_of(socket_of(c, receiver), id) == "LevertSent")
                    ++taken[id];
            int lost = 0, duplicated = 0;
            for (const auto& id : *ids) {
                const auto it = taken.find(id);
                if (it == taken.end())
                    ++lost;
                else if (it->second > 1)
                    ++duplicated;
            }
            BOOST_TEST(lost == 0, receiver << ": " << lost << " messages never reached the end system");
            BOOST_TEST(duplicated == 0, receiver << ": " << duplicated << " messages taken more than once");
            BOOST_TEST_MESSAGE(receiver << ": " << ids->size() << " messages, " << lost << " lost, "
                                        << duplicated << " duplicated");
        }
    }
    BOOST_TEST_MESSAGE(2 * per_direction << " messages, " << kills << " kills");
    BOOST_TEST(kills >= 10);
}

BOOST_AUTO_TEST_SUITE_END()

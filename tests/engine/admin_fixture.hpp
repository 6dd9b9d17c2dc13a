// Two engines (A and B, fake ports, one directory broker) each with a real admin server on its
// own Unix socket, a fake Service Registry for capabilities, request helpers, and a runner for
// child processes (curl, kurerctl) that waits with a deadline.
#pragma once

#include "harness.hpp"

#include <kurer/engine/admin_client.hpp>
#include <kurer/engine/admin_server.hpp>
#include <kurer/engine/metrics.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace kurer::engine::test {

namespace json = boost::json;
using boost::beast::http::verb;

inline const std::string process_admin = "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0";
inline const std::string standard_arkivmelding = "urn:no:difi:arkivmelding:xsd::arkivmelding";

// The Service Registry as the capabilities lookup sees it; tests change it as they go.
struct fake_registry {
    std::mutex mutex;
    std::map<std::string, std::vector<capability>> records; // by organisation number
    std::optional<error> failure;                           // answer this instead
    bool hang = false;                                      // never answer (until cancelled)
    std::atomic<int> calls{0};

    fake_registry() {
        for (const auto* org : {org_a, org_b})
            records[org] = {{process_admin, "DPO", {standard_arkivmelding}},
                            {"urn:no:difi:profile:arkivmelding:response:ver1.0",
                             "DPO",
                             {"urn:no:difi:arkivmelding:xsd::arkivmelding_kvittering",
                              "urn:no:difi:arkivmelding:xsd::status"}}};
    }

    capabilities_lookup lookup() {
        return [this](std::string receiver,
                      std::string process) -> boost::asio::awaitable<result<std::vector<capability>>> {
            ++calls;
            std::vector<capability> out;
            bool hangs = false;
            {
                std::lock_guard lock(mutex);
                if (failure)
                    co_return *failure;
                hangs = hang;
                for (const auto& c : records[receiver])
                    if (process.empty() || c.process == process)
                        out.push_back(c);
            }
            if (hangs) {
                boost::asio::steady_timer forever(co_await boost::asio::this_coro::executor,
                                                  std::chrono::hours(1));
                co_await forever.async_wait(boost::asio::use_awaitable);
            }
            co_return out;
        };
    }
};

struct admin_engines {
    two_engines e;
    metrics metrics_a, metrics_b;
    fake_registry registry;
    boost::asio::io_context io;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
    std::thread thread;
    std::unique_ptr<admin_server> a, b;
    std::filesystem::path socket_a, socket_b;
    std::vector<std::string> log_lines;
    std::mutex log_mutex;

    explicit admin_engines(std::function<void(admin_config&)> tune = {},
                           std::function<void(runner_config&)> tune_runner = {})
        : e(std::move(tune_runner)) {
        socket_a = e.dir / "a.sock";
        socket_b = e.dir / "b.sock";
        work.emplace(io.get_executor());
        thread = std::thread([this] { io.run(); });
        a = start_server(*e.a, metrics_a, org_a, socket_a, e.dir / "a" / "drafts", tune);
        b = start_server(*e.b, metrics_b, org_b, socket_b, e.dir / "b" / "drafts", tune);
    }

    ~admin_engines() {
        a.reset();
        b.reset();
        work.reset();
        io.stop();
        if (thread.joinable())
            thread.join();
    }

    admin_config config_for(const std::filesystem::path& socket, const std::filesystem::path& drafts,
                            const std::function<void(admin_config&)>& tune) {
        admin_config c;
        c.socket_path = socket;
        c.drafts_dir = drafts;
        c.log = [this](kurer::log_level, std::string_view line) {
            std::lock_guard lock(log_mutex);
            log_lines.emplace_back(line);
        };
        if (tune)
            tune(c);
        return c;
    }

    std::unique_ptr<admin_server> start_server(runner& r, metrics& m, const char* org,
                                               const std::filesystem::path& socket,
                                               const std::filesystem::path& drafts,
                                               const std::function<void(admin_config&)>& tune = {}) {
        auto s = admin_server::start(
            {.engine = r, .registry = m, .capabilities = registry.lookup(), .organization = org},
            config_for(socket, drafts, tune), io.get_executor());
        BOOST_TEST_REQUIRE(s.has_value(), (s.has_error() ? s.error().describe() : ""));
        return std::move(*s);
    }
};

// ---- requests

inline admin_response request(const admin_client& c, verb method, std::string target, std::string body = {},
                              std::string content_type = {}, boost::beast::http::fields headers = {}) {
    admin_request r;
    r.method = method;
    r.target = std::move(target);
    r.body = std::move(body);
    r.headers = std::move(headers);
    if (!content_type.empty())
        r.headers.set(boost::beast::http::field::content_type, content_type);
    auto answer = c.send(std::move(r));
    BOOST_TEST_REQUIRE(answer.has_value(), (answer.has_error() ? answer.error().describe() : ""));
    return std::move(*answer);
}

inline json::value body_json(const admin_response& r) {
    boost::system::error_code ec;
    auto v = json::parse(r.body, ec);
    BOOST_TEST_REQUIRE(!ec, "not JSON: " << r.body);
    return v;
}

inline std::string text(const json::value& v, std::string_view key) {
    const auto* m = v.as_object().if_contains(key);
    return m && m->is_string() ? std::string(m->get_string()) : std::string();
}

// A minimal SBD as an end system sends it: the rest is filled in by the API.
inline std::string minimal_sbd(const std::string& receiver, const std::string& message_id = {},
                               const std::string& title = "Hei") {
    json::object di{{"standard", standard_arkivmelding}, {"typeVersion", "2.0"}, {"type", "arkivmelding"}};
    if (!message_id.empty())
        di["instanceIdentifier"] = message_id;
    json::object sbd{
        {"standardBusinessDocumentHeader",
         {{"headerVersion", "1.0"},
          {"receiver",
           json::array{json::object{
               {"identifier", {{"value", "0192:" + receiver}, {"authority", "iso6523-actorid-upis"}}}}}},
          {"documentIdentification", di},
          {"businessScope",
           {{"scope",
             json::array{json::object{{"type", "ConversationId"}, {"identifier", process_admin}}}}}}}},
        {"arkivmelding", {{"hoveddokument", "arkivmelding.xml"}, {"sikkerhetsnivaa", 3}, {"tittel", title}}}};
    return json::serialize(sbd);
}

inline std::string arkivmelding_xml(const std::vector<std::string>& files) {
    std::string docs;
    for (const auto& f : files)
        docs += "<dokumentbeskrivelse><dokumentobjekt><referanseDokumentfil>" + f +
                "</referanseDokumentfil></dokumentobjekt></dokumentbeskrivelse>";
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
           "<arkivmelding xmlns=\"http://www.arkivverket.no/standarder/noark5/arkivmelding\">"
           "<mappe><basisregistrering>" +
           docs + "</basisregistrering></mappe></arkivmelding>";
}

inline admin_response put_file(const admin_client& c, const std::string& id, const std::string& name,
                               std::string bytes,
                               const std::string& content_type = "application/octet-stream") {
    boost::beast::http::fields h;
    h.set(boost::beast::http::field::content_disposition,
          "attachment; name=\"" + name + "\"; filename=\"" + name + "\"");
    return request(c, verb::put, "/api/messages/out/" + id, std::move(bytes), content_type, std::move(h));
}

// Creates, uploads arkivmelding.xml and a PDF, and sends; returns the messageId.
inline std::string send_via_api(const admin_client& c, const std::string& receiver,
                                std::string pdf = "%PDF-1.4 brev") {
    auto created = request(c, verb::post, "/api/messages/out", minimal_sbd(receiver), "application/json");
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    const auto id = text(body_json(created).at("standardBusinessDocumentHeader").at("documentIdentification"),
                         "instanceIdentifier");
    BOOST_TEST_REQUIRE(
        put_file(c, id, "arkivmelding.xml", arkivmelding_xml({"brev.pdf"}), "application/xml").status ==
        200u);
    BOOST_TEST_REQUIRE(put_file(c, id, "brev.pdf", std::move(pdf), "application/pdf").status == 200u);
    auto sent = request(c, verb::post, "/api/messages/out/" + id);
    BOOST_TEST_REQUIRE(sent.status == 200u, sent.body);
    return id;
}

// ---- child processes

struct process_result {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// A child process whose stdout and stderr are collected; killed if it outlives its deadline.
class child {
public:
    explicit child(std::vector<std::string> argv, std::vector<std::string> extra_env = {}) {
        int out_pipe[2], err_pipe[2];
        BOOST_TEST_REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
        BOOST_TEST_REQUIRE(::pipe2(err_pipe, O_CLOEXEC) == 0);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
        posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        std::vector<char*> args;
        for (auto& a : argv)
            args.push_back(a.data());
        args.push_back(nullptr);
        std::vector<std::string> env_strings;
        for (char** e = environ; *e; ++e)
            env_strings.emplace_back(*e);
        for (auto& x : extra_env)
            env_strings.push_back(x);
        std::vector<char*> env;
        for (auto& x : env_strings)
            env.push_back(x.data());
        env.push_back(nullptr);
        const int rc = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), env.data());
        posix_spawn_file_actions_destroy(&actions);
        ::close(out_pipe[1]);
        ::close(err_pipe[1]);
        BOOST_TEST_REQUIRE(rc == 0, "cannot start " << argv[0]);
        out_fd_ = out_pipe[0];
        err_fd_ = err_pipe[0];
    }
    ~child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
        if (out_fd_ >= 0)
            ::close(out_fd_);
        if (err_fd_ >= 0)
            ::close(err_fd_);
    }

    // Collects output until the process has exited and closed its pipes, or the deadline passes
    // (then it is killed and the test fails).
    process_result wait(std::chrono::milliseconds limit = std::chrono::seconds(30)) {
        const auto until = std::chrono::steady_clock::now() + limit;
        process_result r;
        while (out_fd_ >= 0 || err_fd_ >= 0) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                until - std::chrono::steady_clock::now());
            if (left.count() <= 0)
                break;
            pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
            ::poll(fds, 2, static_cast<int>(left.count()));
            for (int i = 0; i < 2; ++i) {
                int& fd = i == 0 ? out_fd_ : err_fd_;
                if (fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                    continue;
                char buf[65536];
                const auto n = ::read(fd, buf, sizeof buf);
                if (n <= 0) {
                    ::close(fd);
                    fd = -1;
                } else {
                    (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
                }
            }
        }
        BOOST_TEST_REQUIRE((out_fd_ < 0 && err_fd_ < 0),
                           "the child did not finish within " << limit.count() << " ms");
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return r;
    }

private:
    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
};

inline process_result run_process(std::vector<std::string> argv,
                                  std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    child c(std::move(argv));
    return c.wait(limit);
}

} // namespace kurer::engine::test

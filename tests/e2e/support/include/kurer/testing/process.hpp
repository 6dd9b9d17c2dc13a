// Real kurer processes for the daemon and end-to-end tests: started, waited for (by the
// readiness line on stdout, by exit), signalled and killed, with their JSON log kept in a file.
//
//   auto d = kurer::testing::daemon::start(sandbox_dir / "orgs/910077473/kurer.json",
//                                          scratch / "a.log").value();   // waits for "ready"
//   ...
//   BOOST_TEST(d.terminate() == 0);                                       // SIGTERM, graceful
//
// Waiting never sleeps: a pipe is polled for the readiness line and a pidfd for the exit, each
// with a deadline.
#pragma once

#include <kurer/core/error.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace kurer::testing {

struct finished_process {
    int exit_code = -1; // 128 + signal when killed by one
    std::string out;    // stdout
    std::string err;    // stderr
};

// Runs `executable args...` to completion (killing it at the deadline) and returns what it printed.
result<finished_process> run_to_end(const std::filesystem::path& executable,
                                    const std::vector<std::string>& args,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(60));

class daemon {
public:
    // `kurer run --config CONFIG`, stderr appended to `log_file`, stdout read for the readiness
    // line. Fails (and kills the process) when it exits or stays silent past `ready_timeout`;
    // the error message then holds the end of the log.
    static result<daemon> start(const std::filesystem::path& config, const std::filesystem::path& log_file,
                                std::chrono::milliseconds ready_timeout = std::chrono::seconds(30));

    daemon(daemon&& other) noexcept;
    daemon& operator=(daemon&& other) noexcept;
    ~daemon(); // kill() if still running

    // SIGTERM, then waits for the exit; returns the exit code (128 + signal if it died of one,
    // -1 if it did not exit within the timeout, after which it is killed).
    int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(30));
    // SIGKILL and reap: no goodbye, as a crash.
    void kill();

    bool running() const noexcept { return pid_ > 0; }
    pid_t pid() const noexcept { return pid_; }
    const boost::json::object& ready() const noexcept { return ready_; }
    const std::filesystem::path& log_file() const noexcept { return log_; }
    // Everything the process wrote to stdout after the readiness line (must stay empty).
    std::string drain_stdout();

private:
    daemon() = default;
    int wait_exit(std::chrono::milliseconds timeout);
    void close_fds();

    pid_t pid_ = -1;
    int pidfd_ = -1;
    int stdout_fd_ = -1;
    std::filesystem::path log_;
    boost::json::object ready_;
};

// The log's lines, each parsed (a line that is not a JSON object fails the parse: every line
// kurer writes to stderr must be one).
result<std::vector<boost::json::object>> read_log(const std::filesystem::path& file);
// The text of a file's last `bytes` bytes (for failure messages).
std::string tail_of(const std::filesystem::path& file, std::size_t bytes = 4000);

} // namespace kurer::testing

#include <kurer/testing/process.hpp>

#include <boost/json/parse.hpp>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace kurer::testing {
namespace {

using clock = std::chrono::steady_clock;

error failure(std::string message) {
    return make_error(make_error_code(std::errc::io_error), std::move(message));
}

int remaining_ms(clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

int decode_status(int status) {
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

struct spawned {
    pid_t pid = -1;
    int out = -1; // read end of stdout
    int err = -1; // read end of stderr, when captured
};

// Starts the program with stdin from /dev/null, stdout to a pipe, stderr to a pipe or a file.
result<spawned> spawn(const std::filesystem::path& executable, const std::vector<std::string>& args,
                      const std::filesystem::path* stderr_file) {
    int out[2], err[2] = {-1, -1};
    if (::pipe2(out, O_CLOEXEC) != 0)
        return failure("pipe: " + std::string(std::strerror(errno)));
    if (!stderr_file && ::pipe2(err, O_CLOEXEC) != 0)
        return failure("pipe: " + std::string(std::strerror(errno)));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    if (stderr_file)
        posix_spawn_file_actions_addopen(&actions, 2, stderr_file->c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                         0600);
    else
        posix_spawn_file_actions_adddup2(&actions, err[1], 2);

    std::vector<std::string> argv_text{executable.string()};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_text)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, executable.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (err[1] >= 0)
        ::close(err[1]);
    if (rc != 0) {
        ::close(out[0]);
        if (err[0] >= 0)
            ::close(err[0]);
        return failure("cannot start " + executable.string() + ": " + std::strerror(rc));
    }
    return spawned{pid, out[0], err[0]};
}

} // namespace

result<finished_process> run_to_end(const std::filesystem::path& executable,
                                    const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
    auto p = spawn(executable, args, nullptr);
    if (!p)
        return p.error();
    const auto deadline = clock::now() + timeout;
    finished_process f;
    pollfd fds[2] = {{p->out, POLLIN, 0}, {p->err, POLLIN, 0}};
    int open_fds = 2;
    bool timed_out = false;
    while (open_fds > 0) {
        const int n = ::poll(fds, 2, remaining_ms(deadline));
        if (n == 0) {
            timed_out = true;
            break;
        }
        if (n < 0 && errno == EINTR)
            continue;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0)
                continue;
            char buf[4096];
            const auto got = ::read(fds[i].fd, buf, sizeof buf);
            if (got > 0) {
                (i == 0 ? f.out : f.err).append(buf, static_cast<std::size_t>(got));
            } else {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    for (auto& fd : fds)
        if (fd.fd >= 0)
            ::close(fd.fd);
    if (timed_out)
        ::kill(p->pid, SIGKILL);
    int status = 0;
    while (::waitpid(p->pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out)
        return failure(executable.filename().string() + " did not finish within " +
                       std::to_string(timeout.count()) + " ms; stderr: " + f.err);
    f.exit_code = decode_status(status);
    return f;
}

result<daemon> daemon::start(const std::filesystem::path& config, const std::filesystem::path& log_file,
                             std::chrono::milliseconds ready_timeout) {
    const auto exe =
        std::filesystem::path(std::getenv("KURER_BIN_DIR") ? std::getenv("KURER_BIN_DIR") : "bin") / "kurer";
    auto p = spawn(exe, {"run", "--config", config.string()}, &log_file);
    if (!p)
        return p.error();
    daemon d;
    d.pid_ = p->pid;
    d.stdout_fd_ = p->out;
    d.log_ = log_file;
    d.pidfd_ = static_cast<int>(
        ::syscall(SYS_pidfd_open, p->pid, 0)); // glibc 2.36 declares pidfd_open without C linkage

    const auto deadline = clock::now() + ready_timeout;
    std::string line;
    for (;;) {
        pollfd fd{d.stdout_fd_, POLLIN, 0};
        const int n = ::poll(&fd, 1, remaining_ms(deadline));
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0) {
            d.kill();
            return failure("kurer (" + config.string() + ") printed no readiness line within " +
                           std::to_string(ready_timeout.count()) + " ms; log: " + tail_of(log_file));
        }
        char c = 0;
        const auto got = ::read(d.stdout_fd_, &c, 1);
        if (got <= 0) {
            const int code = d.wait_exit(std::chrono::seconds(10));
            return failure("kurer (" + config.string() + ") exited with " + std::to_string(code) +
                           " before it was ready; log: " + tail_of(log_file));
        }
        if (c == '\n')
            break;
        line += c;
    }
    boost::system::error_code ec;
    auto parsed = boost::json::parse(line, ec);
    if (ec || !parsed.is_object() || !parsed.as_object().contains("ready")) {
        d.kill();
        return failure("kurer printed '" + line + "' where the readiness line belongs");
    }
    d.ready_ = std::move(parsed.as_object());
    return d;
}

daemon::daemon(daemon&& o) noexcept
    : pid_(std::exchange(o.pid_, -1))
    , pidfd_(std::exchange(o.pidfd_, -1))
    , stdout_fd_(std::exchange(o.stdout_fd_, -1))
    , log_(std::move(o.log_))
    , ready_(std::move(o.ready_)) {}

daemon& daemon::operator=(daemon&& o) noexcept {
    if (this != &o) {
        kill();
        pid_ = std::exchange(o.pid_, -1);
        pidfd_ = std::exchange(o.pidfd_, -1);
        stdout_fd_ = std::exchange(o.stdout_fd_, -1);
        log_ = std::move(o.log_);
        ready_ = std::move(o.ready_);
    }
    return *this;
}

daemon::~daemon() {
    kill();
}

void daemon::close_fds() {
    if (pidfd_ >= 0)
        ::close(std::exchange(pidfd_, -1));
    if (stdout_fd_ >= 0)
        ::close(std::exchange(stdout_fd_, -1));
}

int daemon::wait_exit(std::chrono::milliseconds timeout) {
    if (pid_ <= 0)
        return -1;
    if (pidfd_ >= 0) {
        const auto deadline = clock::now() + timeout;
        for (;;) {
            pollfd fd{pidfd_, POLLIN, 0};
            const int n = ::poll(&fd, 1, remaining_ms(deadline));
            if (n < 0 && errno == EINTR)
                continue;
            if (n == 0)
                return -1;
            break;
        }
    }
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    close_fds();
    return decode_status(status);
}

int daemon::terminate(std::chrono::milliseconds timeout) {
    if (pid_ <= 0)
        return -1;
    ::kill(pid_, SIGTERM);
    const int code = wait_exit(timeout);
    if (code == -1)
        kill();
    return code;
}

void daemon::kill() {
    if (pid_ <= 0) {
        close_fds();
        return;
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    close_fds();
}

std::string daemon::drain_stdout() {
    std::string out;
    if (stdout_fd_ < 0)
        return out;
    for (;;) {
        pollfd fd{stdout_fd_, POLLIN, 0};
        if (::poll(&fd, 1, 0) <= 0)
            return out;
        char buf[4096];
        const auto got = ::read(stdout_fd_, buf, sizeof buf);
        if (got <= 0)
            return out;
        out.append(buf, static_cast<std::size_t>(got));
    }
}

result<std::vector<boost::json::object>> read_log(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in)
        return failure("cannot read " + file.string());
    std::vector<boost::json::object> lines;
    std::string line;
    while (std::getline(in, line)) {
        boost::system::error_code ec;
        auto v = boost::json::parse(line, ec);
        if (ec || !v.is_object())
            return failure(file.string() + ": a log line that is not a JSON object: " + line);
        lines.push_back(std::move(v.as_object()));
    }
    return lines;
}

std::string tail_of(const std::filesystem::path& file, std::size_t bytes) {
    std::ifstream in(file, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

} // namespace kurer::testing

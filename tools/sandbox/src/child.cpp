#include <kurer/sandbox/child.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace kurer::sandbox {
namespace {

error failure(std::string what) {
    return make_error(make_error_code(boost::system::errc::io_error), std::move(what));
}

struct spawned {
    pid_t pid = -1;
    int out = -1; // read end of the child's stdout (and stderr when merged)
};

result<spawned> spawn(const std::filesystem::path& exe, const std::vector<std::string>& args,
                      bool merge_stderr) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return failure(std::string("pipe: ") + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    if (merge_stderr)
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    std::vector<std::string> argv_storage{exe.string()};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_storage)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) {
        ::close(fds[0]);
        return failure("cannot start " + exe.string() + ": " + std::strerror(rc));
    }
    return spawned{pid, fds[0]};
}

// Reads what is available within the remaining time; false at EOF or timeout.
bool read_some(int fd, std::string& into, std::chrono::steady_clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
        return false;
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready <= 0)
        return false;
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0)
        return false;
    into.append(buf, static_cast<std::size_t>(n));
    return true;
}

int wait_exit(pid_t pid, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    // A pidfd becomes readable when the process exits; without one (old kernels) poll waitpid.
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid || r < 0) {
            if (pidfd >= 0)
                ::close(pidfd);
            if (r < 0)
                return -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            if (pidfd >= 0)
                ::close(pidfd);
            return -2;
        }
        if (pidfd >= 0) {
            pollfd p{pidfd, POLLIN, 0};
            ::poll(&p, 1, static_cast<int>(left.count()));
        } else {
            ::usleep(10 * 1000);
        }
    }
}

} // namespace

result<run_result> run_program(const std::filesystem::path& executable, const std::vector<std::string>& args,
                               std::chrono::milliseconds timeout) {
    auto s = spawn(executable, args, true);
    if (!s)
        return s.error();
    run_result out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (read_some(s->out, out.output, deadline)) {
    }
    ::close(s->out);
    out.exit_code = wait_exit(s->pid, std::chrono::duration_cast<std::chrono::milliseconds>(std::max(
                                          deadline - std::chrono::steady_clock::now(),
                                          std::chrono::steady_clock::duration(std::chrono::seconds(1)))));
    if (out.exit_code == -2) {
        ::kill(s->pid, SIGKILL);
        wait_exit(s->pid, std::chrono::seconds(5));
        return failure(executable.string() + " did not finish within " + std::to_string(timeout.count()) +
                       " ms");
    }
    return out;
}

result<child> child::start(const std::filesystem::path& executable, const std::filesystem::path& dir,
                           child_options options) {
    if (options.initialize) {
        std::vector<std::string> args{"init",     dir.string(),  "--port", std::to_string(options.port),
                                      "--broker", options.broker};
        for (const auto& o : options.organizations) {
            args.push_back("--org");
            args.push_back(o);
        }
        for (const auto& o : options.seid2_organizations) {
            args.push_back("--seid2");
            args.push_back(o);
        }
        auto init = run_program(executable, args);
        if (!init)
            return init.error();
        if (init->exit_code != 0)
            return failure("kurer-sandbox init failed (" + std::to_string(init->exit_code) +
                           "): " + init->output);
    }
    std::vector<std::string> args{"serve", dir.string()};
    args.insert(args.end(), options.serve_args.begin(), options.serve_args.end());
    auto s = spawn(executable, args, false);
    if (!s)
        return s.error();
    child c;
    c.pid_ = s->pid;
    c.dir_ = dir;
    std::string output;
    const auto deadline = std::chrono::steady_clock::now() + options.ready_timeout;
    constexpr std::string_view prefix = "ready ";
    for (;;) {
        const auto line_end = output.find('\n');
        if (line_end != std::string::npos) {
            const auto line = output.substr(0, line_end);
            if (line.rfind(prefix, 0) == 0) {
                c.base_url_ = line.substr(prefix.size());
                c.port_ =
                    static_cast<std::uint16_t>(std::stoi(c.base_url_.substr(c.base_url_.rfind(':') + 1)));
                break;
            }
            output.erase(0, line_end + 1);
            continue;
        }
        if (!read_some(s->out, output, deadline)) {
            ::close(s->out);
            c.kill();
            return failure("kurer-sandbox serve " + dir.string() +
                           " did not print its ready line (output: " + output + ")");
        }
    }
    // The sandbox prints nothing else on stdout (it ignores SIGPIPE), so the pipe can go.
    ::close(s->out);
    return c;
}

child::child(child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1))
    , dir_(std::move(other.dir_))
    , base_url_(std::move(other.base_url_))
    , port_(other.port_) {}

child& child::operator=(child&& other) noexcept {
    if (this != &other) {
        stop();
        pid_ = std::exchange(other.pid_, -1);
        dir_ = std::move(other.dir_);
        base_url_ = std::move(other.base_url_);
        port_ = other.port_;
    }
    return *this;
}

child::~child() {
    stop();
}

int child::stop() {
    if (pid_ <= 0)
        return -1;
    ::kill(pid_, SIGTERM);
    int code = wait_exit(pid_, std::chrono::seconds(5));
    if (code == -2) {
        ::kill(pid_, SIGKILL);
        code = wait_exit(pid_, std::chrono::seconds(5));
    }
    pid_ = -1;
    return code;
}

void child::kill() {
    if (pid_ <= 0)
        return;
    ::kill(pid_, SIGKILL);
    wait_exit(pid_, std::chrono::seconds(5));
    pid_ = -1;
}

} // namespace kurer::sandbox

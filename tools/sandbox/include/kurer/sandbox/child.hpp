// A kurer-sandbox child process, for tests and harnesses: `init` a directory, `serve` it, wait
// for the ready line, stop it at the end.
//
//   auto sb = sandbox::child::start(testing::executable("kurer-sandbox"), dir,
//                                   {.organizations = {"910077473", "910075918"}}).value();
//   sb.base_url();   // https://127.0.0.1:<port>
//   sb.dir() / "ca/ca.pem"
#pragma once

#include <kurer/core/error.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <sys/types.h>
#include <vector>

namespace kurer::sandbox {

struct child_options {
    std::vector<std::string> organizations{"910077473", "910075918"};
    std::vector<std::string> seid2_organizations{}; // `init --seid2`: SEID 2.0 certificate subjects
    std::string broker = "altinn2";
    std::uint16_t port = 0;                // 0: any free port
    std::vector<std::string> serve_args{}; // e.g. {"--fault", R"({"path_prefix":"/token","status":503})"}
    bool initialize = true;                // false: `dir` is already a sandbox
    std::chrono::milliseconds ready_timeout{30000};
};

class child {
public:
    static result<child> start(const std::filesystem::path& executable, const std::filesystem::path& dir,
                               child_options options = {});

    child(child&& other) noexcept;
    child& operator=(child&& other) noexcept;
    ~child(); // stop()

    // SIGTERM, then SIGKILL if it has not exited within 5 seconds. Returns the exit code (128 +
    // signal when killed by one), or -1 when it was not running.
    int stop();
    // SIGKILL, no goodbye.
    void kill();

    const std::string& base_url() const noexcept { return base_url_; }
    std::uint16_t port() const noexcept { return port_; }
    const std::filesystem::path& dir() const noexcept { return dir_; }
    pid_t pid() const noexcept { return pid_; }

private:
    child() = default;
    pid_t pid_ = -1;
    std::filesystem::path dir_;
    std::string base_url_;
    std::uint16_t port_ = 0;
};

// Runs an executable with arguments to completion; returns its exit code and what it printed
// on stdout and stderr together.
struct run_result {
    int exit_code = -1;
    std::string output;
};
result<run_result> run_program(const std::filesystem::path& executable, const std::vector<std::string>& args,
                               std::chrono::milliseconds timeout = std::chrono::seconds(60));

} // namespace kurer::sandbox

// kurer: the daemon that sends and receives an organisation's DPO messages.
#include "daemon.hpp"

#include <kurer/engine/cli.hpp>

#include <iostream>

namespace {

constexpr std::string_view usage = R"(usage: kurer run --config FILE
       kurer --version | --help

Runs the engine for the organisation the config names: sends what integration products
submit through the admin socket, receives the organisation's incoming messages, and
exchanges the receipts. Logs are JSON lines on stderr; SIGTERM or SIGINT stops it
gracefully. See docs/configuration.md and docs/operations.md.
)";

} // namespace

int main(int argc, char** argv) {
    const std::span<char* const> args{argv, static_cast<std::size_t>(argc)};
    if (auto code = kurer::engine::handle_common_options("kurer", usage, args))
        return *code;
    if (std::string_view(argv[1]) == "run")
        return kurer::daemon::run(args.subspan(2));
    std::cerr << "kurer: unknown command '" << argv[1] << "'\n" << usage;
    return kurer::daemon::exit_config;
}

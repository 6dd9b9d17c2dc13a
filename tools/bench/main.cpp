// kurer-bench: benchmarks and the torture harness. Each subcommand lives in its own file and
// registers itself through kurer::bench::registrar.
#include "bench.hpp"

#include <kurer/engine/cli.hpp>

#include <algorithm>
#include <iostream>
#include <map>
#include <string>

namespace kurer::bench {
namespace {

struct entry {
    std::string summary;
    command_fn fn;
};

std::map<std::string, entry, std::less<>>& commands() {
    static std::map<std::string, entry, std::less<>> instance;
    return instance;
}

std::string usage() {
    std::string out =
        "usage: kurer-bench SUBCOMMAND [OPTIONS]   (kurer-bench SUBCOMMAND --help for its options)\n"
        "       kurer-bench --version | --help\n\nsubcommands:\n";
    std::size_t width = 0;
    for (const auto& [name, e] : commands())
        width = std::max(width, name.size());
    for (const auto& [name, e] : commands())
        out += "  " + name + std::string(width + 2 - name.size(), ' ') + e.summary + "\n";
    return out;
}

} // namespace

registrar::registrar(std::string_view name, std::string_view summary, command_fn fn) {
    commands().emplace(std::string(name), entry{std::string(summary), fn});
}

} // namespace kurer::bench

int main(int argc, char** argv) {
    const std::span<char* const> args{argv, static_cast<std::size_t>(argc)};
    const std::string help = kurer::bench::usage();
    if (auto code = kurer::engine::handle_common_options("kurer-bench", help, args))
        return *code;
    const auto& commands = kurer::bench::commands();
    const auto it = commands.find(std::string_view(argv[1]));
    if (it == commands.end()) {
        std::cerr << "kurer-bench: unknown subcommand '" << argv[1] << "'\n" << help;
        return 2;
    }
    return it->second.fn(args.subspan(1));
}

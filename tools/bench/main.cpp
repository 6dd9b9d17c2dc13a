// kurer-bench: benchmarks and the torture harness. `kurer-bench <subcommand> --help` for each.
#include "subcommands.hpp"

#include <kurer/engine/cli.hpp>

#include <iostream>
#include <string>

namespace {

std::string usage() {
    std::string u =
        "usage: kurer-bench <subcommand> [OPTIONS]\n       kurer-bench --version | --help\n\nsubcommands:\n";
    for (const auto& s : kurer::bench::subcommands)
        u += "  " + std::string(s.name) + std::string(10 - std::min<std::size_t>(9, s.name.size()), ' ') +
             std::string(s.summary) + "\n";
    return u;
}

} // namespace

int main(int argc, char** argv) {
    const auto text = usage();
    const std::span<char* const> args{argv, static_cast<std::size_t>(argc)};
    if (auto code = kurer::engine::handle_common_options("kurer-bench", text, args))
        return *code;
    for (const auto& s : kurer::bench::subcommands)
        if (s.name == args[1])
            return s.run(args.subspan(2));
    std::cerr << "kurer-bench: unknown subcommand '" << args[1] << "'\n" << text;
    return 2;
}

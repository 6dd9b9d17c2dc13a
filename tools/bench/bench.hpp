// kurer-bench's subcommands register themselves here, one source file each (storage.cpp,
// pack_bench.cpp, e2e_bench.cpp, ...), so adding one never touches main.cpp.
#pragma once

#include <functional>
#include <string_view>

namespace CLI {
class App;
}

namespace kurer::bench {

// Runs a subcommand with the options it declared, once they are parsed; returns the exit code.
using command_fn = std::function<int()>;

// Declares a subcommand's options on `command` (its own CLI11 subcommand: --help lists them)
// and returns what runs it.
using setup_fn = command_fn (*)(CLI::App& command);

struct registrar {
    registrar(std::string_view name, std::string_view summary, setup_fn setup);
};

} // namespace kurer::bench

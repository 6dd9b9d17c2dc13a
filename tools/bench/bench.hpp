// kurer-bench's subcommands register themselves here, one source file each (storage_bench.cpp,
// pack_bench.cpp, e2e_bench.cpp, ...), so adding one never touches main.cpp.
#pragma once

#include <span>
#include <string_view>

namespace kurer::bench {

using arguments = std::span<char* const>;

// args[0] is the subcommand's name; the rest are its options. Returns the exit code.
using command_fn = int (*)(arguments args);

struct registrar {
    registrar(std::string_view name, std::string_view summary, command_fn fn);
};

} // namespace kurer::bench

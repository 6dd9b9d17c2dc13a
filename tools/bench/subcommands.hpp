// The subcommands of kurer-bench, one file each. Each takes the arguments after its name and
// returns the process exit code; output is plain text a person can paste into docs/benchmarks.md.
#pragma once

#include <span>
#include <string_view>

namespace kurer::bench {

using arguments = std::span<char* const>;

int storage(arguments args); // storage.cpp: durable transitions/s, group commit vs one fsync each
int memory(arguments args);  // memory.cpp: RSS of N live messages held by the runner

struct subcommand {
    std::string_view name;
    int (*run)(arguments);
    std::string_view summary;
};

inline constexpr subcommand subcommands[] = {
    {"storage", storage, "durable transitions per second: group commit against one synced write each"},
    {"memory", memory, "resident memory of live messages held by the runner"},
};

} // namespace kurer::bench

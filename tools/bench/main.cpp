// kurer-bench: benchmarks and the torture harness. Each subcommand lives in its own file and
// registers itself through kurer::bench::registrar.
#include "bench.hpp"

#include <kurer/engine/cli.hpp>

#include <map>
#include <string>

namespace kurer::bench {
namespace {

struct entry {
    std::string summary;
    setup_fn setup;
};

std::map<std::string, entry, std::less<>>& commands() {
    static std::map<std::string, entry, std::less<>> instance;
    return instance;
}

} // namespace

registrar::registrar(std::string_view name, std::string_view summary, setup_fn setup) {
    commands().emplace(std::string(name), entry{std::string(summary), setup});
}

} // namespace kurer::bench

int main(int argc, char** argv) {
    namespace cli = kurer::engine::cli;
    CLI::App app{"Benchmarks and the torture harness (docs/benchmarks.md).", "kurer-bench"};
    cli::configure(
        app, "usage: kurer-bench SUBCOMMAND [OPTIONS]   (kurer-bench SUBCOMMAND --help for its options)\n"
             "       kurer-bench --version | --help");
    std::map<const CLI::App*, kurer::bench::command_fn> runs;
    for (const auto& [name, e] : kurer::bench::commands()) {
        auto* sub = app.add_subcommand(name, e.summary);
        runs.emplace(sub, e.setup(*sub));
    }
    if (auto code = cli::parse(app, argc, argv))
        return *code;
    for (const auto& [sub, run] : runs)
        if (sub->parsed())
            return run();
    return cli::usage_error(app, "no subcommand given");
}

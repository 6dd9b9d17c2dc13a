// kurer-bench: benchmarks and the torture harness.
#include <kurer/engine/cli.hpp>

#include <iostream>

namespace {

constexpr std::string_view usage = R"(usage: kurer-bench storage | pack | e2e | torture [OPTIONS]
       kurer-bench --version | --help
)";

} // namespace

int main(int argc, char** argv) {
    if (auto code = kurer::engine::handle_common_options("kurer-bench", usage, {argv, static_cast<std::size_t>(argc)}))
        return *code;
    std::cerr << "kurer-bench: unknown command '" << argv[1] << "'\n" << usage;
    return 2;
}

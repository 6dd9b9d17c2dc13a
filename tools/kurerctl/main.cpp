// kurerctl: the operator's and integrator's CLI over the engine's admin socket.
#include <kurer/engine/cli.hpp>

#include <iostream>

namespace {

constexpr std::string_view usage = R"(usage: kurerctl [--socket PATH] [--json] COMMAND ...
       kurerctl --version | --help
)";

} // namespace

int main(int argc, char** argv) {
    if (auto code = kurer::engine::handle_common_options("kurerctl", usage, {argv, static_cast<std::size_t>(argc)}))
        return *code;
    std::cerr << "kurerctl: unknown command '" << argv[1] << "'\n" << usage;
    return 2;
}

// kurer: the daemon that sends and receives an organisation's DPO messages.
#include <kurer/engine/cli.hpp>

#include <iostream>

namespace {

constexpr std::string_view usage = R"(usage: kurer run --config FILE
       kurer --version | --help

Runs the engine for the organisation the config names: sends what integration products
submit through the admin socket, receives the organisation's incoming messages, and
exchanges the receipts.
)";

} // namespace

int main(int argc, char** argv) {
    if (auto code =
            kurer::engine::handle_common_options("kurer", usage, {argv, static_cast<std::size_t>(argc)}))
        return *code;
    std::cerr << "kurer: unknown command '" << argv[1] << "'\n" << usage;
    return 2;
}

// kurer-pack: builds and opens DPO packages (sbd.zip) offline.
#include <kurer/engine/cli.hpp>

#include <iostream>

namespace {

constexpr std::string_view usage = R"(usage: kurer-pack pack --sender 0192:ORG --receiver 0192:ORG --receiver-cert PEM --cert PEM --key PEM
                  [--process URN] [--altinn2] --out sbd.zip arkivmelding.xml [FILE ...]
       kurer-pack open --cert PEM --key PEM --out DIR sbd.zip
       kurer-pack --version | --help
)";

} // namespace

int main(int argc, char** argv) {
    if (auto code = kurer::engine::handle_common_options("kurer-pack", usage, {argv, static_cast<std::size_t>(argc)}))
        return *code;
    std::cerr << "kurer-pack: unknown command '" << argv[1] << "'\n" << usage;
    return 2;
}

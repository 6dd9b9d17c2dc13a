// kurer-sandbox: local stand-ins for Maskinporten, the Service Registry and the Altinn brokers.
#include <kurer/engine/cli.hpp>

#include <iostream>

namespace {

constexpr std::string_view usage = R"(usage: kurer-sandbox init DIR --port N --org ORGNR [--org ORGNR ...] [--broker altinn2|altinn3]
       kurer-sandbox serve DIR
       kurer-sandbox --version | --help
)";

} // namespace

int main(int argc, char** argv) {
    if (auto code = kurer::engine::handle_common_options("kurer-sandbox", usage, {argv, static_cast<std::size_t>(argc)}))
        return *code;
    std::cerr << "kurer-sandbox: unknown command '" << argv[1] << "'\n" << usage;
    return 2;
}

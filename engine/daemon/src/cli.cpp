#include <kurer/core/version.hpp>
#include <kurer/engine/cli.hpp>

#include <iostream>

namespace kurer::engine {

std::optional<int> handle_common_options(std::string_view program, std::string_view usage,
                                         std::span<char* const> args) {
    if (args.size() < 2) {
        std::cerr << usage;
        return 2;
    }
    const std::string_view first = args[1];
    if (first == "--version") {
        std::cout << program << ' ' << kurer::version() << '\n';
        return 0;
    }
    if (first == "--help" || first == "-h") {
        std::cout << program << ' ' << kurer::version() << "\n\n" << usage;
        return 0;
    }
    return std::nullopt;
}

} // namespace kurer::engine

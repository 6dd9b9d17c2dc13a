#include <kurer/altinn3/problem_code.hpp>

#include <array>

namespace kurer::altinn3 {

std::optional<problem_code> parse_problem_code(std::string_view code) noexcept {
    constexpr std::string_view prefix = "BRO-";
    if (!code.starts_with(prefix) || code.size() != prefix.size() + 5)
        return std::nullopt;
    int value = 0;
    for (const char c : code.substr(prefix.size())) {
        if (c < '0' || c > '9')
            return std::nullopt;
        value = value * 10 + (c - '0');
    }
    constexpr std::array known{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 19, 21, 25, 28, 29};
    for (const int k : known)
        if (k == value)
            return static_cast<problem_code>(value);
    return std::nullopt;
}

bool is_retryable(problem_code code) noexcept {
    switch (code) {
    case problem_code::not_ready_for_download:
    case problem_code::upload_failed:
    case problem_code::storage_not_ready:
        return true;
    default:
        return false;
    }
}

} // namespace kurer::altinn3

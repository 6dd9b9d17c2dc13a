#include <kurer/http/range.hpp>

#include <charconv>

namespace kurer::http {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

std::optional<std::uint64_t> number(std::string_view s) {
    if (s.empty())
        return std::nullopt;
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size())
        return std::nullopt;
    return v;
}

} // namespace

range_request parse_range(std::string_view header, std::uint64_t size) {
    header = trim(header);
    constexpr std::string_view unit = "bytes=";
    if (header.size() < unit.size() || header.substr(0, unit.size()) != unit)
        return {};
    const std::string_view spec = trim(header.substr(unit.size()));
    if (spec.find(',') != std::string_view::npos)
        return {};
    const auto dash = spec.find('-');
    if (dash == std::string_view::npos)
        return {};
    const auto first_text = trim(spec.substr(0, dash));
    const auto last_text = trim(spec.substr(dash + 1));
    range_request out;
    if (first_text.empty()) { // suffix: the last N bytes
        const auto n = number(last_text);
        if (!n)
            return {};
        if (*n == 0 || size == 0)
            return {range_kind::unsatisfiable, {}};
        out.kind = range_kind::satisfiable;
        out.range.first = *n >= size ? 0 : size - *n;
        out.range.last = size - 1;
        return out;
    }
    const auto first = number(first_text);
    if (!first)
        return {};
    std::uint64_t last = size == 0 ? 0 : size - 1;
    if (!last_text.empty()) {
        const auto l = number(last_text);
        if (!l || *l < *first)
            return {};
        last = std::min(*l, last);
    }
    if (*first >= size)
        return {range_kind::unsatisfiable, {}};
    out.kind = range_kind::satisfiable;
    out.range = {*first, last};
    return out;
}

std::string content_range(const byte_range& r, std::uint64_t size) {
    return "bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) + "/" + std::to_string(size);
}

std::string range_from(std::uint64_t offset) {
    return "bytes=" + std::to_string(offset) + "-";
}

std::optional<content_range_value> parse_content_range(std::string_view value) {
    value = trim(value);
    constexpr std::string_view unit = "bytes ";
    if (value.substr(0, unit.size()) != unit)
        return std::nullopt;
    value.remove_prefix(unit.size());
    const auto slash = value.find('/');
    const auto dash = value.find('-');
    if (slash == std::string_view::npos || dash == std::string_view::npos || dash > slash)
        return std::nullopt;
    const auto first = number(value.substr(0, dash));
    const auto last = number(value.substr(dash + 1, slash - dash - 1));
    if (!first || !last || *last < *first)
        return std::nullopt;
    content_range_value out{{*first, *last}, std::nullopt};
    const auto size_text = value.substr(slash + 1);
    if (size_text != "*") {
        const auto size = number(size_text);
        if (!size || *size <= *last)
            return std::nullopt;
        out.size = size;
    }
    return out;
}

} // namespace kurer::http

// Small text helpers shared by the module's sources.
#pragma once

#include <string>
#include <string_view>

namespace kurer::dpo::detail {

// A name from untrusted input, quoted and made printable for an error message: control bytes
// as \xNN, at most 120 bytes.
inline std::string shown(std::string_view name) {
    std::string out = "\"";
    for (const char c : name.substr(0, 120)) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    return out + (name.size() > 120 ? "...\"" : "\"");
}

} // namespace kurer::dpo::detail

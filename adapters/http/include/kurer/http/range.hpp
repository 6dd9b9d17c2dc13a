// Byte ranges (RFC 9110 §14): what a server needs to answer `Range: bytes=...` and a client
// needs to resume a download. Only single ranges are served; a multi-range request gets the
// whole representation, which the RFC allows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kurer::http {

struct byte_range {
    std::uint64_t first = 0;
    std::uint64_t last = 0; // inclusive
    std::uint64_t length() const noexcept { return last - first + 1; }
};

enum class range_kind {
    none,          // no Range header, or one to ignore (other unit, several ranges, malformed)
    satisfiable,   // answer 206 with `range`
    unsatisfiable, // answer 416 with "Content-Range: bytes */<size>"
};

struct range_request {
    range_kind kind = range_kind::none;
    byte_range range;
};

// Interprets a Range header value for a representation of `size` bytes.
range_request parse_range(std::string_view header, std::uint64_t size);

// "bytes <first>-<last>/<size>".
std::string content_range(const byte_range& r, std::uint64_t size);

// The Range header value that asks for everything from `offset` on: "bytes=<offset>-".
std::string range_from(std::uint64_t offset);

// Parses a Content-Range value "bytes a-b/size" (size may be "*"); nullopt when malformed.
struct content_range_value {
    byte_range range;
    std::optional<std::uint64_t> size;
};
std::optional<content_range_value> parse_content_range(std::string_view value);

} // namespace kurer::http

// Absolute http(s) URLs as the configuration names endpoints.
#pragma once

#include <kurer/core/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace kurer::http {

struct url {
    std::string scheme; // "https" or "http"
    std::string host;   // name or address, without brackets
    std::uint16_t port = 0;
    std::string target; // path and query, at least "/"

    // "scheme://host[:port]" with the port omitted when it is the scheme's default.
    std::string origin() const;
    // The URL with `path` (which starts with '/') appended to this URL's path.
    url with_path(std::string_view path) const;
};

// Parses an absolute URL; the error says which part is wrong.
result<url> parse_url(std::string_view text);

} // namespace kurer::http

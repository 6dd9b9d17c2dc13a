// Percent-encoding (RFC 3986 section 2.1) and application/x-www-form-urlencoded bodies, done by
// Boost.URL: the one place the adapters, the admin server and the tools encode and decode.
//
// Encoding keeps the characters of a set and writes every other byte as %XX with upper-case hex
// digits. Decoding is strict: a '%' not followed by two hex digits ("%G1", or "%4" at the end)
// is an error that says so, never passed through.
#pragma once

#include <kurer/core/error.hpp>

#include <boost/url/grammar/lut_chars.hpp>
#include <boost/url/rfc/pchars.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kurer::http {

// The characters a percent-encoder leaves as they are.
using char_set = boost::urls::grammar::lut_chars;

// ALPHA DIGIT - . _ ~ (RFC 3986 unreserved): safe anywhere in a URL and in a form.
inline constexpr char_set unreserved_chars = boost::urls::unreserved_chars;
// pchar (unreserved, sub-delims, ':' and '@'): what one path segment may hold unescaped.
inline constexpr char_set segment_chars = boost::urls::pchars;
// pchar without the separators a query is split at ('&', '=') and '+' (read as a space by
// form decoders): one query parameter's name or value.
inline constexpr char_set query_value_chars = boost::urls::pchars - char_set("&=+");

// `s` with every byte outside `keep` written as %XX.
std::string percent_encode(std::string_view s, const char_set& keep = unreserved_chars);

// The bytes `s` stands for, %XX escapes decoded ('+' stays '+'). An invalid or truncated escape
// is an error (http::errc::bad_message, not retryable) whose message says which.
result<std::string> percent_decode(std::string_view s);

// application/x-www-form-urlencoded: name=value pairs joined by '&', each name and value
// percent-encoded keeping unreserved_chars, a space written as '+'.
using form_fields = std::vector<std::pair<std::string, std::string>>;
std::string form_encode(const form_fields& fields);

// The fields of an application/x-www-form-urlencoded body in order ('+' read as a space, empty
// pairs skipped, a name without '=' has an empty value). A bad escape, or a character a form
// must escape, is an error (http::errc::bad_message, not retryable) whose message says which.
result<form_fields> form_decode(std::string_view body);

} // namespace kurer::http

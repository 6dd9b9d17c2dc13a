#include "multipart.hpp"

#include <kurer/http/error.hpp>
#include <kurer/http/percent.hpp>

#include <algorithm>
#include <cctype>

namespace kurer::engine::admin {
namespace {

error malformed(std::string what) {
    return http::make_http_error(http::errc::bad_message, std::move(what));
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// RFC 5987 ext-value: charset'language'percent-encoded.
result<std::string> decode_ext_value(std::string_view v) {
    const auto q1 = v.find('\'');
    const auto q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
    if (q2 == std::string_view::npos)
        return malformed("filename*: expected charset'language'value");
    const auto charset = lower(v.substr(0, q1));
    auto decoded = http::percent_decode(v.substr(q2 + 1));
    if (!decoded)
        return malformed("filename*: bad percent-encoding: " + decoded.error().message);
    std::string raw = std::move(*decoded);
    if (charset == "utf-8")
        return raw;
    if (charset == "iso-8859-1") {
        std::string utf8;
        for (const unsigned char c : raw) {
            if (c < 0x80) {
                utf8 += static_cast<char>(c);
            } else {
                utf8 += static_cast<char>(0xC0 | (c >> 6));
                utf8 += static_cast<char>(0x80 | (c & 0x3F));
            }
        }
        return utf8;
    }
    return malformed("filename*: unsupported charset '" + charset + "' (UTF-8 or ISO-8859-1)");
}

bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        if (n == 0 || i + n > s.size() || (n == 2 && c < 0xC2))
            return false;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80)
                return false;
        i += n;
    }
    return true;
}

} // namespace

result<content_disposition> parse_content_disposition(std::string_view header) {
    content_disposition out;
    std::size_t i = 0;
    const auto skip_space = [&] {
        while (i < header.size() && (header[i] == ' ' || header[i] == '\t'))
            ++i;
    };
    const auto token = [&] {
        const auto start = i;
        while (i < header.size() && header[i] != ';' && header[i] != '=' && header[i] != ' ' &&
               header[i] != '\t')
            ++i;
        return header.substr(start, i - start);
    };
    skip_space();
    out.type = lower(token());
    if (out.type.empty())
        return malformed("Content-Disposition: missing the disposition type");
    std::optional<std::string> ext_filename;
    for (;;) {
        skip_space();
        if (i == header.size())
            break;
        if (header[i] != ';')
            return malformed("Content-Disposition: expected ';' at position " + std::to_string(i));
        ++i;
        skip_space();
        if (i == header.size())
            break; // a trailing ';'
        const auto name = lower(token());
        skip_space();
        if (name.empty() || i == header.size() || header[i] != '=')
            return malformed("Content-Disposition: parameter '" + name + "' has no value");
        ++i;
        skip_space();
        std::string value;
        if (i < header.size() && header[i] == '"') {
            ++i;
            bool closed = false;
            while (i < header.size()) {
                const char c = header[i++];
                if (c == '\\' && i < header.size()) {
                    value += header[i++];
                } else if (c == '"') {
                    closed = true;
                    break;
                } else {
                    value += c;
                }
            }
            if (!closed)
                return malformed("Content-Disposition: unterminated quoted value of '" + name + "'");
        } else {
            value = std::string(trim(token()));
        }
        if (name == "name")
            out.name = std::move(value);
        else if (name == "filename")
            out.filename = std::move(value);
        else if (name == "filename*") {
            auto decoded = decode_ext_value(value);
            if (!decoded)
                return decoded.error();
            ext_filename = std::move(*decoded);
        }
    }
    if (ext_filename)
        out.filename = std::move(ext_filename);
    return out;
}

std::optional<std::string> multipart_boundary(std::string_view content_type) {
    const auto semi = content_type.find(';');
    if (lower(trim(content_type.substr(0, semi))) != "multipart/form-data" || semi == std::string_view::npos)
        return std::nullopt;
    auto params = content_type.substr(semi + 1);
    while (!params.empty()) {
        const auto next = params.find(';');
        auto param = trim(params.substr(0, next));
        const auto eq = param.find('=');
        if (eq != std::string_view::npos && lower(trim(param.substr(0, eq))) == "boundary") {
            auto v = trim(param.substr(eq + 1));
            if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
                v = v.substr(1, v.size() - 2);
            if (v.empty() || v.size() > 70)
                return std::nullopt;
            return std::string(v);
        }
        if (next == std::string_view::npos)
            break;
        params.remove_prefix(next + 1);
    }
    return std::nullopt;
}

std::optional<std::string> bad_document_name(std::string_view name) {
    if (name.empty())
        return "the file name is missing";
    if (name.size() > 255)
        return "the file name is longer than 255 bytes";
    if (!valid_utf8(name))
        return "the file name is not UTF-8";
    for (const char c : name)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return "the file name contains control characters";
    if (name.find('/') != std::string_view::npos || name.find('\\') != std::string_view::npos)
        return "the file name '" + std::string(name) + "' contains a path; give the bare file name";
    if (name == "." || name == "..")
        return "'" + std::string(name) + "' is not a file name";
    if (name.front() == '.')
        return "the file name '" + std::string(name) + "' starts with a dot";
    if (lower(name).starts_with("meta-inf"))
        return "the file name '" + std::string(name) + "' is reserved for the ASiC-E container's META-INF";
    if (name == "mimetype" || name == "manifest.xml")
        return "the file name '" + std::string(name) + "' is used by the ASiC-E container itself";
    return std::nullopt;
}

multipart_parser::multipart_parser(std::string boundary, handlers h, limits lim)
    : delimiter_("\r\n--" + boundary)
    , h_(std::move(h))
    , lim_(lim)
    // The first delimiter may open the body without a preceding CRLF; pretend there was one.
    , buffer_("\r\n") {}

result<void> multipart_parser::feed(std::string_view bytes) {
    if (stage_ == stage::done)
        return {}; // the epilogue is ignored
    buffer_.append(bytes);
    return run();
}

result<void> multipart_parser::finish() {
    if (stage_ != stage::done)
        return malformed(parts_ == 0 ? "the multipart body has no parts"
                                     : "the multipart body ended before its closing boundary");
    return {};
}

result<void> multipart_parser::start_part(std::string_view block) {
    if (++parts_ > lim_.max_parts)
        return malformed("more than " + std::to_string(lim_.max_parts) + " parts");
    part_head head;
    bool disposition_seen = false;
    while (!block.empty()) {
        const auto eol = block.find("\r\n");
        const auto line = block.substr(0, eol);
        block.remove_prefix(eol == std::string_view::npos ? block.size() : eol + 2);
        if (line.empty())
            continue;
        const auto colon = line.find(':');
        if (colon == std::string_view::npos)
            return malformed("part " + std::to_string(parts_) + ": a header line without ':'");
        const auto name = lower(trim(line.substr(0, colon)));
        const auto value = trim(line.substr(colon + 1));
        if (name == "content-disposition") {
            auto d = parse_content_disposition(value);
            if (!d)
                return make_error(d.error().code,
                                  "part " + std::to_string(parts_) + ": " + d.error().message);
            head.disposition = std::move(*d);
            disposition_seen = true;
        } else if (name == "content-type") {
            head.content_type = std::string(value);
        }
    }
    if (!disposition_seen)
        return malformed("part " + std::to_string(parts_) + " has no Content-Disposition");
    return h_.begin(head);
}

result<void> multipart_parser::run() {
    for (;;) {
        switch (stage_) {
        case stage::preamble: {
            const auto at = buffer_.find(delimiter_);
            if (at == std::string::npos) {
                if (buffer_.size() > delimiter_.size())
                    buffer_.erase(0, buffer_.size() - delimiter_.size());
                return {};
            }
            buffer_.erase(0, at + delimiter_.size());
            stage_ = stage::after_delimiter;
            break;
        }
        case stage::after_delimiter: {
            if (buffer_.size() < 2)
                return {};
            if (buffer_.compare(0, 2, "--") == 0) {
                stage_ = stage::done;
                buffer_.clear();
                return {};
            }
            std::size_t i = 0;
            while (i < buffer_.size() && (buffer_[i] == ' ' || buffer_[i] == '\t'))
                ++i;
            if (buffer_.size() < i + 2)
                return {};
            if (buffer_.compare(i, 2, "\r\n") != 0)
                return malformed("a boundary line is followed by something other than a line break");
            buffer_.erase(0, i + 2);
            stage_ = stage::headers;
            break;
        }
        case stage::headers: {
            std::size_t end = std::string::npos, skip = 0;
            if (buffer_.compare(0, 2, "\r\n") == 0) {
                end = 0; // a part without headers
                skip = 2;
            } else if (const auto at = buffer_.find("\r\n\r\n"); at != std::string::npos) {
                end = at;
                skip = 4;
            }
            if (end == std::string::npos) {
                if (buffer_.size() > lim_.max_header_bytes)
                    return malformed("a part's headers are larger than " +
                                     std::to_string(lim_.max_header_bytes) + " bytes");
                return {};
            }
            if (end > lim_.max_header_bytes)
                return malformed("a part's headers are larger than " + std::to_string(lim_.max_header_bytes) +
                                 " bytes");
            const std::string block = buffer_.substr(0, end);
            buffer_.erase(0, end + skip);
            if (auto started = start_part(block); !started)
                return started;
            stage_ = stage::data;
            break;
        }
        case stage::data: {
            const auto at = buffer_.find(delimiter_);
            if (at == std::string::npos) {
                // Keep what could be the start of a delimiter split across two reads.
                if (buffer_.size() >= delimiter_.size()) {
                    const auto emit = buffer_.size() - (delimiter_.size() - 1);
                    if (auto d = h_.data(std::string_view(buffer_).substr(0, emit)); !d)
                        return d;
                    buffer_.erase(0, emit);
                }
                return {};
            }
            if (at > 0)
                if (auto d = h_.data(std::string_view(buffer_).substr(0, at)); !d)
                    return d;
            if (auto e = h_.end(); !e)
                return e;
            buffer_.erase(0, at + delimiter_.size());
            stage_ = stage::after_delimiter;
            break;
        }
        case stage::done:
            buffer_.clear();
            return {};
        }
    }
}

} // namespace kurer::engine::admin

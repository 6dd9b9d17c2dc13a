#include <kurer/altinn2/errors.hpp>
#include <kurer/altinn2/mtom.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/http/percent.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace kurer::altinn2::mtom {
namespace {

char lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowered(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), lower);
    return out;
}

std::string_view trim(std::string_view s) noexcept {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos)
        return {};
    return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// RFC 2045 token characters.
bool is_token_char(char c) noexcept {
    if (c <= ' ' || c >= 127)
        return false;
    return std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
}

kurer::error content_type_error(std::string message) {
    return make_error(errc::bad_content_type, std::move(message), retry::no);
}

std::string system_error_text(int err) {
    return std::strerror(err);
}

kurer::error file_failure(std::string what, const std::filesystem::path& path, int err) {
    return make_error(errc::file_error, what + " " + path.string() + ": " + system_error_text(err),
                      retry::yes);
}

bool has_line_break(std::string_view s) noexcept {
    return s.find_first_of("\r\n") != std::string_view::npos;
}

// RFC 2046 boundary characters (a space is allowed, but not last).
bool is_valid_boundary(std::string_view b) noexcept {
    if (b.empty() || b.size() > 70 || b.back() == ' ')
        return false;
    for (const char c : b) {
        const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
        if (!ok)
            return false;
    }
    return true;
}

} // namespace

// ---- media types and Content-IDs --------------------------------------------------------

std::optional<std::string_view> media_type::parameter(std::string_view name) const noexcept {
    for (const auto& [n, v] : parameters)
        if (n.size() == name.size() &&
            std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) { return lower(a) == lower(b); }))
            return std::string_view(v);
    return std::nullopt;
}

result<media_type> parse_media_type(std::string_view value) {
    media_type out;
    std::size_t i = 0;
    const auto skip_blanks = [&] {
        while (i < value.size() && (value[i] == ' ' || value[i] == '\t'))
            ++i;
    };
    const auto token = [&] {
        const std::size_t start = i;
        while (i < value.size() && is_token_char(value[i]))
            ++i;
        return value.substr(start, i - start);
    };
    skip_blanks();
    const auto type = token();
    if (type.empty() || i >= value.size() || value[i] != '/')
        return content_type_error("Content-Type '" + std::string(value.substr(0, 100)) +
                                  "' has no type/subtype");
    ++i;
    const auto subtype = token();
    if (subtype.empty())
        return content_type_error("Content-Type '" + std::string(value.substr(0, 100)) + "' has no subtype");
    out.type = lowered(type) + "/" + lowered(subtype);
    for (;;) {
        skip_blanks();
        if (i >= value.size())
            break;
        if (value[i] != ';')
            return content_type_error("Content-Type '" + std::string(value.substr(0, 100)) +
                                      "': unexpected character at offset " + std::to_string(i));
        ++i;
        skip_blanks();
        if (i >= value.size())
            break; // a trailing ';'
        const auto name = token();
        skip_blanks();
        if (name.empty() || i >= value.size() || value[i] != '=')
            return content_type_error("Content-Type '" + std::string(value.substr(0, 100)) +
                                      "': malformed parameter at offset " + std::to_string(i));
        ++i;
        skip_blanks();
        std::string v;
        if (i < value.size() && value[i] == '"') {
            ++i;
            bool closed = false;
            while (i < value.size()) {
                const char c = value[i++];
                if (c == '\\' && i < value.size()) {
                    v += value[i++];
                } else if (c == '"') {
                    closed = true;
                    break;
                } else {
                    v += c;
                }
            }
            if (!closed)
                return content_type_error("Content-Type '" + std::string(value.substr(0, 100)) +
                                          "': unterminated quoted parameter " + std::string(name));
        } else {
            v = std::string(token());
        }
        out.parameters.emplace_back(lowered(name), std::move(v));
    }
    return out;
}

std::string cid_href(std::string_view content_id) {
    // RFC 2392: a cid: URL is an addr-spec in URL form; pchar and '/' stay as they are.
    return "cid:" + http::percent_encode(content_id, http::segment_chars + '/');
}

result<std::string> content_id_from_href(std::string_view href) {
    href = trim(href);
    if (href.size() < 4 || lowered(href.substr(0, 4)) != "cid:")
        return make_error(errc::malformed_envelope,
                          "href '" + std::string(href.substr(0, 100)) + "' is not a cid: URL", retry::no);
    auto out = http::percent_decode(href.substr(4));
    if (!out)
        return make_error(errc::malformed_envelope,
                          "href '" + std::string(href.substr(0, 100)) + "': " + out.error().message,
                          retry::no);
    if (out->empty())
        return make_error(errc::malformed_envelope, "href 'cid:' names no Content-ID", retry::no);
    return std::move(*out);
}

std::string_view bare_content_id(std::string_view header_value) noexcept {
    auto v = trim(header_value);
    if (v.size() >= 2 && v.front() == '<' && v.back() == '>')
        v = trim(v.substr(1, v.size() - 2));
    return v;
}

std::string make_content_id() {
    return random_uuid() + "@kurer";
}

// ---- writing ----------------------------------------------------------------------------

result<message> write(std::string root_envelope, std::vector<attachment> attachments,
                      const writer_options& options) {
    message out;
    const std::string boundary = options.boundary.empty() ? "uuid:" + random_uuid() : options.boundary;
    if (!is_valid_boundary(boundary))
        return make_error(errc::invalid_value, "the multipart boundary is not a valid MIME boundary",
                          retry::no);
    out.root_content_id = options.root_content_id.empty() ? make_content_id() : options.root_content_id;
    if (has_line_break(out.root_content_id))
        return make_error(errc::invalid_value, "the root Content-ID contains a line break", retry::no);
    const std::string delimiter = "\r\n--" + boundary;
    if (root_envelope.find(delimiter) != std::string::npos)
        return make_error(errc::invalid_value, "the boundary occurs in the root part", retry::no);

    out.content_type = "multipart/related; type=\"application/xop+xml\"; boundary=\"" + boundary +
                       "\"; start=\"<" + out.root_content_id + ">\"; start-info=\"text/xml\"";

    std::string pending = "--" + boundary + "\r\nContent-ID: <" + out.root_content_id +
                          ">\r\nContent-Type: application/xop+xml; charset=utf-8; type=\"text/xml\"\r\n"
                          "Content-Transfer-Encoding: binary\r\n\r\n";
    pending += root_envelope;
    for (auto& a : attachments) {
        if (has_line_break(a.content_id) || has_line_break(a.content_type))
            return make_error(errc::invalid_value,
                              "an attachment's Content-ID or Content-Type contains a line break", retry::no);
        pending += delimiter + "\r\nContent-ID: <" + a.content_id + ">\r\nContent-Type: " + a.content_type +
                   "\r\nContent-Transfer-Encoding: binary\r\n\r\n";
        if (auto* bytes = std::get_if<std::string>(&a.source)) {
            if (bytes->find(delimiter) != std::string::npos)
                return make_error(errc::invalid_value, "the boundary occurs in attachment " + a.content_id,
                                  retry::no);
            pending += *bytes;
            continue;
        }
        const auto& path = std::get<std::filesystem::path>(a.source);
        std::error_code ec;
        const auto size = std::filesystem::file_size(path, ec);
        if (ec)
            return make_error(errc::file_error,
                              "cannot measure attachment file " + path.string() + ": " + ec.message(),
                              retry::no);
        out.content_length += pending.size();
        out.pieces.emplace_back(std::move(pending));
        pending.clear();
        if (size > 0) {
            out.content_length += size;
            out.pieces.emplace_back(file_range{path, 0, size});
        }
    }
    pending += delimiter + "--\r\n";
    out.content_length += pending.size();
    out.pieces.emplace_back(std::move(pending));
    return out;
}

body_reader::body_reader(const message& m)
    : message_(&m) {}

body_reader::~body_reader() {
    close_file();
}

body_reader::body_reader(body_reader&& other) noexcept
    : message_(other.message_)
    , piece_(other.piece_)
    , offset_(other.offset_)
    , total_(other.total_)
    , fd_(std::exchange(other.fd_, -1)) {}

body_reader& body_reader::operator=(body_reader&& other) noexcept {
    if (this != &other) {
        close_file();
        message_ = other.message_;
        piece_ = other.piece_;
        offset_ = other.offset_;
        total_ = other.total_;
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

void body_reader::close_file() noexcept {
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = -1;
}

result<std::size_t> body_reader::read(std::span<char> out) {
    std::size_t n = 0;
    const auto& pieces = message_->pieces;
    while (n < out.size() && piece_ < pieces.size()) {
        const auto& p = pieces[piece_];
        std::uint64_t length = 0;
        if (const auto* bytes = std::get_if<std::string>(&p)) {
            length = bytes->size();
            const auto take =
                static_cast<std::size_t>(std::min<std::uint64_t>(length - offset_, out.size() - n));
            std::memcpy(out.data() + n, bytes->data() + offset_, take);
            n += take;
            offset_ += take;
        } else {
            const auto& range = std::get<file_range>(p);
            length = range.length;
            if (fd_ < 0 && offset_ < length) {
                fd_ = ::open(range.path.c_str(), O_RDONLY | O_CLOEXEC);
                if (fd_ < 0)
                    return file_failure("cannot open attachment file", range.path, errno);
            }
            while (offset_ < length && n < out.size()) {
                const auto want =
                    static_cast<std::size_t>(std::min<std::uint64_t>(length - offset_, out.size() - n));
                const auto got =
                    ::pread(fd_, out.data() + n, want, static_cast<off_t>(range.offset + offset_));
                if (got < 0 && errno == EINTR)
                    continue;
                if (got < 0)
                    return file_failure("cannot read attachment file", range.path, errno);
                if (got == 0)
                    return make_error(errc::file_error,
                                      "attachment file " + range.path.string() + " became shorter (" +
                                          std::to_string(range.offset + offset_) + " of " +
                                          std::to_string(range.offset + length) +
                                          " bytes) while it was being sent",
                                      retry::yes);
                n += static_cast<std::size_t>(got);
                offset_ += static_cast<std::uint64_t>(got);
            }
        }
        if (offset_ >= length) {
            close_file();
            ++piece_;
            offset_ = 0;
        }
    }
    total_ += n;
    return n;
}

// ---- sinks ------------------------------------------------------------------------------

file_sink::file_sink(std::filesystem::path path, bool sync_on_close)
    : path_(std::move(path))
    , sync_(sync_on_close) {}

file_sink::~file_sink() {
    if (fd_ >= 0)
        ::close(fd_);
}

result<void> file_sink::open(const part_headers& part) {
    if (used_)
        return make_error(errc::malformed_multipart,
                          "a second attachment (Content-ID " + part.content_id.substr(0, 100) +
                              ") where one was expected",
                          retry::yes);
    used_ = true;
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0)
        return file_failure("cannot create", path_, errno);
    return {};
}

result<void> file_sink::write(std::string_view bytes) {
    while (!bytes.empty()) {
        const auto n = ::write(fd_, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return file_failure("cannot write", path_, errno);
        bytes.remove_prefix(static_cast<std::size_t>(n));
        written_ += static_cast<std::uint64_t>(n);
    }
    return {};
}

result<void> file_sink::close() {
    if (fd_ < 0)
        return {};
    if (sync_ && ::fsync(fd_) != 0) {
        const int err = errno;
        ::close(fd_);
        fd_ = -1;
        return file_failure("cannot fsync", path_, err);
    }
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0)
        return file_failure("cannot close", path_, errno);
    return {};
}

result<void> memory_sink::open(const part_headers& part) {
    parts_.push_back({part, {}, false});
    return {};
}

result<void> memory_sink::write(std::string_view bytes) {
    total_ += bytes.size();
    if (total_ > max_)
        return make_error(errc::limit_exceeded,
                          "attachments exceed " + std::to_string(max_) + " bytes in memory", retry::no);
    parts_.back().body += bytes;
    return {};
}

result<void> memory_sink::close() {
    parts_.back().closed = true;
    return {};
}

// ---- reading ----------------------------------------------------------------------------

result<parser> parser::create(std::string_view content_type, part_sink* sink, const limits& lim) {
    auto mt = parse_media_type(content_type);
    if (!mt)
        return mt.error();
    parser p;
    p.limits_ = lim;
    p.sink_ = sink;
    if (mt->type == "text/xml") {
        p.root_seen_ = true;
        p.root_headers_.content_type = std::string(content_type);
        return p;
    }
    if (mt->type == "application/soap+xml")
        return content_type_error(
            "Content-Type application/soap+xml is SOAP 1.2; the broker speaks SOAP 1.1");
    if (mt->type != "multipart/related")
        return content_type_error("Content-Type " + mt->type +
                                  " is neither multipart/related (MTOM) nor text/xml");
    const auto boundary = mt->parameter("boundary");
    if (!boundary || boundary->empty() || boundary->size() > 200)
        return content_type_error("multipart/related Content-Type without a usable boundary parameter");
    if (const auto info = mt->parameter("start-info"); info && lowered(*info) == "application/soap+xml")
        return content_type_error(
            "MTOM start-info application/soap+xml is SOAP 1.2; the broker speaks SOAP 1.1");
    p.multipart_ = true;
    p.delimiter_ = "\r\n--" + std::string(*boundary);
    if (const auto start = mt->parameter("start"))
        p.start_ = std::string(bare_content_id(*start));
    // The first delimiter may open the body without a preceding CRLF; pretend there was one.
    p.buffer_ = "\r\n";
    return p;
}

result<void> parser::fail(error e) {
    failure_ = e;
    buffer_.clear();
    buffer_.shrink_to_fit();
    return e;
}

result<void> parser::feed(std::string_view bytes) {
    if (failure_)
        return *failure_;
    if (!multipart_) {
        if (root_.size() + bytes.size() > limits_.max_root_bytes)
            return fail(make_error(errc::limit_exceeded,
                                   "the SOAP message is larger than " +
                                       std::to_string(limits_.max_root_bytes) + " bytes",
                                   retry::no));
        root_ += bytes;
        return {};
    }
    if (state_ == state::epilogue)
        return {};
    buffer_ += bytes;
    high_water_ = std::max(high_water_, buffer_.size());
    return process();
}

result<void> parser::emit(std::string_view bytes) {
    if (bytes.empty())
        return {};
    part_size_ += bytes.size();
    switch (kind_) {
    case part_kind::root:
        if (part_size_ > limits_.max_root_bytes)
            return fail(make_error(errc::limit_exceeded,
                                   "the root part is larger than " + std::to_string(limits_.max_root_bytes) +
                                       " bytes",
                                   retry::no));
        root_ += bytes;
        return {};
    case part_kind::attachment:
    case part_kind::dropped:
        attachments_.back().size = part_size_;
        if (limits_.max_attachment_bytes != 0 && part_size_ > limits_.max_attachment_bytes)
            return fail(make_error(errc::limit_exceeded,
                                   "attachment " + attachments_.back().headers.content_id.substr(0, 100) +
                                       " is larger than " + std::to_string(limits_.max_attachment_bytes) +
                                       " bytes",
                                   retry::no));
        if (kind_ == part_kind::attachment)
            if (auto ok = sink_->write(bytes); !ok)
                return fail(ok.error());
        return {};
    }
    return {};
}

result<void> parser::start_part() {
    // Unfold and read the header block.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string_view block = header_block_;
    while (!block.empty()) {
        const auto nl = block.find('\n');
        const auto line = block.substr(0, nl);
        block.remove_prefix(nl == std::string_view::npos ? block.size() : nl + 1);
        if (line.front() == ' ' || line.front() == '\t') {
            if (headers.empty())
                return fail(make_error(errc::malformed_multipart,
                                       "part " + std::to_string(parts_) + " starts with a continuation line",
                                       retry::yes));
            headers.back().second += ' ';
            headers.back().second += trim(line);
            continue;
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || trim(line.substr(0, colon)).empty())
            return fail(
                make_error(errc::malformed_multipart,
                           "part " + std::to_string(parts_) + " has a header line without a name and colon",
                           retry::yes));
        headers.emplace_back(lowered(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
    }
    current_ = {};
    for (const auto& [name, value] : headers) {
        if (name == "content-id")
            current_.content_id = std::string(bare_content_id(value));
        else if (name == "content-type")
            current_.content_type = value;
        else if (name == "content-transfer-encoding")
            current_.transfer_encoding = lowered(value);
    }
    const std::string where =
        "part " + std::to_string(parts_) +
        (current_.content_id.empty() ? std::string() : " (Content-ID " + current_.content_id + ")");
    const auto& te = current_.transfer_encoding;
    if (!te.empty() && te != "binary" && te != "8bit" && te != "7bit")
        return fail(make_error(errc::malformed_multipart,
                               where + " uses Content-Transfer-Encoding " + te + "; MTOM parts are binary",
                               retry::yes));
    part_size_ = 0;

    const bool is_root = !root_seen_ && (start_.empty() || current_.content_id == start_);
    if (is_root) {
        auto mt = parse_media_type(current_.content_type.empty() ? "text/xml" : current_.content_type);
        if (!mt)
            return fail(make_error(errc::malformed_multipart, where + ": " + mt.error().message, retry::yes));
        if (mt->type != "application/xop+xml" && mt->type != "text/xml")
            return fail(make_error(errc::malformed_multipart,
                                   where + " is the root but has Content-Type " + mt->type +
                                       "; expected application/xop+xml",
                                   retry::yes));
        if (const auto t = mt->parameter("type"); t && lowered(*t) == "application/soap+xml")
            return fail(make_error(
                errc::malformed_multipart,
                where + " holds SOAP 1.2 (application/soap+xml); the broker speaks SOAP 1.1", retry::yes));
        root_seen_ = true;
        root_headers_ = current_;
        kind_ = part_kind::root;
        return {};
    }
    const bool duplicate = !current_.content_id.empty() && (current_.content_id == root_headers_.content_id ||
                                                            find_attachment(current_.content_id) != nullptr);
    if (duplicate)
        return fail(make_error(errc::malformed_multipart,
                               "two parts have the Content-ID " + current_.content_id.substr(0, 100),
                               retry::yes));
    attachments_.push_back({current_, 0});
    kind_ = sink_ != nullptr ? part_kind::attachment : part_kind::dropped;
    if (sink_ != nullptr)
        if (auto ok = sink_->open(current_); !ok)
            return fail(ok.error());
    return {};
}

result<void> parser::end_part() {
    if (kind_ == part_kind::root) {
        root_complete_ = true;
    } else if (kind_ == part_kind::attachment) {
        if (auto ok = sink_->close(); !ok)
            return fail(ok.error());
    }
    return {};
}

result<void> parser::process() {
    const std::size_t keep = delimiter_.size() - 1; // a delimiter may begin in the last bytes
    for (;;) {
        switch (state_) {
        case state::preamble: {
            const auto pos = buffer_.find(delimiter_);
            if (pos == std::string::npos) {
                if (buffer_.size() > keep)
                    buffer_.erase(0, buffer_.size() - keep);
                return {};
            }
            buffer_.erase(0, pos + delimiter_.size());
            state_ = state::boundary_line;
            break;
        }
        case state::boundary_line: {
            if (buffer_.size() < 2)
                return {};
            if (buffer_.starts_with("--")) {
                buffer_.clear();
                state_ = state::epilogue;
                return {};
            }
            const auto nl = buffer_.find('\n');
            if (nl == std::string::npos) {
                if (buffer_.size() > 1024)
                    return fail(
                        make_error(errc::malformed_multipart, "a boundary line does not end", retry::yes));
                return {};
            }
            const std::string_view line(buffer_.data(), nl);
            if (line.empty() || line.back() != '\r' || line.find_first_not_of(" \t") != line.size() - 1)
                return fail(
                    make_error(errc::malformed_multipart,
                               "a boundary is followed by other characters than CRLF (the boundary occurs "
                               "inside the data, or lines end without CR)",
                               retry::yes));
            buffer_.erase(0, nl + 1);
            if (++parts_ > limits_.max_parts)
                return fail(make_error(
                    errc::limit_exceeded,
                    "the body has more than " + std::to_string(limits_.max_parts) + " parts", retry::no));
            header_block_.clear();
            state_ = state::headers;
            break;
        }
        case state::headers: {
            const auto nl = buffer_.find('\n');
            const std::size_t line_bytes = nl == std::string::npos ? buffer_.size() : nl + 1;
            if (header_block_.size() + line_bytes > limits_.max_header_bytes)
                return fail(make_error(errc::limit_exceeded,
                                       "the headers of part " + std::to_string(parts_) + " exceed " +
                                           std::to_string(limits_.max_header_bytes) + " bytes",
                                       retry::no));
            if (nl == std::string::npos)
                return {};
            std::string_view line(buffer_.data(), nl);
            if (line.ends_with('\r'))
                line.remove_suffix(1);
            if (line.empty()) {
                buffer_.erase(0, nl + 1);
                if (auto ok = start_part(); !ok)
                    return ok;
                state_ = state::body;
                break;
            }
            header_block_ += line;
            header_block_ += '\n';
            buffer_.erase(0, nl + 1);
            break;
        }
        case state::body: {
            const auto pos = buffer_.find(delimiter_);
            if (pos == std::string::npos) {
                if (buffer_.size() > keep) {
                    const auto n = buffer_.size() - keep;
                    if (auto ok = emit(std::string_view(buffer_).substr(0, n)); !ok)
                        return ok;
                    buffer_.erase(0, n);
                }
                return {};
            }
            if (auto ok = emit(std::string_view(buffer_).substr(0, pos)); !ok)
                return ok;
            buffer_.erase(0, pos + delimiter_.size());
            if (auto ok = end_part(); !ok)
                return ok;
            state_ = state::boundary_line;
            break;
        }
        case state::epilogue:
            buffer_.clear();
            return {};
        }
    }
}

result<void> parser::finish() {
    if (failure_)
        return *failure_;
    if (!multipart_) {
        if (trim(root_).empty())
            return fail(make_error(errc::malformed_envelope, "the SOAP response body is empty", retry::yes));
        root_complete_ = true;
        return {};
    }
    switch (state_) {
    case state::preamble:
        return fail(make_error(errc::truncated_multipart,
                               "the body holds no boundary line " + delimiter_.substr(2, 120), retry::yes));
    case state::boundary_line:
    case state::headers:
    case state::body:
        return fail(make_error(errc::truncated_multipart,
                               "the body ended inside part " + std::to_string(parts_) +
                                   ", before the closing boundary " + delimiter_.substr(2, 120) + "--",
                               retry::yes));
    case state::epilogue:
        break;
    }
    if (!root_seen_)
        return fail(make_error(errc::malformed_multipart,
                               "no part has the root's Content-ID " +
                                   (start_.empty() ? std::string("(first part)") : start_),
                               retry::yes));
    return {};
}

const received_part* parser::find_attachment(std::string_view content_id) const noexcept {
    for (const auto& a : attachments_)
        if (a.headers.content_id == content_id)
            return &a;
    return nullptr;
}

} // namespace kurer::altinn2::mtom

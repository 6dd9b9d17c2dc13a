#include "detail/bodies.hpp"

#include <boost/beast/http/error.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kurer::http {

namespace detail {

struct body_access {
    static std::vector<body_source::part>& parts(body_source& b) { return b.parts_; }
    static body_source::generator& gen(body_source& b) { return b.generator_; }
};

} // namespace detail

body_source body_source::from_string(std::string bytes) {
    body_source b;
    b.append(std::move(bytes));
    return b;
}

body_source body_source::from_file(std::filesystem::path path) {
    body_source b;
    b.append_file(std::move(path));
    return b;
}

body_source body_source::from_generator(generator g, std::optional<std::uint64_t> length) {
    body_source b;
    b.generator_ = std::move(g);
    b.generator_length_ = length;
    return b;
}

body_source& body_source::append(std::string bytes) {
    parts_.emplace_back(std::move(bytes));
    return *this;
}

body_source& body_source::append_file(std::filesystem::path path, std::uint64_t offset,
                                      std::optional<std::uint64_t> length) {
    parts_.emplace_back(file_range{std::move(path), offset, length});
    return *this;
}

namespace {

result<std::uint64_t> measure_range(const body_source::file_range& f) {
    struct stat st {};
    if (::stat(f.path.c_str(), &st) != 0)
        return make_http_error(errc::body_source_failed,
                               "request body file " + f.path.string() + ": " + std::strerror(errno));
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (f.offset > size || (f.length && *f.length > size - f.offset))
        return make_http_error(errc::body_source_failed, "request body file " + f.path.string() + " has " +
                                                             std::to_string(size) +
                                                             " bytes, shorter than the range to send");
    return f.length ? *f.length : size - f.offset;
}

} // namespace

result<std::optional<std::uint64_t>> body_source::measure() const {
    std::uint64_t total = 0;
    for (const auto& p : parts_) {
        if (const auto* s = std::get_if<std::string>(&p)) {
            total += s->size();
        } else {
            auto n = measure_range(std::get<file_range>(p));
            if (!n)
                return n.error();
            total += *n;
        }
    }
    if (generator_) {
        if (!generator_length_)
            return std::optional<std::uint64_t>{};
        total += *generator_length_;
    }
    return std::optional<std::uint64_t>{total};
}

namespace detail {

result<resolved_source> resolve(body_source body) {
    resolved_source out;
    out.chunked = body.is_chunked();
    out.empty = body.empty();
    std::uint64_t total = 0;
    for (auto& p : body_access::parts(body)) {
        if (auto* s = std::get_if<std::string>(&p)) {
            total += s->size();
            if (!s->empty())
                out.parts.emplace_back(std::move(*s));
        } else {
            auto& f = std::get<body_source::file_range>(p);
            auto n = measure_range(f);
            if (!n)
                return n.error();
            total += *n;
            if (*n > 0)
                out.parts.emplace_back(resolved_source::file_part{std::move(f.path), f.offset, *n});
        }
    }
    out.length = total;
    if (body_access::gen(body)) {
        out.generator = std::move(body_access::gen(body));
        if (body.generator_length())
            *out.length += *body.generator_length();
        else
            out.length.reset();
    }
    return out;
}

namespace {
constexpr std::size_t chunk_size = 64 * 1024;
} // namespace

source_body::writer::~writer() {
    if (fd_ >= 0)
        ::close(fd_);
}

void source_body::writer::init(boost::system::error_code& ec) {
    ec = {};
    part_ = 0;
    done_in_part_ = 0;
}

void source_body::writer::fail(boost::system::error_code& ec, std::string why) {
    *body_.failure = std::move(why);
    ec = make_error_code(errc::body_source_failed);
}

boost::optional<std::pair<source_body::writer::const_buffers_type, bool>>
source_body::writer::get(boost::system::error_code& ec) {
    ec = {};
    const resolved_source& src = *body_.source;
    while (part_ < src.parts.size()) {
        const auto& p = src.parts[part_];
        if (const auto* s = std::get_if<std::string>(&p)) {
            ++part_;
            return std::make_pair(boost::asio::const_buffer(s->data(), s->size()), true);
        }
        const auto& f = std::get<resolved_source::file_part>(p);
        if (done_in_part_ == f.length) {
            if (fd_ >= 0)
                ::close(std::exchange(fd_, -1));
            ++part_;
            done_in_part_ = 0;
            continue;
        }
        if (fd_ < 0) {
            fd_ = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd_ < 0) {
                fail(ec, "cannot open request body file " + f.path.string() + ": " + std::strerror(errno));
                return boost::none;
            }
        }
        if (!buffer_)
            buffer_ = std::make_unique<char[]>(chunk_size);
        const auto want =
            static_cast<std::size_t>(std::min<std::uint64_t>(chunk_size, f.length - done_in_part_));
        ssize_t n;
        do {
            n = ::pread(fd_, buffer_.get(), want, static_cast<off_t>(f.offset + done_in_part_));
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            fail(ec, "cannot read request body file " + f.path.string() + ": " + std::strerror(errno));
            return boost::none;
        }
        if (n == 0) {
            fail(ec, "request body file " + f.path.string() + " became shorter while it was sent");
            return boost::none;
        }
        done_in_part_ += static_cast<std::uint64_t>(n);
        return std::make_pair(boost::asio::const_buffer(buffer_.get(), static_cast<std::size_t>(n)), true);
    }
    if (src.generator) {
        if (!buffer_)
            buffer_ = std::make_unique<char[]>(chunk_size);
        auto n = src.generator(std::span<char>(buffer_.get(), chunk_size));
        if (!n) {
            fail(ec, "request body generator failed: " + n.error().message);
            return boost::none;
        }
        if (*n > 0)
            return std::make_pair(boost::asio::const_buffer(buffer_.get(), *n), true);
    }
    return boost::none;
}

fd_sink_body::value_type::value_type(value_type&& other) noexcept
    : fd(std::exchange(other.fd, -1))
    , limit(other.limit)
    , written(other.written)
    , path(std::move(other.path))
    , failure(std::move(other.failure)) {}

fd_sink_body::value_type& fd_sink_body::value_type::operator=(value_type&& other) noexcept {
    if (this != &other) {
        if (fd >= 0)
            ::close(fd);
        fd = std::exchange(other.fd, -1);
        limit = other.limit;
        written = other.written;
        path = std::move(other.path);
        failure = std::move(other.failure);
    }
    return *this;
}

fd_sink_body::value_type::~value_type() {
    if (fd >= 0)
        ::close(fd);
}

void fd_sink_body::reader::init(const boost::optional<std::uint64_t>& length, boost::system::error_code& ec) {
    ec = {};
    if (length && body_.limit != 0 && *length > body_.limit)
        ec = boost::beast::http::error::body_limit;
}

bool fd_sink_body::reader::write(const char* data, std::size_t size, boost::system::error_code& ec) {
    if (body_.limit != 0 && body_.written + size > body_.limit) {
        ec = boost::beast::http::error::body_limit;
        return false;
    }
    while (size > 0) {
        const ssize_t n = ::write(body_.fd, data, size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            body_.failure = "cannot write " + body_.path + ": " + std::strerror(errno);
            ec = make_error_code(errc::body_sink_failed);
            return false;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
        body_.written += static_cast<std::uint64_t>(n);
    }
    return true;
}

bool callback_sink_body::reader::deliver(const char* data, std::size_t size, boost::system::error_code& ec) {
    if (body_.limit != 0 && body_.received + size > body_.limit) {
        ec = boost::beast::http::error::body_limit;
        return false;
    }
    body_.received += size;
    auto r = body_.on_chunk(std::string_view(data, size));
    if (!r) {
        body_.failure = r.error();
        ec = make_error_code(errc::body_sink_failed);
        return false;
    }
    return true;
}

result<int> open_sink_file(const std::filesystem::path& path, bool append) {
    const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
    const int fd = ::open(path.c_str(), flags, 0600);
    if (fd < 0)
        return make_http_error(errc::body_sink_failed,
                               "cannot open " + path.string() + ": " + std::strerror(errno));
    return fd;
}

} // namespace detail
} // namespace kurer::http

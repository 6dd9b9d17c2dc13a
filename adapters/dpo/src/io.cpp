#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/dpo/errors.hpp>
#include <kurer/dpo/io.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace kurer::dpo {

error io_error(int err, std::string_view what, const std::filesystem::path& path) {
    return make_error(make_error_code(errc::io_failure),
                      std::string(what) + " " + path.string() + ": " + std::strerror(err), retry::yes);
}

file_source::file_source(int fd, std::uint64_t size, std::filesystem::path path) noexcept
    : fd_(fd)
    , size_(size)
    , path_(std::move(path)) {}

file_source::file_source(file_source&& other) noexcept
    : fd_(std::exchange(other.fd_, -1))
    , size_(other.size_)
    , path_(std::move(other.path_)) {}

file_source& file_source::operator=(file_source&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
        size_ = other.size_;
        path_ = std::move(other.path_);
    }
    return *this;
}

file_source::~file_source() {
    if (fd_ >= 0)
        ::close(fd_);
}

result<file_source> file_source::open(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_error(errno, "cannot open", path);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        const int err = errno;
        ::close(fd);
        return err != 0 ? io_error(err, "cannot stat", path)
                        : make_dpo_error(errc::io_failure, path.string() + " is not a regular file");
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return file_source(fd, static_cast<std::uint64_t>(st.st_size), path);
}

result<std::size_t> file_source::read(std::span<std::uint8_t> buf) {
    while (true) {
        const ssize_t n = ::read(fd_, buf.data(), buf.size());
        if (n >= 0)
            return static_cast<std::size_t>(n);
        if (errno != EINTR)
            return io_error(errno, "cannot read", path_);
    }
}

file_sink::file_sink(int fd, std::filesystem::path tmp, std::filesystem::path target) noexcept
    : fd_(fd)
    , tmp_(std::move(tmp))
    , target_(std::move(target)) {}

file_sink::file_sink(file_sink&& other) noexcept
    : fd_(std::exchange(other.fd_, -1))
    , tmp_(std::move(other.tmp_))
    , target_(std::move(other.target_))
    , written_(other.written_) {
    other.tmp_.clear();
}

file_sink& file_sink::operator=(file_sink&& other) noexcept {
    if (this != &other) {
        discard();
        fd_ = std::exchange(other.fd_, -1);
        tmp_ = std::move(other.tmp_);
        target_ = std::move(other.target_);
        written_ = other.written_;
        other.tmp_.clear();
    }
    return *this;
}

file_sink::~file_sink() {
    discard();
}

void file_sink::discard() noexcept {
    if (fd_ >= 0)
        ::close(std::exchange(fd_, -1));
    if (!tmp_.empty()) {
        ::unlink(tmp_.c_str());
        tmp_.clear();
    }
}

result<file_sink> file_sink::create(const std::filesystem::path& path) {
    const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    auto tmp = dir / ("." + path.filename().string() + "." + random_uuid() + ".tmp");
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return io_error(errno, "cannot create", tmp);
    return file_sink(fd, std::move(tmp), path);
}

result<void> file_sink::write(std::span<const std::uint8_t> bytes) {
    const auto* p = bytes.data();
    std::size_t left = bytes.size();
    while (left > 0) {
        const ssize_t n = ::write(fd_, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return io_error(errno, "cannot write", tmp_);
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    written_ += bytes.size();
    return {};
}

result<void> file_sink::commit(bool durable) {
    if (durable && ::fsync(fd_) != 0)
        return io_error(errno, "cannot fsync", tmp_);
    if (::close(std::exchange(fd_, -1)) != 0)
        return io_error(errno, "cannot close", tmp_);
    if (::rename(tmp_.c_str(), target_.c_str()) != 0)
        return io_error(errno, "cannot rename into", target_);
    tmp_.clear();
    if (!durable)
        return {};
    return sync_file_and_directory(target_);
}

} // namespace kurer::dpo

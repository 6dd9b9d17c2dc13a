#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <unistd.h>

namespace kurer {
namespace {

error io_error(int err, std::string what, const std::filesystem::path& path) {
    return make_error(boost::system::error_code(err, boost::system::system_category()),
                      what + " " + path.string() + ": " + std::strerror(err), retry::yes);
}

class unique_fd {
public:
    explicit unique_fd(int fd) noexcept
        : fd_(fd) {}
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd() {
        if (fd_ >= 0)
            ::close(fd_);
    }
    int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }

private:
    int fd_;
};

result<void> sync_directory(const std::filesystem::path& dir) {
    unique_fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0)
        return io_error(errno, "cannot open directory", dir);
    if (::fsync(fd.get()) != 0)
        return io_error(errno, "cannot fsync directory", dir);
    return {};
}

} // namespace

result<void> write_file_durably(const std::filesystem::path& path, std::string_view bytes) {
    const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    const auto tmp = dir / ("." + path.filename().string() + "." + random_uuid() + ".tmp");
    {
        unique_fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (fd.get() < 0)
            return io_error(errno, "cannot create", tmp);
        const char* p = bytes.data();
        std::size_t left = bytes.size();
        while (left > 0) {
            const ssize_t n = ::write(fd.get(), p, left);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                const int err = errno;
                ::unlink(tmp.c_str());
                return io_error(err, "cannot write", tmp);
            }
            p += n;
            left -= static_cast<std::size_t>(n);
        }
        if (::fsync(fd.get()) != 0) {
            const int err = errno;
            ::unlink(tmp.c_str());
            return io_error(err, "cannot fsync", tmp);
        }
        if (::close(fd.release()) != 0)
            return io_error(errno, "cannot close", tmp);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return io_error(err, "cannot rename into", path);
    }
    return sync_directory(dir);
}

result<void> sync_file_and_directory(const std::filesystem::path& path) {
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0)
        return io_error(errno, "cannot open", path);
    if (::fsync(fd.get()) != 0)
        return io_error(errno, "cannot fsync", path);
    return sync_directory(path.has_parent_path() ? path.parent_path() : std::filesystem::path("."));
}

result<std::string> read_small_file(const std::filesystem::path& path, std::size_t max_bytes) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec)
        return make_error(ec, "cannot read " + path.string() + ": " + ec.message());
    if (size > max_bytes)
        return make_error(make_error_code(boost::system::errc::file_too_large),
                          path.string() + " is " + std::to_string(size) + " bytes, more than the limit of " +
                              std::to_string(max_bytes));
    std::ifstream in(path, std::ios::binary);
    std::string out(size, '\0');
    if (!in.read(out.data(), static_cast<std::streamsize>(size)))
        return make_error(make_error_code(boost::system::errc::io_error), "cannot read " + path.string());
    return out;
}

} // namespace kurer

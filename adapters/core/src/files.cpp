#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
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

result<void> make_private_directories(const std::filesystem::path& dir) {
    if (dir.empty())
        return {};
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return make_error(make_error_code(boost::system::errc::not_a_directory),
                              "cannot create " + dir.string() + ": it exists and is not a directory");
        return {};
    }
    if (errno != ENOENT)
        return io_error(errno, "cannot create", dir);
    const auto parent = dir.parent_path();
    if (!parent.empty() && parent != dir)
        if (auto made = make_private_directories(parent); !made)
            return made;
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) // EEXIST: made by someone else meanwhile
        return io_error(errno, "cannot create", dir);
    return {};
}

result<std::optional<unsigned>> tighten_directory(const std::filesystem::path& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0)
        return io_error(errno, "cannot read the mode of", dir);
    const unsigned mode = st.st_mode & 07777;
    if ((mode & 077) == 0)
        return std::optional<unsigned>();
    if (::chmod(dir.c_str(), mode & 07700) != 0)
        return io_error(errno, "cannot make private (chmod 700)", dir);
    return std::optional<unsigned>(mode);
}

result<void> check_private_file(const std::filesystem::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT)
            return {};
        return io_error(errno, "cannot read the mode of", path);
    }
    const unsigned mode = st.st_mode & 07777;
    if ((mode & 077) == 0)
        return {};
    const char* what = (mode & 044) != 0 ? "readable" : "writable";
    return make_error(make_error_code(boost::system::errc::permission_denied),
                      path.string() + " is " + what + " by others (mode " + format_mode(mode) +
                          "); chmod 600 it");
}

std::string format_mode(unsigned mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
    return buf;
}

} // namespace kurer

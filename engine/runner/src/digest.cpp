#include "runtime.hpp"

#include <botan/hash.h>
#include <botan/hex.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace kurer::engine {
namespace {

error io_error(int err, const std::string& what, const std::filesystem::path& path) {
    return make_error(boost::system::error_code(err, boost::system::system_category()),
                      what + " " + path.string() + ": " + std::strerror(err), retry::yes);
}

struct fd_closer {
    int fd;
    ~fd_closer() {
        if (fd >= 0)
            ::close(fd);
    }
};

constexpr std::size_t chunk = 1 << 16;

} // namespace

std::string sha256_hex(std::string_view bytes) {
    auto hash = Botan::HashFunction::create_or_throw("SHA-256");
    hash->update(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    return Botan::hex_encode(hash->final(), false);
}

result<std::string> sha256_file(const std::filesystem::path& path) {
    fd_closer in{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (in.fd < 0)
        return io_error(errno, "cannot open", path);
    auto hash = Botan::HashFunction::create_or_throw("SHA-256");
    std::vector<std::uint8_t> buf(chunk);
    for (;;) {
        const auto n = ::read(in.fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return io_error(errno, "cannot read", path);
        }
        if (n == 0)
            break;
        hash->update(buf.data(), static_cast<std::size_t>(n));
    }
    return Botan::hex_encode(hash->final(), false);
}

result<std::pair<std::uint64_t, std::string>> copy_file_durably(const std::filesystem::path& from,
                                                                const std::filesystem::path& to) {
    fd_closer in{::open(from.c_str(), O_RDONLY | O_CLOEXEC)};
    if (in.fd < 0)
        return io_error(errno, "cannot open", from);
    fd_closer out{::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};
    if (out.fd < 0)
        return io_error(errno, "cannot create", to);
    auto hash = Botan::HashFunction::create_or_throw("SHA-256");
    std::vector<std::uint8_t> buf(chunk);
    std::uint64_t total = 0;
    for (;;) {
        const auto n = ::read(in.fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return io_error(errno, "cannot read", from);
        }
        if (n == 0)
            break;
        hash->update(buf.data(), static_cast<std::size_t>(n));
        std::size_t written = 0;
        while (written < static_cast<std::size_t>(n)) {
            const auto w = ::write(out.fd, buf.data() + written, static_cast<std::size_t>(n) - written);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                return io_error(errno, "cannot write", to);
            }
            written += static_cast<std::size_t>(w);
        }
        total += static_cast<std::uint64_t>(n);
    }
    if (::fsync(out.fd) != 0)
        return io_error(errno, "cannot fsync", to);
    return std::pair{total, Botan::hex_encode(hash->final(), false)};
}

} // namespace kurer::engine

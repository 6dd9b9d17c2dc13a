#include "runtime.hpp"

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <stdexcept>
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

// SHA-256 through OpenSSL's libcrypto: the runner links neither Botan nor any adapter.
class sha256_hasher {
public:
    sha256_hasher()
        : ctx_(EVP_MD_CTX_new()) {
        if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
            throw std::runtime_error("SHA-256 is not available");
    }
    void update(const void* data, std::size_t size) {
        if (EVP_DigestUpdate(ctx_.get(), data, size) != 1)
            throw std::runtime_error("SHA-256 update failed");
    }
    // Lower-case hex.
    std::string final_hex() {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int size = 0;
        if (EVP_DigestFinal_ex(ctx_.get(), md, &size) != 1)
            throw std::runtime_error("SHA-256 final failed");
        static constexpr char digits[] = "0123456789abcdef";
        std::string hex;
        hex.reserve(2 * size);
        for (unsigned int i = 0; i < size; ++i) {
            hex.push_back(digits[md[i] >> 4]);
            hex.push_back(digits[md[i] & 0xf]);
        }
        return hex;
    }

private:
    struct free_ctx {
        void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
    };
    std::unique_ptr<EVP_MD_CTX, free_ctx> ctx_;
};

} // namespace

std::string sha256_hex(std::string_view bytes) {
    sha256_hasher hash;
    hash.update(bytes.data(), bytes.size());
    return hash.final_hex();
}

result<std::string> sha256_file(const std::filesystem::path& path) {
    fd_closer in{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (in.fd < 0)
        return io_error(errno, "cannot open", path);
    sha256_hasher hash;
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
        hash.update(buf.data(), static_cast<std::size_t>(n));
    }
    return hash.final_hex();
}

result<std::pair<std::uint64_t, std::string>> copy_file_durably(const std::filesystem::path& from,
                                                                const std::filesystem::path& to) {
    fd_closer in{::open(from.c_str(), O_RDONLY | O_CLOEXEC)};
    if (in.fd < 0)
        return io_error(errno, "cannot open", from);
    fd_closer out{::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};
    if (out.fd < 0)
        return io_error(errno, "cannot create", to);
    sha256_hasher hash;
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
        hash.update(buf.data(), static_cast<std::size_t>(n));
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
    return std::pair{total, hash.final_hex()};
}

} // namespace kurer::engine

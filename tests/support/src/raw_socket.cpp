#include <kurer/testing/raw_socket.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <utility>

namespace kurer::testing {

std::size_t allow_descriptors(std::size_t wanted) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return 0;
    const rlim_t target = limit.rlim_max == RLIM_INFINITY
                              ? wanted
                              : std::min<rlim_t>(static_cast<rlim_t>(wanted), limit.rlim_max);
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < target) {
        limit.rlim_cur = target;
        ::setrlimit(RLIMIT_NOFILE, &limit);
        ::getrlimit(RLIMIT_NOFILE, &limit);
    }
    return limit.rlim_cur == RLIM_INFINITY ? wanted : static_cast<std::size_t>(limit.rlim_cur);
}

raw_socket raw_socket::tcp(unsigned short port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return raw_socket();
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return raw_socket();
    }
    return raw_socket(fd);
}

raw_socket raw_socket::local(const std::filesystem::path& socket) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return raw_socket();
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const auto& path = socket.native();
    if (path.size() >= sizeof address.sun_path) {
        ::close(fd);
        return raw_socket();
    }
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return raw_socket();
    }
    return raw_socket(fd);
}

raw_socket::raw_socket(raw_socket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)) {}

raw_socket& raw_socket::operator=(raw_socket&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

raw_socket::~raw_socket() {
    close();
}

void raw_socket::close() {
    if (fd_ >= 0)
        ::close(std::exchange(fd_, -1));
}

bool raw_socket::send(std::string_view bytes) {
    while (!bytes.empty()) {
        const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

long raw_socket::receive(std::string& into, std::chrono::steady_clock::time_point until) {
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return -2;
        pollfd p{fd_, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            continue; // the deadline is checked above
        char buffer[16 * 1024];
        const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -1;
        }
        into.append(buffer, static_cast<std::size_t>(n));
        return n;
    }
}

namespace {

// The Content-Length of a response head, or npos when it has none.
std::size_t content_length(std::string_view head) {
    std::string lower(head);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const auto at = lower.find("\r\ncontent-length:");
    if (at == std::string::npos)
        return std::string::npos;
    return static_cast<std::size_t>(std::strtoull(lower.c_str() + at + 17, nullptr, 10));
}

} // namespace

std::string raw_socket::read_response(std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    std::string data;
    for (;;) {
        if (const auto end = data.find("\r\n\r\n"); end != std::string::npos) {
            const auto length = content_length(std::string_view(data).substr(0, end + 2));
            if (length != std::string::npos && data.size() >= end + 4 + length)
                return data.substr(0, end + 4 + length);
        }
        if (receive(data, until) <= 0)
            return data;
    }
}

std::string raw_socket::read_until(std::string_view needle, std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    std::string data;
    while (data.find(needle) == std::string::npos)
        if (receive(data, until) <= 0)
            return data;
    return data;
}

bool raw_socket::closed_within(std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    std::string discard;
    for (;;) {
        const auto n = receive(discard, until);
        if (n == 0 || n == -1)
            return true;
        if (n == -2)
            return false;
        discard.clear();
    }
}

} // namespace kurer::testing

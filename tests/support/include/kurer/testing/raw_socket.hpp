// A blocking client socket for tests that speak HTTP byte by byte (idle connections, slow
// request heads, floods of connections), and a way to give the process enough descriptors.
//
//   kurer::testing::allow_descriptors(5000);
//   auto s = kurer::testing::raw_socket::local(dir / "kurer.sock");
//   s.send("GET /admin/health HTTP/1.1\r\nHost: x\r\n\r\n");
//   auto answer = s.read_response(std::chrono::seconds(5)); // "HTTP/1.1 200 OK\r\n..."
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace kurer::testing {

// Raises the soft limit of open descriptors to `wanted` (at most the hard limit); returns the
// limit in force afterwards.
std::size_t allow_descriptors(std::size_t wanted);

class raw_socket {
public:
    // Connects to 127.0.0.1:port, or to a Unix socket. ok() is false when that failed.
    static raw_socket tcp(unsigned short port);
    static raw_socket local(const std::filesystem::path& socket);

    raw_socket() = default;
    raw_socket(raw_socket&& other) noexcept;
    raw_socket& operator=(raw_socket&& other) noexcept;
    raw_socket(const raw_socket&) = delete;
    raw_socket& operator=(const raw_socket&) = delete;
    ~raw_socket();

    bool ok() const noexcept { return fd_ >= 0; }
    int fd() const noexcept { return fd_; }
    void close();

    // Writes every byte; false when the connection failed.
    bool send(std::string_view bytes);
    // Reads one response: its head and a Content-Length body, or what arrived before the
    // connection closed or `limit` passed (empty when nothing did).
    std::string read_response(std::chrono::milliseconds limit);
    // Reads until `needle` has arrived (returns everything read, needle included), or the
    // connection closed or `limit` passed (returns what arrived, without the needle).
    std::string read_until(std::string_view needle, std::chrono::milliseconds limit);
    // True when the peer closes the connection (end of stream or reset) within `limit`; bytes
    // arriving before are discarded.
    bool closed_within(std::chrono::milliseconds limit);

private:
    explicit raw_socket(int fd) noexcept
        : fd_(fd) {}
    // Waits up to `limit` for bytes: >0 read, 0 end of stream, -1 reset or error, -2 timeout.
    long receive(std::string& into, std::chrono::steady_clock::time_point until);

    int fd_ = -1;
};

} // namespace kurer::testing

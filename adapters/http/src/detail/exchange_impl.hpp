// What an exchange handle points at: one request on one connection (internal).
#pragma once

#include <kurer/http/server.hpp>

#include <boost/beast/http/message.hpp>

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kurer::http::detail {

class exchange_impl {
public:
    virtual ~exchange_impl() = default;

    boost::beast::http::request_header<> head;
    bool keep_alive = true;
    std::string remote;
    std::vector<std::pair<std::string, std::string>> params;
    std::function<void(std::string_view)> observer;
    std::optional<std::uint64_t> reset_after;
    unsigned status_sent = 0;
    const server_config* config = nullptr;

    virtual boost::asio::awaitable<result<std::uint64_t>>
    read_body_into(std::function<result<void>(std::string_view)> consumer, std::uint64_t limit) = 0;
    virtual boost::asio::awaitable<result<void>> send(reply r) = 0;
    virtual boost::asio::awaitable<result<void>> start_chunked(unsigned status, fields headers) = 0;
    virtual boost::asio::awaitable<result<void>> write_chunk(std::string bytes) = 0;
    virtual boost::asio::awaitable<result<void>> finish_chunked() = 0;
    virtual void mark_authenticated() = 0;
};

// Writes one JSON log line through config.log (or stderr).
void log_line(const server_config& config, log_level level, std::string_view message);

} // namespace kurer::http::detail

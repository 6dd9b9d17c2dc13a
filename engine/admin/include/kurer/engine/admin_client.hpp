// A small blocking HTTP/1.1 client for the admin socket: what kurerctl and the tests use.
//
//   admin_client c({.socket = "kurer.sock"});
//   auto r = c.send({.method = http::verb::get, .target = "/admin/health"});
//   if (!r) ...                       // no answer: r.error().code == http::errc::connect_failed when
//                                     // nothing listens on the socket (the engine is not running)
//   else if (r->status != 200) ...    // an answer: the body says what is wrong
//
// One connection per call (connecting to a Unix socket costs microseconds). Request bodies come
// from memory or stream from a file with a progress callback; response bodies go to memory or,
// for a 2xx answer, stream to a file. stream_lines() follows a long-lived chunked answer
// (/admin/events) line by line.
#pragma once

#include <kurer/core/error.hpp>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace kurer::engine {

struct admin_target {
    std::filesystem::path socket; // the Unix socket; when empty, host and port are used
    std::string host = "127.0.0.1";
    unsigned short port = 0;
    std::string token = {}; // sent as "Authorization: Bearer <token>" when not empty
};

struct admin_request {
    boost::beast::http::verb method = boost::beast::http::verb::get;
    std::string target; // path and query, percent-encoded
    boost::beast::http::fields headers;
    std::string body;                               // sent when body_file is not set
    std::optional<std::filesystem::path> body_file; // streamed, 256 KiB at a time
    // Called after each piece of the request body is written: (bytes sent, total).
    std::function<void(std::uint64_t, std::uint64_t)> progress;
    // A 2xx answer's body is written here (created 0600, replaced) instead of into memory.
    std::optional<std::filesystem::path> save_to;
    std::uint64_t max_body_bytes = 64 * 1024 * 1024; // in-memory answers larger than this fail
};

struct admin_response {
    unsigned status = 0;
    boost::beast::http::fields headers;
    std::string body; // unless it went to save_to
    std::uint64_t body_size = 0;
    std::string header(std::string_view name) const;
};

class admin_client {
public:
    // `timeout` bounds each read and write on the connection (0 = none).
    explicit admin_client(admin_target target, std::chrono::milliseconds timeout = std::chrono::seconds(60));

    // Errors (no usable answer) use kurer::http::errc: connect_failed (nothing listens),
    // timeout, connection_lost, bad_message, message_too_large, body_source_failed,
    // body_sink_failed.
    result<admin_response> send(admin_request request) const;

    // GETs `target` and calls on_line for each line of the answer (without the newline) as it
    // arrives, until on_line returns false or the server ends the answer. Reads have no timeout.
    // Returns the answer's status; a non-2xx answer's body goes to on_line too.
    result<unsigned> stream_lines(std::string target,
                                  const std::function<bool(std::string_view)>& on_line) const;

    // Where this client connects, for messages: the socket path or host:port.
    std::string describe() const;

private:
    admin_target target_;
    std::chrono::milliseconds timeout_;
};

} // namespace kurer::engine

// HTTP/1.1 server toolkit: a router of (method, path pattern) -> coroutine handler, run over
// TLS on TCP or over a plain Unix domain socket (or plain TCP, for loopback listeners).
//
//   http::router r;
//   r.add(http::verb::get, "/adressetjeneste/identifier/{id}", [](http::exchange ex) -> asio::awaitable<void>
//   {
//       co_await ex.send(http::reply::json(200, R"({"id":")" + ex.param("id") + "\"}"));
//   });
//   http::server s(io.get_executor(), std::move(r), {});
//   auto ep = s.listen_tls({asio::ip::make_address("127.0.0.1"), 0}, tls_context).value();
//   auto ok = s.listen_unix("/run/kurer/admin.sock");
//
// A handler receives an `exchange`: the request head, route parameters, query parameters, and
// operations to read the body (to memory up to a limit, to a file, or chunk by chunk) and to
// answer (from memory, from a file with Range support, or as a long-lived chunked stream). The
// exchange is a handle into the connection's session; it is valid until the handler returns and
// must not be kept beyond that.
//
// Why type erasure: the session loop is a template over the stream (TLS over TCP, or a Unix
// socket) instantiated twice in server.cpp; handlers and middleware see one non-template
// `exchange`, so they are written and compiled once whatever carries the bytes.
//
// Robustness: every limit and timeout lives in server_config. A session that fails (bad request,
// timeout, reset, exception in a handler) is logged and closed; the listener keeps accepting.
//
// Connection slots: each listener has its own max_connections, and accepting never waits. A new
// connection on a full listener takes the slot of the connection that is least useful: one
// already closing, else one not yet authenticated (listener_options::authenticate) before an
// authenticated one, one waiting for a request's first byte (never sent one, or kept alive)
// before one in the middle of sending a request head, and among those the one waiting longest.
// A connection whose request is in progress (handler running, body being read, response or
// stream being written) is never shed; when every slot is held by one, the new connection is
// refused at once (plain HTTP: 503 with Retry-After and a reason, then closed; TLS: closed).
// Deadlines: a new connection must have sent its first complete request head within
// first_request_timeout; each later head must arrive within keep_alive_timeout (first byte)
// and header_timeout (first byte to the end of the head). So idle, slow (slowloris) and
// unauthenticated connections cannot keep working clients out.
//
// Threads: each connection runs on its own strand of the server's executor. Handlers that share
// state must guard it when the io_context runs on several threads.
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/core/log.hpp>
#include <kurer/http/body.hpp>
#include <kurer/http/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio::ssl {
class context;
}

namespace kurer::http {

using fields = boost::beast::http::fields;
using verb = boost::beast::http::verb;

namespace detail {
class exchange_impl;
}

// A response to send: status, headers and a body (memory parts and/or file ranges).
struct reply {
    unsigned status = 200;
    fields headers;
    body_source body;

    static reply text(unsigned status, std::string body,
                      std::string_view content_type = "text/plain; charset=utf-8");
    static reply json(unsigned status, std::string body);
    static reply empty(unsigned status);
};

// Timeouts: 0 switches one off.
struct server_config {
    std::size_t max_connections = 256; // per listener, unless its listener_options say otherwise
    std::uint32_t max_header_bytes = 64 * 1024;
    std::uint64_t max_body_bytes = 16 * 1024 * 1024;       // default limit of in-memory request bodies
    std::chrono::milliseconds handshake_timeout{10000};    // TLS handshake
    std::chrono::milliseconds first_request_timeout{5000}; // a new connection's first request head,
                                                           // complete, from accept or the TLS handshake
    std::chrono::milliseconds header_timeout{10000};       // a request head, from its first byte to its end
    std::chrono::milliseconds keep_alive_timeout{60000};   // waiting for the first byte of the next request
    std::chrono::milliseconds io_timeout{30000};           // each step of reading or writing a body
    // Session errors and handler failures, as component "http.server". Default: stderr, info.
    logger log{};
};

// How one listener treats its connections.
struct listener_options {
    std::size_t max_connections = 0; // 0: server_config::max_connections
    // Clients prove who they are inside a request (a bearer token), not by reaching the listener.
    // A connection then counts as unauthenticated until a handler (or middleware) calls
    // exchange::authenticated(): it is shed before any authenticated connection, and it is
    // closed after a request that did not authenticate it (a wrong token gets one answer).
    bool authenticate = false;
    std::string name = {}; // for listener_stats; default "unix <path>", "tcp <address:port>", "tls ..."
};

// A listener's counters, for metrics.
struct listener_stats {
    std::string name;
    std::size_t max_connections = 0;
    std::size_t open = 0; // connections holding a slot
    std::size_t busy = 0; // of which with a request in progress
    std::uint64_t accepted = 0;
    std::uint64_t shed = 0;    // closed to make room for a new connection
    std::uint64_t refused = 0; // new connections turned away because every slot was busy
};

class exchange {
public:
    explicit exchange(detail::exchange_impl* impl) noexcept
        : impl_(impl) {}

    // The request head.
    verb method() const;
    std::string_view method_string() const;
    std::string_view target() const; // as sent: path and query, still percent-encoded
    std::string_view path() const;   // target without the query
    const fields& headers() const;
    std::string header(std::string_view name) const; // empty when absent
    // A route parameter ({name} in the pattern), percent-decoded; empty when absent.
    std::string param(std::string_view name) const;
    // A query parameter, percent-decoded; nullopt when absent.
    std::optional<std::string> query(std::string_view name) const;
    std::string remote_address() const; // "127.0.0.1:54321", or "unix"
    bool keep_alive() const;

    // The request body. Each may be called once; a body not read by the handler is discarded
    // (up to max_body_bytes; beyond that the connection is closed after the reply).
    // To memory, refusing more than `max_bytes` (0: server_config::max_body_bytes) with
    // errc::message_too_large.
    boost::asio::awaitable<result<std::string>> read_body(std::uint64_t max_bytes = 0);
    // To a file created 0600 (truncated if present); `max_bytes` 0 means unlimited. Returns the size.
    boost::asio::awaitable<result<std::uint64_t>> read_body_to_file(std::filesystem::path path,
                                                                    std::uint64_t max_bytes = 0);
    // Chunk by chunk (for parsing a large body as it arrives); an error from `on_chunk` stops
    // reading and is returned. Returns the size.
    boost::asio::awaitable<result<std::uint64_t>>
    read_body_chunks(std::function<result<void>(std::string_view)> on_chunk, std::uint64_t max_bytes = 0);
    // Lets `observer` see every body byte read (by the handler or when discarding), e.g. to log
    // the start of a body. Set before reading; several observers all see the bytes, in order.
    void observe_body(std::function<void(std::string_view)> observer);

    // Answering. Exactly one of send / send_file / start_chunked per request.
    boost::asio::awaitable<result<void>> send(reply r);
    // Sends a file, honouring a single-range "Range: bytes=..." request header (206 with
    // Content-Range, or 416 when it cannot be satisfied) and announcing Accept-Ranges: bytes.
    // 404 when the file does not exist.
    boost::asio::awaitable<result<void>> send_file(std::filesystem::path path, std::string content_type,
                                                   fields extra_headers = {});
    // Starts a chunked response; then write_chunk() as often as needed and finish_chunked().
    boost::asio::awaitable<result<void>> start_chunked(unsigned status, fields headers);
    boost::asio::awaitable<result<void>> write_chunk(std::string bytes);
    boost::asio::awaitable<result<void>> finish_chunked();

    // The request carried valid credentials: the connection counts as authenticated from now on
    // (listener_options::authenticate). Without effect on other listeners.
    void authenticated();

    bool replied() const;         // a response has been started
    unsigned status_sent() const; // 0 before a response has started

    // Fault injection: after `bytes` bytes of the response (head included) the connection is
    // closed abruptly (TCP RST where the transport has one).
    void reset_connection_after(std::uint64_t bytes);

    detail::exchange_impl* impl() const noexcept { return impl_; }

private:
    detail::exchange_impl* impl_;
};

using handler = std::function<boost::asio::awaitable<void>(exchange)>;
// Runs around every request (routed or not), in the order added. Call `next(ex)` to continue, or
// answer and return without calling it.
using middleware = std::function<boost::asio::awaitable<void>(exchange, handler next)>;

// Patterns are absolute paths whose segments are literals, `{name}` (one segment) or, last,
// `{name*}` (the rest of the path, possibly empty). The query is not part of the match; path
// segments are matched percent-decoded. No route: 404; path known but not for this method: 405
// with Allow; a path with an invalid or truncated %-escape: 400.
class router {
public:
    void add(verb method, std::string pattern, handler h);
    void use(middleware m);

    // Routes one request through the middleware and the matching handler.
    boost::asio::awaitable<void> dispatch(exchange ex) const;

private:
    struct route {
        verb method;
        std::vector<std::string> segments;
        bool rest = false;
        handler h;
    };
    boost::asio::awaitable<void> run_chain(exchange ex, std::size_t index) const;
    boost::asio::awaitable<void> route_request(exchange ex) const;

    std::vector<route> routes_;
    std::vector<middleware> middleware_;
};

class server {
public:
    server(boost::asio::any_io_executor executor, router r, server_config config = {});
    ~server(); // stop()s
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Binds and starts accepting HTTPS on `endpoint` (port 0 picks one); returns the bound endpoint.
    // The TLS context must outlive the server.
    result<boost::asio::ip::tcp::endpoint> listen_tls(boost::asio::ip::tcp::endpoint endpoint,
                                                      boost::asio::ssl::context& tls,
                                                      listener_options options = {});
    // Binds plain HTTP (no TLS) on `endpoint`: only for loopback listeners whose clients prove
    // who they are inside the request (the admin socket's bearer token). Returns the bound endpoint.
    result<boost::asio::ip::tcp::endpoint> listen_plain(boost::asio::ip::tcp::endpoint endpoint,
                                                        listener_options options = {});
    // Binds a Unix domain socket at `path` (a stale socket file there is replaced), sets its
    // permissions to `mode` and starts accepting plain HTTP on it.
    result<void> listen_unix(std::filesystem::path path,
                             std::filesystem::perms mode = std::filesystem::perms::owner_read |
                                                           std::filesystem::perms::owner_write,
                             listener_options options = {});

    // Stops accepting and closes every connection; handlers see their I/O fail.
    void stop();

    std::size_t active_connections() const; // every listener, shed connections until they are gone
    std::uint64_t connections_accepted() const;
    std::vector<listener_stats> listeners() const; // in the order they were started

    struct state;

private:
    std::shared_ptr<state> state_;
};

// A TLS context for a server from PEM files (certificate chain, PKCS#8 key); TLS 1.2 at least.
result<std::shared_ptr<boost::asio::ssl::context>>
make_server_tls(const std::filesystem::path& certificate_chain, const std::filesystem::path& private_key);

} // namespace kurer::http

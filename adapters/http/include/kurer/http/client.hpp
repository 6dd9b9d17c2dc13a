// HTTPS client: co_await-able requests over pooled, verified TLS connections.
//
//   auto c = http::client::create(io.get_executor(), {.ca_bundle = "ca.pem"}).value();
//   http::request req{.method = http::verb::get, .url = "https://127.0.0.1:8443/jwk"};
//   result<http::response> r = co_await c.send(std::move(req));
//
// Any HTTP answer, 4xx and 5xx included, is a response value: callers read error bodies
// (Maskinporten's JSON, SOAP faults, problem+json) and decide. An error value means no usable
// answer arrived (see errc); `status_error()` turns a non-2xx response into a classified error.
//
// Connections are pooled per (host, port): kept alive, reused, bounded by
// max_connections_per_host (further requests queue in order), and closed after idle_timeout
// unused. A request on a reused connection that the server had already closed is sent again once
// on a fresh connection when that is safe (nothing of the answer arrived and the body can be
// replayed).
//
// TLS: certificate chain and host name (or IP address) verification are always on; SNI is sent
// for host names. There is deliberately no switch to turn verification off.
//
// Threads: the executor given to create() should be an io_context executor (not a strand); each
// connection runs on its own strand and the pool is guarded by a mutex, so requests may be made
// concurrently from coroutines on any thread of that io_context.
//
// Cancellation: send() honours the awaiting coroutine's cancellation (terminal and partial): the
// connection in use is closed and errc::cancelled is returned.
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/http/body.hpp>
#include <kurer/http/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <variant>

namespace kurer::http {

using fields = boost::beast::http::fields;
using verb = boost::beast::http::verb;

// Where a response body goes.
struct memory_sink {
    std::uint64_t max_bytes = 0; // 0: client_config::max_response_bytes
};
// The body of a 2xx answer is written to `path` (created 0600, or truncated; appended to when
// `append`, which is how a Range download resumes). Other statuses are read into
// response::body instead, so an error text never lands in the file. On an error the file holds
// what arrived; its size tells where to resume. Fsyncing it is the caller's decision.
struct file_sink {
    std::filesystem::path path;
    bool append = false;
    std::uint64_t max_bytes = 0; // 0: unlimited
};
using body_sink = std::variant<memory_sink, file_sink>;

struct request {
    verb method = verb::get;
    std::string url; // absolute https URL
    fields headers;  // Host, User-Agent and the body's framing are set by the client
    body_source body;
    body_sink sink = memory_sink{};
};

struct response {
    unsigned status = 0;
    std::string reason;
    fields headers;
    std::string body;            // the body, unless it went to a file_sink
    std::uint64_t body_size = 0; // bytes of body received (in memory or written to the file)
    bool reused_connection = false;

    bool ok() const noexcept { return status >= 200 && status < 300; }
    // The header's value, empty when absent.
    std::string header(std::string_view name) const;
};

struct client_config {
    std::chrono::milliseconds connect_timeout{5000};  // DNS + TCP + TLS handshake
    std::chrono::milliseconds request_timeout{30000}; // request head and response head each; every
                                                      // body step (read or write) while streaming
    std::chrono::milliseconds idle_timeout{60000};    // a pooled connection unused this long is closed
    std::size_t max_connections_per_host = 8;
    std::uint64_t max_response_bytes = 16 * 1024 * 1024; // cap of memory_sink bodies
    std::uint32_t max_header_bytes = 64 * 1024;
    std::filesystem::path ca_bundle{}; // PEM CAs to trust; empty: the system's default store
    std::string user_agent{};          // empty: "kurer/<version>"
};

// A non-2xx response as an error: "<what>: HTTP <status> <reason>: <start of the body>",
// retryable for 5xx, 429 and 408.
error status_error(const response& r, std::string_view what);

class client {
public:
    // Fails when the CA bundle cannot be loaded.
    static result<client> create(boost::asio::any_io_executor executor, client_config config = {});

    client(client&&) noexcept;
    client& operator=(client&&) noexcept;
    ~client(); // closes idle connections; requests still running keep what they use alive

    boost::asio::awaitable<result<response>> send(request req);

    // Closes idle connections and makes later send() calls fail with errc::shut_down.
    void shutdown();

    struct statistics {
        std::uint64_t connections_opened = 0;
        std::uint64_t requests_sent = 0;
        std::uint64_t reused = 0;
        std::size_t open_connections = 0; // idle or in use, all hosts
        std::size_t idle_connections = 0;
    };
    statistics stats() const;

    const client_config& config() const noexcept;
    boost::asio::any_io_executor executor() const noexcept;

    struct impl;

private:
    explicit client(std::shared_ptr<impl> p);
    std::shared_ptr<impl> impl_;
};

} // namespace kurer::http

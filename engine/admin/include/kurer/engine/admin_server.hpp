// The admin socket: how end systems and operators drive a running engine.
//
// HTTP/1.1 with JSON over a Unix domain socket (created 0600), optionally also over a loopback
// TCP port that requires "Authorization: Bearer <token>". Two sets of paths (docs/admin-api.md):
//
//   /api/...    the NextMove v2 API of the reference integrasjonspunkt (message-package.md §5):
//               create/upload/send outgoing messages, the incoming queue (peek/pop/DELETE),
//               statuses, conversations, capabilities; with the reference's JSON shapes
//               (Spring Page objects, error bodies {timestamp,status,error,exception,message,path})
//   /admin/...  the engine's own view: health, Prometheus metrics, one message's machine state
//               with its timed history, a live NDJSON stream of transitions, pause/resume, retry
//
//   auto admin = admin_server::start({.engine = *runner, .registry = metrics, .capabilities = lookup,
//                                     .organization = "910077473"},
//                                    {.socket_path = "kurer.sock", .drafts_dir = data / "drafts"},
//                                    io.get_executor()).value();
//
// Messages created through POST /api/messages/out are drafts until they are sent: the draft (its
// completed SBD and uploaded files) lives in drafts_dir, written durably, and is handed to the
// runner by the send request; nothing half-created survives a failed request.
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/core/log.hpp>
#include <kurer/engine/metrics.hpp>
#include <kurer/engine/runner.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kurer::engine {

// The optional TCP listener. Only loopback addresses are accepted (127.0.0.0/8, ::1).
struct admin_tcp_config {
    std::string address = "127.0.0.1";
    unsigned short port = 0; // 0 picks a free port (admin_server::tcp_endpoint() tells which)
    // The bearer token clients must send: `token`, or the first line of `token_file` (read once at
    // start; keep it 0600). Exactly one is required; it is never logged.
    std::string token = {};
    std::filesystem::path token_file;
    // Connections open at once on this listener, apart from the Unix socket's. A connection that
    // has not yet sent a valid token is shed first when the listener is full, and one whose
    // token is wrong is closed after its 401.
    std::size_t max_connections = 64;
};

struct admin_config {
    std::filesystem::path socket_path; // required; a stale socket file is replaced, a live one refused
    std::optional<admin_tcp_config> tcp;
    std::filesystem::path drafts_dir; // required: created messages not yet sent, and their files

    // Limits (0 = no limit where it says so).
    // Connections open at once on the Unix socket (the TCP listener has its own). A new client is
    // never kept waiting: when the socket is full, the connection idle longest is closed to make
    // room; when every one has a request in progress, the new one gets a 503 at once.
    std::size_t max_connections = 1024;
    std::size_t max_event_clients = 16;           // /admin/events streams at once (both listeners); more: 503
    std::uint32_t max_header_bytes = 16 * 1024;   // request line and headers
    std::uint64_t max_json_bytes = 1024 * 1024;   // an SBD or any other JSON body
    std::uint64_t max_file_bytes = 1ull << 30;    // one uploaded document (0 = no limit)
    std::uint64_t max_message_bytes = 1ull << 30; // all documents of one message (0 = no limit)
    std::size_t max_files = 500;                  // documents per message
    std::size_t max_page_size = 2000;             // ?size= of paged answers
    std::size_t max_scan = 1'000'000; // records one list request may read (statuses, conversations)
    std::size_t event_buffer_bytes = 1024 * 1024; // per /admin/events client: a slower reader is dropped

    // Timeouts (0 = off).
    std::chrono::milliseconds first_request_timeout{5000}; // a new connection's first request head, complete
    std::chrono::milliseconds header_timeout{10000};       // a request's head, from its first byte to its end
    std::chrono::milliseconds idle_timeout{60000};    // a kept-alive connection waiting for its next request
    std::chrono::milliseconds io_timeout{30000};      // each read or write of a body
    std::chrono::milliseconds request_timeout{30000}; // outside lookups a request waits for (capabilities)
    std::chrono::milliseconds event_heartbeat{15000}; // a heartbeat line on idle /admin/events streams

    unsigned worker_threads = 2; // fsyncs, XML checks and store scans run here, off the I/O threads
    // Start, errors, dropped event clients (component "admin"; the listener's own lines are
    // "http.server"). Default: stderr, info.
    logger log{};
};

struct admin_context {
    runner& engine;                        // started; must outlive the server
    metrics& registry;                     // /admin/metrics renders it; the server feeds it from the runner
    capabilities_lookup capabilities = {}; // null: /api/capabilities answers 503
    std::string organization;              // 9 digits: the sender of what is created here
    std::string default_process = "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0";
    std::chrono::hours default_ttl{24}; // expectedResponseDateTime = now + this, when absent
    std::string message_channel = {};   // added as a MessageChannel scope when set ("" = none)
    // Ask the capabilities lookup on create whether the receiver takes DPO for the message's
    // process and document type (the reference does); a lookup that fails does not block create.
    bool check_receiver = true;
};

class admin_server {
public:
    // Validates the config, opens the drafts directory (removing leftovers of interrupted
    // requests and drafts that were already sent), binds the listeners and starts serving on
    // `executor` (an io_context executor; handlers never block it). Fails with a message naming
    // what is wrong: a missing field, a live socket at socket_path, a non-loopback TCP address.
    static result<std::unique_ptr<admin_server>> start(admin_context context, admin_config config,
                                                       boost::asio::any_io_executor executor);

    ~admin_server(); // stop()
    admin_server(const admin_server&) = delete;
    admin_server& operator=(const admin_server&) = delete;

    // Stops accepting, closes every connection (event streams end), removes the socket file and
    // waits for the worker threads. Idempotent.
    void stop();

    const std::filesystem::path& socket_path() const noexcept;
    std::optional<boost::asio::ip::tcp::endpoint> tcp_endpoint() const;

    struct impl;

private:
    explicit admin_server(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

} // namespace kurer::engine

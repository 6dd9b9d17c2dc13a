#include "detail/bodies.hpp"
#include "detail/io_errors.hpp"

#include <kurer/core/log.hpp>
#include <kurer/core/version.hpp>
#include <kurer/http/client.hpp>
#include <kurer/http/url.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <poll.h>

namespace kurer::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

std::string response::header(std::string_view name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : std::string(it->value());
}

error status_error(const response& r, std::string_view what) {
    std::string text = std::string(what) + ": HTTP " + std::to_string(r.status);
    if (!r.reason.empty())
        text += " " + r.reason;
    if (!r.body.empty()) {
        constexpr std::size_t shown = 512;
        text += ": " + r.body.substr(0, shown);
        if (r.body.size() > shown)
            text += "...";
    }
    const errc e = status_errc(r.status);
    return make_error(make_error_code(e), std::move(text),
                      is_retryable_status(r.status) ? retry::yes : retry::no);
}

namespace {

using tls_stream = beast::ssl_stream<beast::tcp_stream>;
using clock = std::chrono::steady_clock;

struct connection {
    connection(asio::any_io_executor strand_executor, asio::ssl::context& tls)
        : strand(std::move(strand_executor))
        , stream(strand, tls) {}
    asio::any_io_executor strand;
    tls_stream stream;
    beast::flat_buffer buffer;
    clock::time_point idle_since;
};

using handoff_channel =
    asio::experimental::concurrent_channel<void(boost::system::error_code, std::unique_ptr<connection>)>;

struct waiter {
    explicit waiter(asio::any_io_executor ex)
        : channel(std::move(ex), 1) {}
    handoff_channel channel;
};

struct host_pool {
    std::deque<std::unique_ptr<connection>> idle; // most recently used at the back
    std::size_t open = 0;                         // idle + in use + connecting
    std::deque<std::shared_ptr<waiter>> waiters;
};

bool is_ip_literal(const std::string& host) {
    boost::system::error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

bool idempotent(verb m) {
    return m == verb::get || m == verb::head || m == verb::put || m == verb::delete_ || m == verb::options;
}

// The peer may have closed an idle connection; a readable idle socket means EOF or junk.
bool still_open(connection& c) {
    pollfd p{};
    p.fd = beast::get_lowest_layer(c.stream).socket().native_handle();
    p.events = POLLIN;
    return ::poll(&p, 1, 0) == 0;
}

bool has_line_break(std::string_view s) {
    return s.find_first_of("\r\n") != std::string_view::npos;
}

struct prepared {
    verb method;
    std::string host;
    std::uint16_t port;
    std::string target;
    fields headers;
    std::shared_ptr<const detail::resolved_source> body;
    body_sink sink;
};

struct outcome {
    result<response> r = response{};
    bool reusable = false;
    bool request_written = false;
    bool answer_started = false;
};

void arm(tls_stream& s, std::chrono::milliseconds timeout) {
    if (timeout.count() > 0)
        beast::get_lowest_layer(s).expires_after(timeout);
    else
        beast::get_lowest_layer(s).expires_never();
}

} // namespace

struct client::impl : std::enable_shared_from_this<client::impl> {
    impl(asio::any_io_executor ex, client_config cfg)
        : executor(std::move(ex))
        , config(std::move(cfg))
        , tls(asio::ssl::context::tls_client)
        , sweeper_strand(asio::make_strand(executor))
        , sweeper_timer(sweeper_strand) {}

    asio::any_io_executor executor;
    client_config config;
    asio::ssl::context tls;
    std::string user_agent;

    mutable std::mutex mutex;
    std::map<std::string, host_pool> pools;
    bool stopped = false;
    bool sweeper_running = false;
    asio::strand<asio::any_io_executor> sweeper_strand;
    asio::steady_timer sweeper_timer; // used on sweeper_strand only

    std::atomic<std::uint64_t> connections_opened{0};
    std::atomic<std::uint64_t> requests_sent{0};
    std::atomic<std::uint64_t> reused{0};

    struct lease {
        std::shared_ptr<impl> owner;
        std::string key;
        std::unique_ptr<connection> conn;
        bool reused = false;
        bool active = false;

        lease() = default;
        lease(lease&& o) noexcept
            : owner(std::move(o.owner))
            , key(std::move(o.key))
            , conn(std::move(o.conn))
            , reused(o.reused)
            , active(std::exchange(o.active, false)) {}
        lease& operator=(lease&&) = delete;
        ~lease() {
            if (active)
                owner->release(key, std::move(conn), false);
        }
        void give_back(bool reusable) {
            if (std::exchange(active, false))
                owner->release(key, std::move(conn), reusable);
        }
    };

    bool usable_locked(connection& c, clock::time_point now) const {
        if (config.idle_timeout.count() > 0 && now - c.idle_since >= config.idle_timeout)
            return false;
        return still_open(c);
    }

    asio::awaitable<result<lease>> acquire(std::string key) {
        std::shared_ptr<waiter> w;
        std::vector<std::unique_ptr<connection>> doomed; // closed outside the lock
        {
            std::lock_guard lock(mutex);
            if (stopped)
                co_return make_http_error(errc::shut_down, "HTTP client is shut down");
            auto& pool = pools[key];
            const auto now = clock::now();
            while (!pool.idle.empty()) {
                auto c = std::move(pool.idle.back());
                pool.idle.pop_back();
                if (usable_locked(*c, now)) {
                    lease l;
                    l.owner = shared_from_this();
                    l.key = key;
                    l.conn = std::move(c);
                    l.reused = true;
                    l.active = true;
                    co_return l;
                }
                --pool.open;
                doomed.push_back(std::move(c));
            }
            if (pool.open < std::max<std::size_t>(1, config.max_connections_per_host)) {
                ++pool.open;
                lease l;
                l.owner = shared_from_this();
                l.key = key;
                l.active = true;
                co_return l;
            }
            w = std::make_shared<waiter>(co_await asio::this_coro::executor);
            pool.waiters.push_back(w);
        }
        doomed.clear();
        auto [ec, conn] = co_await w->channel.async_receive(asio::as_tuple(asio::use_awaitable));
        if (ec == make_error_code(errc::shut_down))
            co_return make_http_error(errc::shut_down, "HTTP client is shut down");
        if (ec) {
            // Cancelled while queued. If a connection (or the right to open one) was handed to us in
            // the meantime, pass it on.
            std::unique_lock lock(mutex);
            auto& pool = pools[key];
            auto it = std::find(pool.waiters.begin(), pool.waiters.end(), w);
            if (it != pool.waiters.end()) {
                pool.waiters.erase(it);
            } else {
                std::unique_ptr<connection> handed;
                bool got = false;
                w->channel.try_receive([&](boost::system::error_code, std::unique_ptr<connection> c) {
                    handed = std::move(c);
                    got = true;
                });
                lock.unlock();
                if (got)
                    release(key, std::move(handed), handed != nullptr);
            }
            co_return make_http_error(errc::cancelled, "cancelled while waiting for a connection to " + key);
        }
        lease l;
        l.owner = shared_from_this();
        l.key = key;
        l.reused = conn != nullptr;
        l.conn = std::move(conn);
        l.active = true;
        co_return l;
    }

    void release(const std::string& key, std::unique_ptr<connection> conn, bool reusable) {
        std::unique_ptr<connection> doomed;
        bool start_sweeper = false;
        {
            std::lock_guard lock(mutex);
            auto& pool = pools[key];
            if (!reusable || stopped || !conn)
                doomed = std::move(conn);
            else
                conn->idle_since = clock::now();
            // The first waiter gets this connection, or, when it is being closed, the right to open one.
            bool handed = false;
            while (!pool.waiters.empty() && !handed) {
                auto w = std::move(pool.waiters.front());
                pool.waiters.pop_front();
                handed = w->channel.try_send(boost::system::error_code{}, std::move(conn));
            }
            if (!handed) {
                if (conn) {
                    pool.idle.push_back(std::move(conn));
                    start_sweeper = !sweeper_running;
                    sweeper_running = sweeper_running || start_sweeper;
                } else {
                    --pool.open;
                }
            }
        }
        doomed.reset();
        if (start_sweeper)
            asio::co_spawn(sweeper_strand, sweep(shared_from_this()), [](std::exception_ptr e) {
                if (!e)
                    return;
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    logger()
                        .component("http.client")
                        .error("idle connection sweeper failed", {{"error", x.what()}});
                }
            });
    }

    // Closes connections idle for idle_timeout, until none are left idle.
    static asio::awaitable<void> sweep(std::shared_ptr<impl> self) {
        for (;;) {
            std::vector<std::unique_ptr<connection>> doomed;
            std::optional<clock::time_point> next;
            {
                std::lock_guard lock(self->mutex);
                const auto now = clock::now();
                for (auto& [key, pool] : self->pools) {
                    auto& idle = pool.idle;
                    for (auto it = idle.begin(); it != idle.end();) {
                        const bool expired =
                            self->stopped || (self->config.idle_timeout.count() > 0 &&
                                              now - (*it)->idle_since >= self->config.idle_timeout);
                        if (expired) {
                            doomed.push_back(std::move(*it));
                            it = idle.erase(it);
                            --pool.open;
                        } else {
                            const auto due = (*it)->idle_since + self->config.idle_timeout;
                            if (!next || due < *next)
                                next = due;
                            ++it;
                        }
                    }
                }
                if (!next || self->config.idle_timeout.count() == 0) {
                    self->sweeper_running = false;
                    co_return;
                }
            }
            doomed.clear();
            self->sweeper_timer.expires_at(*next);
            auto [ec] = co_await self->sweeper_timer.async_wait(asio::as_tuple(asio::use_awaitable));
            (void)ec; // cancelled by shutdown: the next round closes everything
        }
    }

    static asio::awaitable<result<void>> connect(connection* c, std::string host, std::uint16_t port,
                                                 std::chrono::milliseconds timeout) {
        const std::string where = host + ":" + std::to_string(port);
        const auto deadline = clock::now() + timeout;
        std::vector<tcp::endpoint> endpoints;
        boost::system::error_code ec;
        const auto address = asio::ip::make_address(host, ec);
        if (!ec) {
            endpoints.emplace_back(address, port);
        } else {
            tcp::resolver resolver(c->strand);
            asio::steady_timer timer(c->strand);
            if (timeout.count() > 0)
                timer.expires_at(deadline);
            else
                timer.expires_at(clock::time_point::max());
            auto raced = co_await (
                resolver.async_resolve(host, std::to_string(port), asio::as_tuple(asio::use_awaitable)) ||
                timer.async_wait(asio::as_tuple(asio::use_awaitable)));
            if (raced.index() == 1)
                co_return make_http_error(errc::timeout, "resolving " + host + " timed out");
            auto [rec, results] = std::get<0>(std::move(raced));
            if (rec)
                co_return make_http_error(rec == asio::error::operation_aborted ? errc::cancelled
                                                                                : errc::resolve_failed,
                                          "cannot resolve " + host + ": " + rec.message());
            for (const auto& e : results)
                endpoints.push_back(e.endpoint());
        }

        auto& tcp_layer = beast::get_lowest_layer(c->stream);
        if (timeout.count() > 0)
            tcp_layer.expires_at(deadline);
        auto [cec, endpoint] =
            co_await tcp_layer.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
        if (cec) {
            const errc e = cec == beast::error::timeout            ? errc::timeout
                           : cec == asio::error::operation_aborted ? errc::cancelled
                                                                   : errc::connect_failed;
            co_return make_http_error(e, "cannot connect to " + where + ": " + cec.message());
        }
        tcp_layer.socket().set_option(tcp::no_delay(true), ec);

        SSL* ssl = c->stream.native_handle();
        if (is_ip_literal(host)) {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
        } else {
            SSL_set_tlsext_host_name(ssl, host.c_str()); // SNI is for names only (RFC 6066)
            SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            SSL_set1_host(ssl, host.c_str());
        }
        auto [hec] = co_await c->stream.async_handshake(asio::ssl::stream_base::client,
                                                        asio::as_tuple(asio::use_awaitable));
        if (hec) {
            const long verify = SSL_get_verify_result(ssl);
            if (verify != X509_V_OK)
                co_return make_http_error(errc::certificate_rejected,
                                          "TLS certificate of " + where +
                                              " rejected: " + X509_verify_cert_error_string(verify));
            const errc e = hec == beast::error::timeout            ? errc::timeout
                           : hec == asio::error::operation_aborted ? errc::cancelled
                                                                   : errc::tls_failed;
            co_return make_http_error(e, "TLS handshake with " + where + " failed: " + hec.message());
        }
        tcp_layer.expires_never();
        co_return result<void>{};
    }

    template <class Parser>
    static asio::awaitable<boost::system::error_code> read_body(connection* c, Parser* p,
                                                                std::chrono::milliseconds timeout) {
        while (!p->is_done()) {
            arm(c->stream, timeout);
            auto [ec, n] = co_await bhttp::async_read_some(c->stream, c->buffer, *p,
                                                           asio::as_tuple(asio::use_awaitable));
            (void)n;
            if (ec == asio::ssl::error::stream_truncated && p->need_eof()) {
                // A body delimited by the connection's end, closed without TLS close_notify.
                boost::system::error_code eof;
                p->put_eof(eof);
                co_return eof;
            }
            if (ec)
                co_return ec;
        }
        co_return boost::system::error_code{};
    }

    static asio::awaitable<outcome> exchange(connection* c, const prepared* p, std::string user_agent,
                                             client_config cfg) {
        outcome out;
        const std::string where = p->host + ":" + std::to_string(p->port);
        const auto fail = [&](const boost::system::error_code& ec, const std::string& what) {
            out.r = detail::io_error(ec, what + " " + where);
            out.reusable = false;
        };

        bhttp::request<detail::source_body> msg{p->method, p->target, 11};
        for (const auto& f : p->headers)
            msg.set(f.name_string(), f.value());
        const bool default_port = p->port == 443;
        msg.set(bhttp::field::host, (p->host.find(':') != std::string::npos ? "[" + p->host + "]" : p->host) +
                                        (default_port ? "" : ":" + std::to_string(p->port)));
        msg.set(bhttp::field::user_agent, user_agent);
        msg.keep_alive(true);
        msg.body().source = p->body;
        const auto& src = *p->body;
        if (src.chunked || !src.length)
            msg.chunked(true);
        else if (*src.length > 0 || (p->method != verb::get && p->method != verb::head))
            msg.content_length(*src.length);

        bhttp::serializer<true, detail::source_body> sr{msg};
        bool write_failed = false;
        while (!sr.is_done()) {
            arm(c->stream, cfg.request_timeout);
            auto [ec, n] =
                co_await bhttp::async_write_some(c->stream, sr, asio::as_tuple(asio::use_awaitable));
            (void)n;
            if (ec) {
                if (ec == make_error_code(errc::body_source_failed))
                    out.r = make_http_error(errc::body_source_failed, *msg.body().failure);
                else
                    fail(ec, "sending request to");
                const errc kind = detail::classify_io(ec);
                if (kind != errc::connection_lost)
                    co_return out;
                // The server may have answered early (413, 401, ...) and closed: read that answer.
                write_failed = true;
                break;
            }
        }
        out.request_written = !write_failed;

        // The response head; interim 1xx answers are skipped.
        std::optional<bhttp::response_parser<bhttp::empty_body>> head;
        for (;;) {
            head.emplace();
            head->header_limit(cfg.max_header_bytes);
            head->body_limit(boost::none); // checked below, per sink
            if (p->method == verb::head)
                head->skip(true);
            arm(c->stream, cfg.request_timeout);
            auto [ec, n] = co_await bhttp::async_read_header(c->stream, c->buffer, *head,
                                                             asio::as_tuple(asio::use_awaitable));
            if (n > 0 || !ec)
                out.answer_started = true;
            if (ec) {
                if (!write_failed)
                    fail(ec, "reading response from");
                co_return out; // after a failed write: report the write's error
            }
            const unsigned status = head->get().result_int();
            if (status < 100 || status >= 200 || status == 101)
                break;
        }

        response resp;
        resp.status = head->get().result_int();
        resp.reason = std::string(head->get().reason());
        resp.headers = static_cast<const fields&>(head->get().base());
        const auto length = head->content_length();
        const bool to_file = std::holds_alternative<file_sink>(p->sink) && resp.ok();

        if (to_file) {
            const auto& fs = std::get<file_sink>(p->sink);
            if (fs.max_bytes != 0 && length && *length > fs.max_bytes) {
                out.r = make_http_error(errc::message_too_large,
                                        "response from " + where + " announces " + std::to_string(*length) +
                                            " bytes, over the limit of " + std::to_string(fs.max_bytes));
                co_return out;
            }
            auto fd = detail::open_sink_file(fs.path, fs.append);
            if (!fd) {
                out.r = fd.error();
                co_return out;
            }
            bhttp::response_parser<detail::fd_sink_body> body{std::move(*head)};
            body.get().body().fd = *fd;
            body.get().body().limit = fs.max_bytes;
            body.get().body().path = fs.path.string();
            const auto ec = co_await read_body(c, &body, cfg.request_timeout);
            resp.body_size = body.get().body().written;
            if (ec) {
                if (ec == make_error_code(errc::body_sink_failed))
                    out.r = make_http_error(errc::body_sink_failed, body.get().body().failure);
                else
                    fail(ec, "reading response body from");
                co_return out;
            }
            out.reusable = body.keep_alive() && !write_failed;
        } else {
            const std::uint64_t cap = [&] {
                if (const auto* ms = std::get_if<memory_sink>(&p->sink); ms && ms->max_bytes != 0)
                    return ms->max_bytes;
                return cfg.max_response_bytes;
            }();
            if (cap != 0 && length && *length > cap) {
                out.r = make_http_error(errc::message_too_large,
                                        "response from " + where + " announces " + std::to_string(*length) +
                                            " bytes, over the limit of " + std::to_string(cap));
                co_return out;
            }
            bhttp::response_parser<bhttp::string_body> body{std::move(*head)};
            if (cap != 0)
                body.body_limit(cap);
            const auto ec = co_await read_body(c, &body, cfg.request_timeout);
            if (ec) {
                fail(ec, "reading response body from");
                co_return out;
            }
            resp.body = std::move(body.get().body());
            resp.body_size = resp.body.size();
            out.reusable = body.keep_alive() && !write_failed;
        }
        beast::get_lowest_layer(c->stream).expires_never();
        out.r = std::move(resp);
        co_return out;
    }

    asio::awaitable<result<response>> send(request req) {
        auto u = parse_url(req.url);
        if (!u)
            co_return make_http_error(errc::invalid_request, u.error().message);
        if (u->scheme != "https")
            co_return make_http_error(errc::invalid_request,
                                      "only https URLs are supported (TLS is always on): " + req.url);
        for (const auto& f : req.headers)
            if (has_line_break(f.name_string()) || has_line_break(f.value()))
                co_return make_http_error(errc::invalid_request, "header " + std::string(f.name_string()) +
                                                                     " contains a line break");
        const bool replayable = req.body.replayable();
        auto body = detail::resolve(std::move(req.body));
        if (!body)
            co_return body.error();

        prepared p{req.method,
                   u->host,
                   u->port,
                   u->target,
                   std::move(req.headers),
                   std::make_shared<const detail::resolved_source>(std::move(*body)),
                   std::move(req.sink)};
        const std::string key = u->host + ":" + std::to_string(u->port);

        for (int attempt = 0;; ++attempt) {
            auto acquired = co_await acquire(key);
            if (!acquired)
                co_return acquired.error();
            lease l = std::move(*acquired);
            if (!l.conn) {
                l.conn = std::make_unique<connection>(asio::make_strand(executor), tls);
                ++connections_opened;
                auto connected = co_await asio::co_spawn(
                    l.conn->strand, connect(l.conn.get(), p.host, p.port, config.connect_timeout),
                    asio::use_awaitable);
                if (!connected)
                    co_return connected.error(); // the lease closes the connection
            } else {
                ++reused;
            }
            ++requests_sent;
            auto out = co_await asio::co_spawn(l.conn->strand, exchange(l.conn.get(), &p, user_agent, config),
                                               asio::use_awaitable);
            l.give_back(out.reusable && out.r.has_value());
            if (out.r) {
                out.r->reused_connection = l.reused;
                co_return std::move(out.r);
            }
            // A kept-alive connection the server closed meanwhile: try once more on a fresh one when
            // nothing of an answer arrived and sending again cannot do harm.
            const bool lost = out.r.error().code == make_error_code(errc::connection_lost);
            if (attempt == 0 && l.reused && lost && !out.answer_started && replayable &&
                (idempotent(p.method) || !out.request_written))
                continue;
            co_return std::move(out.r);
        }
    }

    void shutdown() {
        std::vector<std::unique_ptr<connection>> doomed;
        std::vector<std::shared_ptr<waiter>> waiters;
        {
            std::lock_guard lock(mutex);
            stopped = true;
            for (auto& [key, pool] : pools) {
                for (auto& c : pool.idle)
                    doomed.push_back(std::move(c));
                pool.open -= pool.idle.size();
                pool.idle.clear();
                for (auto& w : pool.waiters)
                    waiters.push_back(std::move(w));
                pool.waiters.clear();
            }
        }
        for (auto& w : waiters)
            w->channel.try_send(make_error_code(errc::shut_down), nullptr);
        asio::post(sweeper_strand, [weak = weak_from_this()] {
            if (auto self = weak.lock())
                self->sweeper_timer.cancel();
        });
    }
};

result<client> client::create(asio::any_io_executor executor, client_config config) {
    auto p = std::make_shared<impl>(std::move(executor), std::move(config));
    boost::system::error_code ec;
    p->tls.set_verify_mode(asio::ssl::verify_peer, ec);
    SSL_CTX_set_min_proto_version(p->tls.native_handle(), TLS1_2_VERSION);
    if (!p->config.ca_bundle.empty()) {
        p->tls.load_verify_file(p->config.ca_bundle.string(), ec);
        if (ec)
            return make_http_error(errc::invalid_request, "cannot load CA bundle " +
                                                              p->config.ca_bundle.string() + ": " +
                                                              ec.message());
    } else {
        p->tls.set_default_verify_paths(ec);
        if (ec)
            return make_http_error(errc::invalid_request,
                                   "cannot load the system's CA store: " + ec.message());
    }
    p->user_agent =
        p->config.user_agent.empty() ? "kurer/" + std::string(kurer::version()) : p->config.user_agent;
    return client(std::move(p));
}

client::client(std::shared_ptr<impl> p)
    : impl_(std::move(p)) {}
client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;

client::~client() {
    if (impl_)
        impl_->shutdown();
}

asio::awaitable<result<response>> client::send(request req) {
    auto self = impl_;
    co_return co_await self->send(std::move(req));
}

void client::shutdown() {
    impl_->shutdown();
}

client::statistics client::stats() const {
    statistics s;
    s.connections_opened = impl_->connections_opened;
    s.requests_sent = impl_->requests_sent;
    s.reused = impl_->reused;
    std::lock_guard lock(impl_->mutex);
    for (const auto& [key, pool] : impl_->pools) {
        s.open_connections += pool.open;
        s.idle_connections += pool.idle.size();
    }
    return s;
}

asio::any_io_executor client::executor() const noexcept {
    return impl_->executor;
}

const client_config& client::config() const noexcept {
    return impl_->config;
}

} // namespace kurer::http

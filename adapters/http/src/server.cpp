#include "detail/bodies.hpp"
#include "detail/exchange_impl.hpp"
#include "detail/io_errors.hpp"

#include <kurer/http/range.hpp>
#include <kurer/http/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_prefix.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>

#include <openssl/ssl.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>

namespace kurer::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

// ---------------------------------------------------------------------------------------------
// reply and exchange

reply reply::text(unsigned status, std::string body, std::string_view content_type) {
    reply r;
    r.status = status;
    r.headers.set(bhttp::field::content_type, content_type);
    r.body = body_source::from_string(std::move(body));
    return r;
}

reply reply::json(unsigned status, std::string body) {
    return text(status, std::move(body), "application/json");
}

reply reply::empty(unsigned status) {
    reply r;
    r.status = status;
    return r;
}

verb exchange::method() const {
    return impl_->head.method();
}
std::string_view exchange::method_string() const {
    return impl_->head.method_string();
}
std::string_view exchange::target() const {
    return impl_->head.target();
}

std::string_view exchange::path() const {
    const std::string_view t = target();
    return t.substr(0, t.find('?'));
}

const fields& exchange::headers() const {
    return impl_->head;
}

std::string exchange::header(std::string_view name) const {
    auto it = impl_->head.find(name);
    return it == impl_->head.end() ? std::string() : std::string(it->value());
}

std::string exchange::param(std::string_view name) const {
    for (const auto& [k, v] : impl_->params)
        if (k == name)
            return v;
    return {};
}

std::optional<std::string> exchange::query(std::string_view name) const {
    auto u = boost::urls::parse_origin_form(target());
    if (!u)
        return std::nullopt;
    for (auto p : u->params())
        if (p.key == name)
            return std::string(p.value);
    return std::nullopt;
}

std::string exchange::remote_address() const {
    return impl_->remote;
}
bool exchange::keep_alive() const {
    return impl_->keep_alive;
}

asio::awaitable<result<std::string>> exchange::read_body(std::uint64_t max_bytes) {
    std::string body;
    auto n = co_await impl_->read_body_into(
        [&body](std::string_view chunk) -> result<void> {
            body.append(chunk);
            return {};
        },
        max_bytes != 0 ? max_bytes : impl_->config->max_body_bytes);
    if (!n)
        co_return n.error();
    co_return body;
}

asio::awaitable<result<std::uint64_t>> exchange::read_body_to_file(std::filesystem::path path,
                                                                   std::uint64_t max_bytes) {
    auto fd = detail::open_sink_file(path, false);
    if (!fd)
        co_return fd.error();
    detail::fd_sink_body::value_type file; // closes the descriptor
    file.fd = *fd;
    file.path = path.string();
    auto n = co_await impl_->read_body_into(
        [&file](std::string_view chunk) -> result<void> {
            const char* p = chunk.data();
            std::size_t left = chunk.size();
            while (left > 0) {
                const ssize_t w = ::write(file.fd, p, left);
                if (w < 0) {
                    if (errno == EINTR)
                        continue;
                    return make_http_error(errc::body_sink_failed,
                                           "cannot write " + file.path + ": " + std::strerror(errno));
                }
                p += w;
                left -= static_cast<std::size_t>(w);
            }
            return {};
        },
        max_bytes);
    co_return n;
}

asio::awaitable<result<std::uint64_t>>
exchange::read_body_chunks(std::function<result<void>(std::string_view)> on_chunk, std::uint64_t max_bytes) {
    co_return co_await impl_->read_body_into(std::move(on_chunk), max_bytes);
}

void exchange::observe_body(std::function<void(std::string_view)> observer) {
    if (!impl_->observer) {
        impl_->observer = std::move(observer);
        return;
    }
    impl_->observer = [first = std::move(impl_->observer),
                       second = std::move(observer)](std::string_view chunk) {
        first(chunk);
        second(chunk);
    };
}

asio::awaitable<result<void>> exchange::send(reply r) {
    co_return co_await impl_->send(std::move(r));
}

asio::awaitable<result<void>> exchange::send_file(std::filesystem::path path, std::string content_type,
                                                  fields extra_headers) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        co_return co_await impl_->send(reply::text(404, "no such file\n"));
    const auto size = static_cast<std::uint64_t>(st.st_size);
    reply r;
    r.headers = std::move(extra_headers);
    r.headers.set(bhttp::field::accept_ranges, "bytes");
    const auto range = parse_range(header("Range"), size);
    switch (range.kind) {
    case range_kind::unsatisfiable:
        r.status = 416;
        r.headers.set(bhttp::field::content_range, "bytes */" + std::to_string(size));
        break;
    case range_kind::satisfiable:
        r.status = 206;
        r.headers.set(bhttp::field::content_type, content_type);
        r.headers.set(bhttp::field::content_range, content_range(range.range, size));
        r.body.append_file(path, range.range.first, range.range.length());
        break;
    case range_kind::none:
        r.status = 200;
        r.headers.set(bhttp::field::content_type, content_type);
        r.body.append_file(path, 0, size);
        break;
    }
    co_return co_await impl_->send(std::move(r));
}

asio::awaitable<result<void>> exchange::start_chunked(unsigned status, fields headers) {
    co_return co_await impl_->start_chunked(status, std::move(headers));
}
asio::awaitable<result<void>> exchange::write_chunk(std::string bytes) {
    co_return co_await impl_->write_chunk(std::move(bytes));
}
asio::awaitable<result<void>> exchange::finish_chunked() {
    co_return co_await impl_->finish_chunked();
}

void exchange::authenticated() {
    impl_->mark_authenticated();
}

bool exchange::replied() const {
    return impl_->status_sent != 0;
}
unsigned exchange::status_sent() const {
    return impl_->status_sent;
}
void exchange::reset_connection_after(std::uint64_t bytes) {
    impl_->reset_after = bytes;
}

namespace detail {

void log_line(const server_config& config, log_level level, std::string_view message) {
    config.log.component("http.server")(level, message);
}

} // namespace detail

// ---------------------------------------------------------------------------------------------
// sessions

namespace {

using tls_stream = beast::ssl_stream<beast::tcp_stream>;
using unix_stream = beast::basic_stream<asio::local::stream_protocol>;
using plain_stream = beast::tcp_stream;

class session_base : public std::enable_shared_from_this<session_base> {
public:
    virtual ~session_base() = default;
    virtual asio::awaitable<void> run() = 0;
    virtual asio::any_io_executor executor() = 0;
    // From any thread: cancels the handler's current wait and closes the connection.
    void close() {
        asio::post(executor(), [weak = weak_from_this()] {
            if (auto self = weak.lock())
                self->close_now();
        });
    }
    asio::cancellation_signal cancel;

protected:
    virtual void close_now() = 0; // on the session's strand
};

// What a connection is doing, for choosing which one to shed (listener_slots::admit).
enum class phase : std::uint8_t {
    closing, // its last answer is out; it is shutting down
    waiting, // for the first byte of a request (new, or kept alive), or in the TLS handshake
    head,    // receiving a request head
    busy,    // a request in progress: handler, body, response or stream
};

// One listener's connection slots. A new connection never waits: it takes a free slot, or the
// slot of the least useful connection, or is refused. Every member is guarded by `mutex`; the
// accept loop is the only one to add slots, so a slot it admits stays free until it is bound.
struct listener_slots {
    listener_slots(std::string n, std::size_t m, bool auth)
        : name(std::move(n))
        , max(std::max<std::size_t>(1, m))
        , authenticate(auth) {}

    struct slot {
        std::weak_ptr<session_base> session;
        phase at = phase::waiting;
        std::chrono::steady_clock::time_point since;
        bool authenticated = false;
    };

    struct admission {
        bool admitted = false;
        std::shared_ptr<session_base> victim; // shed to make room: to be closed (outside the lock)
        bool answer = false;                  // refused: a 503 may be written (their number is bounded)
    };

    const std::string name;
    const std::size_t max;
    const bool authenticate;

    mutable std::mutex mutex;
    std::map<std::uint64_t, slot> slots;
    std::size_t answering = 0; // refused connections still being answered
    std::uint64_t accepted = 0;
    std::uint64_t shed = 0;
    std::uint64_t refused = 0;

    // Which slot goes first: lower ranks, then the longest in its phase. Busy slots never go.
    static int rank(const slot& s) {
        if (s.at == phase::closing)
            return 0;
        return (s.authenticated ? 3 : 1) + (s.at == phase::head ? 1 : 0);
    }

    admission admit(std::uint64_t id) {
        std::lock_guard lock(mutex);
        ++accepted;
        admission a;
        const auto now = std::chrono::steady_clock::now();
        if (slots.size() >= max) {
            auto victim = slots.end();
            for (auto it = slots.begin(); it != slots.end(); ++it) {
                if (it->second.at == phase::busy)
                    continue;
                if (victim == slots.end() || rank(it->second) < rank(victim->second) ||
                    (rank(it->second) == rank(victim->second) && it->second.since < victim->second.since))
                    victim = it;
            }
            if (victim == slots.end()) {
                ++refused;
                if (answering < max) {
                    ++answering;
                    a.answer = true;
                }
                return a;
            }
            a.victim = victim->second.session.lock();
            slots.erase(victim);
            ++shed;
        }
        slots.emplace(id, slot{{}, phase::waiting, now, !authenticate});
        a.admitted = true;
        return a;
    }

    void bind(std::uint64_t id, const std::shared_ptr<session_base>& s) {
        std::lock_guard lock(mutex);
        if (auto it = slots.find(id); it != slots.end())
            it->second.session = s;
    }

    // The connection moved on; false when it has been shed (its slot is gone).
    bool enter(std::uint64_t id, phase p) {
        std::lock_guard lock(mutex);
        auto it = slots.find(id);
        if (it == slots.end())
            return false;
        it->second.at = p;
        it->second.since = std::chrono::steady_clock::now();
        return true;
    }

    void authenticated(std::uint64_t id) {
        std::lock_guard lock(mutex);
        if (auto it = slots.find(id); it != slots.end())
            it->second.authenticated = true;
    }

    void release(std::uint64_t id) {
        std::lock_guard lock(mutex);
        slots.erase(id);
    }

    void answered() {
        std::lock_guard lock(mutex);
        --answering;
    }

    listener_stats stats() const {
        std::lock_guard lock(mutex);
        listener_stats out{.name = name,
                           .max_connections = max,
                           .open = slots.size(),
                           .accepted = accepted,
                           .shed = shed,
                           .refused = refused};
        for (const auto& [id, s] : slots)
            if (s.at == phase::busy)
                ++out.busy;
        return out;
    }
};

} // namespace

struct server::state : std::enable_shared_from_this<server::state> {
    state(asio::any_io_executor ex, router r, server_config cfg)
        : executor(ex)
        , routes(std::move(r))
        , config(std::move(cfg))
        , strand(asio::make_strand(ex)) {}

    asio::any_io_executor executor;
    router routes;
    server_config config;
    asio::strand<asio::any_io_executor> strand; // the acceptors live here

    std::mutex mutex;
    std::map<std::uint64_t, std::weak_ptr<session_base>> sessions; // every listener's, until they end
    std::vector<std::shared_ptr<listener_slots>> listeners;
    std::vector<std::function<void()>> listener_closers;
    bool stopped = false;
    std::atomic<std::uint64_t> next_id{0};
    std::atomic<std::uint64_t> accepted{0};

    bool stopped_flag() {
        std::lock_guard lock(mutex);
        return stopped;
    }

    std::shared_ptr<listener_slots> add_listener(std::string name, const listener_options& options) {
        auto l = std::make_shared<listener_slots>(
            std::move(name), options.max_connections != 0 ? options.max_connections : config.max_connections,
            options.authenticate);
        std::lock_guard lock(mutex);
        listeners.push_back(l);
        return l;
    }

    void start(std::uint64_t id, std::shared_ptr<session_base> s, asio::any_io_executor session_executor,
               std::shared_ptr<listener_slots> listener) {
        {
            std::lock_guard lock(mutex);
            sessions.emplace(id, s);
            if (stopped) {
                s->close();
            }
        }
        auto& cancel_slot = s->cancel;
        asio::co_spawn(session_executor, s->run(),
                       asio::bind_cancellation_slot(cancel_slot.slot(), [self = shared_from_this(), id,
                                                                         listener = std::move(listener),
                                                                         keep = s](std::exception_ptr e) {
                           if (e) {
                               try {
                                   std::rethrow_exception(e);
                               } catch (const std::exception& x) {
                                   detail::log_line(self->config, log_level::error,
                                                    std::string("connection failed: ") + x.what());
                               }
                           }
                           {
                               std::lock_guard lock(self->mutex);
                               self->sessions.erase(id);
                           }
                           listener->release(id);
                       }));
    }
};

namespace {

template <class Stream>
constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

template <class Stream>
class session final : public session_base, public detail::exchange_impl {
public:
    session(Stream stream, std::shared_ptr<server::state> st, std::string remote_address,
            std::shared_ptr<listener_slots> listener, std::uint64_t id)
        : stream_(std::move(stream))
        , state_(std::move(st))
        , listener_(std::move(listener))
        , id_(id)
        , authenticated_(!listener_->authenticate) {
        remote = std::move(remote_address);
        config = &state_->config;
    }

    asio::any_io_executor executor() override { return stream_.get_executor(); }

    void close_now() override {
        must_close_ = true;
        cancel.emit(asio::cancellation_type::terminal);
        boost::system::error_code ignored;
        beast::get_lowest_layer(stream_).socket().shutdown(asio::socket_base::shutdown_both, ignored);
        beast::get_lowest_layer(stream_).close();
    }

    asio::awaitable<void> run() override {
        const auto& cfg = state_->config;
        if constexpr (is_tls<Stream>) {
            arm(cfg.handshake_timeout);
            auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server,
                                                         asio::as_tuple(asio::use_awaitable));
            if (ec) {
                detail::log_line(cfg, log_level::info,
                                 "TLS handshake with " + remote + " failed: " + ec.message());
                co_return;
            }
        }
        using clock = std::chrono::steady_clock;
        // The first request's head must be complete by this time; later ones have their own deadlines.
        std::optional<clock::time_point> first_deadline;
        if (cfg.first_request_timeout.count() > 0)
            first_deadline = clock::now() + cfg.first_request_timeout;
        for (bool first = true; !must_close_; first = false) {
            parser_.emplace();
            parser_->header_limit(cfg.max_header_bytes);
            parser_->body_limit(boost::none); // checked when the body is read
            const auto head_deadline = first ? first_deadline : std::nullopt;
            if (buffer_.size() == 0) {
                // Idle until the first byte of a request: the connection may be shed meanwhile.
                if (first)
                    arm_at(head_deadline);
                else
                    arm(cfg.keep_alive_timeout);
                auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(first_read_bytes),
                                                                asio::as_tuple(asio::use_awaitable));
                if (ec) {
                    co_await on_header_error(ec, 0);
                    break;
                }
                buffer_.commit(n);
            }
            if (!listener_->enter(id_, phase::head))
                break; // shed
            // The rest of the head within header_timeout of its first byte (and the first deadline).
            auto deadline = head_deadline;
            if (cfg.header_timeout.count() > 0) {
                const auto per_head = clock::now() + cfg.header_timeout;
                if (!deadline || per_head < *deadline)
                    deadline = per_head;
            }
            arm_at(deadline);
            auto [ec, n] = co_await bhttp::async_read_header(stream_, buffer_, *parser_,
                                                             asio::as_tuple(asio::use_awaitable));
            if (ec) {
                co_await on_header_error(ec, n);
                break;
            }
            if (!listener_->enter(id_, phase::busy))
                break; // shed just before its head was complete
            begin_request();
            co_await handle_request();
            if (!authenticated_)
                must_close_ = true; // a request that did not authenticate its connection is its last
            if (!must_close_)
                listener_->enter(id_, phase::waiting);
        }
        listener_->enter(id_, phase::closing);
        co_await close_gracefully();
    }

    void mark_authenticated() override {
        if (authenticated_)
            return;
        authenticated_ = true;
        listener_->authenticated(id_);
    }

    // exchange_impl

    asio::awaitable<result<std::uint64_t>>
    read_body_into(std::function<result<void>(std::string_view)> consumer, std::uint64_t limit) override {
        if (body_ != body_state::unread)
            co_return make_http_error(errc::invalid_request, "the request body was already read");
        body_ = body_state::failed; // until it has been read completely
        const auto length = parser_->content_length();
        if (length && limit != 0 && *length > limit) {
            must_close_ = true;
            co_return make_http_error(errc::message_too_large, "request body of " + std::to_string(*length) +
                                                                   " bytes exceeds the limit of " +
                                                                   std::to_string(limit));
        }
        if (!continue_sent_ && status_sent == 0 &&
            beast::iequals(head[bhttp::field::expect], "100-continue")) {
            continue_sent_ = true;
            static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
            arm(state_->config.io_timeout);
            auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(interim.data(), interim.size()),
                                                      asio::as_tuple(asio::use_awaitable));
            if (ec) {
                must_close_ = true;
                co_return detail::io_error(ec, "writing 100 Continue to " + remote);
            }
        }
        bhttp::request_parser<detail::callback_sink_body> p{std::move(*parser_)};
        auto& b = p.get().body();
        b.limit = limit;
        b.on_chunk = [this, &consumer](std::string_view chunk) -> result<void> {
            if (observer)
                observer(chunk);
            return consumer(chunk);
        };
        if (limit != 0)
            p.body_limit(limit);
        else
            p.body_limit(boost::none);
        while (!p.is_done()) {
            arm(state_->config.io_timeout);
            auto [ec, n] =
                co_await bhttp::async_read_some(stream_, buffer_, p, asio::as_tuple(asio::use_awaitable));
            if (ec) {
                must_close_ = true;
                if (ec == make_error_code(errc::body_sink_failed) && b.failure)
                    co_return *b.failure;
                co_return detail::io_error(ec, "reading request body from " + remote);
            }
        }
        body_ = body_state::read;
        co_return b.received;
    }

    asio::awaitable<result<void>> send(reply r) override {
        if (status_sent != 0)
            co_return make_http_error(errc::invalid_request, "a response was already sent for this request");
        auto source = detail::resolve(std::move(r.body));
        if (!source)
            co_return source.error();
        status_sent = r.status;
        const bool keep = decide_keep_alive(r.headers);
        const auto& src = *source;
        const bool no_body_status = r.status == 204 || r.status == 304 || r.status < 200;

        if (head.method() == verb::head || no_body_status) {
            bhttp::response<bhttp::empty_body> res;
            fill_head(res, r.status, r.headers, keep);
            if (!no_body_status && src.length && !src.chunked)
                res.content_length(*src.length);
            bhttp::serializer<false, bhttp::empty_body> sr{res};
            co_return co_await finish_write(&sr, nullptr);
        }
        bhttp::response<detail::source_body> res;
        fill_head(res, r.status, r.headers, keep);
        res.body().source = std::make_shared<const detail::resolved_source>(std::move(*source));
        const auto& s = *res.body().source;
        if (s.chunked || !s.length)
            res.chunked(true);
        else
            res.content_length(*s.length);
        bhttp::serializer<false, detail::source_body> sr{res};
        co_return co_await finish_write(&sr, res.body().failure.get());
    }

    asio::awaitable<result<void>> start_chunked(unsigned status, fields headers) override {
        if (status_sent != 0)
            co_return make_http_error(errc::invalid_request, "a response was already sent for this request");
        status_sent = status;
        chunking_ = true;
        const bool keep = decide_keep_alive(headers);
        bhttp::response<bhttp::empty_body> res;
        fill_head(res, status, headers, keep);
        res.chunked(true);
        bhttp::serializer<false, bhttp::empty_body> sr{res};
        arm(state_->config.io_timeout);
        auto [ec, n] = co_await bhttp::async_write_header(stream_, sr, asio::as_tuple(asio::use_awaitable));
        if (ec) {
            must_close_ = true;
            co_return detail::io_error(ec, "writing response head to " + remote);
        }
        co_return result<void>{};
    }

    asio::awaitable<result<void>> write_chunk(std::string bytes) override {
        if (!chunking_ || chunks_done_)
            co_return make_http_error(errc::invalid_request, "no chunked response is open");
        if (bytes.empty())
            co_return result<void>{}; // an empty chunk would end the stream
        arm(state_->config.io_timeout);
        auto [ec, n] = co_await asio::async_write(stream_, bhttp::make_chunk(asio::buffer(bytes)),
                                                  asio::as_tuple(asio::use_awaitable));
        if (ec) {
            must_close_ = true;
            co_return detail::io_error(ec, "writing to " + remote);
        }
        co_return result<void>{};
    }

    asio::awaitable<result<void>> finish_chunked() override {
        if (!chunking_ || chunks_done_)
            co_return make_http_error(errc::invalid_request, "no chunked response is open");
        chunks_done_ = true;
        arm(state_->config.io_timeout);
        auto [ec, n] = co_await asio::async_write(stream_, bhttp::make_chunk_last(),
                                                  asio::as_tuple(asio::use_awaitable));
        if (ec) {
            must_close_ = true;
            co_return detail::io_error(ec, "writing to " + remote);
        }
        co_return result<void>{};
    }

private:
    enum class body_state { unread, read, failed };

    static constexpr std::size_t first_read_bytes = 4096;

    void arm(std::chrono::milliseconds timeout) {
        auto& low = beast::get_lowest_layer(stream_);
        if (timeout.count() > 0)
            low.expires_after(timeout);
        else
            low.expires_never();
    }

    void arm_at(std::optional<std::chrono::steady_clock::time_point> deadline) {
        auto& low = beast::get_lowest_layer(stream_);
        if (deadline)
            low.expires_at(*deadline);
        else
            low.expires_never();
    }

    void begin_request() {
        head = parser_->get().base();
        keep_alive = parser_->keep_alive();
        params.clear();
        observer = nullptr;
        reset_after.reset();
        status_sent = 0;
        body_ = body_state::unread;
        has_body_ = parser_->chunked() || parser_->content_length().value_or(0) > 0;
        chunking_ = false;
        chunks_done_ = false;
        continue_sent_ = false;
        written_ = 0;
    }

    bool decide_keep_alive(const fields& reply_headers) {
        const auto conn = reply_headers[bhttp::field::connection];
        if (!keep_alive || !authenticated_ || beast::iequals(conn, "close") || state_->stopped_flag())
            must_close_ = true;
        return !must_close_;
    }

    template <class Message>
    void fill_head(Message& res, unsigned status, const fields& headers, bool keep) {
        res.version(11);
        res.result(status);
        for (const auto& f : headers)
            res.set(f.name_string(), f.value());
        res.keep_alive(keep);
    }

    template <class Serializer>
    asio::awaitable<result<void>> finish_write(Serializer* sr, const std::string* source_failure) {
        const auto ec = co_await write_message(sr);
        if (!ec)
            co_return result<void>{};
        must_close_ = true;
        if (ec == make_error_code(errc::body_source_failed) && source_failure)
            co_return make_http_error(errc::body_source_failed, *source_failure);
        co_return detail::io_error(ec, "writing response to " + remote);
    }

    template <class Serializer>
    asio::awaitable<boost::system::error_code> write_message(Serializer* sr) {
        while (!sr->is_done()) {
            arm(state_->config.io_timeout);
            if (!reset_after) {
                auto [ec, n] =
                    co_await bhttp::async_write_some(stream_, *sr, asio::as_tuple(asio::use_awaitable));
                written_ += n;
                if (ec)
                    co_return ec;
                continue;
            }
            // Fault injection: write at most reset_after bytes, then cut the connection.
            boost::system::error_code ec;
            std::vector<asio::const_buffer> buffers;
            sr->next(ec, [&](boost::system::error_code&, const auto& bs) {
                for (auto b : beast::buffers_range_ref(bs))
                    buffers.emplace_back(b);
            });
            if (ec)
                co_return ec;
            const std::uint64_t left = *reset_after > written_ ? *reset_after - written_ : 0;
            const std::size_t allowed =
                static_cast<std::size_t>(std::min<std::uint64_t>(asio::buffer_size(buffers), left));
            auto [wec, n] = co_await asio::async_write(stream_, beast::buffers_prefix(allowed, buffers),
                                                       asio::as_tuple(asio::use_awaitable));
            if (wec)
                co_return wec;
            written_ += n;
            sr->consume(n);
            if (written_ >= *reset_after) {
                abort_connection();
                co_return make_error_code(errc::connection_lost);
            }
        }
        co_return boost::system::error_code{};
    }

    void abort_connection() {
        auto& low = beast::get_lowest_layer(stream_);
        boost::system::error_code ignored;
        if constexpr (!std::is_same_v<Stream, unix_stream>) // TCP: reset, not FIN
            low.socket().set_option(asio::socket_base::linger(true, 0), ignored);
        low.close();
        must_close_ = true;
        aborted_ = true;
    }

    asio::awaitable<void> on_header_error(boost::system::error_code ec, std::size_t n) {
        const auto& cfg = state_->config;
        const bool nothing = n == 0 && buffer_.size() == 0;
        if (must_close_)
            co_return; // closed by the server: shed, or stopping
        if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
            (nothing && (ec == beast::error::timeout || ec == asio::error::operation_aborted ||
                         ec == asio::ssl::error::stream_truncated || ec == asio::error::connection_reset))) {
            co_return; // the peer is done, or an idle keep-alive connection timed out
        }
        if (ec == bhttp::error::header_limit) {
            co_await send_plain(431, "request header larger than " + std::to_string(cfg.max_header_bytes) +
                                         " bytes\n");
            co_return;
        }
        if (ec.category() == make_error_code(bhttp::error::end_of_stream).category()) {
            co_await send_plain(400, "malformed request: " + ec.message() + "\n");
            co_return;
        }
        detail::log_line(cfg, log_level::info,
                         "reading a request from " + remote + " failed: " + ec.message());
    }

    // Answers a request whose head could not be read, then the connection closes.
    asio::awaitable<void> send_plain(unsigned status, std::string text) {
        must_close_ = true;
        bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), 11};
        res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
        res.keep_alive(false);
        res.body() = std::move(text);
        res.prepare_payload();
        arm(state_->config.io_timeout);
        co_await bhttp::async_write(stream_, res, asio::as_tuple(asio::use_awaitable));
    }

    asio::awaitable<void> handle_request() {
        const auto& cfg = state_->config;
        std::string failure;
        try {
            co_await state_->routes.dispatch(exchange(this));
        } catch (const std::exception& e) {
            failure = e.what();
        }
        if (!failure.empty())
            detail::log_line(cfg, log_level::error,
                             "handler for " + std::string(head.method_string()) + " " +
                                 std::string(head.target()) + " failed: " + failure);
        if (aborted_)
            co_return;
        if (chunking_ && !chunks_done_)
            must_close_ = true; // an abandoned stream cannot be ended cleanly
        if (status_sent == 0) {
            auto r = co_await send(
                reply::text(500, failure.empty() ? "the handler sent no response\n" : "internal error\n"));
            (void)r;
        }
        if (body_ == body_state::unread && !must_close_) {
            if (has_body_) {
                auto drained = co_await read_body_into([](std::string_view) -> result<void> { return {}; },
                                                       cfg.max_body_bytes);
                if (!drained)
                    must_close_ = true;
            }
        }
        if (!keep_alive)
            must_close_ = true;
    }

    asio::awaitable<void> close_gracefully() {
        auto& low = beast::get_lowest_layer(stream_);
        if (aborted_ || !low.socket().is_open())
            co_return;
        if (has_body_ && body_ != body_state::read && status_sent != 0) {
            // The client may still be sending a body we refused. Closing now would reset the
            // connection and could destroy our answer in its receive buffer, so read and discard
            // for a moment first ("lingering close").
            constexpr std::uint64_t linger_bytes = 64 * 1024 * 1024;
            low.expires_after(std::chrono::seconds(1));
            std::uint64_t discarded = 0;
            std::vector<char> scratch(64 * 1024);
            while (discarded < linger_bytes) {
                auto [ec, n] = co_await stream_.async_read_some(asio::buffer(scratch),
                                                                asio::as_tuple(asio::use_awaitable));
                if (ec)
                    break;
                discarded += n;
            }
            if (!low.socket().is_open())
                co_return;
        }
        if constexpr (is_tls<Stream>) {
            low.expires_after(std::chrono::seconds(1));
            co_await stream_.async_shutdown(asio::as_tuple(asio::use_awaitable));
        }
        boost::system::error_code ignored;
        low.socket().shutdown(asio::socket_base::shutdown_both, ignored);
        low.close();
    }

    Stream stream_;
    std::shared_ptr<server::state> state_;
    std::shared_ptr<listener_slots> listener_;
    std::uint64_t id_;
    bool authenticated_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::empty_body>> parser_;
    body_state body_ = body_state::unread;
    bool has_body_ = false;
    bool chunking_ = false;
    bool chunks_done_ = false;
    bool continue_sent_ = false;
    bool must_close_ = false;
    bool aborted_ = false;
    std::uint64_t written_ = 0;
};

// Refuses a connection on a listener whose every slot has a request in progress: answers 503
// at once, without waiting for the request, then closes after a short "lingering close" so the
// client reads the answer rather than a reset.
template <class Stream>
asio::awaitable<void> answer_busy(Stream stream, std::shared_ptr<listener_slots> listener) {
    struct done {
        listener_slots& l;
        ~done() { l.answered(); }
    } counted{*listener};
    const std::string body = "the server is busy: every one of the " + std::to_string(listener->max) +
                             " connections this listener allows has a request in progress; try again "
                             "shortly\n";
    const std::string response = "HTTP/1.1 503 Service Unavailable\r\n"
                                 "Content-Type: text/plain; charset=utf-8\r\n"
                                 "Retry-After: 1\r\n"
                                 "Connection: close\r\n"
                                 "Content-Length: " +
                                 std::to_string(body.size()) + "\r\n\r\n" + body;
    stream.expires_after(std::chrono::seconds(1));
    auto [ec, n] =
        co_await asio::async_write(stream, asio::buffer(response), asio::as_tuple(asio::use_awaitable));
    auto& socket = stream.socket();
    boost::system::error_code ignored;
    if (!ec) {
        socket.shutdown(asio::socket_base::shutdown_send, ignored);
        std::array<char, 4096> scratch{};
        for (std::size_t discarded = 0; discarded < 64 * 1024;) {
            auto [rec, got] =
                co_await stream.async_read_some(asio::buffer(scratch), asio::as_tuple(asio::use_awaitable));
            if (rec)
                break;
            discarded += got;
        }
    }
    socket.close(ignored);
}

// Accepts without ever waiting for a slot: each new connection is admitted (maybe shedding an
// idle one) or refused at once.
template <class Acceptor, class MakeSession, class Refuse>
asio::awaitable<void> accept_loop(std::shared_ptr<server::state> st, std::shared_ptr<Acceptor> acceptor,
                                  std::shared_ptr<listener_slots> listener, MakeSession make_session,
                                  Refuse refuse) {
    for (;;) {
        auto session_executor = asio::make_strand(st->executor);
        auto [ec, socket] =
            co_await acceptor->async_accept(session_executor, asio::as_tuple(asio::use_awaitable));
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor->is_open())
                co_return;
            detail::log_line(st->config, log_level::warning, "accept failed: " + ec.message());
            // Out of descriptors, most likely: do not spin.
            asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
            co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
            continue;
        }
        ++st->accepted;
        const std::uint64_t id = st->next_id++;
        auto admission = listener->admit(id);
        if (!admission.admitted) {
            if (admission.answer) {
                refuse(std::move(socket), listener);
            } else {
                boost::system::error_code ignored;
                socket.close(ignored);
            }
            continue;
        }
        if (admission.victim)
            admission.victim->close();
        auto s = make_session(std::move(socket), listener, id);
        listener->bind(id, s);
        st->start(id, std::move(s), session_executor, listener);
    }
}

void log_exception(const std::shared_ptr<server::state>& st, std::exception_ptr e) {
    if (!e)
        return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        detail::log_line(st->config, log_level::error, std::string("listener failed: ") + x.what());
    }
}

} // namespace

// ---------------------------------------------------------------------------------------------
// server

server::server(asio::any_io_executor executor, router r, server_config config)
    : state_(std::make_shared<state>(std::move(executor), std::move(r), std::move(config))) {}

server::~server() {
    stop();
}

namespace {

result<std::shared_ptr<tcp::acceptor>> bind_tcp(const std::shared_ptr<server::state>& st,
                                                tcp::endpoint endpoint) {
    auto acceptor = std::make_shared<tcp::acceptor>(st->strand);
    boost::system::error_code ec;
    acceptor->open(endpoint.protocol(), ec);
    if (!ec)
        acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec)
        acceptor->bind(endpoint, ec);
    if (!ec)
        acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return make_error(ec, "cannot listen on " + endpoint.address().to_string() + ":" +
                                  std::to_string(endpoint.port()) + ": " + ec.message());
    {
        std::lock_guard lock(st->mutex);
        st->listener_closers.push_back([acceptor, strand = st->strand] {
            asio::post(strand, [acceptor] {
                boost::system::error_code ignored;
                acceptor->close(ignored);
            });
        });
    }
    return acceptor;
}

std::string remote_of(const tcp::socket& socket) {
    boost::system::error_code e;
    const auto peer = socket.remote_endpoint(e);
    return e ? "unknown" : peer.address().to_string() + ":" + std::to_string(peer.port());
}

std::string endpoint_text(const tcp::endpoint& e) {
    return e.address().is_v6() ? "[" + e.address().to_string() + "]:" + std::to_string(e.port())
                               : e.address().to_string() + ":" + std::to_string(e.port());
}

} // namespace

result<tcp::endpoint> server::listen_tls(tcp::endpoint endpoint, asio::ssl::context& tls,
                                         listener_options options) {
    auto acceptor = bind_tcp(state_, endpoint);
    if (!acceptor)
        return acceptor.error();
    const auto bound = (*acceptor)->local_endpoint();
    auto st = state_;
    auto listener =
        st->add_listener(options.name.empty() ? "tls " + endpoint_text(bound) : options.name, options);
    auto make = [st, ctx = &tls](tcp::socket socket, std::shared_ptr<listener_slots> l,
                                 std::uint64_t id) -> std::shared_ptr<session_base> {
        auto remote = remote_of(socket);
        return std::make_shared<session<tls_stream>>(tls_stream(beast::tcp_stream(std::move(socket)), *ctx),
                                                     st, std::move(remote), std::move(l), id);
    };
    // No handshake for a connection that is turned away: it is closed at once.
    auto refuse = [](tcp::socket socket, const std::shared_ptr<listener_slots>& l) {
        boost::system::error_code ignored;
        socket.close(ignored);
        l->answered();
    };
    asio::co_spawn(state_->strand, accept_loop(st, *acceptor, std::move(listener), make, refuse),
                   [st](std::exception_ptr e) { log_exception(st, e); });
    return bound;
}

result<tcp::endpoint> server::listen_plain(tcp::endpoint endpoint, listener_options options) {
    auto acceptor = bind_tcp(state_, endpoint);
    if (!acceptor)
        return acceptor.error();
    const auto bound = (*acceptor)->local_endpoint();
    auto st = state_;
    auto listener =
        st->add_listener(options.name.empty() ? "tcp " + endpoint_text(bound) : options.name, options);
    auto make = [st](tcp::socket socket, std::shared_ptr<listener_slots> l,
                     std::uint64_t id) -> std::shared_ptr<session_base> {
        auto remote = remote_of(socket);
        return std::make_shared<session<plain_stream>>(plain_stream(std::move(socket)), st, std::move(remote),
                                                       std::move(l), id);
    };
    auto refuse = [](tcp::socket socket, std::shared_ptr<listener_slots> l) {
        auto executor = socket.get_executor();
        asio::co_spawn(executor, answer_busy(plain_stream(std::move(socket)), std::move(l)), asio::detached);
    };
    asio::co_spawn(state_->strand, accept_loop(st, *acceptor, std::move(listener), make, refuse),
                   [st](std::exception_ptr e) { log_exception(st, e); });
    return bound;
}

result<void> server::listen_unix(std::filesystem::path path, std::filesystem::perms mode,
                                 listener_options options) {
    namespace fs = std::filesystem;
    std::error_code fec;
    const auto status = fs::symlink_status(path, fec);
    if (!fec && fs::exists(status)) {
        if (!fs::is_socket(status))
            return make_error(make_error_code(boost::system::errc::file_exists),
                              "cannot listen on " + path.string() +
                                  ": a file that is not a socket is in the way");
        fs::remove(path, fec);
    }
    using protocol = asio::local::stream_protocol;
    auto acceptor = std::make_shared<protocol::acceptor>(state_->strand);
    boost::system::error_code ec;
    acceptor->open(protocol(), ec);
    if (!ec)
        acceptor->bind(protocol::endpoint(path.string()), ec);
    if (!ec) {
        // Before listen(): nobody can connect while the socket still has the umask's permissions.
        fs::permissions(path, mode, fs::perm_options::replace, fec);
        if (fec)
            ec = boost::system::error_code(fec.value(), boost::system::system_category());
    }
    if (!ec)
        acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return make_error(ec, "cannot listen on " + path.string() + ": " + ec.message());
    {
        std::lock_guard lock(state_->mutex);
        state_->listener_closers.push_back([acceptor, strand = state_->strand] {
            asio::post(strand, [acceptor] {
                boost::system::error_code ignored;
                acceptor->close(ignored);
            });
        });
    }
    auto st = state_;
    auto listener = st->add_listener(options.name.empty() ? "unix " + path.string() : options.name, options);
    auto make = [st](protocol::socket socket, std::shared_ptr<listener_slots> l,
                     std::uint64_t id) -> std::shared_ptr<session_base> {
        return std::make_shared<session<unix_stream>>(unix_stream(std::move(socket)), st, "unix",
                                                      std::move(l), id);
    };
    auto refuse = [](protocol::socket socket, std::shared_ptr<listener_slots> l) {
        auto executor = socket.get_executor();
        asio::co_spawn(executor, answer_busy(unix_stream(std::move(socket)), std::move(l)), asio::detached);
    };
    asio::co_spawn(state_->strand, accept_loop(st, acceptor, std::move(listener), make, refuse),
                   [st](std::exception_ptr e) { log_exception(st, e); });
    return {};
}

void server::stop() {
    std::vector<std::function<void()>> closers;
    std::vector<std::shared_ptr<session_base>> live;
    {
        std::lock_guard lock(state_->mutex);
        if (state_->stopped)
            return;
        state_->stopped = true;
        closers.swap(state_->listener_closers);
        for (auto& [id, weak] : state_->sessions)
            if (auto s = weak.lock())
                live.push_back(std::move(s));
    }
    for (auto& c : closers)
        c();
    for (auto& s : live)
        s->close();
}

std::size_t server::active_connections() const {
    std::lock_guard lock(state_->mutex);
    return state_->sessions.size();
}

std::uint64_t server::connections_accepted() const {
    return state_->accepted;
}

std::vector<listener_stats> server::listeners() const {
    std::vector<std::shared_ptr<listener_slots>> all;
    {
        std::lock_guard lock(state_->mutex);
        all = state_->listeners;
    }
    std::vector<listener_stats> out;
    out.reserve(all.size());
    for (const auto& l : all)
        out.push_back(l->stats());
    return out;
}

result<std::shared_ptr<asio::ssl::context>> make_server_tls(const std::filesystem::path& certificate_chain,
                                                            const std::filesystem::path& private_key) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    boost::system::error_code ec;
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_compression, ec);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    ctx->use_certificate_chain_file(certificate_chain.string(), ec);
    if (ec)
        return make_error(ec,
                          "cannot load TLS certificate " + certificate_chain.string() + ": " + ec.message());
    ctx->use_private_key_file(private_key.string(), asio::ssl::context::pem, ec);
    if (ec)
        return make_error(ec, "cannot load TLS key " + private_key.string() + ": " + ec.message());
    return ctx;
}

} // namespace kurer::http

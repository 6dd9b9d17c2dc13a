// The blocking admin-socket client (kurerctl, tests).
#include <kurer/engine/admin_client.hpp>
#include <kurer/http/error.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include <fstream>
#include <sys/socket.h>
#include <sys/time.h>
#include <vector>

namespace kurer::engine {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using kurer::http::errc;
using kurer::http::make_http_error;

std::string admin_response::header(std::string_view name) const {
    auto it = headers.find(boost::beast::string_view(name.data(), name.size()));
    return it == headers.end() ? std::string() : std::string(it->value());
}

namespace {

error io_failure(const boost::system::error_code& ec, const std::string& what) {
    if (ec == asio::error::would_block || ec == asio::error::try_again || ec == asio::error::timed_out)
        return make_http_error(errc::timeout, what + ": timed out");
    if (ec == bhttp::error::body_limit)
        return make_http_error(errc::message_too_large, what + ": the answer is larger than the limit");
    if (ec.category() == make_error_code(bhttp::error::end_of_stream).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message)
        return make_http_error(errc::bad_message, what + ": " + ec.message());
    return make_http_error(errc::connection_lost, what + ": " + ec.message());
}

template <class Socket>
void set_timeouts(Socket& s, std::chrono::milliseconds timeout) {
    if (timeout.count() <= 0)
        return;
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// One exchange on a connected socket.
template <class Socket>
class exchange_on {
public:
    exchange_on(Socket& s, std::string where)
        : s_(s)
        , where_(std::move(where)) {}

    result<void> write_request(const admin_request& r, const std::string& host, const std::string& token) {
        bhttp::request<bhttp::empty_body> head{r.method, r.target, 11};
        for (const auto& f : r.headers)
            head.set(f.name_string(), f.value());
        head.set(bhttp::field::host, host);
        if (!token.empty())
            head.set(bhttp::field::authorization, "Bearer " + token);
        if (head.find(bhttp::field::user_agent) == head.end())
            head.set(bhttp::field::user_agent, "kurerctl");
        std::uint64_t length = r.body.size();
        std::ifstream file;
        if (r.body_file) {
            std::error_code ec;
            length = std::filesystem::file_size(*r.body_file, ec);
            if (!ec)
                file.open(*r.body_file, std::ios::binary);
            if (ec || !file)
                return make_http_error(errc::body_source_failed,
                                       "cannot read " + r.body_file->string() +
                                           (ec ? ": " + ec.message() : std::string()));
        }
        if (length > 0 || r.method == bhttp::verb::post || r.method == bhttp::verb::put)
            head.content_length(length);
        boost::system::error_code ec;
        bhttp::request_serializer<bhttp::empty_body> sr{head};
        bhttp::write_header(s_, sr, ec);
        if (ec)
            return io_failure(ec, "sending the request to " + where_);
        if (!r.body_file) {
            asio::write(s_, asio::buffer(r.body), ec);
            if (ec)
                return io_failure(ec, "sending the request body to " + where_);
            if (r.progress && length > 0)
                r.progress(length, length);
            return {};
        }
        std::vector<char> chunk(256 * 1024);
        std::uint64_t sent = 0;
        while (sent < length) {
            file.read(chunk.data(),
                      static_cast<std::streamsize>(std::min<std::uint64_t>(chunk.size(), length - sent)));
            const auto n = static_cast<std::size_t>(file.gcount());
            if (n == 0)
                return make_http_error(errc::body_source_failed,
                                       r.body_file->string() + " became shorter while it was sent");
            asio::write(s_, asio::buffer(chunk.data(), n), ec);
            if (ec)
                return io_failure(ec, "sending " + r.body_file->string() + " to " + where_);
            sent += n;
            if (r.progress)
                r.progress(sent, length);
        }
        return {};
    }

    // Reads the head, then the body piece by piece into `consume` (which may refuse by returning
    // an error).
    template <class Consume, class OnHead>
    result<admin_response> read_response(bool head_request, OnHead on_head, Consume consume) {
        bhttp::response_parser<bhttp::buffer_body> p;
        p.body_limit(boost::none);
        if (head_request)
            p.skip(true);
        boost::system::error_code ec;
        bhttp::read_header(s_, buffer_, p, ec);
        if (ec)
            return io_failure(ec, "reading the answer from " + where_);
        admin_response out;
        out.status = p.get().result_int();
        for (const auto& f : p.get())
            out.headers.insert(f.name_string(), f.value());
        if (auto started = on_head(out); !started)
            return started.error();
        std::vector<char> chunk(64 * 1024);
        while (!p.is_done()) {
            p.get().body().data = chunk.data();
            p.get().body().size = chunk.size();
            // read_some, not read: a long-lived stream's lines must reach the caller as they
            // arrive, not when 64 KiB have gathered.
            bhttp::read_some(s_, buffer_, p, ec);
            if (ec == bhttp::error::need_buffer)
                ec = {};
            if (ec)
                return io_failure(ec, "reading the answer from " + where_);
            const auto n = chunk.size() - p.get().body().size;
            if (n > 0) {
                out.body_size += n;
                if (auto ok = consume(out, std::string_view(chunk.data(), n)); !ok)
                    return ok.error();
            }
        }
        return out;
    }

private:
    Socket& s_;
    std::string where_;
    boost::beast::flat_buffer buffer_;
};

template <class F>
auto with_socket(const admin_target& t, std::chrono::milliseconds timeout, const std::string& where, F f)
    -> decltype(f(std::declval<asio::local::stream_protocol::socket&>())) {
    asio::io_context io;
    boost::system::error_code ec;
    if (!t.socket.empty()) {
        asio::local::stream_protocol::socket s(io);
        s.connect(asio::local::stream_protocol::endpoint(t.socket.string()), ec);
        if (ec)
            return make_http_error(errc::connect_failed, "cannot connect to " + where + ": " + ec.message());
        set_timeouts(s, timeout);
        return f(s);
    }
    asio::ip::tcp::socket s(io);
    const auto address = asio::ip::make_address(t.host, ec);
    if (ec)
        return make_http_error(errc::invalid_request, "'" + t.host + "' is not an IP address");
    s.connect({address, t.port}, ec);
    if (ec)
        return make_http_error(errc::connect_failed, "cannot connect to " + where + ": " + ec.message());
    set_timeouts(s, timeout);
    return f(s);
}

} // namespace

admin_client::admin_client(admin_target target, std::chrono::milliseconds timeout)
    : target_(std::move(target))
    , timeout_(timeout) {}

std::string admin_client::describe() const {
    if (!target_.socket.empty())
        return target_.socket.string();
    return target_.host + ":" + std::to_string(target_.port);
}

result<admin_response> admin_client::send(admin_request request) const {
    const auto where = describe();
    const std::string host = target_.socket.empty() ? where : "localhost";
    return with_socket(target_, timeout_, where, [&](auto& socket) -> result<admin_response> {
        exchange_on<std::remove_reference_t<decltype(socket)>> x(socket, where);
        if (auto w = x.write_request(request, host, target_.token); !w)
            return w.error();
        std::ofstream out;
        std::optional<std::filesystem::path> sink;
        auto on_head = [&](const admin_response& head) -> result<void> {
            if (!request.save_to || head.status < 200 || head.status >= 300)
                return {};
            std::error_code ignored;
            std::filesystem::remove(*request.save_to, ignored);
            out.open(*request.save_to, std::ios::binary | std::ios::trunc);
            if (!out)
                return make_http_error(errc::body_sink_failed, "cannot create " + request.save_to->string());
            std::filesystem::permissions(
                *request.save_to, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                ignored);
            sink = request.save_to;
            return {};
        };
        auto consume = [&](admin_response& r, std::string_view bytes) -> result<void> {
            if (sink) {
                out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
                if (!out)
                    return make_http_error(errc::body_sink_failed, "cannot write " + sink->string());
                return {};
            }
            if (request.max_body_bytes != 0 && r.body.size() + bytes.size() > request.max_body_bytes)
                return make_http_error(errc::message_too_large,
                                       "the answer from " + where + " is larger than " +
                                           std::to_string(request.max_body_bytes) + " bytes");
            r.body.append(bytes);
            return {};
        };
        auto r = x.read_response(request.method == boost::beast::http::verb::head, on_head, consume);
        if (sink) {
            out.close();
            if (r && !out)
                return make_http_error(errc::body_sink_failed, "cannot write " + sink->string());
        }
        return r;
    });
}

result<unsigned> admin_client::stream_lines(std::string target,
                                            const std::function<bool(std::string_view)>& on_line) const {
    const auto where = describe();
    const std::string host = target_.socket.empty() ? where : "localhost";
    return with_socket(target_, std::chrono::milliseconds(0), where, [&](auto& socket) -> result<unsigned> {
        if (timeout_.count() > 0) {
            // Writing the request may time out; reading the stream may wait for ever.
            timeval tv{};
            tv.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
            ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        }
        exchange_on<std::remove_reference_t<decltype(socket)>> x(socket, where);
        admin_request request;
        request.target = std::move(target);
        if (auto w = x.write_request(request, host, target_.token); !w)
            return w.error();
        std::string pending;
        bool stopped = false;
        unsigned status = 0;
        auto consume = [&](admin_response&, std::string_view bytes) -> result<void> {
            pending.append(bytes);
            std::size_t start = 0;
            for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n', start)) {
                if (!on_line(std::string_view(pending).substr(start, nl - start))) {
                    stopped = true;
                    return make_http_error(errc::cancelled, "stopped by the caller");
                }
                start = nl + 1;
            }
            pending.erase(0, start);
            if (pending.size() > 16 * 1024 * 1024)
                return make_http_error(errc::message_too_large, "a line longer than 16 MiB from " + where);
            return {};
        };
        auto on_head = [&](const admin_response& head) -> result<void> {
            status = head.status;
            return {};
        };
        auto r = x.read_response(false, on_head, consume);
        if (stopped)
            return status;
        if (!r)
            return r.error();
        if (!pending.empty())
            on_line(pending);
        return r->status;
    });
}

} // namespace kurer::engine

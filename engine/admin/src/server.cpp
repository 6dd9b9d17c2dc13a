// Starting and stopping the admin server: config checks, the listeners, the bearer-token guard
// of the TCP listener, the drafts directory, and the feeds from the runner (events, metrics).
#include "internal.hpp"

#include <kurer/core/files.hpp>
#include <kurer/http/error.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/http/field.hpp>

#include <sys/un.h>

namespace kurer::engine {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using admin::answer;
using admin::exchange;

struct admin_server::impl {
    std::shared_ptr<admin::state> st;
    std::unique_ptr<http::server> server;
    std::unique_ptr<runner_metrics> feed;
    std::optional<asio::ip::tcp::endpoint> tcp;
    fs::path socket;
    std::uint64_t collector = 0;
    bool stopped = false;
};

namespace {

error invalid(std::string message) {
    return make_error(make_error_code(errc::invalid_request), "admin: " + std::move(message));
}

bool is_org_number(std::string_view s) {
    return s.size() == 9 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Compares without an early exit, so the time taken says nothing about where they differ.
bool same_secret(std::string_view a, std::string_view b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
    return diff == 0;
}

result<std::string> read_token(const admin_tcp_config& c) {
    if (!c.token.empty() && !c.token_file.empty())
        return invalid("admin_tcp: give token or token_file, not both");
    std::string token = c.token;
    if (!c.token_file.empty()) {
        auto text = read_small_file(c.token_file, 4096);
        if (!text)
            return invalid("admin_tcp.token_file: " + text.error().message);
        token = text->substr(0, text->find_first_of("\r\n"));
    }
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
        token.pop_back();
    if (token.size() < 16)
        return invalid("admin_tcp: the bearer token must be at least 16 characters");
    return token;
}

// A socket file at `path` is refused when something accepts connections on it.
result<void> check_socket_path(const fs::path& path) {
    if (path.string().size() >= sizeof(sockaddr_un{}.sun_path))
        return invalid("socket_path: " + path.string() + " is longer than the " +
                       std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) +
                       " bytes a Unix socket path may have");
    std::error_code ec;
    const auto status = fs::symlink_status(path, ec);
    if (ec || !fs::exists(status))
        return {};
    if (!fs::is_socket(status))
        return invalid("socket_path: " + path.string() + " exists and is not a socket");
    asio::io_context io;
    asio::local::stream_protocol::socket probe(io);
    boost::system::error_code cec;
    probe.connect(asio::local::stream_protocol::endpoint(path.string()), cec);
    if (!cec)
        return make_error(make_error_code(boost::system::errc::address_in_use),
                          "admin: another process is serving on " + path.string() +
                              " (is kurer already running with this config?)");
    if (cec != asio::error::connection_refused)
        return invalid("socket_path: cannot check " + path.string() + ": " + cec.message());
    return {}; // stale: the server replaces it
}

} // namespace

admin_server::admin_server(std::unique_ptr<impl> p)
    : impl_(std::move(p)) {}

admin_server::~admin_server() {
    stop();
}

result<std::unique_ptr<admin_server>> admin_server::start(admin_context context, admin_config config,
                                                          asio::any_io_executor executor) {
    if (config.socket_path.empty())
        return invalid("socket_path: missing");
    if (config.drafts_dir.empty())
        return invalid("drafts_dir: missing");
    if (!is_org_number(context.organization))
        return invalid("organization: '" + context.organization + "' is not a 9-digit organisation number");
    if (context.default_process.empty())
        return invalid("default_process: missing");
    if (config.max_connections == 0 || config.max_json_bytes == 0 || config.max_page_size == 0 ||
        config.max_files == 0 || config.max_event_clients == 0)
        return invalid("limits: max_connections, max_event_clients, max_json_bytes, max_page_size and "
                       "max_files must be positive");
    std::optional<std::string> token;
    std::optional<asio::ip::tcp::endpoint> tcp_endpoint;
    if (config.tcp) {
        boost::system::error_code ec;
        const auto address = asio::ip::make_address(config.tcp->address, ec);
        if (ec)
            return invalid("admin_tcp.address: '" + config.tcp->address + "' is not an IP address");
        if (!address.is_loopback())
            return invalid("admin_tcp.address: " + config.tcp->address +
                           " is not a loopback address; the admin API is only offered on 127.0.0.0/8 or ::1");
        auto t = read_token(*config.tcp);
        if (!t)
            return t.error();
        token = std::move(*t);
        if (config.tcp->max_connections == 0)
            return invalid("admin_tcp.max_connections: must be positive");
        tcp_endpoint = asio::ip::tcp::endpoint(address, config.tcp->port);
    }
    if (auto ok = check_socket_path(config.socket_path); !ok)
        return ok.error();
    if (config.socket_path.has_parent_path()) {
        std::error_code ec;
        fs::create_directories(config.socket_path.parent_path(), ec);
    }

    auto st = std::make_shared<admin::state>(std::move(context), std::move(config), executor);
    auto& engine = st->ctx.engine;
    auto kept = st->drafts.open([&engine](const std::string& id) {
        auto o = engine.find_outgoing(id);
        return o && o->has_value();
    });
    if (!kept)
        return kept.error();

    admin::route_table routes(st);
    admin::add_outgoing_routes(routes, st);
    admin::add_incoming_routes(routes, st);
    admin::add_status_routes(routes, st);
    admin::add_admin_routes(routes, st);
    auto router = routes.build();
    if (token) {
        // TCP clients prove themselves with the bearer token; the Unix socket's 0600 mode does that.
        // A valid token marks the connection authenticated (it may then stay open and is shed only
        // after every unauthenticated one); a missing or wrong one gets the 401 and the connection
        // is closed after it.
        router.use([st, secret = "Bearer " + *token](exchange ex,
                                                     http::handler next) -> asio::awaitable<void> {
            if (ex.remote_address() != "unix") {
                if (!same_secret(ex.header("authorization"), secret)) {
                    auto a = answer::fail(401, "org.springframework.security.access.AccessDeniedException",
                                          "this listener requires Authorization: Bearer <token>");
                    a.headers.set(boost::beast::http::field::www_authenticate, "Bearer");
                    a.headers.set(boost::beast::http::field::connection, "close");
                    co_await admin::send_answer(ex, std::move(a));
                    co_return;
                }
                ex.authenticated();
            }
            co_await next(ex);
        });
    }

    http::server_config sc;
    sc.max_connections = st->config.max_connections;
    sc.max_header_bytes = st->config.max_header_bytes;
    sc.max_body_bytes = st->config.max_json_bytes;
    sc.first_request_timeout = st->config.first_request_timeout;
    sc.header_timeout = st->config.header_timeout;
    sc.keep_alive_timeout = st->config.idle_timeout;
    sc.io_timeout = st->config.io_timeout;
    sc.log = st->config.log;

    auto p = std::make_unique<impl>();
    p->st = st;
    p->socket = st->config.socket_path;
    p->server = std::make_unique<http::server>(executor, std::move(router), std::move(sc));
    const auto private_socket = fs::perms::owner_read | fs::perms::owner_write;
    if (auto listening = p->server->listen_unix(
            p->socket, private_socket, {.max_connections = st->config.max_connections, .name = "unix"});
        !listening)
        return make_error(listening.error().code, "admin: " + listening.error().message);
    if (tcp_endpoint) {
        auto bound = p->server->listen_plain(
            *tcp_endpoint,
            {.max_connections = st->config.tcp->max_connections, .authenticate = true, .name = "tcp"});
        if (!bound) {
            p->server->stop();
            std::error_code ignored;
            fs::remove(p->socket, ignored);
            return make_error(bound.error().code, "admin: " + bound.error().message);
        }
        p->tcp = *bound;
    }
    auto* registry = &st->ctx.registry;
    st->events.attach(engine, st, [registry] {
        registry
            ->counter("kurer_admin_event_clients_dropped_total",
                      "Event stream clients dropped for reading too slowly.")
            .inc();
    });
    p->feed = std::make_unique<runner_metrics>(engine, st->ctx.registry);
    std::weak_ptr<admin::state> weak_events = st;
    // Removed in stop() before the server goes, and render() holds the collectors while they run.
    const http::server* server = p->server.get();
    p->collector = st->ctx.registry.add_collector([weak_events, server](metrics& m) {
        if (auto s = weak_events.lock())
            m.gauge("kurer_admin_event_clients", "Clients following /admin/events.")
                .set(static_cast<double>(s->events.clients()));
        for (const auto& l : server->listeners()) {
            const metric_labels labels{{"listener", l.name}};
            m.gauge("kurer_admin_connections", "Open admin connections, by listener.", labels)
                .set(static_cast<double>(l.open));
            m.gauge("kurer_admin_connections_busy", "Admin connections with a request in progress.", labels)
                .set(static_cast<double>(l.busy));
            m.counter("kurer_admin_connections_shed_total",
                      "Idle admin connections closed to make room for a new one.", labels)
                .advance_to(static_cast<double>(l.shed));
            m.counter("kurer_admin_connections_refused_total",
                      "New admin connections refused (503) because every connection was busy.", labels)
                .advance_to(static_cast<double>(l.refused));
        }
    });
    st->log(log_level::info, "admin socket listening",
            {{"socket", p->socket.string()},
             {"tcp", p->tcp ? p->tcp->address().to_string() + ":" + std::to_string(p->tcp->port()) : "off"},
             {"drafts", *kept},
             {"drafts_swept", st->drafts.swept()}});
    return std::unique_ptr<admin_server>(new admin_server(std::move(p)));
}

void admin_server::stop() {
    if (!impl_ || impl_->stopped)
        return;
    impl_->stopped = true;
    auto& st = *impl_->st;
    st.events.close_all();
    st.events.detach();
    impl_->feed.reset();
    st.ctx.registry.remove_collector(impl_->collector);
    impl_->server->stop();
    std::error_code ec;
    if (fs::is_socket(fs::symlink_status(impl_->socket, ec)))
        fs::remove(impl_->socket, ec);
    st.pool.join();
    st.log(log_level::info, "admin socket stopped", {{"socket", impl_->socket.string()}});
}

const fs::path& admin_server::socket_path() const noexcept {
    return impl_->socket;
}

std::optional<asio::ip::tcp::endpoint> admin_server::tcp_endpoint() const {
    return impl_->tcp;
}

} // namespace kurer::engine

// The admin listeners under attack, over real sockets: 2,000 idle connections on the Unix socket
// and 2,000 on the loopback TCP listener (none of which ever sends a token) neither delay an
// authorised request nor push out authenticated clients in the middle of a request or following
// the event stream; slow request heads are dropped at the header deadline; the event stream has
// its own cap so that streams cannot take every slot.
#include "admin_fixture.hpp"

#include <kurer/testing/raw_socket.hpp>

#include <cstdlib>

namespace kurer::engine::test {

namespace {

using kurer::testing::raw_socket;
using clock_type = std::chrono::steady_clock;

const std::string token = "0123456789abcdef-listeners";

bool starts_with(const std::string& s, std::string_view prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

long long ms_since(clock_type::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t).count();
}

// The value of one series in Prometheus text ("name{labels} value"), -1 when absent.
double series(const std::string& text, const std::string& name_and_labels) {
    const auto at = text.find("\n" + name_and_labels + " ");
    if (at == std::string::npos)
        return -1;
    return std::strtod(text.c_str() + at + name_and_labels.size() + 2, nullptr);
}

std::string message_id_of(const json::value& sbd) {
    return text(sbd.at("standardBusinessDocumentHeader").at("documentIdentification"), "instanceIdentifier");
}

} // namespace

BOOST_AUTO_TEST_SUITE(admin_listeners)

BOOST_AUTO_TEST_CASE(two_thousand_idle_connections_on_each_listener_leave_working_clients_served) {
    constexpr int flood_size = 2000;
    BOOST_TEST_REQUIRE(kurer::testing::allow_descriptors(3 * flood_size + 2000) >= 2u * flood_size + 1000,
                       "this test needs about " << 2 * flood_size + 1000 << " open descriptors");
    admin_engines x([](admin_config& c) { c.tcp = admin_tcp_config{"127.0.0.1", 0, token, {}}; });
    const auto port = x.a->tcp_endpoint().value().port();
    admin_client local({.socket = x.socket_a});
    admin_client remote({.socket = {}, .host = "127.0.0.1", .port = port, .token = token});

    // Before the flood, two authenticated TCP clients: one half-way through uploading a document,
    // one following the event stream.
    const auto draft = message_id_of(
        body_json(request(local, verb::post, "/api/messages/out", minimal_sbd(org_b), "application/json")));
    const std::string pdf = "%PDF-1.4 " + std::string(2000, 'x');
    auto uploading = raw_socket::tcp(port);
    BOOST_TEST_REQUIRE(uploading.send(
        "PUT /api/messages/out/" + draft + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
        "\r\nContent-Type: application/pdf\r\n"
        "Content-Disposition: attachment; name=\"brev.pdf\"; filename=\"brev.pdf\"\r\n"
        "Content-Length: " +
        std::to_string(pdf.size()) + "\r\n\r\n" + pdf.substr(0, 1000)));
    auto following = raw_socket::tcp(port);
    BOOST_TEST_REQUIRE(following.send("GET /admin/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                      token + "\r\n\r\n"));
    BOOST_TEST_REQUIRE(following.read_until("\"subscribed\"", std::chrono::seconds(5)).find("subscribed") !=
                       std::string::npos);

    // The flood: connections that never send a byte, on both listeners.
    std::vector<raw_socket> flood;
    flood.reserve(2 * flood_size);
    const auto flooding = clock_type::now();
    for (int i = 0; i < flood_size; ++i) {
        flood.push_back(raw_socket::local(x.socket_a));
        BOOST_TEST_REQUIRE(flood.back().ok(), "Unix connection " << i << " failed");
    }
    for (int i = 0; i < flood_size; ++i) {
        flood.push_back(raw_socket::tcp(port));
        BOOST_TEST_REQUIRE(flood.back().ok(), "TCP connection " << i << " failed");
    }
    BOOST_TEST_MESSAGE("opened " << 2 * flood_size << " idle connections in " << ms_since(flooding) << " ms");

    // A normal request on each listener answers promptly (it took 30 s to 120 s before).
    auto started = clock_type::now();
    BOOST_TEST(request(local, verb::get, "/admin/health").status == 200u);
    const auto local_ms = ms_since(started);
    started = clock_type::now();
    BOOST_TEST(request(remote, verb::get, "/admin/health").status == 200u);
    const auto remote_ms = ms_since(started);
    BOOST_TEST_MESSAGE("GET /admin/health with the flood open: Unix socket " << local_ms << " ms, TCP "
                                                                             << remote_ms << " ms");
    BOOST_TEST(local_ms < 5000);
    BOOST_TEST(remote_ms < 5000);

    // The upload in progress was not pushed out: it completes.
    BOOST_TEST_REQUIRE(uploading.send(pdf.substr(1000)));
    const auto uploaded = uploading.read_response(std::chrono::seconds(5));
    BOOST_TEST(starts_with(uploaded, "HTTP/1.1 200"), uploaded);
    // The event stream is still live: a message sent now shows on it.
    const auto id = send_via_api(local, org_b);
    const auto seen = following.read_until(id, std::chrono::seconds(10));
    BOOST_TEST(seen.find(id) != std::string::npos, "the stream carried the new message's transitions");

    // The server shed idle connections rather than let them hold slots, and counts it.
    const auto metrics = request(local, verb::get, "/admin/metrics").body;
    const auto shed_unix = series(metrics, "kurer_admin_connections_shed_total{listener=\"unix\"}");
    const auto shed_tcp = series(metrics, "kurer_admin_connections_shed_total{listener=\"tcp\"}");
    const auto unix_slots = static_cast<double>(admin_config{}.max_connections); // the default, 1024
    BOOST_TEST(shed_unix >= flood_size - unix_slots, metrics);
    BOOST_TEST(shed_tcp >= flood_size - 64, metrics);
    BOOST_TEST(series(metrics, "kurer_admin_connections{listener=\"unix\"}") <= unix_slots);
    BOOST_TEST(series(metrics, "kurer_admin_connections{listener=\"tcp\"}") <= 64);
    BOOST_TEST(series(metrics, "kurer_admin_connections_refused_total{listener=\"tcp\"}") == 0);
    BOOST_TEST(flood.front().closed_within(std::chrono::seconds(1)), "the oldest idle connection was closed");
}

BOOST_AUTO_TEST_CASE(slow_request_heads_are_dropped_at_the_header_deadline_on_both_listeners) {
    admin_engines x([](admin_config& c) {
        c.tcp = admin_tcp_config{"127.0.0.1", 0, token, {}};
        c.first_request_timeout = std::chrono::milliseconds(500);
        c.header_timeout = std::chrono::milliseconds(500);
    });
    const auto port = x.a->tcp_endpoint().value().port();
    for (int listener = 0; listener < 2; ++listener) {
        auto slow = listener == 0 ? raw_socket::local(x.socket_a) : raw_socket::tcp(port);
        BOOST_TEST_REQUIRE(slow.send("GET /admin/health HTTP/1.1\r\n"));
        const auto started = clock_type::now();
        bool closed = false;
        for (int i = 0; i < 100 && !closed; ++i) {
            slow.send("X-" + std::to_string(i) + ": 1\r\n"); // a header line every 100 ms
            closed = slow.closed_within(std::chrono::milliseconds(100));
        }
        BOOST_TEST(closed);
        BOOST_TEST(ms_since(started) < 3000, "closed after " << ms_since(started) << " ms");
    }
    // The TCP listener closes a connection after a wrong token, and serves the right one.
    auto guess = raw_socket::tcp(port);
    BOOST_TEST_REQUIRE(
        guess.send("GET /admin/health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer guess\r\n\r\n"));
    const auto denied = guess.read_response(std::chrono::seconds(5));
    BOOST_TEST(starts_with(denied, "HTTP/1.1 401"), denied);
    BOOST_TEST(guess.closed_within(std::chrono::seconds(2)));
    admin_client remote({.socket = {}, .host = "127.0.0.1", .port = port, .token = token});
    BOOST_TEST(request(remote, verb::get, "/admin/health").status == 200u);
}

BOOST_AUTO_TEST_CASE(event_streams_have_their_own_cap) {
    admin_engines x([](admin_config& c) {
        c.max_event_clients = 2;
        c.event_heartbeat = std::chrono::milliseconds(100); // how soon a follower that left is noticed
    });
    std::vector<raw_socket> streams;
    for (int i = 0; i < 2; ++i) {
        streams.push_back(raw_socket::local(x.socket_a));
        BOOST_TEST_REQUIRE(streams.back().send("GET /admin/events HTTP/1.1\r\nHost: x\r\n\r\n"));
        BOOST_TEST_REQUIRE(
            streams.back().read_until("subscribed", std::chrono::seconds(5)).find("subscribed") !=
            std::string::npos);
    }
    admin_client local({.socket = x.socket_a});
    const auto third = request(local, verb::get, "/admin/events");
    BOOST_TEST(third.status == 503u, third.body);
    BOOST_TEST(third.body.find("max_event_clients") != std::string::npos, third.body);
    BOOST_TEST(third.header("Retry-After") == "5");
    BOOST_TEST(request(local, verb::get, "/admin/health").status == 200u, "other requests are served");
    streams.front().close();
    // Once a follower has left (noticed at its next heartbeat), a new one is let in.
    bool let_in = false;
    for (int i = 0; i < 100 && !let_in; ++i) {
        auto again = raw_socket::local(x.socket_a);
        again.send("GET /admin/events HTTP/1.1\r\nHost: x\r\n\r\n");
        let_in = starts_with(again.read_until("\r\n\r\n", std::chrono::seconds(5)), "HTTP/1.1 200");
        if (!let_in)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    BOOST_TEST(let_in);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kurer::engine::test

// admin_service: `kurer run`'s admin socket in one call, from a daemon config, over an engine
// started with fake ports.
#include "admin_fixture.hpp"

#include <kurer/engine/admin_daemon.hpp>
#include <kurer/testing/raw_socket.hpp>

namespace kurer::engine::test {

BOOST_AUTO_TEST_SUITE(admin_service_suite)

BOOST_AUTO_TEST_CASE(the_daemon_config_decides_the_socket_the_organization_and_the_defaults) {
    kurer::testing::scratch_dir dir;
    daemon_config config;
    config.runner = config_for(dir / "data", org_a);
    config.runner.default_ttl = std::chrono::hours(48);
    config.admin_socket = dir / "kurer.sock";
    config.admin.max_event_clients = 1;
    config.admin.first_request_timeout = std::chrono::milliseconds(300);
    engine_options options;
    options.log = [](log_level, std::string_view) {
    };
    options.ports = testing::make_fake_ports(dir / "broker", org_a);
    auto e = engine::start(std::move(config), std::move(options));
    BOOST_TEST_REQUIRE(e.has_value(), (e.has_error() ? e.error().describe() : ""));

    metrics registry;
    std::vector<std::string> lines;
    std::mutex lines_mutex;
    auto admin = admin_service::start(**e, registry, {.log = [&](log_level, std::string_view line) {
        std::lock_guard lock(lines_mutex);
        lines.emplace_back(line);
    }});
    BOOST_TEST_REQUIRE(admin.has_value(), (admin.has_error() ? admin.error().describe() : ""));
    BOOST_TEST((*admin)->server().socket_path() == dir / "kurer.sock");

    admin_client c({.socket = dir / "kurer.sock"});
    const auto health = body_json(request(c, verb::get, "/admin/health"));
    BOOST_TEST(text(health, "organization") == org_a);
    // The listeners' limits and timeouts come from the config's "admin" section.
    auto follower = kurer::testing::raw_socket::local(dir / "kurer.sock");
    BOOST_TEST_REQUIRE(follower.send("GET /admin/events HTTP/1.1\r\nHost: x\r\n\r\n"));
    BOOST_TEST_REQUIRE(follower.read_until("subscribed", std::chrono::seconds(5)).find("subscribed") !=
                       std::string::npos);
    BOOST_TEST(request(c, verb::get, "/admin/events").status == 503u, "admin.max_event_clients is 1");
    auto mute = kurer::testing::raw_socket::local(dir / "kurer.sock");
    const auto opened = std::chrono::steady_clock::now();
    BOOST_TEST(mute.closed_within(std::chrono::seconds(5)));
    BOOST_TEST((std::chrono::steady_clock::now() - opened < std::chrono::seconds(2)),
               "admin.first_request_timeout_ms is 300");
    auto created = request(c, verb::post, "/api/messages/out", minimal_sbd(org_b), "application/json");
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    const auto sbd = body_json(created);
    const auto& header = sbd.at("standardBusinessDocumentHeader");
    BOOST_TEST(text(header.at("sender").at(0).at("identifier"), "value") == std::string("0192:") + org_a);
    BOOST_TEST(std::filesystem::exists(dir / "data" / "admin-drafts"), "drafts live under data_dir");
    // No capabilities lookup was given: a clear 503.
    BOOST_TEST(request(c, verb::get, std::string("/api/capabilities/") + org_b).status == 503u);
    BOOST_TEST(body_json(request(c, verb::post, "/admin/pause")).at("sendingPaused").as_bool());
    BOOST_TEST((*e)->core().sending_paused());

    // A second server on the live socket is refused and the first keeps serving.
    auto second = admin_service::start(**e, registry);
    BOOST_TEST_REQUIRE(!second.has_value());
    BOOST_TEST(second.error().message.find("kurer.sock") != std::string::npos, second.error().message);
    BOOST_TEST(request(c, verb::get, "/admin/health").status == 200u);

    (*admin)->stop();
    (*admin)->stop();
    BOOST_TEST(!std::filesystem::exists(dir / "kurer.sock"), "the socket file goes with the server");
    BOOST_TEST(!c.send({}).has_value(), "nothing answers after stop");
    {
        std::lock_guard lock(lines_mutex);
        BOOST_TEST(!lines.empty(), "the server logs through the daemon's sink");
    }
    (*e)->stop();
}

BOOST_AUTO_TEST_CASE(the_metrics_observer_records_adapter_calls) {
    metrics m;
    const auto observe = metrics_observer(m);
    observe({"altinn3", "upload", std::chrono::milliseconds(40), 5000, true});
    observe({"altinn3", "upload", std::chrono::milliseconds(2), 0, false});
    const auto text = m.render();
    BOOST_TEST(text.find("kurer_adapter_bytes_total{adapter=\"altinn3\",operation=\"upload\"} 5000") !=
                   std::string::npos,
               text);
    BOOST_TEST(text.find("kurer_adapter_duration_seconds_count{adapter=\"altinn3\",operation=\"upload\","
                         "outcome=\"ok\"} 1") != std::string::npos);
    BOOST_TEST(text.find("kurer_adapter_duration_seconds_count{adapter=\"altinn3\",operation=\"upload\","
                         "outcome=\"failed\"} 1") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kurer::engine::test

// kurerctl as a user runs it: a real process against two real engines (fake ports, a directory
// broker) each serving its admin socket in this process. Every subcommand, in tables and --json,
// and the exit codes for bad usage, refused requests and an engine that is not running.
#include "admin_fixture.hpp"

#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/testing/paths.hpp>

namespace kurer::engine::test {
namespace {

process_result kurerctl(std::vector<std::string> args, std::vector<std::string> env = {},
                        std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    std::vector<std::string> argv{kurer::testing::executable("kurerctl").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    child c(std::move(argv), std::move(env));
    return c.wait(limit);
}

// kurerctl --socket SOCKET args...
process_result ctl(const std::filesystem::path& socket, std::vector<std::string> args) {
    args.insert(args.begin(), {"--socket", socket.string()});
    return kurerctl(std::move(args));
}

json::value parsed(const process_result& r) {
    boost::system::error_code ec;
    auto v = json::parse(r.out, ec);
    BOOST_TEST_REQUIRE(!ec, "not JSON: " << r.out << r.err);
    return v;
}

bool contains(const std::string& haystack, std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

std::string write(const std::filesystem::path& p, const std::string& content) {
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
}

} // namespace

BOOST_AUTO_TEST_SUITE(kurerctl_cli)

BOOST_AUTO_TEST_CASE(bad_usage_and_an_engine_that_is_not_running_have_their_own_exit_codes) {
    kurer::testing::scratch_dir dir;
    auto none = kurerctl({});
    BOOST_TEST(none.exit_code == 2);
    BOOST_TEST(contains(none.err + none.out, "usage: kurerctl"), none.err);
    auto unknown = kurerctl({"--socket", (dir / "x.sock").string(), "frobnicate"});
    BOOST_TEST(unknown.exit_code == 2);
    BOOST_TEST(contains(unknown.err, "unknown command 'frobnicate'"), unknown.err);
    auto option = kurerctl({"--colour", "red", "health"});
    BOOST_TEST(option.exit_code == 2);
    BOOST_TEST(contains(option.err, "unknown option --colour"), option.err);
    BOOST_TEST(kurerctl({"--socket", (dir / "x.sock").string(), "send", "a.pdf"}).exit_code == 2,
               "send without --to");

    // Nothing listens: exit 3 and a message that says so, for a request and for a stream.
    for (const auto* command : {"health", "watch"}) {
        auto r = kurerctl({"--socket", (dir / "nobody.sock").string(), command});
        BOOST_TEST(r.exit_code == 3, command << ": " << r.err);
        BOOST_TEST(contains(r.err, "not running"), r.err);
        BOOST_TEST(r.out.empty());
    }
    // KURER_SOCKET is the default socket.
    auto from_env = kurerctl({"health"}, {"KURER_SOCKET=" + (dir / "env.sock").string()});
    BOOST_TEST(from_env.exit_code == 3);
    BOOST_TEST(contains(from_env.err, (dir / "env.sock").string()), from_env.err);
}

BOOST_AUTO_TEST_CASE(send_watch_status_list_and_the_receivers_inbox_take) {
    admin_engines x;
    const auto dir = x.e.dir / "ctl";
    std::filesystem::create_directories(dir);
    const auto pdf = write(dir / "brev.pdf", "%PDF-1.4 " + std::string(300 * 1024, 'k'));

    auto health = kurerctl({"health"}, {"KURER_SOCKET=" + x.socket_a.string()});
    BOOST_TEST(health.exit_code == 0, health.err);
    BOOST_TEST(contains(health.out, "UP"), health.out);
    BOOST_TEST(contains(health.out, org_a), health.out);
    auto health_json = parsed(ctl(x.socket_a, {"--json", "health"}));
    BOOST_TEST(text(health_json, "status") == "UP");

    auto sent = ctl(x.socket_a, {"send", "--to", std::string("0192:") + org_b, "--title", "Brev", pdf});
    BOOST_TEST_REQUIRE(sent.exit_code == 0, sent.err);
    const auto id = trimmed(sent.out);
    BOOST_TEST_REQUIRE(kurer::is_uuid(id), "send prints the messageId, got: " << sent.out);

    // watch ID follows the message until it is finished (history first, then live): Received,
    // once the receiver below has taken it.
    child watch(
        {kurer::testing::executable("kurerctl").string(), "--socket", x.socket_a.string(), "watch", id});
    BOOST_TEST_REQUIRE(
        x.e.a_seen.wait([&] { return state_of(*x.e.a, id) == sm::outgoing_state::delivered; }));

    auto status = ctl(x.socket_a, {"status", id});
    BOOST_TEST(status.exit_code == 0, status.err);
    BOOST_TEST(contains(status.out, id));
    BOOST_TEST(contains(status.out, "Delivered"), status.out);
    BOOST_TEST(contains(status.out, "TRANSITION"), "a history table: " << status.out);
    const auto status_json = parsed(ctl(x.socket_a, {"--json", "status", id}));
    BOOST_TEST(text(status_json, "state") == "Delivered");
    BOOST_TEST(status_json.at("history").as_array().size() >= 7u);
    // What was sent: the documents kurerctl uploaded, arkivmelding.xml written for the user.
    const auto stored = x.e.a->find_outgoing(id).value();
    BOOST_TEST_REQUIRE(stored.has_value());
    std::vector<std::string> names;
    for (const auto& d : stored->record.documents)
        names.push_back(d.name);
    BOOST_TEST((names == std::vector<std::string>{"arkivmelding.xml", "brev.pdf"}));

    auto list = ctl(x.socket_a, {"list", "--state", "Delivered"});
    BOOST_TEST(list.exit_code == 0, list.err);
    BOOST_TEST(contains(list.out, id));
    auto list_json = parsed(ctl(x.socket_a, {"--json", "list", "--state", "Delivered"}));
    BOOST_TEST(list_json.at("messages").as_array().size() == 1u);
    auto bad_state = ctl(x.socket_a, {"list", "--state", "Nowhere"});
    BOOST_TEST(bad_state.exit_code == 1);
    BOOST_TEST(contains(bad_state.err, "Nowhere"), bad_state.err);

    // The receiver: the message waits in its inbox; take writes it out and deletes it.
    BOOST_TEST_REQUIRE(x.e.b_seen.wait([&] {
        auto m = x.e.b->find_incoming_by_message_id(id);
        return m && *m && (*m)->record.machine.state == sm::incoming_state::queued;
    }));
    auto inbox = ctl(x.socket_b, {"inbox"});
    BOOST_TEST(inbox.exit_code == 0, inbox.err);
    BOOST_TEST(contains(inbox.out, id), inbox.out);
    BOOST_TEST(contains(inbox.out, org_a), inbox.out);
    auto inbox_json = parsed(ctl(x.socket_b, {"--json", "inbox"}));
    BOOST_TEST(inbox_json.at("totalElements").to_number<int>() == 1);

    const auto out = dir / "taken";
    auto take = ctl(x.socket_b, {"inbox", "take", id, "--out", out.string()});
    BOOST_TEST_REQUIRE(take.exit_code == 0, take.err);
    BOOST_TEST(contains(take.out, "took " + id), take.out);
    BOOST_TEST(std::filesystem::file_size(out / "asic.zip") > 0u);
    auto sbd = json::parse(kurer::read_small_file(out / "sbd.json", 1 << 20).value());
    BOOST_TEST(text(sbd.at("standardBusinessDocumentHeader").at("documentIdentification"),
                    "instanceIdentifier") == id);
    BOOST_TEST_REQUIRE(x.e.b_seen.wait([&] {
        auto m = x.e.b->find_incoming_by_message_id(id);
        return m && *m && (*m)->record.machine.state != sm::incoming_state::queued &&
               (*m)->record.machine.state != sm::incoming_state::locked;
    }));
    auto watched = watch.wait();
    BOOST_TEST(watched.exit_code == 0, watched.err);
    for (const auto* step : {"Created", "Uploaded", "Delivered", "Received"})
        BOOST_TEST(contains(watched.out, step), step << " in: " << watched.out);

    auto empty = ctl(x.socket_b, {"inbox", "take", "--out", (dir / "again").string()});
    BOOST_TEST(empty.exit_code == 1);
    BOOST_TEST(contains(empty.err, "no message is waiting"), empty.err);
    BOOST_TEST(ctl(x.socket_b, {"inbox", "take"}).exit_code == 2, "take without --out");

    // Unknown messages are refused with the engine's reason.
    auto unknown = ctl(x.socket_a, {"status", kurer::random_uuid()});
    BOOST_TEST(unknown.exit_code == 1);
    BOOST_TEST(contains(unknown.err, "HTTP 404"), unknown.err);
}

BOOST_AUTO_TEST_CASE(a_refused_send_leaves_no_draft_behind) {
    admin_engines x;
    const auto pdf = write(x.e.dir / "brev.pdf", "%PDF-1.4 x");
    auto refused = ctl(x.socket_a, {"send", "--to", "0192:12345", pdf});
    BOOST_TEST(refused.exit_code == 1);
    BOOST_TEST(contains(refused.err, "receiver"), refused.err);
    auto listed = body_json(request(admin_client({.socket = x.socket_a}), verb::get, "/api/messages/out"));
    BOOST_TEST(listed.at("totalElements").to_number<int>() == 0);
}

BOOST_AUTO_TEST_CASE(capabilities_metrics_pause_resume_and_retry) {
    admin_engines x;
    auto caps = ctl(x.socket_a, {"capabilities", std::string("0192:") + org_b});
    BOOST_TEST(caps.exit_code == 0, caps.err);
    BOOST_TEST(contains(caps.out, "DPO"));
    BOOST_TEST(contains(caps.out, process_admin), caps.out);
    auto caps_json = parsed(ctl(x.socket_a, {"--json", "capabilities", std::string("0192:") + org_b}));
    BOOST_TEST(caps_json.at("capabilities").as_array().size() == 2u);

    auto paused = ctl(x.socket_a, {"pause"});
    BOOST_TEST(paused.exit_code == 0, paused.err);
    BOOST_TEST(contains(paused.out, "paused"));
    BOOST_TEST(x.e.a->sending_paused());
    BOOST_TEST(parsed(ctl(x.socket_a, {"--json", "resume"})).at("sendingPaused").as_bool() == false);
    BOOST_TEST(!x.e.a->sending_paused());

    // A message whose packing fails for good: retry sends it again.
    x.e.a_fakes.faults->add("pack", testing::fault::permanent);
    auto m = message_to(org_b);
    BOOST_TEST_REQUIRE(x.e.a->submit_blocking(m).has_value());
    BOOST_TEST_REQUIRE(
        x.e.a_seen.wait([&] { return state_of(*x.e.a, m.message_id) == sm::outgoing_state::failed; }));
    auto retried = ctl(x.socket_a, {"retry", m.message_id});
    BOOST_TEST(retried.exit_code == 0, retried.err);
    BOOST_TEST(contains(retried.out, "retrying " + m.message_id), retried.out);
    BOOST_TEST_REQUIRE(
        x.e.a_seen.wait([&] { return state_of(*x.e.a, m.message_id) == sm::outgoing_state::delivered; }));
    auto again = ctl(x.socket_a, {"retry", m.message_id});
    BOOST_TEST(again.exit_code == 1, "only a Failed message can be retried");
    BOOST_TEST(!again.err.empty());

    auto metrics = ctl(x.socket_a, {"metrics"});
    BOOST_TEST(metrics.exit_code == 0, metrics.err);
    BOOST_TEST(contains(metrics.out, "# TYPE kurer_transitions_total counter"), metrics.out);
    BOOST_TEST(contains(metrics.out, "kurer_state_entered_total{direction=\"outgoing\",state=\"Failed\"} 1"),
               metrics.out);
}

BOOST_AUTO_TEST_CASE(over_tcp_the_token_file_carries_the_bearer_token) {
    const std::string token = "a-long-enough-secret-token-" + kurer::random_uuid();
    admin_engines x([&](admin_config& c) {
        admin_tcp_config tcp;
        tcp.token = token;
        c.tcp = tcp;
    });
    const auto endpoint = x.a->tcp_endpoint();
    BOOST_TEST_REQUIRE(endpoint.has_value());
    const auto where = "127.0.0.1:" + std::to_string(endpoint->port());
    const auto good = write(x.e.dir / "token", token + "\n");
    const auto bad = write(x.e.dir / "wrong", "not-the-token-at-all-000\n");

    auto health = kurerctl({"--tcp", where, "--token-file", good, "--json", "health"});
    BOOST_TEST(health.exit_code == 0, health.err);
    BOOST_TEST(text(parsed(health), "organization") == org_a);
    auto refused = kurerctl({"--tcp", where, "--token-file", bad, "health"});
    BOOST_TEST(refused.exit_code == 1);
    BOOST_TEST(contains(refused.err, "HTTP 401"), refused.err);
    BOOST_TEST(!contains(refused.err, token), "the token is never printed");
    BOOST_TEST(kurerctl({"--tcp", where, "health"}).exit_code == 2, "--tcp without --token-file");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kurer::engine::test

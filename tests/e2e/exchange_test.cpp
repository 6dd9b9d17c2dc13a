// Two organisations' engines through the sandbox over TLS with the real adapters, one with a
// SEID 1 and one with a SEID 2.0 enterprise certificate: many messages in both directions at
// once, a message that expires, a receiver that is not registered, and faults injected on every
// endpoint the engines call. Each end system takes what reaches its queue; every message must end
// Received at its sender and be taken exactly once.
#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/dpo/keys.hpp>
#include <kurer/testing/cluster.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <future>

namespace fs = std::filesystem;
namespace json = boost::json;
namespace ke = kurer::engine;
namespace sm = kurer::statemachine;
using namespace std::chrono_literals;

namespace {

constexpr const char* org_a = "910077473";
constexpr const char* org_b = "910075918";

bool finished(sm::outgoing_state s) {
    return s == sm::outgoing_state::received || s == sm::outgoing_state::failed ||
           s == sm::outgoing_state::expired;
}

// Both certificate profiles in every exchange: over Altinn 2, A's enterprise certificate is SEID 1
// (serialNumber) and B's SEID 2.0 (organizationIdentifier NTRNO-…); over Altinn 3 the other way
// round. Each profile thus signs, encrypts to, and is read back on both sides.
kurer::testing::cluster_options fast(std::vector<std::string> serve_args = {},
                                     std::string broker = "altinn2") {
    kurer::testing::cluster_options o;
    o.serve_args = std::move(serve_args);
    o.seid2_organizations = {broker == "altinn3" ? org_a : org_b};
    o.broker = std::move(broker);
    o.tune = [](json::object& config) {
        config["polling_interval_ms"] = 200;
        config["retry"] = {{"initial_backoff_ms", 100}, {"max_backoff_ms", 1000}};
        config["shutdown_grace_ms"] = 5000;
    };
    return o;
}

ke::submit_request message_to(const std::string& receiver, std::string text) {
    ke::submit_request r;
    r.message_id = kurer::random_uuid();
    r.receiver = receiver;
    r.business_message = R"({"hoveddokument":"arkivmelding.xml"})";
    ke::document_source d;
    d.name = "arkivmelding.xml";
    d.mime_type = "application/xml";
    d.primary = true;
    d.bytes = "<arkivmelding>" + std::move(text) + "</arkivmelding>";
    r.documents.push_back(std::move(d));
    return r;
}

// Submits `n` messages from `from` to `to` and returns their ids.
std::vector<std::string> send_many(ke::engine& from, const std::string& to, int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
        auto submitted = from.submit(message_to(to, "message " + std::to_string(i)));
        BOOST_TEST_REQUIRE(submitted.has_value(), submitted.error().describe());
        ids.push_back(submitted->id);
    }
    return ids;
}

// Waits for every message to finish; returns the ids that did not end Received (with why).
std::vector<std::string> not_received(ke::engine& e, const std::vector<std::string>& ids,
                                      std::chrono::milliseconds timeout) {
    std::vector<std::string> bad;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (const auto& id : ids) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::max(deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration(1ms)));
        auto s = e.wait_for(id, finished, left);
        if (!s) {
            bad.push_back(id + ": " + s.error().describe());
        } else if (*s != sm::outgoing_state::received) {
            auto view = e.find(id);
            std::string why = std::string(sm::to_string(*s));
            if (view && *view && !(*view)->history.empty())
                why += " (" + (*view)->history.back().event + ": " + (*view)->history.back().detail + ")";
            bad.push_back(id + ": " + why);
        }
    }
    return bad;
}

std::string history_text(ke::engine& e, const std::string& id) {
    std::string text;
    auto view = e.find(id);
    if (!view || !*view)
        return "(no record)";
    for (const auto& h : (*view)->history)
        text += h.event + " [" + h.detail + "]; ";
    return text;
}

// CTest runs this executable three times (tests/e2e/CMakeLists.txt): KURER_E2E_CASES picks the
// plain cases, the Altinn 2 fault cases or the Altinn 3 cases; unset, every case runs.
struct cases {
    std::string group;
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        const char* wanted = std::getenv("KURER_E2E_CASES");
        return wanted == nullptr || group == wanted;
    }
};
namespace utf = boost::unit_test;

} // namespace

BOOST_AUTO_TEST_SUITE(e2e_exchange)

BOOST_AUTO_TEST_CASE(many_messages_in_both_directions_at_once, *utf::precondition(cases{"plain"})) {
    kurer::testing::cluster c(fast());
    // One organisation of each profile (see fast()).
    const auto profile = [&](const std::string& org) {
        const auto chain = kurer::dpo::certificate::load_chain(c.sandbox().dir() / "orgs" / org / "cert.pem");
        BOOST_TEST_REQUIRE(chain.has_value(), chain.error().describe());
        BOOST_TEST(chain->front().organization_number().value() == org);
        return chain->front().subject();
    };
    BOOST_TEST(profile(org_a).find("NTRNO-") == std::string::npos, profile(org_a));
    BOOST_TEST(profile(org_b).find("NTRNO-910075918") != std::string::npos, profile(org_b));
    auto a = c.start_engine(org_a);
    auto b = c.start_engine(org_b);
    kurer::testing::end_system a_end(*a), b_end(*b);

    constexpr int per_direction = 40;
    auto to_b = std::async(std::launch::async, [&] { return send_many(*a, org_b, per_direction); });
    auto to_a = std::async(std::launch::async, [&] { return send_many(*b, org_a, per_direction); });
    const auto ids_to_b = to_b.get();
    const auto ids_to_a = to_a.get();

    const auto bad_ab = not_received(*a, ids_to_b, 120s);
    const auto bad_ba = not_received(*b, ids_to_a, 60s);
    BOOST_TEST(bad_ab.empty(), bad_ab.size()
                                   << " not received, first: " << (bad_ab.empty() ? "" : bad_ab[0]));
    BOOST_TEST(bad_ba.empty(), bad_ba.size()
                                   << " not received, first: " << (bad_ba.empty() ? "" : bad_ba[0]));

    // Received means LEVERT came back, which B sends only after its end system took it: once.
    for (auto [end, ids] : {std::pair{&b_end, &ids_to_b}, std::pair{&a_end, &ids_to_a}}) {
        const auto taken = end->taken();
        BOOST_TEST(taken.size() == ids->size());
        for (const auto& id : *ids) {
            auto it = taken.find(id);
            BOOST_TEST((it != taken.end() && it->second == 1),
                       id << " taken " << (it == taken.end() ? 0 : it->second));
        }
        const auto errors = end->errors();
        BOOST_TEST(errors.empty(), (errors.empty() ? std::string() : errors.front()));
    }
    a_end.stop();
    b_end.stop();
    a->stop();
    b->stop();
}

BOOST_AUTO_TEST_CASE(a_message_nobody_fetches_expires_and_is_not_queued_late,
                     *utf::precondition(cases{"plain"})) {
    kurer::testing::cluster c(fast());
    auto a = c.start_engine(org_a);
    auto request = message_to(org_b, "too late");
    request.deadline = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now() + 3s);
    const auto id = a->submit(request).value().id;

    // B is not running: the message is uploaded and waits at the broker past its deadline.
    const auto uploaded = a->wait_for(
        id, [](sm::outgoing_state s) { return s == sm::outgoing_state::uploaded || finished(s); }, 30s);
    BOOST_TEST_REQUIRE(uploaded.has_value());
    BOOST_TEST((*uploaded == sm::outgoing_state::uploaded), sm::to_string(*uploaded));
    const auto end = a->wait_for(id, finished, 30s);
    BOOST_TEST_REQUIRE(end.has_value());
    BOOST_TEST((*end == sm::outgoing_state::expired), sm::to_string(*end) << ": " << history_text(*a, id));

    // B starts after the deadline: it downloads the message but never offers it to its end system.
    std::promise<std::uint8_t> outcome;
    auto b = c.start_engine(org_b);
    std::atomic<bool> told{false};
    b->subscribe([&](const ke::transition_event& t) {
        if (t.kind != kurer::storage::record_kind::incoming || t.message_id != id)
            return;
        const auto s = static_cast<sm::incoming_state>(t.to);
        if ((s == sm::incoming_state::expired || s == sm::incoming_state::queued ||
             s == sm::incoming_state::rejected) &&
            !told.exchange(true))
            outcome.set_value(t.to);
    });
    auto f = outcome.get_future();
    BOOST_TEST_REQUIRE((f.wait_for(30s) == std::future_status::ready), "B never finished the late message");
    BOOST_TEST((static_cast<sm::incoming_state>(f.get()) == sm::incoming_state::expired));
    BOOST_TEST(b->core().list_inbox().value().empty());
    b->stop();
    a->stop();
}

BOOST_AUTO_TEST_CASE(a_receiver_that_is_not_registered_fails_the_message_with_the_reason,
                     *utf::precondition(cases{"plain"})) {
    kurer::testing::cluster c(fast());
    auto a = c.start_engine(org_a);
    const auto id = a->submit(message_to("999999999", "nobody")).value().id;
    const auto end = a->wait_for(id, finished, 30s);
    BOOST_TEST_REQUIRE(end.has_value());
    BOOST_TEST((*end == sm::outgoing_state::failed), sm::to_string(*end));
    const auto history = history_text(*a, id);
    BOOST_TEST(history.find("999999999") != std::string::npos, history);
    BOOST_TEST(history.find("not found") != std::string::npos, history);
    // Nothing was packed or sent for it.
    const auto view = a->find(id).value();
    BOOST_TEST_REQUIRE(view.has_value());
    for (const auto& h : view->history)
        BOOST_TEST(h.event.find("upload") == std::string::npos, h.event);
    a->stop();
}

BOOST_AUTO_TEST_CASE(faults_on_every_endpoint_are_retried_until_everything_is_received,
                     *utf::precondition(cases{"faults"})) {
    // A share of the requests to each service fail, one kind of fault per service (the
    // sandbox lets the first matching rule decide): an answer of 503, a connection cut before
    // the answer (for an upload: after the file arrived, so the repeat meets "already
    // uploaded"), a slow answer. Every message still arrives once and every receipt returns.
    const json::array rules{
        // Tokens are cached: each engine asks about once, so the first two asks fail.
        {{"path_prefix", "/token"}, {"status", 503}, {"count", 2}},
        // The Service Registry's answers are cached too. A GET cut before its answer is sent once
        // more by the HTTP client itself: four cuts make two failures the engine sees.
        {{"path_prefix", "/adressetjeneste"}, {"reset_after_bytes", 0}, {"count", 4}},
        {{"path_prefix", "/ServiceEngineExternal/BrokerServiceExternalBasic.svc"},
         {"latency_ms", 100},
         {"status", 503},
         {"rate", 0.2}},
        {{"path_prefix", "/ServiceEngineExternal/BrokerServiceExternalBasicStreamed.svc"},
         {"reset_after_bytes", 0},
         {"rate", 0.25}},
    };
    std::vector<std::string> args;
    for (const auto& r : rules) {
        args.push_back("--fault");
        args.push_back(json::serialize(r));
    }
    kurer::testing::cluster c(fast(args));
    auto a = c.start_engine(org_a);
    auto b = c.start_engine(org_b);
    kurer::testing::end_system a_end(*a), b_end(*b);

    const auto ids_to_b = send_many(*a, org_b, 8);
    const auto ids_to_a = send_many(*b, org_a, 8);
    const auto bad_ab = not_received(*a, ids_to_b, 120s);
    const auto bad_ba = not_received(*b, ids_to_a, 60s);
    BOOST_TEST(bad_ab.empty(), bad_ab.size()
                                   << " not received, first: " << (bad_ab.empty() ? "" : bad_ab[0]));
    BOOST_TEST(bad_ba.empty(), bad_ba.size()
                                   << " not received, first: " << (bad_ba.empty() ? "" : bad_ba[0]));
    for (const auto& [id, n] : b_end.taken())
        BOOST_TEST(n == 1, id << " taken " << n << " times");
    for (const auto& [id, n] : a_end.taken())
        BOOST_TEST(n == 1, id << " taken " << n << " times");
    BOOST_TEST(b_end.taken().size() == ids_to_b.size());
    BOOST_TEST(a_end.taken().size() == ids_to_a.size());

    // Every service met each kind of fault.
    auto applied = c.control("GET", "/sandbox/faults");
    BOOST_TEST_REQUIRE(applied.has_value(), applied.error().describe());
    const auto& list = applied->is_object() ? applied->at("rules").as_array() : applied->as_array();
    BOOST_TEST(list.size() == rules.size());
    for (const auto& r : list)
        BOOST_TEST(r.at("applied").to_number<std::int64_t>() > 0, json::serialize(r));
    a_end.stop();
    b_end.stop();
    a->stop();
    b->stop();
}

BOOST_AUTO_TEST_CASE(over_altinn3_with_faults_messages_and_receipts_go_both_ways,
                     *utf::precondition(cases{"altinn3"})) {
    // The Altinn 3 broker and its token exchange, with a share of their requests failing.
    const json::array rules{
        {{"path_prefix", "/authentication/api/v1/exchange"}, {"status", 503}, {"count", 2}},
        {{"path_prefix", "/broker/api/v1"}, {"status", 503}, {"rate", 0.15}},
    };
    std::vector<std::string> args;
    for (const auto& r : rules) {
        args.push_back("--fault");
        args.push_back(json::serialize(r));
    }
    kurer::testing::cluster c(fast(args, "altinn3"));
    auto a = c.start_engine(org_a);
    auto b = c.start_engine(org_b);
    BOOST_TEST((a->config().broker.kind == ke::broker_kind::altinn3));
    kurer::testing::end_system a_end(*a), b_end(*b);

    const auto ids_to_b = send_many(*a, org_b, 6);
    const auto ids_to_a = send_many(*b, org_a, 6);
    const auto bad_ab = not_received(*a, ids_to_b, 120s);
    const auto bad_ba = not_received(*b, ids_to_a, 60s);
    BOOST_TEST(bad_ab.empty(), bad_ab.size()
                                   << " not received, first: " << (bad_ab.empty() ? "" : bad_ab[0]));
    BOOST_TEST(bad_ba.empty(), bad_ba.size()
                                   << " not received, first: " << (bad_ba.empty() ? "" : bad_ba[0]));
    BOOST_TEST(b_end.taken().size() == ids_to_b.size());
    BOOST_TEST(a_end.taken().size() == ids_to_a.size());
    for (const auto* end : {&a_end, &b_end})
        for (const auto& [id, n] : end->taken())
            BOOST_TEST(n == 1, id << " taken " << n << " times");

    auto applied = c.control("GET", "/sandbox/faults");
    BOOST_TEST_REQUIRE(applied.has_value(), applied.error().describe());
    const auto& list = applied->is_object() ? applied->at("rules").as_array() : applied->as_array();
    for (const auto& r : list)
        BOOST_TEST(r.at("applied").to_number<std::int64_t>() > 0, json::serialize(r));
    a_end.stop();
    b_end.stop();
    a->stop();
    b->stop();
}

BOOST_AUTO_TEST_SUITE_END()

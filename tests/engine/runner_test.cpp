// The runner with fake ports: two engines exchange messages and receipts through a directory
// broker. Real threads, real RocksDB, short intervals; every wait has a deadline.
#include "harness.hpp"

#include <kurer/storage/store.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <fstream>
#include <set>
#include <thread>

using namespace kurer::engine;
using namespace kurer::engine::test;

namespace {

std::vector<std::string> statuses_of(const outgoing_view& v) {
    std::vector<std::string> out;
    for (const auto& e : v.history)
        for (const auto& s : e.statuses)
            out.push_back(std::string(sm::to_string(s.status)) + (s.implied ? "*" : ""));
    return out;
}

// Uploads a file straight into the broker, as another organisation's engine would.
std::string upload_raw(const std::filesystem::path& broker, const std::string& sender,
                       const std::string& receiver, const std::filesystem::path& file) {
    boost::asio::io_context io;
    testing::directory_broker direct(broker, sender, {});
    // A named coroutine lambda (GCC 12), its arguments named before each co_await.
    auto upload = [&]() -> boost::asio::awaitable<std::string> {
        kurer::engine::transfer_request request{sender, receiver, kurer::random_uuid(), "sbd.zip", 0, {}};
        auto ref = co_await direct.initiate(std::move(request));
        BOOST_TEST_REQUIRE(ref.has_value());
        auto up = co_await direct.upload(*ref, file);
        BOOST_TEST_REQUIRE(up.has_value());
        co_return *ref;
    };
    auto f = boost::asio::co_spawn(io, std::move(upload), boost::asio::use_future);
    io.run();
    return f.get();
}

// A fake package written by the fake packer, for hand-made arrivals.
std::filesystem::path fake_package(const std::filesystem::path& dir, const outgoing_message& m) {
    testing::fake_packer packer({});
    const auto path = dir / (m.message_id + ".pkg");
    std::filesystem::create_directories(dir);
    BOOST_TEST_REQUIRE(packer.pack(m, {}, "", path).has_value());
    return path;
}

outgoing_message arriving(std::string id, time_point deadline) {
    return {id,
            kurer::random_uuid(),
            "910000001",
            org_b,
            "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0",
            "urn:no:difi:arkivmelding:xsd::arkivmelding",
            "",
            deadline,
            R"({"arkivmelding":{}})"};
}

time_point in(std::chrono::milliseconds d) {
    return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()) + d;
}

std::optional<sm::incoming_state> incoming_state(runner& r, const std::string& reference) {
    auto v = r.find_incoming(reference);
    if (!v || !*v)
        return std::nullopt;
    return (*v)->record.machine.state;
}

} // namespace

BOOST_AUTO_TEST_SUITE(runner_with_fakes)

BOOST_AUTO_TEST_CASE(a_message_reaches_b_and_mottatt_and_levert_come_back_to_a) {
    two_engines e;
    const auto request = message_to(org_b);
    const auto id = request.message_id;
    auto submitted = e.a->submit_blocking(request);
    BOOST_TEST_REQUIRE(submitted.has_value(), submitted.error().describe());
    BOOST_TEST(submitted->created);

    // A: Created .. Uploaded, then MOTTATT once B has stored and confirmed it.
    BOOST_TEST_REQUIRE(e.a_seen.wait([&] { return state_of(*e.a, id) == sm::outgoing_state::delivered; }));
    // B: the message waits on B's queue; nothing is LEVERT until B's end system takes it.
    auto inbox = e.b->list_inbox();
    BOOST_TEST_REQUIRE(inbox.has_value());
    BOOST_TEST_REQUIRE(inbox->size() == 1u);
    BOOST_TEST((*inbox)[0].message_id == id);
    BOOST_TEST((*inbox)[0].sender == org_a);

    // As the reference: the end system cannot take (and acknowledge) what it never locked.
    const auto unlocked = e.b->take_blocking(id);
    BOOST_TEST_REQUIRE(!unlocked.has_value(), "a take without a peek is refused");
    BOOST_TEST((unlocked.error().code == errc::not_locked));
    BOOST_TEST(unlocked.error().message ==
               "incoming message " + id + " is not locked (it is Queued): peek it first");
    BOOST_TEST(
        (e.b->find_incoming_by_message_id(id).value()->record.machine.state == sm::incoming_state::queued));
    BOOST_TEST(!e.b->find_outgoing(id + ".levert").value().has_value(), "no LEVERT goes back");

    auto peeked = e.b->peek_blocking();
    BOOST_TEST_REQUIRE(peeked.has_value());
    BOOST_TEST_REQUIRE(peeked->has_value());
    BOOST_TEST((*peeked)->message_id == id);
    BOOST_TEST(!e.b->peek_blocking()->has_value(), "a locked message is not handed out twice");
    auto payload = e.b->pop(id);
    BOOST_TEST_REQUIRE(payload.has_value());
    BOOST_TEST(std::filesystem::file_size(*payload) > 0u);
    BOOST_TEST_REQUIRE(e.b->take_blocking(id).has_value());
    BOOST_TEST(e.b->take_blocking(id).has_value(), "a repeated DELETE is harmless");

    BOOST_TEST_REQUIRE(e.a_seen.wait([&] { return state_of(*e.a, id) == sm::outgoing_state::received; }));
    auto view = e.a->find_outgoing(id).value().value();
    BOOST_TEST((statuses_of(view) == std::vector<std::string>{"OPPRETTET", "SENDT", "MOTTATT", "LEVERT"}));
    BOOST_TEST((events_of(view.history) ==
                std::vector<std::string>{"submitted", "token_obtained", "record_resolved", "packed",
                                         "upload_initiated", "uploaded", "status_mottatt", "status_levert"}));
    for (std::size_t i = 1; i < view.history.size(); ++i) {
        BOOST_TEST(view.history[i].from == view.history[i - 1].to, "history is one unbroken sequence");
        BOOST_TEST((view.history[i].time >= view.history[i - 1].time));
    }

    // B's side: one incoming message, LevertSent, with both status messages uploaded.
    auto mottatt = e.b->find_outgoing(id + ".mottatt").value();
    auto levert = e.b->find_outgoing(id + ".levert").value();
    BOOST_TEST_REQUIRE(e.b_seen.wait([&] {
        return state_of(*e.b, id + ".levert") == sm::outgoing_state::uploaded &&
               state_of(*e.b, id + ".mottatt") == sm::outgoing_state::uploaded;
    }));
    // The message, MOTTATT and LEVERT: all three uploaded once and confirmed by their receivers.
    BOOST_TEST_REQUIRE(e.a_seen.wait([&] {
        const auto transfers = testing::directory_broker::transfers(e.dir / "broker");
        return transfers.size() == 3u && std::all_of(transfers.begin(), transfers.end(),
                                                     [](const auto& t) { return t.uploaded && t.confirmed; });
    }));
    // Nothing live is left once every machine is finished.
    BOOST_TEST_REQUIRE(e.b_seen.wait([&] { return e.b->stats().live_incoming == 0; }));
    BOOST_TEST_REQUIRE(
        e.a_seen.wait([&] { return e.a->stats().live_outgoing == 0 && e.a->stats().live_incoming == 0; }));
    // Finished messages keep no package or document files.
    BOOST_TEST(std::filesystem::is_empty(e.dir / "a" / "packages" / "out"));
    BOOST_TEST(!std::filesystem::exists(e.dir / "a" / "documents" / id));
}

BOOST_AUTO_TEST_CASE(submit_is_idempotent_by_message_id_and_names_what_is_wrong) {
    two_engines e;
    e.a->pause_sending().value();
    const auto request = message_to(org_b);
    BOOST_TEST(e.a->submit_blocking(request).value().created);
    auto again = e.a->submit_blocking(request);
    BOOST_TEST_REQUIRE(again.has_value());
    BOOST_TEST(!again->created, "the same content returns the existing message");

    auto changed = request;
    changed.documents[1].bytes = "%PDF-1.4 another letter";
    auto conflict = e.a->submit_blocking(changed);
    BOOST_TEST_REQUIRE(conflict.has_error());
    BOOST_TEST((conflict.error().code == errc::conflict));

    const std::pair<std::function<void(submit_request&)>, std::string> bad[] = {
        {[](auto& r) { r.message_id = "not-a-uuid"; }, "messageId"},
        {[](auto& r) { r.receiver = "12345"; }, "receiver"},
        {[](auto& r) { r.process.clear(); }, "process"},
        {[](auto& r) { r.documents[0].name = "../etc/passwd"; }, "documents[0].name"},
        {[](auto& r) { r.deadline = in(-1s); }, "expectedResponseDateTime"},
    };
    for (const auto& [spoil, field] : bad) {
        auto r = message_to(org_b);
        spoil(r);
        auto refused = e.a->submit_blocking(r);
        BOOST_TEST_REQUIRE(refused.has_error(), field);
        BOOST_TEST((refused.error().code == errc::invalid_request), field);
        BOOST_TEST(refused.error().message.find(field) != std::string::npos, refused.error().message);
        BOOST_TEST(!state_of(*e.a, r.message_id).has_value(), "nothing was stored for " << field);
    }
}

BOOST_AUTO_TEST_CASE(retryable_failures_back_off_then_succeed_with_every_attempt_in_the_history) {
    two_engines e;
    e.a_fakes.faults->add("upload", fault::retryable, 2);
    e.a_fakes.faults->add("resolve", fault::retryable, 1);
    const auto id = e.a->submit_blocking(message_to(org_b)).value().id;
    BOOST_TEST_REQUIRE(
        e.a_seen.wait([&] { return reached(state_of(*e.a, id), sm::outgoing_state::uploaded); }));
    auto view = e.a->find_outgoing(id).value().value();
    std::vector<std::pair<std::string, std::uint32_t>> failures;
    for (const auto& h : view.history)
        if (h.event == "retryable_failure") {
            failures.emplace_back(sm::to_string(static_cast<sm::outgoing_state>(h.to)), h.attempt);
            BOOST_TEST(h.detail.find("injected retryable fault") != std::string::npos);
        }
    BOOST_TEST((failures == std::vector<std::pair<std::string, std::uint32_t>>{
                                {"Authorized", 1}, {"UploadInitiated", 1}, {"UploadInitiated", 2}}));
    BOOST_TEST(e.a_fakes.faults->calls("upload") == 3u);
    BOOST_TEST(e.a_fakes.faults->calls("initiate") == 1u, "a retried upload reuses its broker reference");
}

BOOST_AUTO_TEST_CASE(a_permanent_failure_fails_the_message_and_a_retry_sends_it_after_all) {
    two_engines e;
    e.a_fakes.faults->add("resolve", fault::permanent);
    const auto id = e.a->submit_blocking(message_to(org_b)).value().id;
    BOOST_TEST_REQUIRE(e.a_seen.wait([&] { return state_of(*e.a, id) == sm::outgoing_state::failed; }));
    auto failed = e.a->find_outgoing(id).value().value();
    BOOST_TEST(failed.record.last_error.find("injected permanent fault in resolve") != std::string::npos);
    BOOST_TEST(failed.record.machine.recorded.contains(sm::eformidling_status::feil));

    BOOST_TEST_REQUIRE(e.a->retry_blocking(id).has_value());
    BOOST_TEST_REQUIRE(
        e.a_seen.wait([&] { return reached(state_of(*e.a, id), sm::outgoing_state::delivered); }));
    auto refused = e.a->retry_blocking(id);
    BOOST_TEST_REQUIRE(refused.has_error());
    BOOST_TEST((refused.error().code == errc::not_retryable));
    auto unknown = e.a->retry_blocking(kurer::random_uuid());
    BOOST_TEST((unknown.error().code == errc::not_found));
}

BOOST_AUTO_TEST_CASE(at_most_max_in_flight_actions_run_and_the_rest_start_in_submission_order) {
    // One I/O thread: actors woken together then ask for slots in the order they were woken
    // (with several threads they ask at nearly the same time, in no promised order).
    two_engines e([](runner_config& c) {
        c.max_in_flight = 2;
        c.io_threads = 1;
    });
    e.a->pause_sending().value();
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i)
        ids.push_back(e.a->submit_blocking(message_to(org_b)).value().id);
    e.a_fakes.faults->always("get_token", fault::stall);
    e.a->resume_sending().value();

    BOOST_TEST_REQUIRE(e.a_fakes.faults->wait_for_stalled(2, 10s));
    BOOST_TEST_REQUIRE(e.a_seen.wait([&] { return e.a->stats().waiting_for_slot == 3; }));
    BOOST_TEST(e.a_fakes.faults->stalled() == 2u, "a third action must not start while two run");
    BOOST_TEST(e.a->stats().in_flight == 2u);

    e.a_fakes.faults->clear();
    e.a_fakes.faults->release_stalls();
    BOOST_TEST_REQUIRE(e.a_seen.wait([&] {
        for (const auto& id : ids)
            if (!reached(state_of(*e.a, id), sm::outgoing_state::uploaded))
                return false;
        return true;
    }));
    // The three that waited were admitted, and so got their tokens, in the order they were submitted.
    std::vector<std::string> waited;
    for (const auto& t : e.a_seen.seen())
        if (t.event == "token_obtained" && std::find(ids.begin() + 2, ids.end(), t.id) != ids.end())
            waited.push_back(t.id);
    BOOST_TEST((waited == std::vector<std::string>(ids.begin() + 2, ids.end())));
}

BOOST_AUTO_TEST_CASE(paused_sending_holds_messages_across_a_restart_until_resumed) {
    kurer::testing::scratch_dir dir;
    std::string id;
    {
        auto a = open_runner(config_for(dir / "a", org_a), testing::make_fake_ports(dir / "broker", org_a));
        BOOST_TEST_REQUIRE(a->start().has_value());
        a->pause_sending().value();
        id = a->submit_blocking(message_to(org_b)).value().id;
        a->stop();
    }
    auto a = open_runner(config_for(dir / "a", org_a), testing::make_fake_ports(dir / "broker", org_a));
    transitions seen;
    seen.attach(*a);
    BOOST_TEST(a->sending_paused());
    BOOST_TEST_REQUIRE(a->start().has_value());
    BOOST_TEST(!seen.wait([&] { return state_of(*a, id) != sm::outgoing_state::created; }, 300ms),
               "nothing is sent while paused");
    a->resume_sending().value();
    BOOST_TEST_REQUIRE(seen.wait([&] { return state_of(*a, id) == sm::outgoing_state::uploaded; }));
}

BOOST_AUTO_TEST_CASE(shutdown_parks_a_stalled_upload_and_recovery_finishes_it_on_the_same_reference) {
    kurer::testing::scratch_dir dir;
    testing::fake_context fakes;
    fakes.faults->always("upload", fault::stall);
    std::string id, reference;
    {
        auto c = config_for(dir / "a", org_a);
        c.shutdown_grace = 100ms;
        auto a = open_runner(c, testing::make_fake_ports(dir / "broker", org_a, fakes));
        BOOST_TEST_REQUIRE(a->start().has_value());
        id = a->submit_blocking(message_to(org_b)).value().id;
        BOOST_TEST_REQUIRE(fakes.faults->wait_for_stalled(1, 10s));
        a->stop(); // the grace runs out: the upload is cancelled, the message parked
    }
    {
        auto s = kurer::storage::store::open(dir / "a").value();
        auto r = s->find_outgoing(id).value().value();
        BOOST_TEST((r.machine.state == sm::outgoing_state::upload_initiated));
        reference = r.broker_reference;
        BOOST_TEST(!reference.empty());
        BOOST_TEST(s->recover().value().outgoing.size() == 1u);
    }
    auto a = open_runner(config_for(dir / "a", org_a), testing::make_fake_ports(dir / "broker", org_a));
    transitions seen;
    seen.attach(*a);
    BOOST_TEST_REQUIRE(a->start().has_value());
    BOOST_TEST_REQUIRE(seen.wait([&] { return state_of(*a, id) == sm::outgoing_state::uploaded; }));
    BOOST_TEST(a->find_outgoing(id).value()->record.broker_reference == reference);
    const auto transfers = testing::directory_broker::transfers(dir / "broker");
    BOOST_TEST_REQUIRE(transfers.size() == 1u,
                       "recovery uploaded to the recorded reference, no second transfer");
    BOOST_TEST(transfers[0].uploaded);
}

BOOST_AUTO_TEST_CASE(a_message_without_receipts_expires_at_its_deadline) {
    kurer::testing::scratch_dir dir;
    auto a = open_runner(config_for(dir / "a", org_a), testing::make_fake_ports(dir / "broker", org_a));
    transitions seen;
    seen.attach(*a);
    BOOST_TEST_REQUIRE(a->start().has_value());
    auto request = message_to(org_b); // nobody runs B
    request.deadline = in(600ms);
    const auto id = a->submit_blocking(request).value().id;
    BOOST_TEST_REQUIRE(seen.wait([&] { return state_of(*a, id) == sm::outgoing_state::expired; }));
    auto v = a->find_outgoing(id).value().value();
    BOOST_TEST(v.history.back().event == "deadline_passed");
    BOOST_TEST(v.record.machine.recorded.contains(sm::eformidling_status::sendt));
    BOOST_TEST(v.record.machine.recorded.contains(sm::eformidling_status::levetid_utlopt));
}

BOOST_AUTO_TEST_CASE(a_second_file_with_the_same_message_id_is_a_duplicate_confirmed_and_dropped) {
    two_engines e;
    const auto m = arriving(kurer::random_uuid(), in(1h));
    const auto pkg = fake_package(e.dir / "made", m);
    const auto first = upload_raw(e.dir / "broker", "910000001", org_b, pkg);
    BOOST_TEST_REQUIRE(
        e.b_seen.wait([&] { return incoming_state(*e.b, first) == sm::incoming_state::queued; }));
    const auto second = upload_raw(e.dir / "broker", "910000001", org_b, pkg);
    BOOST_TEST_REQUIRE(
        e.b_seen.wait([&] { return incoming_state(*e.b, second) == sm::incoming_state::duplicate; }));
    BOOST_TEST_REQUIRE(e.b_seen.wait([&] {
        for (const auto& t : testing::directory_broker::transfers(e.dir / "broker"))
            if (t.reference == second && !t.confirmed)
                return false;
        return true;
    }));
    BOOST_TEST(e.b->list_inbox().value().size() == 1u);
    auto dup = e.b->find_incoming(second).value().value();
    BOOST_TEST(std::any_of(dup.history.begin(), dup.history.end(),
                           [&](const auto& h) {
                               return h.event == "opened" && h.detail.find(first) != std::string::npos;
                           }),
               "the history names the original");
    BOOST_TEST(!e.b->find_outgoing(m.message_id + ".mottatt").value()->record.id.empty());
}

BOOST_AUTO_TEST_CASE(an_unreadable_package_is_rejected_with_its_reason_and_confirmed) {
    two_engines e;
    std::filesystem::create_directories(e.dir / "made");
    std::ofstream(e.dir / "made" / "junk") << "PK\x03\x04 not what it claims";
    const auto ref = upload_raw(e.dir / "broker", "910000001", org_b, e.dir / "made" / "junk");
    BOOST_TEST_REQUIRE(e.b_seen.wait([&] {
        auto v = e.b->find_incoming(ref);
        return v && *v && (*v)->record.machine.state == sm::incoming_state::rejected &&
               (*v)->record.machine.confirm_done;
    }));
    auto v = e.b->find_incoming(ref).value().value();
    BOOST_TEST(v.record.last_error.find("bad magic") != std::string::npos);
    BOOST_TEST(e.b->list_inbox().value().empty());
}

BOOST_AUTO_TEST_CASE(an_incoming_message_already_expired_is_not_queued_and_gets_no_mottatt) {
    two_engines e;
    const auto m = arriving(kurer::random_uuid(), in(-1min));
    const auto ref = upload_raw(e.dir / "broker", "910000001", org_b, fake_package(e.dir / "made", m));
    BOOST_TEST_REQUIRE(e.b_seen.wait([&] {
        auto v = e.b->find_incoming(ref);
        return v && *v && (*v)->record.machine.state == sm::incoming_state::expired &&
               (*v)->record.machine.confirm_done;
    }));
    BOOST_TEST(e.b->list_inbox().value().empty());
    BOOST_TEST(!e.b->find_outgoing(m.message_id + ".mottatt").value().has_value(),
               "no MOTTATT for an expired message");
}

BOOST_AUTO_TEST_CASE(an_expired_lock_puts_the_message_back_for_the_next_peek) {
    two_engines e([](runner_config& c) { c.lock_timeout = 200ms; });
    const auto m = arriving(kurer::random_uuid(), in(1h));
    const auto ref = upload_raw(e.dir / "broker", "910000001", org_b, fake_package(e.dir / "made", m));
    BOOST_TEST_REQUIRE(
        e.b_seen.wait([&] { return incoming_state(*e.b, ref) == sm::incoming_state::queued; }));
    BOOST_TEST(e.b->peek_blocking().value().value().message_id == m.message_id);
    BOOST_TEST_REQUIRE(
        e.b_seen.wait([&] { return incoming_state(*e.b, ref) == sm::incoming_state::queued; }));
    BOOST_TEST(e.b->find_incoming(ref).value()->history.back().event == "lock_expired");
    const auto late = e.b->take_blocking(m.message_id);
    BOOST_TEST_REQUIRE(!late.has_value(), "a lock that expired no longer allows the take");
    BOOST_TEST((late.error().code == errc::not_locked));
    BOOST_TEST(e.b->peek_blocking().value().value().message_id == m.message_id);
    auto not_locked = e.b->pop(kurer::random_uuid());
    BOOST_TEST((not_locked.error().code == errc::not_found));
}

BOOST_AUTO_TEST_CASE(an_arkivmelding_kvittering_sets_lest_on_the_original_and_is_queued) {
    two_engines e;
    const auto id = e.a->submit_blocking(message_to(org_b)).value().id;
    BOOST_TEST_REQUIRE(e.a_seen.wait([&] { return state_of(*e.a, id) == sm::outgoing_state::delivered; }));
    BOOST_TEST(e.take_all_at_b() == 1u);
    BOOST_TEST_REQUIRE(e.a_seen.wait([&] { return state_of(*e.a, id) == sm::outgoing_state::received; }));

    // B's archive answers with a receipt: a message of its own, to A.
    auto receipt = message_to(org_a);
    receipt.process = "urn:no:difi:profile:arkivmelding:response:ver1.0";
    receipt.document_type = "urn:no:difi:arkivmelding:xsd::arkivmelding_kvittering";
    receipt.business_message = R"({"relatedToMessageId":")" + id + R"(","receiptType":"OK"})";
    receipt.documents.clear();
    const auto receipt_id = e.b->submit_blocking(receipt).value().id;

    BOOST_TEST_REQUIRE(e.a_seen.wait([&] {
        auto v = e.a->find_outgoing(id).value();
        return v->record.machine.recorded.contains(sm::eformidling_status::lest);
    }));
    BOOST_TEST((state_of(*e.a, id) == sm::outgoing_state::received));
    BOOST_TEST_REQUIRE(e.a_seen.wait([&] { return e.a->list_inbox().value().size() == 1u; }));
    auto inbox = e.a->list_inbox().value();
    BOOST_TEST_REQUIRE(inbox.size() == 1u, "the receipt is on A's queue too");
    BOOST_TEST(inbox[0].message_id == receipt_id);
    BOOST_TEST((inbox[0].kind == kurer::storage::package_kind::kvittering));
    // And the receipt message itself is delivered like any other: MOTTATT back to B.
    BOOST_TEST_REQUIRE(
        e.b_seen.wait([&] { return state_of(*e.b, receipt_id) == sm::outgoing_state::delivered; }));
}

BOOST_AUTO_TEST_CASE(a_status_for_an_unknown_message_is_routed_and_says_so) {
    two_engines e;
    const auto unknown = kurer::random_uuid();
    testing::fake_packer packer({});
    std::filesystem::create_directories(e.dir / "made");
    const std::string original = "kurer-fake-package 1\nkind=message\nmessage_id=" + unknown +
                                 "\nconversation_id=" + kurer::random_uuid() + "\nsender=" + org_b +
                                 "\nreceiver=910000001\nprocess=p";
    BOOST_TEST_REQUIRE(
        packer.pack_status(original, sm::eformidling_status::levert, e.dir / "made" / "status").has_value());
    const auto ref = upload_raw(e.dir / "broker", "910000001", org_b, e.dir / "made" / "status");
    BOOST_TEST_REQUIRE(e.b_seen.wait([&] {
        auto v = e.b->find_incoming(ref);
        return v && *v && (*v)->record.machine.state == sm::incoming_state::routed &&
               (*v)->record.machine.confirm_done;
    }));
    auto v = e.b->find_incoming(ref).value().value();
    bool said_so = false;
    for (const auto& h : v.history)
        said_so |= h.detail.find("no outgoing message " + unknown) != std::string::npos;
    BOOST_TEST(said_so);
    BOOST_TEST(e.b->list_inbox().value().empty(), "statuses never reach the end system's queue");
}

BOOST_AUTO_TEST_CASE(open_refuses_a_config_it_cannot_run_with) {
    kurer::testing::scratch_dir dir;
    const auto ports = testing::make_fake_ports(dir / "broker", org_a);
    auto bad_org = config_for(dir / "a", "12345");
    auto refused = runner::open(bad_org, ports);
    BOOST_TEST_REQUIRE(refused.has_error());
    BOOST_TEST(refused.error().message.find("organization") != std::string::npos);
    auto no_broker = ports;
    no_broker.broker.reset();
    BOOST_TEST(runner::open(config_for(dir / "a", org_a), no_broker).error().message.find("ports") !=
               std::string::npos);
    auto bad_retry = config_for(dir / "a", org_a);
    bad_retry.retry.multiplier = 0.5;
    BOOST_TEST(runner::open(bad_retry, ports).error().message.find("retry") != std::string::npos);
    // Nothing runs before start(): calls that need the engine say so.
    auto idle = open_runner(config_for(dir / "a", org_a), ports);
    BOOST_TEST((idle->submit_blocking(message_to(org_b)).error().code == errc::stopping));
}

BOOST_AUTO_TEST_CASE(peek_filters_by_message_id_and_sender_and_incoming_messages_are_found_by_message_id) {
    two_engines e;
    const auto first = message_to(org_b);
    const auto second = message_to(org_b);
    BOOST_TEST_REQUIRE(e.a->submit_blocking(first).has_value());
    BOOST_TEST_REQUIRE(e.a->submit_blocking(second).has_value());
    BOOST_TEST_REQUIRE(e.b_seen.wait([&] { return e.b->list_inbox().value().size() == 2u; }));

    peek_filter other_sender;
    other_sender.sender = "910000001";
    BOOST_TEST(!e.b->peek_blocking(other_sender).value().has_value(), "nothing from that sender");
    peek_filter by_id;
    by_id.message_id = second.message_id;
    by_id.sender = org_a;
    by_id.receiver = org_b;
    auto peeked = e.b->peek_blocking(by_id).value();
    BOOST_TEST_REQUIRE(peeked.has_value());
    BOOST_TEST(peeked->message_id == second.message_id, "the filter skips the older message");

    auto view = e.b->find_incoming_by_message_id(second.message_id).value();
    BOOST_TEST_REQUIRE(view.has_value());
    BOOST_TEST((view->record.machine.state == sm::incoming_state::locked));
    BOOST_TEST(view->record.reference == peeked->reference);
    BOOST_TEST(!e.b->find_incoming_by_message_id(kurer::random_uuid()).value().has_value());

    const auto locked = e.b->list_incoming(sm::incoming_state::locked).value();
    BOOST_TEST_REQUIRE(locked.size() == 1u);
    BOOST_TEST(locked[0] == peeked->reference);
    BOOST_TEST(e.b->list_incoming(sm::incoming_state::queued).value().size() == 1u);
}

// The threading contract (runner.hpp): the awaitable reads run off the caller's event loop and
// resume on it; reads racing stop() either answer or say errc::stopping, never touch a closed store.
BOOST_AUTO_TEST_CASE(awaitable_reads_resume_on_the_callers_executor_and_reads_racing_stop_are_answered) {
    two_engines e;
    const auto request = message_to(org_b);
    BOOST_TEST_REQUIRE(e.a->submit_blocking(request).has_value());

    // A caller's event loop of one thread: each awaitable resumes on it, not on a runner thread.
    boost::asio::io_context caller;
    std::thread::id loop_thread;
    bool found_outgoing = false, answered_incoming = false, listed_inbox = false;
    std::vector<bool> resumed_on_loop;
    auto job = [&]() -> boost::asio::awaitable<void> {
        loop_thread = std::this_thread::get_id();
        auto o = co_await e.a->async_find_outgoing(request.message_id);
        resumed_on_loop.push_back(std::this_thread::get_id() == loop_thread);
        found_outgoing = o.has_value() && o->has_value() && (*o)->record.message_id == request.message_id;
        auto i = co_await e.a->async_find_incoming_by_message_id(kurer::random_uuid());
        resumed_on_loop.push_back(std::this_thread::get_id() == loop_thread);
        answered_incoming = i.has_value() && !i->has_value();
        auto inbox = co_await e.a->async_list_inbox();
        resumed_on_loop.push_back(std::this_thread::get_id() == loop_thread);
        listed_inbox = inbox.has_value();
        auto popped = co_await e.a->async_pop(kurer::random_uuid());
        resumed_on_loop.push_back(std::this_thread::get_id() == loop_thread);
        BOOST_TEST((popped.has_error() && popped.error().code == errc::not_found));
    };
    boost::asio::co_spawn(caller, job(), boost::asio::detached);
    caller.run();
    BOOST_TEST(found_outgoing);
    BOOST_TEST(answered_incoming);
    BOOST_TEST(listed_inbox);
    BOOST_TEST(resumed_on_loop == std::vector<bool>(4, true), "every awaitable resumes on the caller's loop");

    // Readers on four threads while the engine stops: each read gets its answer or
    // errc::stopping, until every reader has seen the store closed.
    std::atomic<bool> go{false};
    std::atomic<std::size_t> reads{0}, answered{0}, refused{0}, wrong{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 4; ++t)
        readers.emplace_back([&] {
            while (!go)
                std::this_thread::yield();
            for (bool closed = false; !closed && reads < 2'000'000;) {
                auto v = e.a->find_outgoing(request.message_id);
                auto c = e.a->count_unfinished(kurer::storage::record_kind::outgoing);
                reads += 2;
                for (const bool ok : {v && *v, c.has_value()})
                    if (ok)
                        ++answered;
                if (v.has_error())
                    ++(v.error().code == errc::stopping ? refused : wrong);
                if (c.has_error())
                    ++(c.error().code == errc::stopping ? refused : wrong);
                closed = c.has_error() && v.has_error();
            }
        });
    go = true;
    std::this_thread::sleep_for(5ms); // let some reads land before the store closes
    e.a->stop();
    for (auto& t : readers)
        t.join();
    BOOST_TEST(wrong.load() == 0u);
    BOOST_TEST(answered.load() + refused.load() == reads.load());
    BOOST_TEST(answered.load() > 0u, "reads before stop() are answered");
    BOOST_TEST(refused.load() > 0u, "reads after stop() say errc::stopping");
    auto late = e.a->find_outgoing(request.message_id);
    BOOST_TEST((late.has_error() && late.error().code == errc::stopping));
}

BOOST_AUTO_TEST_SUITE_END()

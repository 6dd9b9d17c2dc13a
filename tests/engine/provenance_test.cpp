// What the engine checks on its own before an incoming package counts: the broker's word on who
// uploaded it and to whom, who may answer for a message, and that a refused package claims
// nothing. (The signature and the signer's certificate are the packer's: tests/adapters/dpo
// trust_test and the end-to-end attack tests.) Fake ports, a directory broker, real RocksDB.
#include "harness.hpp"

#include <kurer/engine/metrics.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

using namespace kurer::engine;
using namespace kurer::engine::test;

namespace {

constexpr const char* org_c = "910000001";
constexpr const char* org_d = "910000002";

// Uploads a file into the broker as `uploader`, addressed to `receiver`.
std::string upload_as(const std::filesystem::path& broker, const std::string& uploader,
                      const std::string& receiver, const std::filesystem::path& file) {
    boost::asio::io_context io;
    testing::directory_broker direct(broker, uploader, {});
    auto upload = [&]() -> boost::asio::awaitable<std::string> {
        transfer_request request{uploader, receiver, kurer::random_uuid(), "sbd.zip", 0, {}};
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

outgoing_message message(std::string id, std::string sender, std::string receiver) {
    return {std::move(id),
            kurer::random_uuid(),
            std::move(sender),
            std::move(receiver),
            "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0",
            "urn:no:difi:arkivmelding:xsd::arkivmelding",
            "",
            std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()) + 1h,
            R"({"arkivmelding":{}})"};
}

std::filesystem::path fake_package(const std::filesystem::path& dir, const outgoing_message& m) {
    testing::fake_packer packer({});
    std::filesystem::create_directories(dir);
    const auto path = dir / (m.message_id + "." + kurer::random_uuid() + ".pkg");
    BOOST_TEST_REQUIRE(packer.pack(m, {}, "", path).has_value());
    return path;
}

// A status SBD (as the fake packer writes it) answering `original`, sent by its receiver.
std::filesystem::path fake_status(const std::filesystem::path& dir, const outgoing_message& original,
                                  sm::eformidling_status status) {
    testing::fake_packer packer({});
    std::filesystem::create_directories(dir);
    const std::string sbd = "kurer-fake-package 1\nkind=message\nmessage_id=" + original.message_id +
                            "\nconversation_id=" + original.conversation_id + "\nsender=" + original.sender +
                            "\nreceiver=" + original.receiver + "\nprocess=" + original.process;
    const auto path = dir / (original.message_id + "." + kurer::random_uuid() + ".status");
    BOOST_TEST_REQUIRE(packer.pack_status(sbd, status, path).has_value());
    return path;
}

std::optional<kurer::storage::incoming_record> incoming(runner& r, const std::string& reference) {
    auto v = r.find_incoming(reference);
    if (!v || !*v)
        return std::nullopt;
    return (*v)->record;
}

bool rejected_and_confirmed(runner& r, const std::string& reference) {
    auto rec = incoming(r, reference);
    return rec && rec->machine.state == sm::incoming_state::rejected && rec->machine.confirm_done;
}

bool confirmed_at_broker(const std::filesystem::path& broker, const std::string& reference) {
    for (const auto& t : testing::directory_broker::transfers(broker))
        if (t.reference == reference)
            return t.confirmed;
    return false;
}

} // namespace

BOOST_AUTO_TEST_SUITE(provenance)

BOOST_AUTO_TEST_CASE(a_package_uploaded_by_one_organisation_naming_another_is_rejected_and_counted) {
    metrics m; // outlives the engines: a transition callback may still run while they stop
    two_engines e;
    runner_metrics counted(*e.b, m);
    const auto claimed = message(kurer::random_uuid(), org_c, org_b);
    const auto ref = upload_as(e.dir / "broker", org_d, org_b, fake_package(e.dir / "made", claimed));
    BOOST_TEST_REQUIRE(e.b_seen.wait([&] { return rejected_and_confirmed(*e.b, ref); }));
    const auto rec = *incoming(*e.b, ref);
    BOOST_TEST(rec.rejection == "wrong_sender");
    BOOST_TEST(rec.listed_sender == org_d);
    BOOST_TEST(rec.last_error.find(std::string("uploaded to the broker by ") + org_d) != std::string::npos,
               rec.last_error);
    BOOST_TEST(rec.last_error.find(std::string("names ") + org_c) != std::string::npos);
    BOOST_TEST(rec.message_id.empty(), "a refused package claims no messageId");
    BOOST_TEST(e.b->list_inbox().value().empty(), "never queued");
    BOOST_TEST(!e.b->find_outgoing(claimed.message_id + ".mottatt").value().has_value(), "no MOTTATT");
    BOOST_TEST(confirmed_at_broker(e.dir / "broker", ref), "confirmed, so it does not come back");
    const auto text = m.render();
    BOOST_TEST(text.find("kurer_incoming_rejected_total{reason=\"wrong_sender\"} 1") != std::string::npos,
               text);
}

BOOST_AUTO_TEST_CASE(a_package_whose_sbd_names_another_receiver_than_the_broker_is_rejected) {
    two_engines e;
    const auto claimed = message(kurer::random_uuid(), org_c, "910000009");
    const auto ref = upload_as(e.dir / "broker", org_c, org_b, fake_package(e.dir / "made", claimed));
    BOOST_TEST_REQUIRE(e.b_seen.wait([&] { return rejected_and_confirmed(*e.b, ref); }));
    const auto rec = *incoming(*e.b, ref);
    BOOST_TEST(rec.rejection == "not_for_us");
    BOOST_TEST(rec.last_error.find(std::string("addressed to ") + org_b) != std::string::npos,
               rec.last_error);
    BOOST_TEST(e.b->list_inbox().value().empty());
}

BOOST_AUTO_TEST_CASE(a_receipt_counts_only_from_the_organisation_the_message_went_to) {
    two_engines e;
    // A sends to D, which has no engine here: the message waits for its receipts at Uploaded.
    const auto id = e.a->submit_blocking(message_to(org_d)).value().id;
    BOOST_TEST_REQUIRE(e.a_seen.wait([&] { return state_of(*e.a, id) == sm::outgoing_state::uploaded; }));
    const auto sent = e.a->find_outgoing(id).value().value().record;
    auto as_sent = message(id, org_a, org_d);
    as_sent.conversation_id = sent.conversation_id;

    // C claims D received it: its own upload, its own name on the SBD, but not D's message.
    auto forged_original = as_sent;
    forged_original.receiver = org_c;
    const auto forged =
        upload_as(e.dir / "broker", org_c, org_a,
                  fake_status(e.dir / "made", forged_original, sm::eformidling_status::mottatt));
    BOOST_TEST_REQUIRE(e.a_seen.wait([&] { return rejected_and_confirmed(*e.a, forged); }));
    const auto rec = *incoming(*e.a, forged);
    BOOST_TEST(rec.rejection == "wrong_sender");
    BOOST_TEST(rec.last_error.find(std::string("comes from ") + org_c) != std::string::npos, rec.last_error);
    BOOST_TEST(rec.last_error.find(std::string("went to ") + org_d) != std::string::npos);
    BOOST_TEST((state_of(*e.a, id) == sm::outgoing_state::uploaded), "the forged MOTTATT moved nothing");

    // D's own MOTTATT moves it.
    upload_as(e.dir / "broker", org_d, org_a,
              fake_status(e.dir / "made", as_sent, sm::eformidling_status::mottatt));
    BOOST_TEST_REQUIRE(e.a_seen.wait([&] { return state_of(*e.a, id) == sm::outgoing_state::delivered; }));
}

BOOST_AUTO_TEST_CASE(the_genuine_package_still_arrives_after_a_refused_twin_with_its_message_id) {
    two_engines e;
    const auto m = message(kurer::random_uuid(), org_c, org_b);
    // The first copy fails verification (the packer refuses it), the second is genuine.
    e.b_fakes.faults->add("open", fault::permanent);
    const auto twin = upload_as(e.dir / "broker", org_c, org_b, fake_package(e.dir / "made", m));
    BOOST_TEST_REQUIRE(e.b_seen.wait([&] { return rejected_and_confirmed(*e.b, twin); }));
    const auto genuine = upload_as(e.dir / "broker", org_c, org_b, fake_package(e.dir / "made", m));
    BOOST_TEST_REQUIRE(e.b_seen.wait([&] {
        auto rec = incoming(*e.b, genuine);
        return rec && rec->machine.state == sm::incoming_state::queued;
    }));
    const auto inbox = e.b->list_inbox().value();
    BOOST_TEST_REQUIRE(inbox.size() == 1u);
    BOOST_TEST(inbox[0].message_id == m.message_id);
    BOOST_TEST(inbox[0].reference == genuine);
    BOOST_TEST(incoming(*e.b, genuine)->signer == "fake signature of " + std::string(org_c));
}

BOOST_AUTO_TEST_CASE(another_senders_message_with_a_taken_message_id_is_refused_not_a_duplicate) {
    two_engines e;
    const auto id = kurer::random_uuid();
    const auto first =
        upload_as(e.dir / "broker", org_c, org_b, fake_package(e.dir / "made", message(id, org_c, org_b)));
    BOOST_TEST_REQUIRE(e.b_seen.wait([&] {
        auto rec = incoming(*e.b, first);
        return rec && rec->machine.state == sm::incoming_state::queued;
    }));
    // D, signing and uploading as itself, reuses C's messageId.
    const auto other =
        upload_as(e.dir / "broker", org_d, org_b, fake_package(e.dir / "made", message(id, org_d, org_b)));
    BOOST_TEST_REQUIRE(e.b_seen.wait([&] { return rejected_and_confirmed(*e.b, other); }));
    const auto rec = *incoming(*e.b, other);
    BOOST_TEST(rec.rejection == "message_id_taken");
    BOOST_TEST(rec.last_error.find(std::string("belongs to a message from ") + org_c) != std::string::npos,
               rec.last_error);
    // C's own repeat is an ordinary duplicate.
    const auto again =
        upload_as(e.dir / "broker", org_c, org_b, fake_package(e.dir / "made", message(id, org_c, org_b)));
    BOOST_TEST_REQUIRE(e.b_seen.wait([&] {
        auto r = incoming(*e.b, again);
        return r && r->machine.state == sm::incoming_state::duplicate;
    }));
    const auto inbox = e.b->list_inbox().value();
    BOOST_TEST_REQUIRE(inbox.size() == 1u);
    BOOST_TEST(inbox[0].reference == first);
    BOOST_TEST(inbox[0].sender == org_c);
}

BOOST_AUTO_TEST_SUITE_END()

#include <kurer/storage/store.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/test/unit_test.hpp>

using namespace kurer::storage;
namespace sm = kurer::statemachine;

namespace {

const time_point t0 = time_point(std::chrono::milliseconds(1'700'000'000'000));

outgoing_record new_outgoing(std::string id, time_point deadline) {
    outgoing_record r;
    r.id = id;
    r.message_id = std::move(id);
    r.created = t0;
    r.updated = t0;
    r.deadline = deadline;
    return r;
}

// Moves `r` through `event` with the machine and commits the transition; returns the new record.
outgoing_record advance(store& s, const outgoing_record& r, const sm::outgoing_event& event) {
    sm::outgoing_machine m(r.machine);
    const auto o = m.handle(event);
    BOOST_TEST_REQUIRE((o.verdict == sm::verdict::accepted));
    auto next = r;
    next.machine = o.after;
    history_entry e{next.history_size++,
                    t0,
                    static_cast<std::uint8_t>(r.machine.state),
                    static_cast<std::uint8_t>(o.after.state),
                    std::string(sm::event_name(event)),
                    0,
                    {},
                    {o.statuses.begin(), o.statuses.end()}};
    write_batch b;
    store::stage(b, &r, next, &e);
    BOOST_TEST_REQUIRE(s.commit_blocking(std::move(b)).has_value());
    return next;
}

outgoing_record create(store& s, std::string id, time_point deadline) {
    auto r = new_outgoing(std::move(id), deadline);
    history_entry e{r.history_size++, t0, 0,  0,
                    "created",        0,  {}, {{sm::eformidling_status::opprettet, false}}};
    r.machine.recorded.insert(sm::eformidling_status::opprettet);
    write_batch b;
    store::stage(b, nullptr, r, &e);
    BOOST_TEST_REQUIRE(s.commit_blocking(std::move(b)).has_value());
    return r;
}

std::unique_ptr<store> open(const std::filesystem::path& dir) {
    auto s = store::open(dir);
    BOOST_TEST_REQUIRE(s.has_value(), (s.has_error() ? s.error().describe() : ""));
    return std::move(*s);
}

} // namespace

BOOST_AUTO_TEST_SUITE(message_store)

BOOST_AUTO_TEST_CASE(recovery_reads_only_live_messages_with_their_pending_action) {
    kurer::testing::scratch_dir dir;
    {
        auto s = open(dir.path());
        auto a = create(*s, "a", t0 + std::chrono::hours(1));
        a = advance(*s, a, sm::out_event::token_obtained{});
        auto b = create(*s, "b", t0 + std::chrono::hours(2));
        b = advance(*s, b, sm::out_event::permanent_failure{});
        auto c = create(*s, "c", t0 + std::chrono::hours(3));
        c = advance(*s, c, sm::out_event::status_levert{}); // a receipt before any upload: Received
    }
    auto s = open(dir.path());
    auto rec = s->recover();
    BOOST_TEST_REQUIRE(rec.has_value());
    BOOST_TEST_REQUIRE(rec->outgoing.size() == 1u);
    BOOST_TEST(rec->outgoing[0].id == "a");
    BOOST_TEST((rec->outgoing[0].machine.state == sm::outgoing_state::authorized));
    BOOST_TEST(rec->incoming.empty());

    // The finished ones are still there to look up and list, just not recovered.
    BOOST_TEST((s->find_outgoing("b")->value().machine.state == sm::outgoing_state::failed));
    BOOST_TEST(
        (s->list(record_kind::outgoing, static_cast<std::uint8_t>(sm::outgoing_state::failed)).value() ==
         std::vector<std::string>{"b"}));
    BOOST_TEST(
        (s->list(record_kind::outgoing, static_cast<std::uint8_t>(sm::outgoing_state::received)).value() ==
         std::vector<std::string>{"c"}));
    // The live message comes back with its deadline, for its actor's timer.
    BOOST_TEST((rec->outgoing[0].deadline == t0 + std::chrono::hours(1)));
}

BOOST_AUTO_TEST_CASE(history_is_kept_in_order_per_message) {
    kurer::testing::scratch_dir dir;
    auto s = open(dir.path());
    auto a = create(*s, "a", t0 + std::chrono::hours(1));
    auto ab = create(*s, "ab", t0 + std::chrono::hours(1)); // a prefix of another id must not mix
    for (const sm::outgoing_event e : {sm::outgoing_event{sm::out_event::token_obtained{}},
                                       sm::outgoing_event{sm::out_event::record_resolved{}},
                                       sm::outgoing_event{sm::out_event::retryable_failure{}},
                                       sm::outgoing_event{sm::out_event::packed{}}})
        a = advance(*s, a, e);
    ab = advance(*s, ab, sm::out_event::token_obtained{});
    auto h = s->history(record_kind::outgoing, "a");
    BOOST_TEST_REQUIRE(h.has_value());
    std::vector<std::string> events;
    for (const auto& e : *h)
        events.push_back(e.event);
    BOOST_TEST((events == std::vector<std::string>{"created", "token_obtained", "record_resolved",
                                                   "retryable_failure", "packed"}));
    for (std::size_t i = 0; i < h->size(); ++i)
        BOOST_TEST((*h)[i].seq == i);
    BOOST_TEST(s->history(record_kind::outgoing, "ab")->size() == 2u);
    BOOST_TEST(s->history(record_kind::incoming, "a")->empty());
}

BOOST_AUTO_TEST_CASE(the_inbox_keeps_arrival_order_across_a_lock_and_its_expiry) {
    kurer::testing::scratch_dir dir;
    auto s = open(dir.path());
    std::vector<incoming_record> queued;
    for (int i = 0; i < 3; ++i) {
        incoming_record r;
        r.reference = "ref-" + std::to_string(i);
        r.machine = {sm::incoming_state::confirmed, true};
        r.message_id = "msg-" + std::to_string(i);
        r.queue_key = std::string(1, static_cast<char>('a' + i)) + r.reference;
        write_batch b;
        store::stage(b, nullptr, r, nullptr);
        auto next = r;
        next.machine.state = sm::incoming_state::queued;
        store::stage(b, &r, next, nullptr);
        BOOST_TEST_REQUIRE(s->commit_blocking(std::move(b)).has_value());
        queued.push_back(next);
    }
    const auto inbox = [&] {
        std::vector<std::string> refs;
        BOOST_TEST_REQUIRE(s->scan_inbox([&](const incoming_record& r) {
                                refs.push_back(r.reference);
                                return true;
                            }).has_value());
        return refs;
    };
    BOOST_TEST((inbox() == std::vector<std::string>{"ref-0", "ref-1", "ref-2"}));

    auto locked = queued[0];
    locked.machine.state = sm::incoming_state::locked;
    write_batch lock;
    store::stage(lock, &queued[0], locked, nullptr);
    BOOST_TEST_REQUIRE(s->commit_blocking(std::move(lock)).has_value());
    BOOST_TEST((inbox() == std::vector<std::string>{"ref-1", "ref-2"}));

    write_batch unlock;
    store::stage(unlock, &locked, queued[0], nullptr);
    BOOST_TEST_REQUIRE(s->commit_blocking(std::move(unlock)).has_value());
    BOOST_TEST((inbox() == std::vector<std::string>{"ref-0", "ref-1", "ref-2"}), "back in its old place");
}

BOOST_AUTO_TEST_CASE(dedup_is_indexed_with_the_transition) {
    kurer::testing::scratch_dir dir;
    auto s = open(dir.path());
    incoming_record r;
    r.reference = "ref-1";
    r.machine = {sm::incoming_state::downloaded};
    write_batch b1;
    store::stage(b1, nullptr, r, nullptr);
    BOOST_TEST_REQUIRE(s->commit_blocking(std::move(b1)).has_value());
    BOOST_TEST(!s->incoming_by_message_id("m-1").value().has_value());

    auto stored = r;
    stored.machine.state = sm::incoming_state::stored;
    stored.message_id = "m-1";
    write_batch b2;
    store::stage(b2, &r, stored, nullptr);
    BOOST_TEST_REQUIRE(s->commit_blocking(std::move(b2)).has_value());
    BOOST_TEST(s->incoming_by_message_id("m-1").value().value() == "ref-1");
}

BOOST_AUTO_TEST_CASE(a_late_receipt_moves_an_expired_message_between_finished_states) {
    kurer::testing::scratch_dir dir;
    auto s = open(dir.path());
    auto a = create(*s, "a", t0 + std::chrono::hours(1));
    a = advance(*s, a, sm::out_event::deadline_passed{});
    const auto expired = static_cast<std::uint8_t>(sm::outgoing_state::expired);
    const auto received = static_cast<std::uint8_t>(sm::outgoing_state::received);
    BOOST_TEST(s->list(record_kind::outgoing, expired).value().size() == 1u);
    a = advance(*s, a, sm::out_event::status_levert{});
    BOOST_TEST(s->list(record_kind::outgoing, expired).value().empty());
    BOOST_TEST(s->list(record_kind::outgoing, received).value().size() == 1u);
    BOOST_TEST(s->recover().value().outgoing.empty());
}

BOOST_AUTO_TEST_CASE(a_retried_failure_is_live_again_with_its_deadline) {
    kurer::testing::scratch_dir dir;
    auto s = open(dir.path());
    auto a = create(*s, "a", t0 + std::chrono::hours(1));
    a = advance(*s, a, sm::out_event::permanent_failure{});
    BOOST_TEST(s->recover().value().outgoing.empty());
    a = advance(*s, a, sm::out_event::retry_requested{});
    const auto back = s->recover().value().outgoing;
    BOOST_TEST_REQUIRE(back.size() == 1u);
    BOOST_TEST((back[0].deadline == t0 + std::chrono::hours(1)));
    BOOST_TEST(s->list(record_kind::outgoing, static_cast<std::uint8_t>(sm::outgoing_state::failed))
                   .value()
                   .empty());
}

BOOST_AUTO_TEST_CASE(the_sending_switch_survives_a_restart) {
    kurer::testing::scratch_dir dir;
    {
        auto s = open(dir.path());
        BOOST_TEST(!s->sending_paused().value());
        write_batch b;
        store::stage_sending_paused(b, true);
        BOOST_TEST_REQUIRE(s->commit_blocking(std::move(b)).has_value());
    }
    BOOST_TEST(open(dir.path())->sending_paused().value());
}

BOOST_AUTO_TEST_CASE(file_names_are_one_safe_path_component) {
    BOOST_TEST(safe_file_name("5f1c0a52-3b44-4b8e-9a0f-1d2e3f405162") ==
               "5f1c0a52-3b44-4b8e-9a0f-1d2e3f405162");
    BOOST_TEST(safe_file_name("a.mottatt") == "a.mottatt");
    BOOST_TEST(safe_file_name("../etc/passwd") == "%2e.%2fetc%2fpasswd");
    BOOST_TEST(safe_file_name("..") == "%2e.");
    BOOST_TEST(safe_file_name("a b%") == "a%20b%25");
    kurer::testing::scratch_dir dir;
    auto s = open(dir.path());
    BOOST_TEST(s->outgoing_package_file("../x") == "packages/out/%2e.%2fx.zip");
    BOOST_TEST(std::filesystem::is_directory(dir / "packages/out"));
    BOOST_TEST(std::filesystem::is_directory(dir / "packages/in"));
}

BOOST_AUTO_TEST_CASE(a_file_name_leads_back_to_its_id_and_strays_lead_nowhere) {
    for (const auto* id :
         {"5f1c0a52-3b44-4b8e-9a0f-1d2e3f405162", "a.mottatt", "../etc/passwd", "..", "a b%"})
        BOOST_TEST(id_of_file_name(safe_file_name(id)).value_or("(none)") == id);
    for (const auto* stray : {".kurer-pack-1", "%2", "%zz", "%41", "a%2Fb", "x y"})
        BOOST_TEST(!id_of_file_name(stray).has_value(), stray << " is not a name safe_file_name makes");
}

BOOST_AUTO_TEST_CASE(the_store_directories_are_private_and_loose_ones_are_tightened) {
    namespace fs = std::filesystem;
    kurer::testing::scratch_dir dir;
    const auto data = dir / "deep" / "data";
    {
        auto s = open(data);
        BOOST_TEST(s->tightened().empty(), "directories it creates itself are private already");
    }
    for (const auto* sub : {"", "db", "packages", "packages/out", "packages/in", "documents"})
        BOOST_TEST((fs::status(data / sub).permissions() == fs::perms::owner_all), "'" << sub << "' is 0700");
    BOOST_TEST((fs::status(dir / "deep").permissions() == fs::perms::owner_all), "so is a parent it made");

    // As an older kurer left them: open to everyone.
    const auto loose = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                       fs::perms::others_read | fs::perms::others_exec;
    fs::permissions(data, loose);
    fs::permissions(data / "db", loose);
    auto s = open(data);
    BOOST_TEST_REQUIRE(s->tightened().size() == 2u);
    BOOST_TEST(s->tightened()[0].path == data);
    BOOST_TEST(s->tightened()[0].mode_before == 0755u);
    BOOST_TEST(s->tightened()[1].path == data / "db");
    BOOST_TEST((fs::status(data).permissions() == fs::perms::owner_all));
    BOOST_TEST((fs::status(data / "db").permissions() == fs::perms::owner_all));
}

BOOST_AUTO_TEST_SUITE_END()

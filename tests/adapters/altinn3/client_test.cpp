// The Altinn 3 broker client and its broker facade against kurer-sandbox's Altinn 3 broker and
// token exchange, over real TLS on loopback: a full send and receive, the token cache, every
// BRO code as its typed error, the DownloadStarted recovery, Range resumption and purging.
#include "sandbox_parties.hpp"

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

using namespace kurer::test::altinn3;

namespace {

// One Maskinporten token handed in from outside.
class fixed_token final : public a3::maskinporten_tokens {
public:
    explicit fixed_token(std::string token)
        : token_(std::move(token)) {}
    asio::awaitable<kurer::result<std::string>> get(std::string) override { co_return token_; }
    void invalidate(std::string) override {}
    std::string system_user() const override { return "fixed"; }

private:
    std::string token_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(altinn3_client)

BOOST_AUTO_TEST_CASE(a_file_goes_from_sender_to_receiver_and_is_confirmed) {
    test_context t;
    auto alice = t.make_party(sender_org);
    auto bob = t.make_party(receiver_org);
    const auto file = t.write_file("sbd.zip", 300 * 1024 + 7);
    const auto reference = kurer::random_uuid();
    const auto id = t.send(alice, receiver_org, file, reference);

    // The overview carries what initialize said, the checksum included.
    auto o = t.run(alice.client->overview(id));
    BOOST_TEST_REQUIRE(o.has_value(), o.error().message);
    BOOST_TEST(o->sender == "0192:910077473");
    BOOST_TEST(o->senders_reference.value_or("") == reference);
    BOOST_TEST(o->checksum.value_or("") == a3::md5_file_hex(file).value());
    BOOST_TEST(o->file_name == "sbd.zip");
    BOOST_TEST(o->size == fs::file_size(file));
    t.wait_published(bob, id);

    auto listed = t.run(bob.broker->list_available());
    BOOST_TEST_REQUIRE(listed.has_value(), listed.error().message);
    const auto mine =
        std::find_if(listed->begin(), listed->end(), [&](const auto& f) { return f.reference == id; });
    BOOST_TEST_REQUIRE((mine != listed->end()));
    BOOST_TEST(mine->senders_reference.value_or("") == reference);
    BOOST_TEST(mine->size == fs::file_size(file));
    BOOST_TEST(!mine->download_started);

    const auto to = t.scratch / "received.zip";
    auto got = t.run(bob.broker->download(id, to));
    BOOST_TEST_REQUIRE(got.has_value(), got.error().message);
    BOOST_TEST((read_all(to) == read_all(file)));
    auto confirmed = t.run(bob.broker->confirm(id));
    BOOST_TEST_REQUIRE(confirmed.has_value(), confirmed.error().message);

    auto after = t.run(alice.client->overview(id));
    BOOST_TEST(after->status == "AllConfirmedDownloaded");
    BOOST_TEST(after->recipient(receiver_org)->status == "DownloadConfirmed");
    auto again = t.run(bob.broker->list_available());
    BOOST_TEST(std::none_of(again->begin(), again->end(), [&](const auto& f) { return f.reference == id; }));
    // A repeated confirm is a success for the engine, BRO-00010 on the wire.
    BOOST_TEST(t.run(bob.broker->confirm(id)).has_value());
    BOOST_TEST((code_of(t.run(bob.client->confirm(id))) == a3::errc::confirm_only_when_published));
}

BOOST_AUTO_TEST_CASE(altinn_tokens_are_exchanged_once_per_scope_and_cached) {
    test_context t;
    auto alice = t.make_party(sender_org);
    const auto before = t.requests_seen("GET /authentication/api/v1/exchange/maskinporten");
    // Many concurrent askers, one exchange.
    std::vector<std::string> tokens;
    for (int i = 0; i < 20; ++i)
        asio::co_spawn(t.io, alice.client->altinn_token(std::string(a3::scope_write)),
                       [&](std::exception_ptr, kurer::result<std::string> r) {
                           tokens.push_back(r ? *r : "error: " + r.error().message);
                       });
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    t.io.restart();
    while (tokens.size() < 20 && std::chrono::steady_clock::now() < deadline)
        t.io.run_one_for(50ms);
    BOOST_TEST_REQUIRE(tokens.size() == 20u);
    BOOST_TEST(std::all_of(tokens.begin(), tokens.end(), [&](const auto& s) { return s == tokens.front(); }));
    BOOST_TEST(tokens.front().find("error") == std::string::npos);
    const auto file = t.write_file("cached.zip", 1000);
    (void)t.send(alice, receiver_org, file);
    (void)t.run(alice.client->list("Published", "Initialized"));
    (void)t.run(alice.client->list("Published", "Initialized"));
    // One write token, one read token.
    BOOST_TEST(alice.client->exchanges() == 2u);
    BOOST_TEST(t.requests_seen("GET /authentication/api/v1/exchange/maskinporten") == before + 2);
    BOOST_TEST(alice.provider->requests_made() == 2u);
}

BOOST_AUTO_TEST_CASE(every_broker_problem_the_sandbox_produces_is_a_typed_error) {
    test_context t;
    auto alice = t.make_party(sender_org);
    auto bob = t.make_party(receiver_org);
    const auto file = t.write_file("p.zip", 4096);

    // BRO-00001: unknown id, on every /{id} call.
    const auto unknown = kurer::random_uuid();
    BOOST_TEST((code_of(t.run(alice.client->overview(unknown))) == a3::errc::file_transfer_not_found));
    BOOST_TEST((code_of(t.run(alice.client->upload(unknown, file))) == a3::errc::file_transfer_not_found));
    BOOST_TEST((code_of(t.run(bob.client->download(unknown, t.scratch / "x"))) ==
                a3::errc::file_transfer_not_found));
    BOOST_TEST((code_of(t.run(bob.client->confirm(unknown))) == a3::errc::file_transfer_not_found));

    // BRO-00006: sender not the caller, unknown resource, upload by a recipient.
    auto as_bob = t.run(alice.client->initialize({.sender = receiver_org, .recipients = {sender_org}}));
    BOOST_TEST((code_of(as_bob) == a3::errc::no_access));
    BOOST_TEST(!as_bob.error().retryable);
    auto elsewhere = t.make_party(sender_org, {}, t.config("no-such-resource"));
    BOOST_TEST((code_of(t.run(elsewhere.client->initialize(
                    {.sender = sender_org, .recipients = {receiver_org}}))) == a3::errc::no_access));

    // BRO-00003 and BRO-00007: nothing uploaded yet.
    auto empty = t.run(alice.client->initialize({.sender = sender_org, .recipients = {receiver_org}}));
    BOOST_TEST_REQUIRE(empty.has_value(), empty.error().message);
    BOOST_TEST((code_of(t.run(bob.client->upload(*empty, file))) == a3::errc::no_access));
    BOOST_TEST((code_of(t.run(bob.client->confirm(*empty))) == a3::errc::no_file_uploaded));
    auto not_ready = t.run(bob.client->download(*empty, t.scratch / "x"));
    BOOST_TEST((code_of(not_ready) == a3::errc::not_ready_for_download));
    BOOST_TEST(not_ready.error().retryable);

    // BRO-00004: a second upload; the facade reports it as already uploaded.
    const auto id = t.send(alice, receiver_org, file);
    BOOST_TEST((code_of(t.run(alice.client->upload(id, file))) == a3::errc::already_uploaded));
    auto repeat = t.run(alice.broker->upload(id, file));
    BOOST_TEST_REQUIRE(repeat.has_value());
    BOOST_TEST((*repeat == a3::upload_result::already_uploaded));

    // BRO-00019: confirm before downloading; BRO-00029: a range past the end.
    t.wait_published(bob, id);
    BOOST_TEST((code_of(t.run(bob.client->confirm(id))) == a3::errc::confirm_before_download));
    {
        const auto part = t.scratch / "part";
        std::ofstream(part) << "";
        BOOST_TEST(
            (code_of(t.run(bob.client->download_from(id, part, 999999))) == a3::errc::unsatisfiable_range));
    }

    // BRO-00009: the upload does not match the checksum given at initialize.
    auto wrong = t.run(alice.client->initialize(
        {.sender = sender_org, .recipients = {receiver_org}, .checksum = std::string(32, '0')}));
    BOOST_TEST_REQUIRE(wrong.has_value());
    BOOST_TEST((code_of(t.run(alice.client->upload(*wrong, file))) == a3::errc::checksum_mismatch));
    // The transfer is Failed now: a repeat gets BRO-00004, which the facade must not take for success.
    auto after_failure = t.run(alice.broker->upload(*wrong, file));
    BOOST_TEST((code_of(after_failure) == a3::errc::already_uploaded));
    BOOST_TEST(after_failure.error().message.find("Failed") != std::string::npos);

    // BRO-00016: over the resource's size cap.
    t.switches(R"({"max_file_size": 1000})");
    auto big = t.run(alice.client->initialize({.sender = sender_org, .recipients = {receiver_org}}));
    auto too_large = t.run(alice.client->upload(*big, file));
    t.switches(R"({"max_file_size": 1073741824})");
    BOOST_TEST((code_of(too_large) == a3::errc::file_too_large));
    BOOST_TEST(!too_large.error().retryable);

    // BRO-00008: the broker's storage fails (retryable).
    t.switches(R"({"storage_failures": 1})");
    auto failing = t.run(alice.client->initialize({.sender = sender_org, .recipients = {receiver_org}}));
    auto failed = t.run(alice.client->upload(*failing, file));
    BOOST_TEST((code_of(failed) == a3::errc::upload_failed));
    BOOST_TEST(failed.error().retryable);
    BOOST_TEST(failed.error().message.find("traceId 00-") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_codes_the_sandbox_never_causes_are_typed_too) {
    // BRO codes with no client-side trigger (altinn-broker.md §4.5 "—"), injected as the broker
    // would send them, plus the retry classification of each.
    test_context t;
    auto alice = t.make_party(sender_org);
    (void)t.run(alice.client->altinn_token(std::string(a3::scope_read)));
    struct injected {
        int code;
        unsigned status;
        a3::errc expected;
        bool retryable;
    };
    const injected cases[] = {
        {2, 400, a3::errc::service_owner_not_configured, false},
        {5, 403, a3::errc::not_an_altinn3_resource, false},
        {10, 400, a3::errc::confirm_only_when_published, false},
        {21, 503, a3::errc::storage_not_ready, true},
        {25, 400, a3::errc::resource_not_configured, false},
        {28, 400, a3::errc::recipient_not_in_access_list, false},
        {7, 403, a3::errc::not_ready_for_download, true},
        {99, 400, a3::errc::unknown_problem_code, false},
    };
    for (const auto& c : cases) {
        char code[16];
        std::snprintf(code, sizeof code, "BRO-%05d", c.code);
        boost::json::object problem{{"type", "https://tools.ietf.org/html/rfc9110"},
                                    {"title", "x"},
                                    {"status", c.status},
                                    {"detail", "injected"},
                                    {"code", code},
                                    {"traceId", "00-abc-def-00"}};
        boost::json::object rule{{"path_prefix", "/broker/api/v1/filetransfer"},
                                 {"status", c.status},
                                 {"body", boost::json::serialize(problem)},
                                 {"content_type", "application/problem+json"},
                                 {"count", 1}};
        BOOST_TEST_REQUIRE(
            t.control(http::verb::post, "/sandbox/faults", boost::json::serialize(rule)).status == 200u);
        auto r = t.run(alice.client->list("Published", "Initialized"));
        BOOST_TEST((code_of(r) == c.expected), code);
        BOOST_TEST(r.error().retryable == c.retryable, code);
        BOOST_TEST(r.error().message.find(code) != std::string::npos);
    }
    (void)t.control(http::verb::delete_, "/sandbox/faults");
}

BOOST_AUTO_TEST_CASE(token_scope_accept_and_content_type_refusals_are_typed) {
    test_context t;
    auto alice = t.make_party(sender_org);
    const auto api = t.base() + "/broker/api/v1";
    const auto list_url = api + "/filetransfer?resourceId=eformidling-dpo-meldingsutveksling";
    // 401: no token, and a raw Maskinporten token (the broker wants an exchanged one).
    {
        auto r = request(http::verb::get, list_url);
        const auto res = t.raw(std::move(r));
        BOOST_TEST(res.status == 401u);
        BOOST_TEST((a3::error_from_response(res.status, res.body, "list").code == a3::errc::unauthorized));
    }
    {
        auto mp_token = t.run(alice.provider->get(
            {.scopes = {"altinn:broker.read"},
             .system_user =
                 mp::altinn_system_user{sender_org, "910077473_integrasjonspunkt_systembruker_910077473"}}));
        BOOST_TEST_REQUIRE(mp_token.has_value(), mp_token.error().message);
        auto r = request(http::verb::get, list_url);
        r.headers.set("Authorization", "Bearer " + mp_token->value);
        BOOST_TEST(t.raw(std::move(r)).status == 401u);
    }
    // 403: a read token on initialize.
    auto read = t.run(alice.client->altinn_token(std::string(a3::scope_read)));
    BOOST_TEST_REQUIRE(read.has_value(), read.error().message);
    {
        auto r = request(http::verb::post, api + "/filetransfer");
        r.headers.set("Authorization", "Bearer " + *read);
        r.headers.set("Content-Type", "application/json");
        r.body = http::body_source::from_string(
            a3::initialize_body({.sender = sender_org, .recipients = {receiver_org}}, a3::dpo_resource));
        const auto res = t.raw(std::move(r));
        BOOST_TEST(res.status == 403u);
        BOOST_TEST((a3::error_from_response(res.status, res.body, "initialize").code == a3::errc::forbidden));
    }
    // 406: an Accept that excludes JSON.
    {
        auto r = request(http::verb::get, list_url);
        r.headers.set("Authorization", "Bearer " + *read);
        r.headers.set("Accept", "text/html");
        const auto res = t.raw(std::move(r));
        BOOST_TEST(res.status == 406u);
        BOOST_TEST((a3::error_from_response(res.status, res.body, "list").code == a3::errc::not_acceptable));
    }
    // 415: an upload that is not application/octet-stream.
    auto write = t.run(alice.client->altinn_token(std::string(a3::scope_write)));
    auto id = t.run(alice.client->initialize({.sender = sender_org, .recipients = {receiver_org}}));
    BOOST_TEST_REQUIRE(id.has_value());
    {
        auto r = request(http::verb::post, api + "/filetransfer/" + *id + "/upload");
        r.headers.set("Authorization", "Bearer " + *write);
        r.headers.set("Content-Type", "text/plain");
        r.body = http::body_source::from_string("hello");
        const auto res = t.raw(std::move(r));
        BOOST_TEST(res.status == 415u);
        BOOST_TEST((a3::error_from_response(res.status, res.body, "upload").code ==
                    a3::errc::unsupported_media_type));
    }
    // 400 validation: a sender that is no organisation number.
    {
        auto r = request(http::verb::post, api + "/filetransfer/");
        r.headers.set("Authorization", "Bearer " + *write);
        r.headers.set("Content-Type", "application/json");
        r.body = http::body_source::from_string(
            R"({"fileName":"sbd.zip","resourceId":"eformidling-dpo-meldingsutveksling","sender":"12345","recipients":[]})");
        const auto res = t.raw(std::move(r));
        BOOST_TEST(res.status == 400u);
        const auto e = a3::error_from_response(res.status, res.body, "initialize");
        BOOST_TEST((e.code == a3::errc::validation_failed));
        BOOST_TEST(e.message.find("sender") != std::string::npos);
        BOOST_TEST(e.message.find("recipients") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(a_download_left_unconfirmed_by_a_crash_is_found_again) {
    test_context t;
    auto alice = t.make_party(sender_org);
    const auto file = t.write_file("crash.zip", 20000);
    const auto id = t.send(alice, receiver_org, file);
    std::string mp_token;
    {
        auto bob = t.make_party(receiver_org);
        t.wait_published(bob, id);
        auto token = t.run(
            bob.provider->get({.scopes = {std::string(a3::scope_read)},
                               .system_user = mp::altinn_system_user{
                                   receiver_org, "910075918_integrasjonspunkt_systembruker_910075918"}}));
        BOOST_TEST_REQUIRE(token.has_value(), token.error().message);
        mp_token = token->value;
    }
    // A receiving process downloads and is killed (SIGKILL) before it confirms. It gets its
    // Maskinporten token from the parent: Botan's RSA uses a thread pool that a fork() leaves behind.
    const pid_t receiver = fork();
    BOOST_TEST_REQUIRE(receiver >= 0);
    if (receiver == 0) {
        // Never returns into the test runner: every way out is _exit or the signal.
        try {
            test_context fresh; // its own io_context and connections
            a3::client client(fresh.http, fresh.config(), std::make_shared<fixed_token>(mp_token));
            a3::broker bob(client, receiver_org);
            auto got = fresh.run(bob.download(id, t.scratch / "lost.zip"));
            std::error_code ec;
            fs::remove_all(fresh.scratch.path(), ec); // SIGKILL skips the destructor
            if (got)
                raise(SIGKILL);
        } catch (...) {
        }
        _exit(3);
    }
    int status = 0;
    BOOST_TEST_REQUIRE(waitpid(receiver, &status, 0) == receiver);
    BOOST_TEST_REQUIRE(WIFSIGNALED(status), "the receiver exited with " << WEXITSTATUS(status));
    BOOST_TEST(WTERMSIG(status) == SIGKILL);
    BOOST_TEST(fs::file_size(t.scratch / "lost.zip") == fs::file_size(file));

    auto bob = t.make_party(receiver_org);
    // The reference's listing hides it now ...
    auto plain = t.run(bob.client->list("Published", "Initialized"));
    BOOST_TEST_REQUIRE(plain.has_value());
    BOOST_TEST((std::find(plain->begin(), plain->end(), id) == plain->end()));
    // ... the recovery listing does not.
    auto listed = t.run(bob.broker->list_available());
    BOOST_TEST_REQUIRE(listed.has_value(), listed.error().message);
    const auto found =
        std::find_if(listed->begin(), listed->end(), [&](const auto& f) { return f.reference == id; });
    BOOST_TEST_REQUIRE((found != listed->end()));
    BOOST_TEST(found->download_started);
    const auto to = t.scratch / "recovered.zip";
    BOOST_TEST_REQUIRE(t.run(bob.broker->download(id, to)).has_value());
    BOOST_TEST((read_all(to) == read_all(file)));
    BOOST_TEST_REQUIRE(t.run(bob.broker->confirm(id)).has_value());
    auto after = t.run(bob.broker->list_available());
    BOOST_TEST(std::none_of(after->begin(), after->end(), [&](const auto& f) { return f.reference == id; }));
}

BOOST_AUTO_TEST_CASE(a_broken_download_resumes_with_a_range) {
    test_context t;
    auto alice = t.make_party(sender_org);
    auto bob = t.make_party(receiver_org);
    const auto file = t.write_file("resume.zip", 2 * 1024 * 1024);
    const auto id = t.send(alice, receiver_org, file);
    t.wait_published(bob, id);
    const auto path = "/broker/api/v1/filetransfer/" + id + "/download";
    const auto rule = R"({"path_prefix":")" + path + R"(","reset_after_bytes":700000,"count":1})";
    BOOST_TEST_REQUIRE(t.control(http::verb::post, "/sandbox/faults", rule).status == 200u);
    const auto before = t.requests_seen("GET " + path);
    const auto to = t.scratch / "resumed.zip";
    auto got = t.run(bob.client->download(id, to));
    BOOST_TEST_REQUIRE(got.has_value(), got.error().message);
    BOOST_TEST(*got == fs::file_size(file));
    BOOST_TEST((read_all(to) == read_all(file)));
    BOOST_TEST(t.requests_seen("GET " + path) == before + 2);
    (void)t.control(http::verb::delete_, "/sandbox/faults");
}

BOOST_AUTO_TEST_CASE(message_channels_filter_what_is_listed) {
    BOOST_TEST(a3::for_this_channel(std::nullopt, ""));
    BOOST_TEST(a3::for_this_channel(std::string("19efbd4c-413d-4e2c-bbc5-257ef4a65b38"), ""));
    BOOST_TEST(!a3::for_this_channel(std::string("saksbehandling"), ""));
    BOOST_TEST(a3::for_this_channel(std::string("saksbehandling"), "saksbehandling"));
    BOOST_TEST(!a3::for_this_channel(std::string("19efbd4c-413d-4e2c-bbc5-257ef4a65b38"), "saksbehandling"));
    BOOST_TEST(!a3::for_this_channel(std::nullopt, "saksbehandling"));

    test_context t;
    auto alice = t.make_party(sender_org);
    auto plain = t.make_party(receiver_org);
    auto channel = t.make_party(receiver_org, "arkiv-1");
    const auto file = t.write_file("channel.zip", 100);
    const auto to_channel = t.send(alice, receiver_org, file, "arkiv-1");
    const auto to_anyone = t.send(alice, receiver_org, file);
    t.wait_published(plain, to_channel);
    t.wait_published(plain, to_anyone);
    const auto has = [](const std::vector<a3::available_file>& v, const std::string& id) {
        return std::any_of(v.begin(), v.end(), [&](const auto& f) { return f.reference == id; });
    };
    auto seen_plain = t.run(plain.broker->list_available()).value();
    auto seen_channel = t.run(channel.broker->list_available()).value();
    BOOST_TEST(!has(seen_plain, to_channel));
    BOOST_TEST(has(seen_plain, to_anyone));
    BOOST_TEST(has(seen_channel, to_channel));
    BOOST_TEST(!has(seen_channel, to_anyone));
}

BOOST_AUTO_TEST_CASE(confirmed_files_are_purged_after_the_grace_period) {
    test_context t;
    auto alice = t.make_party(sender_org);
    auto bob = t.make_party(receiver_org);
    const auto file = t.write_file("purge.zip", 100);
    t.switches(R"({"purge_grace_s": 0})");
    const auto id = t.send(alice, receiver_org, file);
    t.wait_published(bob, id);
    BOOST_TEST_REQUIRE(t.run(bob.broker->download(id, t.scratch / "p.zip")).has_value());
    BOOST_TEST_REQUIRE(t.run(bob.broker->confirm(id)).has_value());
    t.switches(R"({"purge_grace_s": 86400})");
    BOOST_TEST(t.run(alice.client->overview(id))->status == "Purged");
    BOOST_TEST(
        (code_of(t.run(bob.client->download(id, t.scratch / "q.zip"))) == a3::errc::not_ready_for_download));
    BOOST_TEST((code_of(t.run(bob.client->confirm(id))) == a3::errc::confirm_only_when_published));
    // This recipient did confirm before the purge: the facade's repeat still succeeds.
    BOOST_TEST(t.run(bob.broker->confirm(id)).has_value());
}

BOOST_AUTO_TEST_CASE(a_revoked_altinn_token_is_replaced_once_and_the_call_succeeds) {
    test_context t;
    auto bob = t.make_party(receiver_org);
    BOOST_TEST_REQUIRE(t.run(bob.client->list("Published", "Initialized")).has_value());
    BOOST_TEST(bob.client->exchanges() == 1u);
    // Every token issued so far is refused now (401 without a problem code).
    const auto before = t.requests_seen("GET /authentication/api/v1/exchange/maskinporten");
    const auto settings = boost::json::parse(t.control(http::verb::get, "/sandbox/altinn3").body).as_object();
    const auto generation = settings.at("token_generation").to_number<std::uint64_t>() + 1;
    t.switches(R"({"token_generation": )" + std::to_string(generation) + "}");
    auto listed = t.run(bob.client->list("Published", "Initialized"));
    BOOST_TEST_REQUIRE(listed.has_value(), listed.error().message);
    BOOST_TEST(bob.client->exchanges() == 2u);
    BOOST_TEST(t.requests_seen("GET /authentication/api/v1/exchange/maskinporten") == before + 1);
    // A fresh Maskinporten token was fetched for the new exchange, too.
    BOOST_TEST(bob.provider->requests_made() == 2u);
}

BOOST_AUTO_TEST_CASE(the_list_holds_the_newest_hundred_and_a_failed_transfer_is_not_retried) {
    test_context t;
    auto alice = t.make_party(sender_org);
    auto bob = t.make_party(receiver_org);
    const auto file = t.write_file("small.zip", 10);
    t.switches(R"({"publish_delay_ms": 0})");
    std::vector<std::string> ids;
    for (int i = 0; i < 101; ++i)
        ids.push_back(t.send(alice, receiver_org, file));
    t.switches(R"({"publish_delay_ms": 100})");
    auto listed = t.run(bob.client->list("Published", "Initialized"));
    BOOST_TEST_REQUIRE(listed.has_value(), listed.error().message);
    BOOST_TEST_REQUIRE(listed->size() == 100u);
    BOOST_TEST(listed->front() == ids.back()); // newest first
    BOOST_TEST((std::find(listed->begin(), listed->end(), ids.front()) == listed->end()));
    // The sender's own list (as a recipient) has none of them.
    auto theirs = t.run(alice.client->list("Published", "Initialized"));
    BOOST_TEST_REQUIRE(theirs.has_value());
    BOOST_TEST(std::none_of(theirs->begin(), theirs->end(), [&](const auto& id) {
        return std::find(ids.begin(), ids.end(), id) != ids.end();
    }));
    for (const auto& id : ids) { // leave nothing for the other tests' listings
        BOOST_TEST_REQUIRE(t.run(bob.broker->download(id, t.scratch / "drain.zip")).has_value());
        BOOST_TEST_REQUIRE(t.run(bob.broker->confirm(id)).has_value());
    }

    // Processing that ends in Failed (malware found): BRO-00007, permanent through the facade.
    t.switches(R"({"fail_next_uploads": 1, "publish_delay_ms": 0})");
    const auto infected = t.send(alice, receiver_org, file);
    t.switches(R"({"publish_delay_ms": 100})");
    BOOST_TEST(t.run(alice.client->overview(infected))->status == "Failed");
    auto raw = t.run(bob.client->download(infected, t.scratch / "i.zip"));
    BOOST_TEST((code_of(raw) == a3::errc::not_ready_for_download));
    BOOST_TEST(raw.error().retryable);
    auto through_facade = t.run(bob.broker->download(infected, t.scratch / "i.zip"));
    BOOST_TEST((code_of(through_facade) == a3::errc::not_ready_for_download));
    BOOST_TEST(!through_facade.error().retryable);
}

BOOST_AUTO_TEST_CASE(transfers_survive_a_sandbox_restart) {
    kurer::testing::scratch_dir dir;
    auto sb =
        sandbox::child::start(kurer::testing::executable("kurer-sandbox"), dir / "sb", {.broker = "altinn3"})
            .value();
    std::string id;
    std::filesystem::path file;
    {
        test_context t(&sb);
        auto alice = t.make_party(sender_org);
        file = dir / "restart.zip";
        fs::copy_file(t.write_file("restart.zip", 5000), file);
        id = t.send(alice, receiver_org, file);
    }
    BOOST_TEST(sb.stop() == 0);
    sb = sandbox::child::start(kurer::testing::executable("kurer-sandbox"), dir / "sb", {.initialize = false})
             .value();
    test_context t(&sb);
    auto bob = t.make_party(receiver_org);
    t.wait_published(bob, id);
    const auto to = t.scratch / "after-restart.zip";
    BOOST_TEST_REQUIRE(t.run(bob.broker->download(id, to)).has_value());
    BOOST_TEST((read_all(to) == read_all(file)));
    BOOST_TEST_REQUIRE(t.run(bob.broker->confirm(id)).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

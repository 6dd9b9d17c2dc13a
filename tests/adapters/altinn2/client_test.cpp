// altinn2::broker_client against the sandbox's Altinn 2 broker over real TLS: a full send and
// receive, every ErrorID of the dossier's §5.1 as its typed error, retries on injected 5xx and
// connection resets, and the broker's files surviving a restart.
#include "broker_fixture.hpp"

#include <kurer/altinn2/codec.hpp>
#include <kurer/altinn2/operations.hpp>
#include <kurer/core/uuid.hpp>

#define BOOST_TEST_MODULE altinn2_client
#include <boost/test/unit_test.hpp>

namespace a2 = kurer::altinn2;
namespace fs = std::filesystem;
using kurer::test::broker_fixture;
using kurer::test::org_a;
using kurer::test::org_b;
using kurer::test::org_c;
using kurer::test::run;

namespace {

std::string content(const fs::path& p) {
    return kurer::read_small_file(p, 64 << 20).value();
}

template <class T>
void require_code(const kurer::result<T>& r, a2::errc expected) {
    BOOST_TEST_REQUIRE(!r.has_value(),
                       "expected " << a2::make_error_code(expected).message() << ", got a value");
    BOOST_TEST(r.error().code == a2::make_error_code(expected),
               "expected " << a2::make_error_code(expected).message() << ", got " << r.error().describe());
}

// Initiate + upload from A to B; the reference.
std::string send(broker_fixture& f, a2::broker_client& from, const fs::path& file, std::string to = org_b) {
    auto ref = run(f.io, from.initiate(from.config().organization, kurer::random_uuid(), to));
    BOOST_TEST_REQUIRE(ref.has_value(), (ref ? "" : ref.error().describe()));
    auto up = run(f.io, from.upload(*ref, from.config().organization, file));
    BOOST_TEST_REQUIRE(up.has_value(), (up ? "" : up.error().describe()));
    BOOST_TEST_REQUIRE((up->status == a2::upload_status::uploaded));
    return *ref;
}

} // namespace

BOOST_AUTO_TEST_CASE(full_send_and_receive) {
    broker_fixture f;
    auto a = f.client_for(org_a);
    auto b = f.client_for(org_b);
    const auto package = f.dir / "sbd.zip";
    kurer::test::write_zip_like(package, 300 * 1024 + 17);

    // Nothing waits for B yet.
    auto empty = run(f.io, b.poll());
    BOOST_TEST_REQUIRE(empty.has_value());
    BOOST_TEST(empty->empty());

    const std::string senders_reference = kurer::random_uuid();
    auto ref = run(f.io, a.initiate(org_a, senders_reference, org_b));
    BOOST_TEST_REQUIRE(ref.has_value(), (ref ? "" : ref.error().describe()));
    BOOST_TEST(kurer::is_uuid(*ref));
    auto up = run(f.io, a.upload(*ref, org_a, package));
    BOOST_TEST_REQUIRE(up.has_value(), (up ? "" : up.error().describe()));
    BOOST_TEST((up->status == a2::upload_status::uploaded));
    BOOST_TEST_REQUIRE(up->receipt.has_value());
    BOOST_TEST(up->receipt->status_code.value_or("") == "OK");
    BOOST_TEST(!up->receipt->text.value_or("").empty());

    // The broker keeps the upload as a plain file.
    BOOST_TEST((content(f.sb.dir() / "broker/a2" / *ref / "sbd.zip") == content(package)));

    // B sees it; A (the sender) does not.
    BOOST_TEST(run(f.io, b.check(org_b)).value());
    BOOST_TEST(!run(f.io, a.check(org_a)).value());
    auto files = run(f.io, b.poll());
    BOOST_TEST_REQUIRE(files.has_value(), (files ? "" : files.error().describe()));
    BOOST_TEST_REQUIRE(files->size() == 1u);
    const auto& in = files->front();
    BOOST_TEST(in.reference == *ref);
    BOOST_TEST(in.reportee == org_b);
    BOOST_TEST(in.sender == org_a);
    BOOST_TEST(in.senders_reference.value_or("") == senders_reference);
    BOOST_TEST(in.size == fs::file_size(package));
    BOOST_TEST(in.file_name == "sbd.zip");
    BOOST_TEST(!in.sent_date.empty());

    // Download (twice: downloading changes nothing), then confirm.
    const auto received = f.dir / "in.zip";
    for (int i = 0; i < 2; ++i) {
        auto size = run(f.io, b.download(in.reference, org_b, received));
        BOOST_TEST_REQUIRE(size.has_value(), (size ? "" : size.error().describe()));
        BOOST_TEST(*size == fs::file_size(package));
        BOOST_TEST((content(received) == content(package)));
        BOOST_TEST(!fs::exists(f.dir / "in.zip.mtom"));
        BOOST_TEST(run(f.io, b.poll()).value().size() == 1u);
    }
    BOOST_TEST_REQUIRE(run(f.io, b.confirm(in.reference, org_b)).has_value());
    BOOST_TEST(run(f.io, b.poll()).value().empty());
    BOOST_TEST(!run(f.io, b.check(org_b)).value());
    // A second confirm succeeds; the file stays downloadable.
    BOOST_TEST(run(f.io, b.confirm(in.reference, org_b)).has_value());
    BOOST_TEST(run(f.io, b.download(in.reference, org_b, received)).has_value());
}

BOOST_AUTO_TEST_CASE(a_repeated_upload_is_already_uploaded) {
    broker_fixture f;
    auto a = f.client_for(org_a);
    const auto package = f.dir / "sbd.zip";
    kurer::test::write_zip_like(package, 5000);
    const auto ref = send(f, a, package);
    auto again = run(f.io, a.upload(ref, org_a, package));
    BOOST_TEST_REQUIRE(again.has_value(), (again ? "" : again.error().describe()));
    BOOST_TEST((again->status == a2::upload_status::already_uploaded));
    BOOST_TEST(!again->receipt.has_value());
}

BOOST_AUTO_TEST_CASE(reportees_and_message_channels) {
    broker_fixture f;
    auto a = f.client_for(org_a);
    const auto package = f.dir / "sbd.zip";
    kurer::test::write_zip_like(package, 2000);
    const auto to_b = send(f, a, package, org_b);
    const auto to_c = send(f, a, package, org_c);
    // A channel-named transfer to B: for the end system with that channel only.
    auto channel_ref = run(f.io, a.initiate(org_a, "sak-system-2", org_b)).value();
    BOOST_TEST_REQUIRE(run(f.io, a.upload(channel_ref, org_a, package)).has_value());

    // B's system user acts for C too: polling B with reportee C sees both, each with its reportee.
    f.altinn2_settings(R"({"delegations": {")" + f.config_for(org_b).broker.account.system_user + R"(": [")" +
                       org_c + R"("]}})");
    auto cfg = f.config_for(org_b);
    cfg.reportees = {org_c};
    auto b = f.client(cfg);
    auto files = run(f.io, b.poll()).value();
    BOOST_TEST_REQUIRE(files.size() == 2u);
    std::map<std::string, std::string> reportee_of;
    for (const auto& x : files)
        reportee_of[x.reference] = x.reportee;
    BOOST_TEST(reportee_of[to_b] == org_b);
    BOOST_TEST(reportee_of[to_c] == org_c);
    BOOST_TEST(run(f.io, b.download(to_c, org_c, f.dir / "c.zip")).has_value());

    // With its own channel B sees only the channel's file.
    cfg.reportees.clear();
    cfg.message_channel = "sak-system-2";
    auto b_channel = f.client(cfg);
    auto own = run(f.io, b_channel.poll()).value();
    BOOST_TEST_REQUIRE(own.size() == 1u);
    BOOST_TEST(own.front().reference == channel_ref);
}

BOOST_AUTO_TEST_CASE(every_error_id_reaches_the_caller_typed) {
    broker_fixture f;
    auto cfg_a = f.config_for(org_a);
    cfg_a.attempts = 1;
    auto a = f.client(cfg_a);
    auto cfg_b = f.config_for(org_b);
    cfg_b.attempts = 1;
    auto b = f.client(cfg_b);
    auto cfg_c = f.config_for(org_c);
    cfg_c.attempts = 1;
    auto c = f.client(cfg_c);
    const auto package = f.dir / "sbd.zip";
    kurer::test::write_zip_like(package, 4000);

    // 0: empty credentials (the client refuses to be built without them, so the envelope is sent by hand).
    {
        a2::initiate_request req = a2::initiate_for(cfg_a.broker, org_a, kurer::random_uuid(), org_b);
        req.account.system_password.clear();
        kurer::http::request hr;
        hr.method = kurer::http::verb::post;
        hr.url = cfg_a.broker.basic_url;
        hr.headers.set("Content-Type", a2::soap_content_type);
        hr.headers.set("SOAPAction", a2::soap_action_header(a2::operation::initiate_broker_service));
        hr.body = kurer::http::body_source::from_string(a2::write_initiate_request(req).value());
        auto r = run(f.io, f.http->send(std::move(hr))).value();
        BOOST_TEST(r.status == 500u);
        require_code(a2::read_initiate_response(r.body), a2::errc::authentication_failed);
        BOOST_TEST(!a2::fault_error(*a2::parse_fault(r.body)).retryable);
    }
    // 5: a wrong password; every AltinnFault member reaches the message.
    {
        auto wrong = cfg_a;
        wrong.broker.account.system_password = "not-the-password";
        auto r = run(f.io, f.client(wrong).initiate(org_a, kurer::random_uuid(), org_b));
        require_code(r, a2::errc::not_authorized);
        BOOST_TEST(!r.error().retryable);
        BOOST_TEST(r.error().message.find("ErrorGuid") != std::string::npos, r.error().message);
        BOOST_TEST(r.error().message.find("not-the-password") == std::string::npos);
    }
    // 40210: a service that is not the broker service (initiate and list).
    {
        auto other = cfg_a;
        other.broker.service.edition = 1;
        require_code(run(f.io, f.client(other).initiate(org_a, kurer::random_uuid(), org_b)),
                     a2::errc::not_a_broker_service);
        require_code(run(f.io, f.client(other).list(org_a)), a2::errc::not_a_broker_service);
    }
    // 40211: acting for an organisation not delegated to this system.
    require_code(run(f.io, a.initiate(org_b, kurer::random_uuid(), org_c)), a2::errc::action_not_authorized);
    // 40202: a recipient the register does not know.
    require_code(run(f.io, a.initiate(org_a, kurer::random_uuid(), "999999999")),
                 a2::errc::recipient_invalid);
    // 40214: listing for something that is not an organisation number.
    require_code(run(f.io, a.list("12345")), a2::errc::invalid_reportee);

    const auto ref = run(f.io, a.initiate(org_a, kurer::random_uuid(), org_b)).value();
    // 40207: nothing uploaded yet.
    require_code(run(f.io, b.download(ref, org_b, f.dir / "x.zip")), a2::errc::no_file_ready);
    // 40212: unknown references.
    const auto unknown = kurer::random_uuid();
    require_code(run(f.io, a.upload(unknown, org_a, package)), a2::errc::unknown_reference);
    require_code(run(f.io, b.download(unknown, org_b, f.dir / "x.zip")), a2::errc::unknown_reference);
    require_code(run(f.io, b.confirm(unknown, org_b)), a2::errc::unknown_reference);
    // 40213: the upload's reportee is not the transfer's sender.
    require_code(run(f.io, a.upload(ref, org_b, package)), a2::errc::reportee_mismatch);
    // 40205: no data.
    const auto empty = f.dir / "empty.zip";
    std::ofstream(empty).close();
    {
        auto r = run(f.io, a.upload(ref, org_a, empty));
        require_code(r, a2::errc::no_file_data);
        BOOST_TEST(r.error().retryable);
    }
    // 40206: not a zip.
    const auto text = f.dir / "text.zip";
    std::ofstream(text) << "this is not a zip file";
    require_code(run(f.io, a.upload(ref, org_a, text)), a2::errc::not_a_zip);
    // 40204: beyond the size limit (lowered for the test).
    f.altinn2_settings(R"({"max_file_bytes": 1000})");
    require_code(run(f.io, a.upload(ref, org_a, package)), a2::errc::file_too_large);
    f.altinn2_settings(R"({"max_file_bytes": 1073741824})");
    // The failed attempts left the reference open: the real upload goes through, a second is 40208.
    BOOST_TEST((run(f.io, a.upload(ref, org_a, package)).value().status == a2::upload_status::uploaded));
    {
        // 40208 as the fault itself, for a caller that reads the envelope.
        auto again = run(f.io, a.upload(ref, org_a, package)).value();
        BOOST_TEST((again.status == a2::upload_status::already_uploaded));
    }
    // 40213: C is not a recipient of the file.
    f.altinn2_settings(R"({"delegations": {")" + cfg_c.broker.account.system_user + R"(": [")" + org_b +
                       R"("]}})");
    require_code(run(f.io, c.download(ref, org_c, f.dir / "x.zip")), a2::errc::reportee_mismatch);
    require_code(run(f.io, c.confirm(ref, org_c)), a2::errc::reportee_mismatch);
    // 40211: C's system acting for B at download is allowed only while delegated.
    f.altinn2_settings(R"({"delegations": {}})");
    require_code(run(f.io, c.download(ref, org_b, f.dir / "x.zip")), a2::errc::action_not_authorized);
    // 40215: B has lost its read right.
    f.altinn2_settings(R"({"deny_read": [")" + std::string(org_b) + R"("]})");
    require_code(run(f.io, b.download(ref, org_b, f.dir / "x.zip")), a2::errc::recipient_lacks_rights);
    require_code(run(f.io, b.confirm(ref, org_b)), a2::errc::recipient_lacks_rights);
    // 40202 at initiate for the same reason.
    require_code(run(f.io, a.initiate(org_a, kurer::random_uuid(), org_b)), a2::errc::recipient_invalid);
    f.altinn2_settings(R"({"deny_read": []})");
    // 40201: A may no longer send.
    f.altinn2_settings(R"({"deny_send": [")" + std::string(org_a) + R"("]})");
    require_code(run(f.io, a.initiate(org_a, kurer::random_uuid(), org_b)), a2::errc::reportee_may_not_send);
    f.altinn2_settings(R"({"deny_send": []})");
    // 40216: security level.
    f.altinn2_settings(R"({"low_security": [")" + std::string(org_b) + R"("]})");
    require_code(run(f.io, b.download(ref, org_b, f.dir / "x.zip")), a2::errc::security_level_too_low);
    f.altinn2_settings(R"({"low_security": []})");

    // After all that B still gets the file intact.
    BOOST_TEST(run(f.io, b.download(ref, org_b, f.dir / "x.zip")).has_value());
    BOOST_TEST((content(f.dir / "x.zip") == content(package)));
    BOOST_TEST(!fs::exists(f.dir / "x.zip.mtom"));
}

BOOST_AUTO_TEST_CASE(retries_on_5xx_and_resets) {
    broker_fixture f;
    auto a = f.client_for(org_a); // 3 attempts
    auto b = f.client_for(org_b);
    const auto package = f.dir / "sbd.zip";
    kurer::test::write_zip_like(package, 200 * 1024);
    const std::string basic = "/ServiceEngineExternal/BrokerServiceExternalBasic.svc";
    const std::string streamed = "/ServiceEngineExternal/BrokerServiceExternalBasicStreamed.svc";

    // Two 503s without a SOAP fault: retried, the third attempt succeeds.
    f.add_fault(R"({"path_prefix": ")" + basic + R"(", "status": 503, "body": "down", "count": 2})");
    f.control(kurer::http::verb::delete_, "/sandbox/stats");
    auto ref = run(f.io, a.initiate(org_a, kurer::random_uuid(), org_b));
    BOOST_TEST_REQUIRE(ref.has_value(), (ref ? "" : ref.error().describe()));
    BOOST_TEST(f.requests("POST " + basic) == 3);

    // More 503s than attempts: a retryable HTTP error, not a fault.
    {
        auto cfg = f.config_for(org_a);
        cfg.attempts = 2;
        f.add_fault(R"({"path_prefix": ")" + basic + R"(", "status": 503, "count": 2})");
        auto r = run(f.io, f.client(cfg).check(org_a));
        BOOST_TEST_REQUIRE(!r.has_value());
        BOOST_TEST(r.error().code == kurer::http::make_error_code(kurer::http::errc::server_error));
        BOOST_TEST(r.error().retryable);
    }

    // The upload's answer is cut by a reset after the broker stored the file: the retry meets 40208,
    // which is the success it stands for.
    f.add_fault(R"({"path_prefix": ")" + streamed + R"(", "reset_after_bytes": 60, "count": 1})");
    auto up = run(f.io, a.upload(*ref, org_a, package));
    BOOST_TEST_REQUIRE(up.has_value(), (up ? "" : up.error().describe()));
    BOOST_TEST((up->status == a2::upload_status::already_uploaded));

    // A 502 and a reset in the middle of the download: retried, the file arrives whole.
    f.add_fault(R"({"path_prefix": ")" + streamed + R"(", "status": 502, "count": 1})");
    f.add_fault(R"({"path_prefix": ")" + streamed + R"(", "reset_after_bytes": 100000, "count": 1})");
    f.control(kurer::http::verb::delete_, "/sandbox/stats");
    auto got = run(f.io, b.download(*ref, org_b, f.dir / "in.zip"));
    BOOST_TEST_REQUIRE(got.has_value(), (got ? "" : got.error().describe()));
    BOOST_TEST((content(f.dir / "in.zip") == content(package)));
    BOOST_TEST(f.requests("POST " + streamed) == 3);
    BOOST_TEST(!fs::exists(f.dir / "in.zip.mtom"));

    // A reset on confirm: retried (confirming twice is harmless).
    f.add_fault(R"({"path_prefix": ")" + basic + R"(", "reset_after_bytes": 10, "count": 1})");
    BOOST_TEST(run(f.io, b.confirm(*ref, org_b)).has_value());
    BOOST_TEST(run(f.io, b.poll()).value().empty());
}

BOOST_AUTO_TEST_CASE(broker_files_survive_a_restart) {
    kurer::testing::scratch_dir dir;
    boost::asio::io_context io;
    std::string ref;
    const auto package = dir / "sbd.zip";
    kurer::test::write_zip_like(package, 10000);
    fs::path sandbox_dir;
    {
        broker_fixture f;
        auto a = f.client_for(org_a);
        ref = send(f, a, package);
        f.altinn2_settings(R"({"max_file_bytes": 123456})");
        BOOST_TEST(f.sb.stop() == 0);
        // Restart the same directory and receive the file there.
        auto sb2 = kurer::sandbox::child::start(kurer::testing::executable("kurer-sandbox"), f.sb.dir(),
                                                {.initialize = false})
                       .value();
        auto cfg = f.config_for(org_b);
        cfg.broker.basic_url = sb2.base_url() + "/ServiceEngineExternal/BrokerServiceExternalBasic.svc";
        cfg.broker.streamed_url =
            sb2.base_url() + "/ServiceEngineExternal/BrokerServiceExternalBasicStreamed.svc";
        auto b = f.client(cfg);
        auto files = run(f.io, b.poll()).value();
        BOOST_TEST_REQUIRE(files.size() == 1u);
        BOOST_TEST(files.front().reference == ref);
        BOOST_TEST(run(f.io, b.download(ref, org_b, dir / "in.zip")).has_value());
        BOOST_TEST((content(dir / "in.zip") == content(package)));
        BOOST_TEST_REQUIRE(run(f.io, b.confirm(ref, org_b)).has_value());
        // The settings came back too.
        kurer::http::request req;
        req.url = sb2.base_url() + "/sandbox/altinn2";
        auto s = run(f.io, f.http->send(std::move(req))).value();
        BOOST_TEST(boost::json::parse(s.body).at("max_file_bytes").to_number<std::int64_t>() == 123456);
        BOOST_TEST(sb2.stop() == 0);
        // The confirmation was recorded on disk.
        const auto record = boost::json::parse(content(f.sb.dir() / "broker/a2" / ref / "transfer.json"));
        BOOST_TEST(record.at("status").at(org_b).as_string() == "Downloaded");
    }
}

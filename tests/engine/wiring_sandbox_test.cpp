// The ports over the real adapters, against a real `kurer-sandbox serve` over TLS: tokens from
// its Maskinporten (cached and shared), DPO records and certificates from its Service Registry,
// faults classified as retryable or final, and a package packed for the certificate the SR
// serves that the receiver opens with its own key.
#include "../adapters/http/run.hpp"

#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/dpo/asic.hpp>
#include <kurer/engine/testing/fakes.hpp>
#include <kurer/engine/wiring.hpp>
#include <kurer/http/client.hpp>
#include <kurer/sandbox/child.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <mutex>

namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace json = boost::json;
namespace ke = kurer::engine;
using namespace std::chrono_literals;

namespace {

constexpr const char* org_a = "910077473";
constexpr const char* org_b = "910075918";
constexpr const char* administrasjon = "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0";
constexpr const char* arkivmelding = "urn:no:difi:arkivmelding:xsd::arkivmelding";

std::string read(const fs::path& p) {
    return kurer::read_small_file(p, 64 << 20).value();
}

struct sandbox_fixture {
    kurer::testing::scratch_dir dir;
    kurer::sandbox::child sb =
        kurer::sandbox::child::start(kurer::testing::executable("kurer-sandbox"), dir / "sandbox",
                                     {.organizations = {org_a, org_b}})
            .value();
    asio::io_context io;

    ke::daemon_config config(const std::string& org) const {
        return ke::load_config(sb.dir() / "orgs" / org / "kurer.json").value();
    }
    // Every port over the real adapters; the broker is a directory (the brokers are tested apart).
    ke::wired wire(const std::string& org, ke::adapter_observer observer = {}) {
        ke::wiring_options options;
        options.observer = std::move(observer);
        options.broker =
            std::make_shared<ke::testing::directory_broker>(dir / "broker", org, ke::testing::fake_context{});
        return ke::wire(config(org), std::move(options)).value();
    }

    // Every port, the broker the config names included (Altinn 2 in the sandbox's configs).
    ke::wired wire_with_broker(const std::string& org, ke::adapter_observer observer = {}) {
        ke::wiring_options options;
        options.observer = std::move(observer);
        return ke::wire(config(org), std::move(options)).value();
    }

    // The sandbox's control endpoints, over TLS with its CA.
    json::value control(kurer::http::verb method, std::string path, std::string body = {}) {
        auto client =
            kurer::http::client::create(io.get_executor(), {.ca_bundle = sb.dir() / "ca" / "ca.pem"}).value();
        kurer::http::request req;
        req.method = method;
        req.url = sb.base_url() + path;
        if (!body.empty()) {
            req.headers.set("Content-Type", "application/json");
            req.body = kurer::http::body_source::from_string(std::move(body));
        }
        auto r = kurer::test::run(io, client.send(std::move(req))).value();
        BOOST_TEST_REQUIRE(r.ok(), path << ": HTTP " << r.status << " " << r.body);
        return r.body.empty() ? json::value() : json::parse(r.body);
    }
    std::int64_t requests_to(std::string_view key) {
        const auto stats = control(kurer::http::verb::get, "/sandbox/stats");
        std::int64_t n = 0;
        const auto& o =
            stats.as_object().contains("requests") ? stats.at("requests").as_object() : stats.as_object();
        for (const auto& [k, v] : o)
            if (std::string_view(k).starts_with(key) && v.is_number())
                n += v.to_number<std::int64_t>();
        return n;
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(wiring_sandbox)

BOOST_AUTO_TEST_CASE(token_port_gets_a_maskinporten_token_and_shares_it) {
    sandbox_fixture f;
    std::mutex mutex;
    std::vector<std::string> calls;
    auto w = f.wire(org_a, [&](const ke::adapter_call& c) {
        std::lock_guard lock(mutex);
        calls.push_back(std::string(c.adapter) + "." + std::string(c.operation) + (c.ok ? " ok" : " failed"));
    });
    const auto before = f.requests_to("POST /token");
    auto first = kurer::test::run(f.io, w.ports.token->get_token({"eformidling:dpo"}));
    BOOST_TEST_REQUIRE(first.has_value(), first.error().describe());
    BOOST_TEST(first->value.size() > 100u, "a JWT");
    const auto now = std::chrono::system_clock::now();
    BOOST_TEST((first->expires_at > now + 60s && first->expires_at < now + 200s),
               "the sandbox issues 120 s tokens");
    auto second = kurer::test::run(f.io, w.ports.token->get_token({"eformidling:dpo"}));
    BOOST_TEST_REQUIRE(second.has_value());
    BOOST_TEST(second->value == first->value, "the second ask is answered from the cache");
    BOOST_TEST(f.requests_to("POST /token") - before == 1);
    w.network->stop();
    std::lock_guard lock(mutex);
    BOOST_TEST((calls == std::vector<std::string>{"maskinporten.token ok", "maskinporten.token ok"}),
               "every port call is reported to the metrics");
}

BOOST_AUTO_TEST_CASE(token_failures_are_classified) {
    sandbox_fixture f;
    auto w = f.wire(org_a);
    f.control(kurer::http::verb::post, "/sandbox/faults",
              R"({"path_prefix":"/token","status":503,"count":1})");
    auto unavailable = kurer::test::run(f.io, w.ports.token->get_token({"eformidling:dpo"}));
    BOOST_TEST_REQUIRE(!unavailable.has_value());
    BOOST_TEST(unavailable.error().retryable, unavailable.error().describe());
    auto later = kurer::test::run(f.io, w.ports.token->get_token({"eformidling:dpo"}));
    BOOST_TEST(later.has_value(), "the fault was for one request only");

    auto unregistered = kurer::test::run(f.io, w.ports.token->get_token({"not:a:registered:scope"}));
    BOOST_TEST_REQUIRE(!unregistered.has_value());
    BOOST_TEST(!unregistered.error().retryable, unregistered.error().describe());
    BOOST_TEST(unregistered.error().message.find("invalid_scope") != std::string::npos,
               unregistered.error().message);
    w.network->stop();
}

BOOST_AUTO_TEST_CASE(resolver_port_gives_the_receivers_dpo_certificate) {
    sandbox_fixture f;
    auto w = f.wire(org_a);
    auto record = kurer::test::run(f.io, w.ports.resolver->resolve(org_b, administrasjon, arkivmelding));
    BOOST_TEST_REQUIRE(record.has_value(), record.error().describe());
    BOOST_TEST(record->service_identifier == "DPO");
    const auto b_cert = read(f.sb.dir() / "orgs" / org_b / "cert.pem");
    BOOST_TEST(b_cert.find(record->receiver_certificate_pem.substr(28, 64)) != std::string::npos,
               "the certificate is B's own");

    auto unknown =
        kurer::test::run(f.io, w.ports.resolver->resolve("999999999", administrasjon, arkivmelding));
    BOOST_TEST_REQUIRE(!unknown.has_value());
    BOOST_TEST(!unknown.error().retryable, unknown.error().describe());

    auto other_type =
        kurer::test::run(f.io, w.ports.resolver->resolve(org_b, administrasjon, "urn:no:difi:x:xsd::x"));
    BOOST_TEST_REQUIRE(!other_type.has_value());
    BOOST_TEST(!other_type.error().retryable, other_type.error().describe());

    f.control(kurer::http::verb::post, "/sandbox/faults",
              R"({"path_prefix":"/adressetjeneste/identifier","status":500,"count":2})");
    auto failing = kurer::test::run(f.io, w.ports.resolver->resolve(org_a, administrasjon, arkivmelding));
    BOOST_TEST_REQUIRE(!failing.has_value());
    BOOST_TEST(failing.error().retryable, failing.error().describe());
    w.network->stop();
}

BOOST_AUTO_TEST_CASE(a_package_for_the_certificate_the_sr_serves_opens_at_the_receiver) {
    sandbox_fixture f;
    auto a = f.wire(org_a);
    auto b = f.wire(org_b);
    auto record =
        kurer::test::run(f.io, a.ports.resolver->resolve(org_b, administrasjon, arkivmelding)).value();

    const auto docs = f.dir / "docs";
    fs::create_directories(docs);
    const std::string xml = "<arkivmelding>sandbox</arkivmelding>";
    kurer::write_file_durably(docs / "arkivmelding.xml", xml).value();
    ke::outgoing_message m;
    m.message_id = kurer::random_uuid();
    m.conversation_id = kurer::random_uuid();
    m.sender = org_a;
    m.receiver = org_b;
    m.process = administrasjon;
    m.document_type = arkivmelding;
    m.deadline = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now() + 1h);
    m.senders_reference = kurer::random_uuid();
    const std::vector<ke::document> documents{
        {"arkivmelding.xml", "application/xml", true, docs / "arkivmelding.xml"}};
    const auto info =
        a.ports.packer->pack(m, documents, record.receiver_certificate_pem, f.dir / "sbd.zip").value();
    BOOST_TEST(info.size > 0u);

    const auto opened = b.ports.packer->open(f.dir / "sbd.zip", f.dir / "payload", m.deadline - 1h).value();
    BOOST_TEST(opened.message_id == m.message_id);
    BOOST_TEST(opened.sender == org_a);
    BOOST_TEST(opened.signer_organization == org_a, "the sandbox's CA vouches for A's certificate");
    const auto out = f.dir / "out";
    fs::create_directories(out);
    kurer::dpo::extract_documents(f.dir / "payload", out).value();
    BOOST_TEST(read(out / "arkivmelding.xml") == xml);
    a.network->stop();
    b.network->stop();
}

BOOST_AUTO_TEST_CASE(broker_port_over_altinn2_moves_a_file_and_tolerates_repeats) {
    sandbox_fixture f;
    std::mutex mutex;
    std::vector<std::string> calls;
    auto a = f.wire_with_broker(org_a, [&](const ke::adapter_call& c) {
        std::lock_guard lock(mutex);
        if (std::string_view(c.adapter) == "altinn2")
            calls.push_back(std::string(c.operation) + (c.ok ? " ok " : " failed ") +
                            std::to_string(c.bytes));
    });
    // A real package (the broker checks that it is a ZIP with Altinn 2's manifest).
    const auto record =
        kurer::test::run(f.io, a.ports.resolver->resolve(org_b, administrasjon, arkivmelding)).value();
    const auto docs = f.dir / "docs";
    fs::create_directories(docs);
    kurer::write_file_durably(docs / "arkivmelding.xml", "<arkivmelding>broker</arkivmelding>").value();
    ke::outgoing_message m;
    m.message_id = kurer::random_uuid();
    m.conversation_id = kurer::random_uuid();
    m.sender = org_a;
    m.receiver = org_b;
    m.process = administrasjon;
    m.document_type = arkivmelding;
    m.deadline = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now() + 1h);
    m.senders_reference = kurer::random_uuid();
    const auto file = f.dir / "sbd.zip";
    a.ports.packer
        ->pack(m, {{"arkivmelding.xml", "application/xml", true, docs / "arkivmelding.xml"}},
               record.receiver_certificate_pem, file)
        .value();
    const auto content = read(file);

    const auto senders_reference = m.senders_reference;
    ke::transfer_request t{org_a, org_b, senders_reference, "sbd.zip", content.size(), "", file};
    const auto reference = kurer::test::run(f.io, a.ports.broker->initiate(t));
    BOOST_TEST_REQUIRE(reference.has_value(), reference.error().describe());
    const auto first = kurer::test::run(f.io, a.ports.broker->upload(*reference, file));
    BOOST_TEST_REQUIRE(first.has_value(), first.error().describe());
    BOOST_TEST((*first == ke::upload_result::uploaded));
    // A repeat after a crash: the broker has the file already, and says so (ErrorID 40208).
    const auto again = kurer::test::run(f.io, a.ports.broker->upload(*reference, file));
    BOOST_TEST_REQUIRE(again.has_value(), again.error().describe());
    BOOST_TEST((*again == ke::upload_result::already_uploaded));

    // The receiver lists it, with the sender's reference.
    auto b = f.wire_with_broker(org_b);
    const auto listed = kurer::test::run(f.io, b.ports.broker->list_available());
    BOOST_TEST_REQUIRE(listed.has_value(), listed.error().describe());
    BOOST_TEST_REQUIRE(listed->size() == 1u);
    BOOST_TEST(listed->at(0).reference == *reference);
    BOOST_TEST(listed->at(0).senders_reference == senders_reference);
    BOOST_TEST(listed->at(0).size == content.size());
    const auto age = std::chrono::system_clock::now() - listed->at(0).sent;
    BOOST_TEST((age > -1min && age < 1min), "the sent time is the broker's, parsed");
    // A sender lists nothing of its own.
    const auto own = kurer::test::run(f.io, a.ports.broker->list_available());
    BOOST_TEST_REQUIRE(own.has_value());
    BOOST_TEST(own->empty());

    // A restarted receiver downloads a reference it has not listed in this process.
    b.network->stop();
    auto b2 = f.wire_with_broker(org_b);
    const auto downloaded = kurer::test::run(f.io, b2.ports.broker->download(*reference, f.dir / "in.zip"));
    BOOST_TEST_REQUIRE(downloaded.has_value(), downloaded.error().describe());
    BOOST_TEST(read(f.dir / "in.zip") == content);
    const auto confirmed = kurer::test::run(f.io, b2.ports.broker->confirm(*reference));
    BOOST_TEST_REQUIRE(confirmed.has_value(), confirmed.error().describe());
    const auto after = kurer::test::run(f.io, b2.ports.broker->list_available());
    BOOST_TEST_REQUIRE(after.has_value());
    BOOST_TEST(after->empty(), "a confirmed file is no longer listed");

    a.network->stop();
    b2.network->stop();
    std::lock_guard lock(mutex);
    const auto n = std::to_string(content.size());
    BOOST_TEST(
        (calls == std::vector<std::string>{"initiate ok 0", "upload ok " + n, "upload ok " + n, "poll ok 0"}),
        "every broker call is reported with the bytes it moved: " << [&] {
            std::string all;
            for (const auto& c : calls)
                all += c + "; ";
            return all;
        }());
}

BOOST_AUTO_TEST_SUITE_END()

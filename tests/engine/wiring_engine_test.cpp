// Two embedded engines (kurer::engine::engine) exchange a real DPO package: the real packer with
// each organisation's certificate, a broker kept in a shared directory, tokens and lookups
// faked. The message walks to Received at the sender; the receiver's end system takes a
// decrypted ASiC-E whose documents are byte-identical to what was sent; MOTTATT and LEVERT
// travel back as real status packages.
#include "wiring_fixture.hpp"

#include <kurer/core/uuid.hpp>
#include <kurer/dpo/asic.hpp>
#include <kurer/engine/engine.hpp>
#include <kurer/engine/testing/fakes.hpp>

#include <boost/test/unit_test.hpp>

#include <map>
#include <mutex>

namespace fs = std::filesystem;
namespace ke = kurer::engine;
namespace sm = kurer::statemachine;
using kurer::testing::org_a;
using kurer::testing::org_b;
using kurer::testing::slurp;
using kurer::testing::spit;
using namespace std::chrono_literals;

namespace {

// The Service Registry's answer: DPO with the receiver's real certificate.
class certificate_resolver final : public ke::resolver_port {
public:
    explicit certificate_resolver(std::map<std::string, std::string> certificates)
        : certificates_(std::move(certificates)) {}
    ke::task<ke::service_record> resolve(std::string receiver, std::string, std::string) override {
        auto it = certificates_.find(receiver);
        if (it == certificates_.end())
            co_return kurer::make_error(make_error_code(ke::errc::not_found), "no record for " + receiver);
        co_return ke::service_record{"DPO", it->second};
    }

private:
    std::map<std::string, std::string> certificates_;
};

struct pair_fixture {
    kurer::testing::two_orgs orgs;
    fs::path broker = orgs.dir / "broker";
    std::unique_ptr<ke::engine> a, b;

    std::unique_ptr<ke::engine> start(const std::string& org) {
        auto config = orgs.config(org);
        config.runner.polling_interval = 50ms;
        config.runner.retry.initial = 50ms;
        config.runner.retry.max = 500ms;
        ke::engine_options options;
        options.log = [](ke::log_level, std::string_view) {
        };
        ke::ports p;
        p.token = std::make_shared<ke::testing::fake_token>(ke::testing::fake_context{});
        p.resolver = std::make_shared<certificate_resolver>(
            std::map<std::string, std::string>{{org_a, orgs.cert_a}, {org_b, orgs.cert_b}});
        p.packer = ke::make_dpo_packer(config).value();
        p.broker = std::make_shared<ke::testing::directory_broker>(broker, org, ke::testing::fake_context{});
        options.ports = std::move(p);
        return ke::engine::start(std::move(config), std::move(options)).value();
    }

    pair_fixture() {
        a = start(org_a);
        b = start(org_b);
    }
};

bool is_finished(sm::outgoing_state s) {
    return s == sm::outgoing_state::received || s == sm::outgoing_state::failed ||
           s == sm::outgoing_state::expired;
}

} // namespace

BOOST_AUTO_TEST_SUITE(wiring_engine)

BOOST_AUTO_TEST_CASE(a_message_reaches_received_and_the_end_system_gets_identical_documents) {
    pair_fixture f;
    std::mutex mutex;
    std::vector<std::string> seen;
    f.a->subscribe([&](const ke::transition_event& e) {
        if (e.kind == kurer::storage::record_kind::outgoing) {
            std::lock_guard lock(mutex);
            seen.push_back(std::string(sm::to_string(static_cast<sm::outgoing_state>(e.to))));
        }
    });

    std::string pdf(300'000, '\0');
    for (std::size_t i = 0; i < pdf.size(); ++i)
        pdf[i] = static_cast<char>((i * 31 + i / 7) % 256);
    spit(f.orgs.dir / "vedlegg.pdf", pdf);
    const std::string arkivmelding = "<arkivmelding>case 2026/1</arkivmelding>";

    const auto id = kurer::random_uuid();
    ke::submit_request request;
    request.message_id = id;
    request.receiver = org_b;
    request.business_message = R"({"hoveddokument":"arkivmelding.xml"})";
    request.documents.push_back({.name = "arkivmelding.xml",
                                 .mime_type = "application/xml",
                                 .primary = true,
                                 .bytes = arkivmelding,
                                 .file = {}});
    request.documents.push_back({.name = "vedlegg.pdf",
                                 .mime_type = "application/pdf",
                                 .primary = false,
                                 .bytes = {},
                                 .file = f.orgs.dir / "vedlegg.pdf"});
    const auto submitted = f.a->submit(request).value();
    BOOST_TEST(submitted.created);
    const auto stored = f.a->find(id).value();
    BOOST_TEST_REQUIRE(stored.has_value());
    BOOST_TEST(stored->record.process == "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0",
               "an empty process is the config's default_process");
    BOOST_TEST(stored->record.document_type == "urn:no:difi:arkivmelding:xsd::arkivmelding");

    // MOTTATT comes back when B has queued it.
    const auto delivered = f.a->wait_for(
        id, [](sm::outgoing_state s) { return s == sm::outgoing_state::delivered || is_finished(s); }, 60s);
    BOOST_TEST_REQUIRE(delivered.has_value());
    BOOST_TEST_REQUIRE((*delivered == sm::outgoing_state::delivered), sm::to_string(*delivered));

    // B's end system: peek, pop (the decrypted ASiC-E), check, take.
    auto peeked = f.b->core().peek_blocking().value();
    BOOST_TEST_REQUIRE(peeked.has_value());
    BOOST_TEST(peeked->message_id == id);
    BOOST_TEST(peeked->sender == org_a);
    const auto payload = f.b->core().pop(id).value();
    const auto report = kurer::dpo::verify_asic(payload).value();
    BOOST_TEST(report.ok(), report.describe_problems());
    const auto out = f.orgs.dir / "taken";
    fs::create_directories(out);
    kurer::dpo::extract_documents(payload, out).value();
    BOOST_TEST(slurp(out / "vedlegg.pdf") == pdf);
    BOOST_TEST(slurp(out / "arkivmelding.xml") == arkivmelding);
    BOOST_TEST_REQUIRE(f.b->core().take_blocking(id).has_value());

    // LEVERT comes back.
    const auto received = f.a->wait_for(id, is_finished, 60s);
    BOOST_TEST_REQUIRE(received.has_value());
    BOOST_TEST((*received == sm::outgoing_state::received), sm::to_string(*received));
    const auto history = f.a->find(id).value()->history;
    std::vector<std::string> events;
    for (const auto& h : history)
        events.push_back(h.event);
    BOOST_TEST((std::find(events.begin(), events.end(), "status_mottatt") != events.end()));
    BOOST_TEST((std::find(events.begin(), events.end(), "status_levert") != events.end()));

    std::lock_guard lock(mutex);
    BOOST_TEST((std::find(seen.begin(), seen.end(), "Received") != seen.end()), "subscribers saw it arrive");
}

BOOST_AUTO_TEST_CASE(submit_refuses_more_than_max_message_bytes_and_stop_is_idempotent) {
    pair_fixture f;
    ke::submit_request request;
    request.message_id = kurer::random_uuid();
    request.receiver = org_b;
    request.documents.push_back({.name = "big.bin",
                                 .mime_type = "application/octet-stream",
                                 .primary = true,
                                 .bytes = std::string(10, 'x'),
                                 .file = {}});
    // The limit from the config, lowered by restarting A with a smaller one.
    f.a->stop();
    auto config = f.orgs.config(org_a);
    config.max_message_bytes = 5;
    ke::engine_options options;
    options.log = [](ke::log_level, std::string_view) {
    };
    ke::ports p = ke::testing::make_fake_ports(f.broker, org_a);
    options.ports = std::move(p);
    auto small = ke::engine::start(std::move(config), std::move(options)).value();
    const auto refused = small->submit(request);
    BOOST_TEST_REQUIRE(!refused.has_value());
    BOOST_TEST(refused.error().message.starts_with(
                   "documents: 10 bytes together, more than limits.max_message_bytes"),
               refused.error().message);
    BOOST_TEST(!small->find(request.message_id).value().has_value(), "nothing half-created is left");
    small->stop();
    small->stop();
    request.documents[0].bytes = "x";
    const auto after = small->submit(request);
    BOOST_TEST_REQUIRE(!after.has_value());
    BOOST_TEST((after.error().code == make_error_code(ke::errc::stopping)));
}

BOOST_AUTO_TEST_SUITE_END()

// A receiving `kurer run` daemon under attack through the sandbox's Altinn 2 broker, which, like
// the real one, lets any registered organisation upload anything to anyone. The attacker is a
// registered organisation with its own enterprise certificate and broker account; it builds
// packages by hand with kurer::dpo and uploads them with the Altinn 2 client. Every forgery must
// end Rejected at the receiver: confirmed at the broker, never queued, no MOTTATT, the reason
// recorded and counted; the genuine package must still arrive.
#include <kurer/altinn2/client.hpp>
#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/dpo/asic.hpp>
#include <kurer/dpo/cms.hpp>
#include <kurer/dpo/io.hpp>
#include <kurer/dpo/package.hpp>
#include <kurer/engine/admin_client.hpp>
#include <kurer/http/client.hpp>
#include <kurer/sandbox/pki.hpp>
#include <kurer/testing/cluster.hpp>
#include <kurer/testing/dpo_zip.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <thread>

namespace fs = std::filesystem;
namespace json = boost::json;
namespace ke = kurer::engine;
namespace dpo = kurer::dpo;
namespace t = kurer::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* attacker = "910077473"; // registered, with its own certificate and broker account
constexpr const char* receiver = "910075918"; // the daemon under attack
constexpr const char* victim = "910094092";   // whose name the attacker borrows

std::string id_of(const std::string& org) {
    return "0192:" + org;
}

dpo::instant now() {
    return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
}

std::string read(const fs::path& p) {
    return kurer::read_small_file(p, 64 << 20).value();
}

// One sandbox with three organisations and the receiver's daemon, shared by every case (each
// case uses messages of its own).
struct world {
    t::cluster c;
    fs::path sandbox_dir = c.sandbox().dir();
    t::daemon* daemon = nullptr;
    fs::path work;
    dpo::identity attacker_id;
    dpo::certificate receiver_cert;

    world()
        : c(options())
        , work(c.dir() / "attacker")
        , attacker_id(
              dpo::identity::load(org_dir(attacker) / "cert.pem", org_dir(attacker) / "key.pem").value())
        , receiver_cert(dpo::certificate::load_chain(org_dir(receiver) / "cert.pem").value().front()) {
        daemon = &c.start_daemon(receiver);
        fs::create_directories(work);
        kurer::write_file_durably(work / "arkivmelding.xml", "<arkivmelding>the record</arkivmelding>")
            .value();
        std::string pdf(40'000, '\0');
        for (std::size_t i = 0; i < pdf.size(); ++i)
            pdf[i] = static_cast<char>((i * 131) % 256);
        kurer::write_file_durably(work / "vedlegg.pdf", pdf).value();
    }

    static t::cluster_options options() {
        t::cluster_options o;
        o.organizations = {attacker, receiver, victim};
        o.tune = [](json::object& config) {
            config["polling_interval_ms"] = 200;
            config["retry"] = {{"initial_backoff_ms", 100}, {"max_backoff_ms", 1000}};
        };
        return o;
    }

    fs::path org_dir(const std::string& org) const { return sandbox_dir / "orgs" / org; }
    fs::path socket() const { return org_dir(receiver) / "kurer.sock"; }

    std::vector<dpo::asic_document> documents() const {
        return {{work / "arkivmelding.xml", "arkivmelding.xml", "application/xml"},
                {work / "vedlegg.pdf", "vedlegg.pdf", "application/pdf"}};
    }

    dpo::sbd message(const std::string& sender, const std::string& message_id = kurer::random_uuid()) const {
        dpo::message_params p;
        p.sender = id_of(sender);
        p.receiver = id_of(receiver);
        p.message_id = message_id;
        return dpo::make_message(p, now());
    }

    // The ASiC-E as `signer` signs it for `document`'s parties.
    fs::path signed_asic(const std::string& name, const dpo::sbd& document,
                         const dpo::identity& signer) const {
        const auto out = work / (name + ".asic");
        dpo::write_asic(out, documents(), document.sender_identifier().value(),
                        document.receiver_identifier().value(), signer)
            .value();
        return out;
    }

    // sbd.zip around a plaintext ASiC-E: encrypted for the receiver, as anyone can (its
    // certificate is public in the Service Registry).
    fs::path seal(const std::string& name, const dpo::sbd& document, const fs::path& asic) const {
        const auto cms = work / (name + ".cms");
        auto source = dpo::file_source::open(asic).value();
        auto sink = dpo::file_sink::create(cms).value();
        dpo::encrypt(source, sink, receiver_cert).value();
        sink.commit().value();
        const auto out = work / (name + ".zip");
        kurer::write_file_durably(out, t::build_zip({t::file_entry("sbd.json", dpo::to_json(document)),
                                                     t::file_entry("asic.zip", read(cms))}))
            .value();
        return out;
    }

    // A genuine package, packed by the library as a sender's engine would.
    fs::path genuine(const std::string& name, const dpo::sbd& document) const {
        const auto out = work / (name + ".zip");
        std::vector<dpo::pack_document> docs;
        for (const auto& d : documents())
            docs.push_back({d.file, d.name, d.mime_type});
        dpo::pack(document, docs, attacker_id, receiver_cert, out).value();
        return out;
    }

    // An Altinn 2 client with `org`'s system user, as its own kurer.json has it.
    kurer::altinn2::client_config broker_config(const std::string& org) const {
        const auto v = json::parse(read(org_dir(org) / "kurer.json"));
        const auto& a2 = v.at("broker").at("altinn2");
        kurer::altinn2::client_config cfg;
        cfg.broker.basic_url = a2.at("basic_url").as_string();
        cfg.broker.streamed_url = a2.at("streamed_url").as_string();
        cfg.broker.account.system_user = a2.at("system_user").as_string();
        cfg.broker.account.system_password = a2.at("system_password").as_string();
        cfg.broker.service.code = a2.at("service_code").as_string();
        cfg.broker.service.edition = static_cast<std::int32_t>(a2.at("service_edition").as_int64());
        cfg.organization = org;
        return cfg;
    }

    template <class T, class Job>
    T with_broker(const std::string& org, Job job) const {
        boost::asio::io_context io;
        kurer::http::client_config hc;
        hc.ca_bundle = sandbox_dir / "ca" / "ca.pem";
        auto http =
            std::make_shared<kurer::http::client>(kurer::http::client::create(io.get_executor(), hc).value());
        auto client = kurer::altinn2::broker_client::create(http, broker_config(org)).value();
        auto run = [&]() -> boost::asio::awaitable<T> {
            auto r = co_await job(client);
            http->shutdown(); // idle keep-alive connections would hold io.run() until they time out
            co_return r;
        };
        auto f = boost::asio::co_spawn(io, std::move(run), boost::asio::use_future);
        io.run();
        return f.get();
    }

    // Uploads `file` to the receiver as `org`; the broker's reference.
    std::string upload(const std::string& org, const fs::path& file) const {
        auto job = [org, file](kurer::altinn2::broker_client& b) -> boost::asio::awaitable<std::string> {
            auto reference = co_await b.initiate(org, kurer::random_uuid(), receiver);
            BOOST_TEST_REQUIRE(reference.has_value(), reference.error().describe());
            auto up = co_await b.upload(*reference, org, file);
            BOOST_TEST_REQUIRE(up.has_value(), up.error().describe());
            co_return *reference;
        };
        return with_broker<std::string>(org, std::move(job));
    }

    // The references the broker still lists for `org` (files not confirmed).
    std::vector<std::string> listed_for(const std::string& org) const {
        auto job =
            [org](kurer::altinn2::broker_client& b) -> boost::asio::awaitable<std::vector<std::string>> {
            auto files = co_await b.list(org);
            BOOST_TEST_REQUIRE(files.has_value(), files.error().describe());
            std::vector<std::string> refs;
            for (const auto& f : *files)
                refs.push_back(f.file_reference.value_or(""));
            co_return refs;
        };
        return with_broker<std::vector<std::string>>(org, std::move(job));
    }

    ke::admin_response admin(boost::beast::http::verb method, const std::string& target) const {
        ke::admin_client client({.socket = socket()}, 10s);
        ke::admin_request request;
        request.method = method;
        request.target = target;
        auto r = client.send(request);
        BOOST_TEST_REQUIRE(r.has_value(), r.error().describe());
        return *r;
    }
    std::optional<json::object> message_view(const std::string& id) const {
        auto r = admin(boost::beast::http::verb::get, "/admin/messages/" + id);
        if (r.status != 200)
            return std::nullopt;
        return json::parse(r.body).as_object();
    }

    // Waits until the receiver's record of `id` is in `state` and no longer listed at the broker.
    json::object wait_for(const std::string& id, std::string_view state, bool confirmed = true) const {
        const auto until = std::chrono::steady_clock::now() + 30s;
        std::optional<json::object> last;
        while (std::chrono::steady_clock::now() < until) {
            last = message_view(id);
            if (last && last->at("state").as_string() == state) {
                if (!confirmed)
                    return *last;
                const auto listed = listed_for(receiver);
                if (std::find(listed.begin(), listed.end(), id) == listed.end())
                    return *last;
            }
            std::this_thread::sleep_for(100ms);
        }
        BOOST_FAIL(id << " did not reach " << state
                      << " (last seen: " << (last ? json::serialize(*last) : "none") << ")");
        return {};
    }

    // What the receiver's engine sends back about `message_id`: nothing, for a forgery.
    bool answered(const std::string& message_id) const {
        return message_view(message_id + ".mottatt").has_value();
    }
};

world& w() {
    static world instance;
    return instance;
}

std::string text_of(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

void expect_rejected(const json::object& view, std::initializer_list<std::string_view> reasons,
                     std::string_view why) {
    const auto reason = text_of(view, "rejection");
    BOOST_TEST((std::find(reasons.begin(), reasons.end(), reason) != reasons.end()),
               "rejection '" << reason << "': " << json::serialize(view));
    BOOST_TEST(text_of(view, "lastError").find(why) != std::string::npos, text_of(view, "lastError"));
    BOOST_TEST(text_of(view, "messageId").empty(), "a rejected package claims no messageId");
}

} // namespace

BOOST_AUTO_TEST_SUITE(e2e_attack)

BOOST_AUTO_TEST_CASE(a_document_altered_and_re_encrypted_to_the_receiver_is_rejected) {
    auto& x = w();
    const auto document = x.message(attacker);
    auto entries = t::read_entries(x.signed_asic("altered", document, x.attacker_id).string());
    for (auto& e : entries)
        if (e.name == "vedlegg.pdf")
            e.data[1234] ^= 0x01;
    const auto asic = x.work / "altered-after-signing.asic";
    kurer::write_file_durably(asic, t::build_zip(entries)).value();
    const auto reference = x.upload(attacker, x.seal("altered", document, asic));
    const auto view = x.wait_for(reference, "Rejected");
    expect_rejected(view, {"tampered"}, "vedlegg.pdf");
    BOOST_TEST(!x.answered(document.message_id()), "no MOTTATT for a forgery");
}

BOOST_AUTO_TEST_CASE(a_byte_flipped_in_the_cms_is_rejected) {
    auto& x = w();
    const auto document = x.message(attacker);
    auto entries = t::read_entries(x.genuine("flipped-cms", document).string());
    for (auto& e : entries)
        if (e.name == "asic.zip")
            e.data[e.data.size() / 2] ^= 0x10;
    const auto file = x.work / "flipped-cms-sealed.zip";
    kurer::write_file_durably(file, t::build_zip(entries)).value();
    const auto view = x.wait_for(x.upload(attacker, file), "Rejected");
    // CBC garbles the block and flips a bit in the next: the zip or a digest no longer checks out.
    expect_rejected(view, {"tampered", "malformed"}, "");
    BOOST_TEST(!x.answered(document.message_id()));
}

BOOST_AUTO_TEST_CASE(a_package_signed_by_one_organisation_naming_another_as_sender_is_rejected) {
    auto& x = w();
    // The attacker signs and uploads with its own certificate and account; the SBD and the signed
    // manifest name the victim, so MOTTATT and LEVERT would go to the victim.
    const auto document = x.message(victim);
    const auto reference = x.upload(
        attacker, x.seal("impersonation", document, x.signed_asic("impersonation", document, x.attacker_id)));
    const auto view = x.wait_for(reference, "Rejected");
    expect_rejected(view, {"wrong_sender"}, std::string(attacker) + " signed it");
    BOOST_TEST(!x.answered(document.message_id()));
    BOOST_TEST(x.listed_for(victim).empty(), "nothing was sent to the organisation named as sender");
}

BOOST_AUTO_TEST_CASE(a_package_signed_with_a_certificate_from_an_untrusted_ca_is_rejected) {
    auto& x = w();
    // A certificate with the attacker's own organisation number, from a CA nobody configured.
    const auto rogue = kurer::sandbox::certificate_authority::create("Rogue Enterprise CA");
    const auto issued =
        rogue.issue({.common_name = "ROGUE", .organization = "ROGUE", .serial_number = attacker});
    const auto rogue_id = dpo::identity::from_pem(issued.certificate_pem, issued.private_key_pem).value();
    const auto document = x.message(attacker);
    const auto reference =
        x.upload(attacker, x.seal("rogue", document, x.signed_asic("rogue", document, rogue_id)));
    const auto view = x.wait_for(reference, "Rejected");
    expect_rejected(view, {"untrusted_signer"}, "does not chain to a trusted enterprise CA");
    BOOST_TEST(!x.answered(document.message_id()));
}

BOOST_AUTO_TEST_CASE(a_receipt_from_an_organisation_the_message_was_not_sent_to_is_rejected) {
    auto& x = w();
    // The receiver's end system sends a message to the victim (no engine of the victim's runs,
    // so it waits for its receipts at Uploaded).
    kurer::write_file_durably(x.work / "note.txt", "to the victim").value();
    const auto id = kurer::random_uuid();
    const auto sent =
        t::run_to_end(t::executable("kurerctl"), {"--socket", x.socket().string(), "send", "--to",
                                                  id_of(victim), "--id", id, (x.work / "note.txt").string()});
    BOOST_TEST_REQUIRE(sent.has_value());
    BOOST_TEST_REQUIRE(sent->exit_code == 0, sent->err);
    x.wait_for(id, "Uploaded", false);

    // The attacker claims to have received it: a MOTTATT under its own name and account.
    dpo::message_params as_sent;
    as_sent.sender = id_of(receiver);
    as_sent.message_id = id;
    as_sent.receiver = id_of(attacker);
    const auto forged_status =
        dpo::make_status(dpo::make_message(as_sent, now()), dpo::receipt_status::mottatt, now());
    dpo::pack_receipt(forged_status, x.work / "forged-mottatt.zip").value();
    const auto forged = x.upload(attacker, x.work / "forged-mottatt.zip");
    const auto view = x.wait_for(forged, "Rejected");
    expect_rejected(view, {"wrong_sender"}, std::string("comes from ") + attacker);
    BOOST_TEST(text_of(view, "lastError").find(std::string("went to ") + victim) != std::string::npos);
    BOOST_TEST(text_of(*x.message_view(id), "state") == "Uploaded", "the forged MOTTATT moved nothing");

    // The victim's genuine MOTTATT moves it.
    as_sent.receiver = id_of(victim);
    const auto real_status =
        dpo::make_status(dpo::make_message(as_sent, now()), dpo::receipt_status::mottatt, now());
    dpo::pack_receipt(real_status, x.work / "real-mottatt.zip").value();
    x.upload(victim, x.work / "real-mottatt.zip");
    x.wait_for(id, "Delivered", false);
}

BOOST_AUTO_TEST_CASE(the_genuine_package_arrives_after_its_forged_twin_with_the_same_message_id) {
    auto& x = w();
    const auto message_id = kurer::random_uuid();
    const auto document = x.message(attacker, message_id);

    // First a forged copy (a document changed after signing) with that messageId...
    auto entries = t::read_entries(x.signed_asic("twin", document, x.attacker_id).string());
    for (auto& e : entries)
        if (e.name == "arkivmelding.xml")
            e.data = "<arkivmelding>a different record</arkivmelding>";
    const auto asic = x.work / "twin-forged.asic";
    kurer::write_file_durably(asic, t::build_zip(entries)).value();
    const auto forged = x.upload(attacker, x.seal("twin", document, asic));
    expect_rejected(x.wait_for(forged, "Rejected"), {"tampered"}, "arkivmelding.xml");

    // ...then the genuine one: delivered to the end system's queue and answered with MOTTATT.
    const auto genuine = x.upload(attacker, x.genuine("twin-genuine", document));
    const auto view = x.wait_for(genuine, "Queued");
    BOOST_TEST(text_of(view, "messageId") == message_id);
    BOOST_TEST(text_of(view, "signer").find(attacker) != std::string::npos, json::serialize(view));
    BOOST_TEST(text_of(view, "uploadedBy") == attacker);
    BOOST_TEST(x.answered(message_id), "MOTTATT goes back for the genuine package");
    const auto inbox = x.admin(boost::beast::http::verb::get, "/api/messages/in?messageId=" + message_id);
    BOOST_TEST(inbox.body.find(message_id) != std::string::npos, inbox.body);
}

BOOST_AUTO_TEST_CASE(every_rejection_is_counted_by_reason_and_logged) {
    auto& x = w();
    const auto metrics = x.admin(boost::beast::http::verb::get, "/admin/metrics").body;
    for (const auto* reason : {"tampered", "wrong_sender", "untrusted_signer"})
        BOOST_TEST(metrics.find("kurer_incoming_rejected_total{reason=\"" + std::string(reason) + "\"}") !=
                       std::string::npos,
                   reason);
    std::size_t logged = 0;
    for (const auto& line : t::read_log(x.daemon->log_file()).value())
        if (line.at("msg").as_string() == "incoming package rejected")
            ++logged;
    BOOST_TEST(logged >= 6u);
}

BOOST_AUTO_TEST_SUITE_END()

// Two organisations through the sandbox, as the product runs: the receiver is a `kurer run`
// process, the sender an embedded engine. A message submitted through the engine API reaches
// Delivered (MOTTATT from the daemon); the daemon stops gracefully on SIGTERM with the message
// still on its queue; restarted, the receiver's end system takes a byte-identical copy and the
// sender's message reaches Received (LEVERT).
#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/dpo/asic.hpp>
#include <kurer/testing/cluster.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace fs = std::filesystem;
namespace json = boost::json;
namespace ke = kurer::engine;
namespace sm = kurer::statemachine;
using namespace std::chrono_literals;

namespace {

constexpr const char* org_a = "910077473";
constexpr const char* org_b = "910075918";

std::string read(const fs::path& p) {
    return kurer::read_small_file(p, 64 << 20).value();
}

bool finished(sm::outgoing_state s) {
    return s == sm::outgoing_state::received || s == sm::outgoing_state::failed ||
           s == sm::outgoing_state::expired;
}

kurer::testing::cluster_options fast() {
    kurer::testing::cluster_options o;
    o.tune = [](json::object& config) {
        config["polling_interval_ms"] = 200;
        config["retry"] = {{"initial_backoff_ms", 200}, {"max_backoff_ms", 2000}};
        config["shutdown_grace_ms"] = 5000;
    };
    return o;
}

} // namespace

BOOST_AUTO_TEST_SUITE(e2e_pair)

BOOST_AUTO_TEST_CASE(a_message_and_its_receipts_between_a_daemon_and_an_embedded_engine) {
    kurer::testing::cluster c(fast());
    auto& receiver = c.start_daemon(org_b);
    BOOST_TEST(receiver.ready().at("organization").as_string() == org_b);
    auto sender = c.start_engine(org_a);

    std::string pdf(150'000, '\0');
    for (std::size_t i = 0; i < pdf.size(); ++i)
        pdf[i] = static_cast<char>((i * 131) % 256);
    kurer::write_file_durably(c.dir() / "vedlegg.pdf", pdf).value();
    const std::string record = "<arkivmelding>e2e</arkivmelding>";

    const auto id = kurer::random_uuid();
    ke::submit_request request;
    request.message_id = id;
    request.receiver = org_b;
    request.business_message = R"({"hoveddokument":"arkivmelding.xml"})";
    ke::document_source main_document;
    main_document.name = "arkivmelding.xml";
    main_document.mime_type = "application/xml";
    main_document.primary = true;
    main_document.bytes = record;
    request.documents.push_back(main_document);
    ke::document_source attachment;
    attachment.name = "vedlegg.pdf";
    attachment.mime_type = "application/pdf";
    attachment.file = c.dir() / "vedlegg.pdf";
    request.documents.push_back(attachment);
    BOOST_TEST_REQUIRE(sender->submit(request).value().created);

    const auto delivered = sender->wait_for(
        id, [](sm::outgoing_state s) { return s == sm::outgoing_state::delivered || finished(s); }, 60s);
    BOOST_TEST_REQUIRE(delivered.has_value());
    BOOST_TEST_REQUIRE((*delivered == sm::outgoing_state::delivered), sm::to_string(*delivered));

    // SIGTERM: a graceful stop, exit 0, nothing on stdout but the readiness line.
    BOOST_TEST(receiver.drain_stdout().empty());
    BOOST_TEST(receiver.terminate() == 0);
    const auto log = kurer::testing::read_log(receiver.log_file()).value();
    std::vector<std::string> said;
    for (const auto& line : log)
        said.emplace_back(line.at("msg").as_string());
    BOOST_TEST((std::find(said.begin(), said.end(), "stopping on a signal") != said.end()));
    BOOST_TEST(said.back() == "stopped");
    const auto password =
        json::parse(read(c.config_file(org_b))).at("broker").at("altinn2").at("system_password");
    BOOST_TEST(read(receiver.log_file()).find(password.as_string().c_str()) == std::string::npos,
               "the broker password never reaches the log");

    // What the daemon wrote is its own: the queued package and its payload, RocksDB's files, every
    // directory. The embedded sender cannot choose its host's umask, but its directories are private.
    const auto others = fs::perms::group_all | fs::perms::others_all;
    std::size_t incoming_files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(c.config_file(org_b).parent_path() / "data")) {
        const auto perms = fs::symlink_status(entry.path()).permissions();
        if (entry.is_directory())
            BOOST_TEST((perms == fs::perms::owner_all), entry.path().string() << " is not 0700");
        else
            BOOST_TEST(((perms & others) == fs::perms::none), entry.path().string() << " is open to others");
        incoming_files += entry.path().parent_path().filename() == "in" ? 1 : 0;
    }
    BOOST_TEST(incoming_files >= 2u, "the package and its payload were among the files checked");
    for (const auto& entry : fs::recursive_directory_iterator(c.config_file(org_a).parent_path() / "data"))
        if (entry.is_directory())
            BOOST_TEST((fs::symlink_status(entry.path()).permissions() == fs::perms::owner_all),
                       entry.path().string() << " is not 0700");

    // The receiver again, embedded: the message waited on its queue across the restart.
    auto end_system = c.start_engine(org_b);
    auto peeked = end_system->core().peek_blocking().value();
    BOOST_TEST_REQUIRE(peeked.has_value());
    BOOST_TEST(peeked->message_id == id);
    BOOST_TEST(peeked->sender == org_a);
    const auto payload = end_system->core().pop(id).value();
    const auto taken = c.dir() / "taken";
    fs::create_directories(taken);
    kurer::dpo::extract_documents(payload, taken).value();
    BOOST_TEST(read(taken / "vedlegg.pdf") == pdf);
    BOOST_TEST(read(taken / "arkivmelding.xml") == record);
    BOOST_TEST_REQUIRE(end_system->core().take_blocking(id).has_value());

    const auto received = sender->wait_for(id, finished, 60s);
    BOOST_TEST_REQUIRE(received.has_value());
    BOOST_TEST((*received == sm::outgoing_state::received), sm::to_string(*received));
    end_system->stop();
    sender->stop();
}

BOOST_AUTO_TEST_CASE(kill_9_and_restart_loses_nothing) {
    kurer::testing::cluster c(fast());
    auto sender = c.start_engine(org_a);
    auto& first = c.start_daemon(org_b);
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        ke::submit_request request;
        request.message_id = kurer::random_uuid();
        request.receiver = org_b;
        ke::document_source d;
        d.name = "arkivmelding.xml";
        d.mime_type = "application/xml";
        d.primary = true;
        d.bytes = "<arkivmelding>" + std::to_string(i) + "</arkivmelding>";
        request.documents.push_back(d);
        ids.push_back(sender->submit(request).value().id);
    }
    // Killed without a goodbye while the messages are on their way, then started again.
    first.kill();
    c.start_daemon(org_b);
    for (const auto& id : ids) {
        const auto s = sender->wait_for(
            id, [](sm::outgoing_state s) { return s == sm::outgoing_state::delivered || finished(s); }, 60s);
        BOOST_TEST_REQUIRE(s.has_value());
        BOOST_TEST((*s == sm::outgoing_state::delivered), id << ": " << sm::to_string(*s));
    }
    BOOST_TEST(c.daemon_of(org_b).terminate() == 0);
    auto end_system = c.start_engine(org_b);
    const auto inbox = end_system->core().list_inbox().value();
    BOOST_TEST(inbox.size() == ids.size(), "each message queued exactly once");
    sender->stop();
    end_system->stop();
}

BOOST_AUTO_TEST_SUITE_END()

// The admin socket driven by the system's curl (--unix-socket), an independent HTTP client:
// the NextMove flow end to end (create, upload, send, multipart, peek, pop, delete, statuses,
// conversations, capabilities) and the /admin paths, with the bad-input answers.
#include "admin_fixture.hpp"

#include <kurer/core/uuid.hpp>

namespace kurer::engine::test {
namespace {

struct curl_answer {
    unsigned status = 0;
    std::string body;
    int exit_code = 0;
};

// curl --unix-socket SOCKET -sS [args...] http://localhost<path>; the status comes from -w.
curl_answer curl(const std::filesystem::path& socket, const std::string& path,
                 std::vector<std::string> args = {}) {
    std::vector<std::string> argv{"curl", "-sS", "--unix-socket", socket.string(), "-w", "\n%{http_code}"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("http://localhost" + path);
    auto r = run_process(argv);
    curl_answer a;
    a.exit_code = r.exit_code;
    const auto nl = r.out.rfind('\n');
    BOOST_TEST_REQUIRE(nl != std::string::npos, "curl printed no status: " << r.out << r.err);
    a.status = static_cast<unsigned>(std::stoul(r.out.substr(nl + 1)));
    a.body = r.out.substr(0, nl);
    return a;
}

json::value parsed(const curl_answer& a) {
    boost::system::error_code ec;
    auto v = json::parse(a.body, ec);
    BOOST_TEST_REQUIRE(!ec, "not JSON: " << a.body);
    return v;
}

std::string write(const std::filesystem::path& p, const std::string& content) {
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
}

} // namespace

BOOST_AUTO_TEST_SUITE(admin_with_curl)

BOOST_AUTO_TEST_CASE(the_nextmove_flow_and_the_admin_paths_work_with_curl) {
    BOOST_TEST_REQUIRE(run_process({"curl", "--version"}).exit_code == 0, "curl is installed");
    admin_engines x;
    const auto dir = x.e.dir / "curl";
    std::filesystem::create_directories(dir);
    const auto sbd = write(dir / "sbd.json", minimal_sbd(org_b));
    const auto arkivmelding = write(dir / "arkivmelding.xml", arkivmelding_xml({"brev.pdf"}));
    const std::string pdf_bytes = "%PDF-1.4 " + std::string(100 * 1024, 'q');
    const auto pdf = write(dir / "brev.pdf", pdf_bytes);

    // Create, upload, send.
    auto created = curl(x.socket_a, "/api/messages/out",
                        {"-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@" + sbd});
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    const auto id = text(parsed(created).at("standardBusinessDocumentHeader").at("documentIdentification"),
                         "instanceIdentifier");
    BOOST_TEST(kurer::is_uuid(id));
    for (const auto& [file, type, name] : {std::tuple{arkivmelding, "application/xml", "arkivmelding.xml"},
                                           std::tuple{pdf, "application/pdf", "brev.pdf"}}) {
        auto put = curl(x.socket_a, "/api/messages/out/" + id,
                        {"-T", file, "-H", std::string("Content-Type: ") + type, "-H",
                         std::string("Content-Disposition: attachment; name=\"") + name + "\"; filename=\"" +
                             name + "\""});
        BOOST_TEST(put.status == 200u, put.body);
    }
    auto sneaky = curl(x.socket_a, "/api/messages/out/" + id,
                       {"-T", pdf, "-H", "Content-Disposition: attachment; filename=\"../../brev.pdf\""});
    BOOST_TEST(sneaky.status == 400u);
    BOOST_TEST(text(parsed(sneaky), "message").find("path") != std::string::npos);
    BOOST_TEST(curl(x.socket_a, "/api/messages/out/" + id, {"-X", "POST"}).status == 200u);

    // Create and send in one multipart request, as curl -F builds it.
    const auto multi_id = kurer::random_uuid();
    const auto multi_sbd = write(dir / "multi.json", minimal_sbd(org_b, multi_id));
    auto multi = curl(x.socket_a, "/api/messages/out/multipart",
                      {"-F", "sbd=@" + multi_sbd + ";type=application/json", "-F",
                       "Arkivmelding=@" + arkivmelding + ";type=application/xml", "-F",
                       "Brev=@" + pdf + ";type=application/pdf"});
    BOOST_TEST_REQUIRE(multi.status == 200u, multi.body);

    // Bad input answers in the reference's error shape.
    auto malformed =
        curl(x.socket_a, "/api/messages/out",
             {"-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "{not json"});
    BOOST_TEST(malformed.status == 400u);
    BOOST_TEST(parsed(malformed).at("status").to_number<int>() == 400);
    BOOST_TEST(text(parsed(malformed), "path") == "/api/messages/out");
    auto unknown = curl(x.socket_a, "/api/messages/out/" + kurer::random_uuid(), {"-X", "POST"});
    BOOST_TEST(unknown.status == 404u);
    BOOST_TEST(text(parsed(unknown), "exception").find("MessageNotFoundException") != std::string::npos);

    // B's end system: list, peek, pop (the payload, streamed), DELETE.
    BOOST_TEST_REQUIRE(x.e.b_seen.wait([&] { return x.e.b->list_inbox().value().size() == 2u; }));
    auto inbox = parsed(curl(x.socket_b, "/api/messages/in"));
    BOOST_TEST(inbox.at("totalElements").to_number<int>() == 2);
    for (const auto& m : {id, multi_id}) {
        auto peek = curl(x.socket_b, "/api/messages/in/peek?messageId=" + m);
        BOOST_TEST_REQUIRE(peek.status == 200u, peek.body);
        const auto headers = dir / ("headers-" + m);
        const auto saved = dir / ("asic-" + m);
        auto pop =
            curl(x.socket_b, "/api/messages/in/pop/" + m, {"-D", headers.string(), "-o", saved.string()});
        BOOST_TEST(pop.status == 200u);
        std::ifstream h(headers);
        const std::string head((std::istreambuf_iterator<char>(h)), {});
        BOOST_TEST(head.find("Content-Disposition: attachment; filename=asic.zip") != std::string::npos,
                   head);
        BOOST_TEST(std::filesystem::file_size(saved) == std::filesystem::file_size(x.e.b->pop(m).value()));
        BOOST_TEST(curl(x.socket_b, "/api/messages/in/" + m, {"-X", "DELETE"}).status == 200u);
    }
    BOOST_TEST(curl(x.socket_b, "/api/messages/in/peek").status == 204u);

    // Receipts come back: statuses, conversations.
    BOOST_TEST_REQUIRE(x.e.a_seen.wait([&] {
        return state_of(*x.e.a, id) == sm::outgoing_state::received &&
               state_of(*x.e.a, multi_id) == sm::outgoing_state::received;
    }));
    auto statuses = parsed(curl(x.socket_a, "/api/statuses?messageId=" + id + "&sort=id,desc"));
    BOOST_TEST(text(statuses.at("content").at(0), "status") == "LEVERT", "newest first when asked");
    auto conversations = parsed(curl(x.socket_a, "/api/conversations?direction=OUTGOING&finished=true"));
    BOOST_TEST(conversations.at("totalElements").to_number<int>() == 2);
    auto caps = parsed(curl(x.socket_a, "/api/capabilities/" + std::string(org_b)));
    BOOST_TEST(text(caps.at("capabilities").at(0), "serviceIdentifier") == "DPO");

    // The engine's view.
    BOOST_TEST(text(parsed(curl(x.socket_a, "/admin/health")), "status") == "UP");
    auto metrics = curl(x.socket_a, "/admin/metrics");
    BOOST_TEST(
        metrics.body.find("kurer_transitions_total{direction=\"outgoing\",event=\"status_levert\"} 2") !=
        std::string::npos);
    auto history = parsed(curl(x.socket_a, "/admin/messages/" + id));
    BOOST_TEST(text(history, "state") == "Received");
    BOOST_TEST(parsed(curl(x.socket_a, "/admin/pause", {"-X", "POST"})).at("sendingPaused").as_bool());
    BOOST_TEST(parsed(curl(x.socket_a, "/admin/resume", {"-X", "POST"})).at("sendingPaused").as_bool() ==
               false);
    // The live stream: curl keeps reading until its own time limit; the first line says it is live.
    auto events = curl(x.socket_a, "/admin/events", {"-N", "--max-time", "1"});
    BOOST_TEST(events.exit_code == 28, "curl stopped by its time limit, the stream was still open");
    BOOST_TEST(events.body.find("\"type\":\"subscribed\"") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kurer::engine::test

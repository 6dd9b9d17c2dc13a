// The admin socket over a real Unix socket with a C++ client: every NextMove v2 path and /admin
// path, against two real runners (fake ports) that exchange messages through a directory broker.
#include "admin_fixture.hpp"

#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/dpo/date_time.hpp>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <sys/stat.h>

namespace kurer::engine {
// The runner's digest helper (engine/runner/src/digest.cpp): the fake payload names documents by it.
std::string sha256_hex(std::string_view bytes);
} // namespace kurer::engine

namespace kurer::engine::test {
namespace {

std::string message_id_of(const json::value& sbd) {
    return text(sbd.at("standardBusinessDocumentHeader").at("documentIdentification"), "instanceIdentifier");
}

const json::object& scope_of(const json::value& sbd, std::string_view type) {
    for (const auto& s : sbd.at("standardBusinessDocumentHeader").at("businessScope").at("scope").as_array())
        if (text(s, "type") == type)
            return s.as_object();
    BOOST_FAIL("no " << type << " scope");
    static const json::object none;
    return none;
}

// The error body the reference sends: every member present, the message saying what is wrong.
void check_error(const admin_response& r, unsigned status, std::string_view says,
                 std::string_view path = {}) {
    BOOST_TEST(r.status == status, r.body);
    BOOST_TEST(r.header("Content-Type") == "application/json");
    const auto e = body_json(r);
    for (const auto* member : {"timestamp", "status", "error", "exception", "message", "path"})
        BOOST_TEST(e.as_object().contains(member), "error body member " << member);
    BOOST_TEST(e.at("status").to_number<unsigned>() == status);
    BOOST_TEST(text(e, "message").find(says) != std::string::npos, text(e, "message")
                                                                       << " should say " << says);
    if (!path.empty())
        BOOST_TEST(text(e, "path") == path);
}

bool has_status(const json::value& page, std::string_view status) {
    for (const auto& s : page.at("content").as_array())
        if (text(s, "status") == status)
            return true;
    return false;
}

std::size_t files_under(const std::filesystem::path& dir) {
    std::size_t n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         it != std::filesystem::recursive_directory_iterator(); ++it)
        if (it->is_regular_file())
            ++n;
    return n;
}

} // namespace

BOOST_AUTO_TEST_SUITE(admin_api)

BOOST_AUTO_TEST_CASE(the_socket_is_private_and_unknown_paths_and_methods_get_json_errors) {
    admin_engines x;
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat(x.socket_a.c_str(), &st) == 0);
    BOOST_TEST(S_ISSOCK(st.st_mode));
    BOOST_TEST((st.st_mode & 0777) == 0600u);

    admin_client a({.socket = x.socket_a});
    auto health = request(a, verb::get, "/admin/health");
    BOOST_TEST(health.status == 200u);
    const auto h = body_json(health);
    BOOST_TEST(text(h, "status") == "UP");
    BOOST_TEST(text(h, "organization") == org_a);
    BOOST_TEST(h.at("sendingPaused").as_bool() == false);

    check_error(request(a, verb::get, "/api/nothing/here"), 404, "no such resource", "/api/nothing/here");
    auto wrong = request(a, verb::patch, "/api/messages/out");
    check_error(wrong, 405, "not allowed");
    BOOST_TEST(wrong.header("Allow").find("POST") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(create_fills_the_defaults_as_the_reference_does_and_is_idempotent_by_message_id) {
    admin_engines x;
    admin_client a({.socket = x.socket_a});
    const auto before = std::chrono::system_clock::now();
    auto created = request(a, verb::post, "/api/messages/out", minimal_sbd(org_b), "application/json");
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    const auto sbd = body_json(created);
    const auto& header = sbd.at("standardBusinessDocumentHeader");
    BOOST_TEST(text(header.at("sender").at(0).at("identifier"), "value") == std::string("0192:") + org_a);
    BOOST_TEST(text(header.at("sender").at(0).at("identifier"), "authority") == "iso6523-actorid-upis");
    const auto id = message_id_of(sbd);
    BOOST_TEST(kurer::is_uuid(id));
    BOOST_TEST(!text(header.at("documentIdentification"), "creationDateAndTime").empty());
    const auto& conversation = scope_of(sbd, "ConversationId");
    BOOST_TEST(kurer::is_uuid(text(conversation, "instanceIdentifier")));
    BOOST_TEST(text(conversation, "identifier") == process_admin);
    const auto deadline = text(conversation.at("scopeInformation").at(0), "expectedResponseDateTime");
    auto parsed = dpo::parse_date_time(deadline);
    BOOST_TEST_REQUIRE(parsed.has_value());
    const auto ttl = std::chrono::duration_cast<std::chrono::minutes>(parsed->utc - before);
    BOOST_TEST((ttl >= std::chrono::minutes(24 * 60 - 1) && ttl <= std::chrono::minutes(24 * 60 + 1)),
               "default deadline is now + 24 h, got " << ttl.count() << " min");
    BOOST_TEST(x.registry.calls.load() == 1, "the receiver was checked in the Service Registry");

    // The same request with the messageId the client chose: the same message, whatever the layout.
    const auto mine = kurer::random_uuid();
    auto first = request(a, verb::post, "/api/messages/out", minimal_sbd(org_b, mine), "application/json");
    BOOST_TEST_REQUIRE(first.status == 200u, first.body);
    auto reordered = json::parse(minimal_sbd(org_b, mine));
    json::object flipped{{"arkivmelding", reordered.at("arkivmelding")},
                         {"standardBusinessDocumentHeader", reordered.at("standardBusinessDocumentHeader")}};
    auto again = request(a, verb::post, "/api/messages/out", json::serialize(flipped), "application/json");
    BOOST_TEST(again.status == 200u);
    BOOST_TEST(again.body == first.body, "the repeat returns the message as it was created");
    check_error(request(a, verb::post, "/api/messages/out", minimal_sbd(org_b, mine, "Annen tittel"),
                        "application/json"),
                409, "different content");

    auto listed = body_json(request(a, verb::get, "/api/messages/out"));
    BOOST_TEST(listed.at("totalElements").to_number<int>() == 2);
    BOOST_TEST(listed.at("size").to_number<int>() == 10);
    BOOST_TEST(listed.at("first").as_bool());
    BOOST_TEST(listed.at("pageable").at("pageSize").to_number<int>() == 10);
    auto one = body_json(request(a, verb::get, "/api/messages/out?messageId=" + mine));
    BOOST_TEST(one.at("totalElements").to_number<int>() == 1);
    BOOST_TEST(message_id_of(one.at("content").at(0)) == mine);
    BOOST_TEST(message_id_of(body_json(request(a, verb::get, "/api/messages/out/" + mine))) == mine);

    // Statuses and conversations know a created message as OPPRETTET.
    auto statuses = body_json(request(a, verb::get, "/api/statuses/" + mine));
    BOOST_TEST(statuses.at("totalElements").to_number<int>() == 1);
    BOOST_TEST(text(statuses.at("content").at(0), "status") == "OPPRETTET");
    auto conversation_of = body_json(request(a, verb::get, "/api/conversations/messageId/" + mine));
    BOOST_TEST(text(conversation_of, "direction") == "OUTGOING");
    BOOST_TEST(conversation_of.at("finished").as_bool() == false);

    // Deleted: gone, and nothing of it left on disk.
    BOOST_TEST(request(a, verb::delete_, "/api/messages/out/" + mine).status == 200u);
    check_error(request(a, verb::get, "/api/messages/out/" + mine), 404, mine);
    check_error(request(a, verb::delete_, "/api/messages/out/" + mine), 404, mine);
    BOOST_TEST(!std::filesystem::exists(x.e.dir / "a" / "drafts" / mine));
}

BOOST_AUTO_TEST_CASE(bad_sbds_get_a_4xx_that_names_what_is_wrong_and_nothing_is_created) {
    admin_engines x([](admin_config& c) { c.max_json_bytes = 4096; });
    admin_client a({.socket = x.socket_a});
    const auto post = [&](std::string body, std::string type = "application/json") {
        return request(a, verb::post, "/api/messages/out", std::move(body), type);
    };
    check_error(post("{\"standardBusinessDocumentHeader\": {"), 400, "not valid JSON");
    check_error(post(minimal_sbd(org_b), "text/plain"), 415, "application/json");
    check_error(post(std::string(5000, ' ') + minimal_sbd(org_b)), 413, "4096");
    auto bad_receiver = json::parse(minimal_sbd(org_b));
    bad_receiver.at("standardBusinessDocumentHeader")
        .at("receiver")
        .at(0)
        .at("identifier")
        .as_object()["value"] = "12345";
    check_error(post(json::serialize(bad_receiver)), 400, "receiver");
    auto other_sender = json::parse(minimal_sbd(org_b));
    other_sender.at("standardBusinessDocumentHeader").as_object()["sender"] = json::array{
        json::object{{"identifier", {{"value", "0192:910000001"}, {"authority", "iso6523-actorid-upis"}}}}};
    check_error(post(json::serialize(other_sender)), 400, "on behalf of");
    auto past = json::parse(minimal_sbd(org_b));
    past.at("standardBusinessDocumentHeader")
        .at("businessScope")
        .at("scope")
        .at(0)
        .as_object()["scopeInformation"] =
        json::array{json::object{{"expectedResponseDateTime", "2020-01-01T00:00:00+01:00"}}};
    check_error(post(json::serialize(past)), 400, "has passed");
    auto status_type = json::parse(minimal_sbd(org_b));
    {
        auto& di = status_type.at("standardBusinessDocumentHeader").at("documentIdentification").as_object();
        di["type"] = "status";
        di["standard"] = "urn:no:difi:eformidling:xsd::status";
        status_type.as_object().erase("arkivmelding");
        status_type.as_object()["status"] = json::object{{"status", "MOTTATT"}};
    }
    check_error(post(json::serialize(status_type)), 400, "made by the engine");
    // The Service Registry says the receiver takes no DPO for this process.
    {
        std::lock_guard lock(x.registry.mutex);
        x.registry.records[org_b].clear();
    }
    check_error(post(minimal_sbd(org_b)), 400, "does not receive DPO");
    // A registry that does not answer does not block creating (the engine resolves later).
    {
        std::lock_guard lock(x.registry.mutex);
        x.registry.failure = make_error(make_error_code(boost::system::errc::timed_out), "down", retry::yes);
    }
    BOOST_TEST(post(minimal_sbd(org_b)).status == 200u);
    auto listed = body_json(request(a, verb::get, "/api/messages/out"));
    BOOST_TEST(listed.at("totalElements").to_number<int>() == 1,
               "only the one good request created a message");
}

BOOST_AUTO_TEST_CASE(uploads_stream_to_disk_and_bad_files_are_refused_without_leftovers) {
    admin_engines x([](admin_config& c) { c.max_file_bytes = 64 * 1024; });
    admin_client a({.socket = x.socket_a});
    const auto id = message_id_of(
        body_json(request(a, verb::post, "/api/messages/out", minimal_sbd(org_b), "application/json")));
    const auto drafts = x.e.dir / "a" / "drafts";

    BOOST_TEST(put_file(a, id, "brev.pdf", "%PDF-1.4 one").status == 200u);
    BOOST_TEST(put_file(a, id, "brev.pdf", "%PDF-1.4 one").status == 200u, "a repeated upload is harmless");
    check_error(put_file(a, id, "brev.pdf", "%PDF-1.4 two"), 409, "different content");
    check_error(put_file(a, id, "../../etc/passwd", "x"), 400, "path");
    check_error(put_file(a, id, "sub/dir.pdf", "x"), 400, "path");
    check_error(put_file(a, id, "..", "x"), 400, "not a file name");
    check_error(put_file(a, id, "META-INF/x.xml", "x"), 400, "");
    check_error(put_file(a, id, "mimetype", "x"), 400, "ASiC-E container");
    check_error(request(a, verb::put, "/api/messages/out/" + id, "x", "application/pdf"), 400,
                "Content-Disposition");
    const auto unknown = kurer::random_uuid();
    check_error(put_file(a, unknown, "brev.pdf", "x"), 404, unknown);
    BOOST_TEST(!std::filesystem::exists(drafts / unknown),
               "nothing stored for a message that does not exist");
    check_error(put_file(a, id, "big.pdf", std::string(100 * 1024, 'x')), 413, "larger");
    BOOST_TEST(files_under(drafts / id) == 2u, "draft.json and brev.pdf only: no partial upload left");

    // The draft lists the one good file with the MIME type the reference would derive.
    auto view = body_json(request(a, verb::get, "/admin/messages/" + id));
    BOOST_TEST(text(view, "state") == "Draft");
    BOOST_TEST_REQUIRE(view.at("documents").as_array().size() == 1u);
    BOOST_TEST(text(view.at("documents").at(0), "mimeType") == "application/pdf");

    // Sending checks what the reference checks, and a refused send leaves the draft as it was.
    check_error(request(a, verb::post, "/api/messages/out/" + id), 400, "arkivmelding.xml");
    BOOST_TEST(
        put_file(a, id, "arkivmelding.xml", arkivmelding_xml({"brev.pdf", "vedlegg.pdf"}), "application/xml")
            .status == 200u);
    check_error(request(a, verb::post, "/api/messages/out/" + id), 400, "vedlegg.pdf");
    BOOST_TEST(request(a, verb::get, "/api/messages/out/" + id).status == 200u, "still a draft");
    BOOST_TEST(put_file(a, id, "vedlegg.pdf", "%PDF-1.4 vedlegg").status == 200u);
    BOOST_TEST(request(a, verb::post, "/api/messages/out/" + id).status == 200u);
    BOOST_TEST(request(a, verb::post, "/api/messages/out/" + id).status == 200u, "sending twice is harmless");
    BOOST_TEST(!std::filesystem::exists(drafts / id), "the runner owns the documents now");
    check_error(put_file(a, id, "late.pdf", "x"), 409, "already sent");
    check_error(request(a, verb::delete_, "/api/messages/out/" + id), 409, "can no longer be deleted");

    const auto empty = message_id_of(
        body_json(request(a, verb::post, "/api/messages/out", minimal_sbd(org_b), "application/json")));
    check_error(request(a, verb::post, "/api/messages/out/" + empty), 400, "no files");
    auto broken = message_id_of(
        body_json(request(a, verb::post, "/api/messages/out", minimal_sbd(org_b), "application/json")));
    BOOST_TEST(
        put_file(a, broken, "arkivmelding.xml", "<arkivmelding><unclosed>", "application/xml").status ==
        200u);
    check_error(request(a, verb::post, "/api/messages/out/" + broken), 400, "well-formed");
    check_error(request(a, verb::post, "/api/messages/out/" + kurer::random_uuid()), 404,
                "no outgoing message");
}

BOOST_AUTO_TEST_CASE(a_message_goes_out_through_the_api_and_the_receiver_takes_it_through_peek_pop_delete) {
    admin_engines x;
    admin_client a({.socket = x.socket_a});
    admin_client b({.socket = x.socket_b});
    const std::string pdf = "%PDF-1.4 " + std::string(200 * 1024, 'p');
    const auto id = send_via_api(a, org_b, pdf);
    BOOST_TEST_REQUIRE(x.e.b_seen.wait([&] { return !x.e.b->list_inbox().value().empty(); }));

    auto inbox = body_json(request(b, verb::get, "/api/messages/in"));
    BOOST_TEST_REQUIRE(inbox.at("totalElements").to_number<int>() == 1);
    BOOST_TEST(message_id_of(inbox.at("content").at(0)) == id);
    BOOST_TEST(body_json(request(b, verb::get, "/api/messages/in?senderIdentifier=0192:910000001"))
                   .at("totalElements")
                   .to_number<int>() == 0);
    BOOST_TEST(request(b, verb::get, "/api/messages/in/peek?serviceIdentifier=DPI").status == 204u);

    check_error(request(b, verb::get, "/api/messages/in/pop/" + id), 400, "peek it first");
    // DELETE of a message never locked: refused as the reference refuses it, and no LEVERT.
    const auto unlocked = request(b, verb::delete_, "/api/messages/in/" + id);
    check_error(unlocked, 400, "is not locked (it is Queued): peek it first with GET /api/messages/in/peek",
                "/api/messages/in/" + id);
    BOOST_TEST(text(body_json(unlocked), "exception") ==
               "no.difi.meldingsutveksling.exceptions.MessageNotLockedException");
    BOOST_TEST(text(body_json(unlocked), "error") == "Bad Request");
    BOOST_TEST(!has_status(body_json(request(b, verb::get, "/api/statuses/" + id)), "INNKOMMENDE_LEVERT"));
    BOOST_TEST(message_id_of(body_json(request(b, verb::get, "/api/messages/in")).at("content").at(0)) == id,
               "the message is still on the queue");
    auto peeked = request(b, verb::get, "/api/messages/in/peek?messageId=" + id);
    BOOST_TEST_REQUIRE(peeked.status == 200u, peeked.body);
    BOOST_TEST(message_id_of(body_json(peeked)) == id);
    BOOST_TEST(request(b, verb::get, "/api/messages/in/peek").status == 204u,
               "a locked message is not handed out twice");

    auto popped = request(b, verb::get, "/api/messages/in/pop/" + id);
    BOOST_TEST(popped.status == 200u);
    BOOST_TEST(popped.header("Content-Type") == "application/vnd.etsi.asic-e+zip");
    BOOST_TEST(popped.header("Content-Disposition") == "attachment; filename=asic.zip");
    const auto payload = x.e.b->pop(id).value();
    std::ifstream in(payload, std::ios::binary);
    const std::string expected((std::istreambuf_iterator<char>(in)), {});
    BOOST_TEST(popped.body == expected, "pop streams the stored payload byte for byte");
    BOOST_TEST(popped.body.find(kurer::engine::sha256_hex(pdf)) != std::string::npos,
               "the fake payload names the document by its digest");

    check_error(request(b, verb::get, "/api/messages/in/pop/" + kurer::random_uuid()), 404,
                "no incoming message");
    check_error(request(b, verb::delete_, "/api/messages/in/" + kurer::random_uuid()), 404, "");
    auto taken = request(b, verb::delete_, "/api/messages/in/" + id);
    BOOST_TEST(taken.status == 200u);
    BOOST_TEST(message_id_of(body_json(taken)) == id);
    BOOST_TEST(request(b, verb::delete_, "/api/messages/in/" + id).status == 200u,
               "a repeated DELETE is harmless");

    // LEVERT reaches A: the statuses tell the whole story, in order.
    BOOST_TEST_REQUIRE(x.e.a_seen.wait([&] { return state_of(*x.e.a, id) == sm::outgoing_state::received; }));
    auto statuses = body_json(request(a, verb::get, "/api/statuses/" + id));
    std::vector<std::string> seen;
    for (const auto& s : statuses.at("content").as_array()) {
        seen.push_back(text(s, "status"));
        BOOST_TEST(text(s, "messageId") == id);
        BOOST_TEST(!text(s, "conversationId").empty());
        BOOST_TEST(!text(s, "lastUpdate").empty());
        BOOST_TEST(s.at("id").is_int64());
    }
    BOOST_TEST((seen == std::vector<std::string>{"OPPRETTET", "SENDT", "MOTTATT", "LEVERT"}));
    BOOST_TEST(body_json(request(a, verb::get, "/api/statuses?status=LEVERT&messageId=" + id))
                   .at("totalElements")
                   .to_number<int>() == 1);
    BOOST_TEST(has_status(body_json(request(a, verb::get, "/api/statuses?status=SENDT")), "SENDT"));
    BOOST_TEST(body_json(request(a, verb::get, "/api/statuses?fromDateTime=2999-01-01"))
                   .at("totalElements")
                   .to_number<int>() == 0);
    check_error(request(a, verb::get, "/api/statuses?status=NONSENSE"), 400, "status");
    check_error(request(a, verb::get, "/api/statuses?size=0"), 400, "size");
    check_error(request(a, verb::get, "/api/statuses?sort=colour"), 400, "colour");
    check_error(request(a, verb::get, "/api/statuses/" + kurer::random_uuid()), 404, "no message");
    // B's side: the incoming conversation, finished, with INNKOMMENDE_LEVERT.
    auto in_statuses = body_json(request(b, verb::get, "/api/statuses/" + id));
    BOOST_TEST(has_status(in_statuses, "INNKOMMENDE_MOTTATT"));
    BOOST_TEST(has_status(in_statuses, "INNKOMMENDE_LEVERT"));

    auto conversations = body_json(request(a, verb::get, "/api/conversations?messageId=" + id));
    BOOST_TEST_REQUIRE(conversations.at("totalElements").to_number<int>() == 1);
    const auto& c = conversations.at("content").at(0);
    BOOST_TEST(text(c, "direction") == "OUTGOING");
    BOOST_TEST(c.at("finished").as_bool());
    BOOST_TEST(text(c, "receiverIdentifier") == std::string("0192:") + org_b);
    BOOST_TEST(text(c, "serviceIdentifier") == "DPO");
    BOOST_TEST(c.at("messageStatuses").as_array().size() == 4u);
    BOOST_TEST(body_json(request(a, verb::get, "/api/conversations?direction=INCOMING&messageId=" + id))
                   .at("totalElements")
                   .to_number<int>() == 0);
    BOOST_TEST(body_json(request(a, verb::get, "/api/conversations?finished=false"))
                   .at("totalElements")
                   .to_number<int>() == 0);
    BOOST_TEST(text(body_json(request(b, verb::get, "/api/conversations/messageId/" + id)), "direction") ==
               "INCOMING");
    check_error(request(a, verb::get, "/api/conversations/messageId/" + kurer::random_uuid()), 404,
                "no conversation");
    check_error(request(a, verb::get, "/api/conversations?direction=SIDEWAYS"), 400, "direction");

    // The engine's own view: the machine state with its timed history.
    auto view = body_json(request(a, verb::get, "/admin/messages/" + id));
    BOOST_TEST(text(view, "state") == "Received");
    // Both receipts are in the receiver's queue at once; when LEVERT is routed first it implies
    // MOTTATT and the message goes from Uploaded straight to Received.
    std::vector<std::string> states;
    for (const auto& entry : view.at("history").as_array())
        states.push_back(text(entry, "to"));
    std::vector<std::string> route{"Created",         "Authorized", "Resolved",  "Packed",
                                   "UploadInitiated", "Uploaded",   "Delivered", "Received"};
    if (states.size() == route.size() - 1)
        route.erase(route.begin() + 6);
    BOOST_TEST(states == route, boost::test_tools::per_element());
    BOOST_TEST(text(view.at("history").at(0), "event") == "submitted");
    auto b_view = body_json(request(b, verb::get, "/admin/messages/" + id));
    BOOST_TEST(text(b_view, "direction") == "incoming");
    BOOST_TEST(b_view.at("receipts").as_array().size() == 2u, "MOTTATT and LEVERT sent back");
    check_error(request(a, verb::get, "/admin/messages/" + kurer::random_uuid()), 404, "no message");
    auto received = body_json(request(a, verb::get, "/admin/messages?state=Received"));
    BOOST_TEST(received.at("messages").as_array().size() == 1u);
    check_error(request(a, verb::get, "/admin/messages?state=Sideways"), 400, "no state");
}

BOOST_AUTO_TEST_CASE(multipart_creates_and_sends_in_one_request_and_a_failure_leaves_nothing) {
    admin_engines x;
    admin_client a({.socket = x.socket_a});
    const auto id = kurer::random_uuid();
    const std::string boundary = "kurer-test-boundary";
    const auto part = [&](std::string name, std::optional<std::string> file, std::string type,
                          std::string body) {
        std::string p = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"";
        if (file)
            p += "; filename=\"" + *file + "\"";
        return p + "\r\nContent-Type: " + type + "\r\n\r\n" + body + "\r\n";
    };
    const auto body = [&](std::string sbd, std::string pdf, std::string pdf_name = "brev.pdf") {
        return part("sbd", std::nullopt, "application/json", sbd) +
               part("Arkivmelding", std::string("arkivmelding.xml"), "application/xml",
                    arkivmelding_xml({pdf_name})) +
               part("Brev", pdf_name, "application/pdf", pdf) + "--" + boundary + "--\r\n";
    };
    const auto type = "multipart/form-data; boundary=" + boundary;
    auto sent =
        request(a, verb::post, "/api/messages/out/multipart", body(minimal_sbd(org_b, id), "%PDF one"), type);
    BOOST_TEST_REQUIRE(sent.status == 200u, sent.body);
    BOOST_TEST(message_id_of(body_json(sent)) == id);
    BOOST_TEST_REQUIRE(
        x.e.a_seen.wait([&] { return reached(state_of(*x.e.a, id), sm::outgoing_state::uploaded); }));
    auto repeat =
        request(a, verb::post, "/api/messages/out/multipart", body(minimal_sbd(org_b, id), "%PDF one"), type);
    BOOST_TEST(repeat.status == 200u, "a client retrying after a timeout is not stuck: " << repeat.body);
    check_error(
        request(a, verb::post, "/api/messages/out/multipart", body(minimal_sbd(org_b, id), "%PDF two"), type),
        409, "different content");

    const auto drafts = x.e.dir / "a" / "drafts";
    const auto other = kurer::random_uuid();
    check_error(request(a, verb::post, "/api/messages/out/multipart",
                        body(minimal_sbd(org_b, other), "x", "../up.pdf"), type),
                400, "path");
    auto missing = part("sbd", std::nullopt, "application/json", minimal_sbd(org_b, other)) +
                   part("Brev", std::string("brev.pdf"), "application/pdf", "x") + "--" + boundary + "--\r\n";
    check_error(request(a, verb::post, "/api/messages/out/multipart", missing, type), 400,
                "arkivmelding.xml");
    check_error(request(a, verb::post, "/api/messages/out/multipart",
                        part("sbd", std::nullopt, "application/json", "{"), type),
                400, "closing boundary");
    check_error(request(a, verb::post, "/api/messages/out/multipart", "x", "multipart/form-data"), 415,
                "boundary");
    BOOST_TEST(files_under(drafts) == 0u, "no draft, no staged file left behind");
    check_error(request(a, verb::get, "/api/messages/out/" + other), 404, "");
}

BOOST_AUTO_TEST_CASE(capabilities_come_from_the_registry_in_the_references_shape) {
    admin_engines x([](admin_config& c) { c.request_timeout = std::chrono::milliseconds(300); });
    admin_client a({.socket = x.socket_a});
    auto caps = body_json(request(a, verb::get, std::string("/api/capabilities/0192:") + org_b));
    const auto& list = caps.at("capabilities").as_array();
    BOOST_TEST_REQUIRE(list.size() == 2u);
    BOOST_TEST(text(list[0], "process") == process_admin);
    BOOST_TEST(text(list[0], "serviceIdentifier") == "DPO");
    BOOST_TEST(text(list[0].at("documentTypes").at(0), "type") == "arkivmelding");
    BOOST_TEST(text(list[0].at("documentTypes").at(0), "standard") == standard_arkivmelding);
    BOOST_TEST(text(list[1].at("documentTypes").at(1), "type") == "status");
    auto only = body_json(
        request(a, verb::get, std::string("/api/capabilities/") + org_b + "?process=" + process_admin));
    BOOST_TEST(only.at("capabilities").as_array().size() == 1u);
    check_error(request(a, verb::get, "/api/capabilities/12345678901"), 400, "organisation number");
    {
        std::lock_guard lock(x.registry.mutex);
        x.registry.failure =
            make_error(make_error_code(boost::system::errc::connection_refused), "SR down", retry::yes);
    }
    check_error(request(a, verb::get, std::string("/api/capabilities/") + org_b), 503, "SR down");
    {
        std::lock_guard lock(x.registry.mutex);
        x.registry.failure.reset();
        x.registry.hang = true;
    }
    check_error(request(a, verb::get, std::string("/api/capabilities/") + org_b), 504, "300 ms");
}

BOOST_AUTO_TEST_CASE(pause_resume_retry_and_metrics) {
    admin_engines x;
    admin_client a({.socket = x.socket_a});
    BOOST_TEST(body_json(request(a, verb::post, "/admin/pause")).at("sendingPaused").as_bool());
    BOOST_TEST(x.e.a->sending_paused());
    const auto id = send_via_api(a, org_b);
    BOOST_TEST((state_of(*x.e.a, id) == sm::outgoing_state::created), "paused: nothing moves");
    // While unsent it is listed under /api/messages/out, as the reference lists queued messages.
    BOOST_TEST(message_id_of(body_json(request(a, verb::get, "/api/messages/out/" + id))) == id);
    BOOST_TEST(
        body_json(request(a, verb::get, "/admin/messages?state=Created")).at("messages").as_array().size() ==
        1u);

    x.e.a_fakes.faults->add("pack", testing::fault::permanent);
    BOOST_TEST(body_json(request(a, verb::post, "/admin/resume")).at("sendingPaused").as_bool() == false);
    BOOST_TEST_REQUIRE(x.e.a_seen.wait([&] { return state_of(*x.e.a, id) == sm::outgoing_state::failed; }));
    auto failed = body_json(request(a, verb::get, "/admin/messages/" + id));
    BOOST_TEST(!text(failed, "lastError").empty());
    BOOST_TEST(has_status(body_json(request(a, verb::get, "/api/statuses/" + id)), "FEIL"));
    auto retried = request(a, verb::post, "/admin/messages/" + id + "/retry");
    BOOST_TEST(retried.status == 200u, retried.body);
    BOOST_TEST_REQUIRE(
        x.e.a_seen.wait([&] { return state_of(*x.e.a, id) == sm::outgoing_state::delivered; }));
    check_error(request(a, verb::post, "/admin/messages/" + id + "/retry"), 409, "");
    check_error(request(a, verb::post, "/admin/messages/" + kurer::random_uuid() + "/retry"), 404, "");

    auto metrics = request(a, verb::get, "/admin/metrics");
    BOOST_TEST(metrics.status == 200u);
    BOOST_TEST(metrics.header("Content-Type").starts_with("text/plain; version=0.0.4"));
    for (const auto* expected :
         {"# TYPE kurer_transitions_total counter",
          "kurer_transitions_total{direction=\"outgoing\",event=\"uploaded\"} 1",
          "kurer_state_entered_total{direction=\"outgoing\",state=\"Failed\"} 1",
          "kurer_messages{direction=\"outgoing\",state=\"Delivered\"} 1",
          "# TYPE kurer_commit_group_size histogram", "kurer_commit_group_size_bucket{le=\"+Inf\"}",
          "kurer_actions_in_flight", "kurer_sending_paused 0",
          "kurer_admin_requests_total{method=\"POST\",route=\"/admin/pause\",status=\"200\"} 1"})
        BOOST_TEST(metrics.body.find(expected) != std::string::npos, "metrics show " << expected);
}

BOOST_AUTO_TEST_CASE(the_event_stream_shows_each_transition_live_and_drops_a_reader_that_falls_behind) {
    admin_engines x([](admin_config& c) {
        c.event_buffer_bytes = 4096;
        c.io_timeout = std::chrono::milliseconds(500);
    });
    admin_client a({.socket = x.socket_a});
    std::string id;
    std::vector<json::value> events;
    std::thread sender;
    auto status = a.stream_lines("/admin/events", [&](std::string_view line) {
        auto e = json::parse(line);
        if (text(e, "type") == "subscribed") {
            sender = std::thread([&] { id = send_via_api(admin_client({.socket = x.socket_a}), org_b); });
            return true;
        }
        if (text(e, "type") != "transition")
            return true;
        events.push_back(e);
        return text(e, "to") != "Delivered";
    });
    sender.join();
    BOOST_TEST_REQUIRE(status.has_value());
    BOOST_TEST(*status == 200u);
    std::vector<std::string> path;
    for (const auto& e : events)
        if (text(e, "messageId") == id && text(e, "direction") == "outgoing")
            path.push_back(text(e, "to"));
    BOOST_TEST((path == std::vector<std::string>{"Created", "Authorized", "Resolved", "Packed",
                                                 "UploadInitiated", "Uploaded", "Delivered"}));

    // A reader that never reads: its socket fills, its buffer overflows, it is dropped, and the
    // engine carries on regardless.
    boost::asio::io_context io;
    boost::asio::local::stream_protocol::socket stalled(io);
    stalled.connect(x.socket_a.string());
    const std::string get = "GET /admin/events HTTP/1.1\r\nHost: localhost\r\n\r\n";
    boost::asio::write(stalled, boost::asio::buffer(get));
    BOOST_TEST_REQUIRE(x.e.a_seen.wait([&] {
        return body_json(request(a, verb::get, "/admin/health")).at("eventClients").to_number<int>() == 1;
    }));
    std::vector<std::string> ids;
    for (int i = 0; i < 150; ++i) {
        auto m = message_to(org_b);
        ids.push_back(m.message_id);
        BOOST_TEST_REQUIRE(x.e.a->submit_blocking(m).has_value());
    }
    BOOST_TEST_REQUIRE(x.e.a_seen.wait(
        [&] {
            return std::all_of(ids.begin(), ids.end(), [&](const auto& i) {
                return state_of(*x.e.a, i) == sm::outgoing_state::delivered;
            });
        },
        std::chrono::seconds(40)));
    BOOST_TEST_REQUIRE(x.e.a_seen.wait([&] {
        return body_json(request(a, verb::get, "/admin/health")).at("eventClients").to_number<int>() == 0;
    }));
    BOOST_TEST(
        request(a, verb::get, "/admin/metrics").body.find("kurer_admin_event_clients_dropped_total 1") !=
        std::string::npos);
}

BOOST_AUTO_TEST_CASE(drafts_survive_a_restart_and_leftovers_of_interrupted_requests_are_cleared) {
    admin_engines x;
    admin_client a({.socket = x.socket_a});
    const auto id = message_id_of(
        body_json(request(a, verb::post, "/api/messages/out", minimal_sbd(org_b), "application/json")));
    BOOST_TEST(
        put_file(a, id, "arkivmelding.xml", arkivmelding_xml({"brev.pdf"}), "application/xml").status ==
        200u);
    BOOST_TEST(put_file(a, id, "brev.pdf", "%PDF brev").status == 200u);
    x.a.reset(); // the process stops (the drafts are on disk already)
    const auto drafts = x.e.dir / "a" / "drafts";
    {
        std::ofstream(drafts / id / ".upload-interrupted") << "half a file";
        std::ofstream(drafts / id / "f9") << "renamed in, never recorded";
        std::filesystem::create_directories(drafts / ".staging" / "x");
        std::ofstream(drafts / ".staging" / "x" / "p0") << "staged";
        std::filesystem::create_directories(drafts / kurer::random_uuid()); // created, never recorded
    }
    x.a = x.start_server(*x.e.a, x.metrics_a, org_a, x.socket_a, drafts);
    BOOST_TEST(files_under(drafts) == 3u, "draft.json, arkivmelding.xml and brev.pdf");
    BOOST_TEST(request(a, verb::post, "/api/messages/out/" + id).status == 200u);
    BOOST_TEST_REQUIRE(
        x.e.a_seen.wait([&] { return reached(state_of(*x.e.a, id), sm::outgoing_state::uploaded); }));

    // A draft the runner already has (sent, then the process died before removing it) goes at start.
    x.a.reset();
    std::filesystem::create_directories(drafts / id);
    std::ofstream(drafts / id / "draft.json")
        << R"({"messageId":")" << id
        << R"(","sbd":"{}","requestDigest":"","created":0,"nextFile":0,"files":[]})";
    x.a = x.start_server(*x.e.a, x.metrics_a, org_a, x.socket_a, drafts);
    BOOST_TEST(!std::filesystem::exists(drafts / id));
}

BOOST_AUTO_TEST_CASE(a_live_socket_is_refused_a_stale_one_replaced_and_tcp_needs_the_bearer_token) {
    admin_engines x;
    // Another server on A's socket: refused, and A keeps serving.
    auto second =
        admin_server::start({.engine = *x.e.a, .registry = x.metrics_a, .organization = org_a},
                            x.config_for(x.socket_a, x.e.dir / "a" / "drafts2", {}), x.io.get_executor());
    BOOST_TEST_REQUIRE(second.has_error());
    BOOST_TEST(second.error().message.find("another process is serving") != std::string::npos,
               second.error().message);
    admin_client a({.socket = x.socket_a});
    BOOST_TEST(request(a, verb::get, "/admin/health").status == 200u);

    // A socket file nobody listens on (a crashed engine's) is replaced.
    const auto stale = x.e.dir / "stale.sock";
    {
        boost::asio::io_context io;
        boost::asio::local::stream_protocol::acceptor gone(io, stale.string());
    }
    BOOST_TEST_REQUIRE(std::filesystem::is_socket(stale));
    auto replaced = x.start_server(*x.e.b, x.metrics_b, org_b, stale, x.e.dir / "b" / "drafts3");
    BOOST_TEST(request(admin_client({.socket = stale}), verb::get, "/admin/health").status == 200u);
    replaced.reset();
    BOOST_TEST(!std::filesystem::exists(stale), "the socket file goes with the server");

    // Loopback TCP with a bearer token.
    const std::string token = "0123456789abcdef-secret";
    auto tcp_server = x.start_server(*x.e.b, x.metrics_b, org_b, x.e.dir / "tcp.sock",
                                     x.e.dir / "b" / "drafts4", [&](admin_config& c) {
                                         c.tcp = admin_tcp_config{"127.0.0.1", 0, token, {}};
                                     });
    const auto ep = tcp_server->tcp_endpoint().value();
    admin_client anonymous({.socket = {}, .host = "127.0.0.1", .port = ep.port()});
    auto refused = request(anonymous, verb::get, "/admin/health");
    check_error(refused, 401, "Bearer");
    BOOST_TEST(refused.header("WWW-Authenticate") == "Bearer");
    check_error(
        request(admin_client(
                    {.socket = {}, .host = "127.0.0.1", .port = ep.port(), .token = "wrong-token-wrong"}),
                verb::get, "/admin/health"),
        401, "Bearer");
    BOOST_TEST(request(admin_client({.socket = {}, .host = "127.0.0.1", .port = ep.port(), .token = token}),
                       verb::get, "/admin/health")
                   .status == 200u);
    BOOST_TEST(request(admin_client({.socket = x.e.dir / "tcp.sock"}), verb::get, "/admin/health").status ==
                   200u,
               "the Unix socket needs no token");
    for (const auto& line : x.log_lines)
        BOOST_TEST(line.find(token) == std::string::npos, "the token is never logged");

    auto exposed = admin_server::start({.engine = *x.e.b, .registry = x.metrics_b, .organization = org_b},
                                       x.config_for(x.e.dir / "exposed.sock", x.e.dir / "b" / "drafts5",
                                                    [&](admin_config& c) {
                                                        c.tcp = admin_tcp_config{"0.0.0.0", 0, token, {}};
                                                    }),
                                       x.io.get_executor());
    BOOST_TEST_REQUIRE(exposed.has_error());
    BOOST_TEST(exposed.error().message.find("loopback") != std::string::npos);
    auto weak = admin_server::start({.engine = *x.e.b, .registry = x.metrics_b, .organization = org_b},
                                    x.config_for(x.e.dir / "weak.sock", x.e.dir / "b" / "drafts6",
                                                 [&](admin_config& c) {
                                                     c.tcp = admin_tcp_config{"127.0.0.1", 0, "short", {}};
                                                 }),
                                    x.io.get_executor());
    BOOST_TEST_REQUIRE(weak.has_error());
    BOOST_TEST(weak.error().message.find("at least 16") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(oversized_headers_and_idle_connections_are_bounded) {
    admin_engines x([](admin_config& c) {
        c.max_header_bytes = 2048;
        c.first_request_timeout = std::chrono::milliseconds(300);
    });
    admin_client a({.socket = x.socket_a});
    boost::beast::http::fields big;
    big.set("X-Padding", std::string(4096, 'x'));
    BOOST_TEST(request(a, verb::get, "/admin/health", {}, {}, big).status == 431u);
    // A client that connects and says nothing is disconnected after the first request timeout.
    boost::asio::io_context io;
    boost::asio::local::stream_protocol::socket idle(io);
    idle.connect(x.socket_a.string());
    char byte;
    boost::system::error_code ec;
    const auto started = std::chrono::steady_clock::now();
    idle.read_some(boost::asio::buffer(&byte, 1), ec);
    BOOST_TEST(ec == boost::asio::error::eof);
    BOOST_TEST((std::chrono::steady_clock::now() - started < std::chrono::seconds(3)));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kurer::engine::test

namespace kurer::engine::test {

// docs/admin-api.openapi.json tells the truth: asked with a method no route has (PATCH), the
// server's 405 lists in Allow exactly the methods the document gives for that path (and for the
// other documented paths the same request path matches, as /out/multipart and /out/{messageId}).
BOOST_AUTO_TEST_CASE(the_openapi_document_lists_exactly_the_served_paths_and_methods) {
    const char* source = std::getenv("KURER_SOURCE_DIR");
    BOOST_TEST_REQUIRE(source != nullptr, "run through ctest");
    const auto text =
        kurer::read_small_file(std::filesystem::path(source) / "docs" / "admin-api.openapi.json", 1 << 20);
    BOOST_TEST_REQUIRE(text.has_value());
    const auto doc = json::parse(*text);
    const auto& paths = doc.at("paths").as_object();
    BOOST_TEST(paths.size() >= 20u);

    const auto segments = [](std::string_view p) {
        std::vector<std::string> out;
        std::size_t start = 1;
        while (start <= p.size()) {
            const auto slash = p.find('/', start);
            out.emplace_back(
                p.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
            if (slash == std::string_view::npos)
                break;
            start = slash + 1;
        }
        return out;
    };
    const auto template_matches = [&](std::string_view pattern, std::string_view concrete) {
        const auto a = segments(pattern), b = segments(concrete);
        if (a.size() != b.size())
            return false;
        for (std::size_t i = 0; i < a.size(); ++i)
            if (!(a[i].starts_with('{') || a[i] == b[i]))
                return false;
        return true;
    };

    admin_engines x;
    admin_client a({.socket = x.socket_a});
    for (const auto& [pattern, item] : paths) {
        std::string concrete;
        for (const auto& s : segments(pattern))
            concrete += "/" + (s.starts_with('{') ? std::string("0192:910075918") : s);
        std::set<std::string> documented;
        for (const auto& [other, other_item] : paths)
            if (template_matches(other, concrete))
                for (const auto& [method, op] : other_item.as_object())
                    if (method != "parameters") {
                        std::string upper(method);
                        std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
                        documented.insert(upper);
                    }
        auto r = request(a, verb::patch, concrete);
        BOOST_TEST_REQUIRE(r.status == 405u, concrete << ": " << r.body);
        std::set<std::string> allowed;
        std::string allow = r.header("Allow");
        for (std::size_t start = 0; start < allow.size();) {
            auto comma = allow.find(',', start);
            if (comma == std::string::npos)
                comma = allow.size();
            auto m = allow.substr(start, comma - start);
            m.erase(0, m.find_first_not_of(' '));
            allowed.insert(m);
            start = comma + 1;
        }
        BOOST_TEST((allowed == documented), std::string(pattern) << ": served " << allow);
    }
}

} // namespace kurer::engine::test

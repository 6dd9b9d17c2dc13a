#include <kurer/storage/database.hpp>
#include <kurer/storage/records.hpp>

#include <boost/test/unit_test.hpp>

using namespace kurer::storage;
namespace sm = kurer::statemachine;

namespace {

outgoing_record sample_outgoing() {
    outgoing_record r;
    r.id = "5f1c0a52-3b44-4b8e-9a0f-1d2e3f405162";
    r.message_id = r.id;
    r.conversation_id = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    r.machine = {sm::outgoing_state::upload_initiated, sm::outgoing_kind::message, sm::status_set(0b11)};
    r.sender = "910077473";
    r.receiver = "910075918";
    r.process = "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0";
    r.document_type = "urn:no:difi:arkivmelding:xsd::arkivmelding";
    r.senders_reference = "c0ffee00-0000-4000-8000-000000000001";
    r.created = time_point(std::chrono::milliseconds(1'700'000'000'123));
    r.deadline = r.created + std::chrono::hours(24);
    r.updated = r.created + std::chrono::seconds(3);
    r.attempt = 2;
    r.history_size = 5;
    r.content_digest = std::string(64, 'a');
    r.business_message = R"({"arkivmelding":{"sikkerhetsnivaa":3}})";
    r.documents = {
        {"arkivmelding.xml", "application/xml", false, {"documents/x/0", 10, std::string(64, 'b')}},
        {"brev.pdf", "application/pdf", true, {"documents/x/1", 1 << 20, std::string(64, 'c')}}};
    r.service_identifier = "DPO";
    r.receiver_certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    r.package = {"packages/out/x.zip", 12345, std::string(64, 'd')};
    r.broker_reference = "a6a2b1b0-0000-4000-8000-000000000002";
    r.status_value = sm::eformidling_status::levert;
    r.original_sbd = "{}";
    r.last_error = "broker said 503";
    return r;
}

incoming_record sample_incoming() {
    incoming_record r;
    r.reference = "b1b2b3b4-0000-4000-8000-000000000003";
    r.machine = {sm::incoming_state::locked, true};
    r.senders_reference = "d1d2d3d4-0000-4000-8000-000000000004";
    r.listed_size = 4096;
    r.sent = time_point(std::chrono::milliseconds(1'700'000'000'000));
    r.listed = r.sent + std::chrono::seconds(1);
    r.updated = r.listed + std::chrono::seconds(1);
    r.attempt = 1;
    r.history_size = 6;
    r.package = {"packages/in/b.zip", 4096, std::string(64, 'e')};
    r.payload = {"packages/in/b.payload", 2048, std::string(64, 'f')};
    r.kind = package_kind::kvittering;
    r.message_id = "e1e2e3e4-0000-4000-8000-000000000005";
    r.conversation_id = "f1f2f3f4-0000-4000-8000-000000000006";
    r.sender = "910075918";
    r.receiver = "910077473";
    r.process = "urn:no:difi:profile:arkivmelding:response:ver1.0";
    r.document_type = "urn:no:difi:arkivmelding:xsd::arkivmelding_kvittering";
    r.sbd = R"({"standardBusinessDocumentHeader":{}})";
    r.deadline = r.sent + std::chrono::hours(24);
    r.related_message_id = "5f1c0a52-3b44-4b8e-9a0f-1d2e3f405162";
    r.receipt_value = "OK";
    r.queue_key = std::string("\0\0\1\2", 4) + r.reference;
    r.lock_until = r.updated + std::chrono::minutes(5);
    r.listed_sender = "910075918";
    r.listed_recipient = "910077473";
    r.signer = "CN=B,O=B,serialNumber=910075918,C=NO (serial 0A, issued by CN=CA)";
    r.rejection = "tampered"; // not a Rejected record: the codec does not care
    return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(records)

BOOST_AUTO_TEST_CASE(every_field_survives_a_round_trip) {
    const auto out = sample_outgoing();
    auto decoded = decode_outgoing(encode(out), "outgoing record x");
    BOOST_TEST_REQUIRE(decoded.has_value(), decoded.error().describe());
    BOOST_TEST((*decoded == out));

    const auto in = sample_incoming();
    auto decoded_in = decode_incoming(encode(in), "incoming record y");
    BOOST_TEST_REQUIRE(decoded_in.has_value(), decoded_in.error().describe());
    BOOST_TEST((*decoded_in == in));

    incoming_record bare;
    bare.reference = "r";
    auto decoded_bare = decode_incoming(encode(bare), "incoming record r");
    BOOST_TEST_REQUIRE(decoded_bare.has_value());
    BOOST_TEST(!decoded_bare->deadline.has_value());
    BOOST_TEST(!decoded_bare->lock_until.has_value());

    history_entry h{7,
                    out.updated,
                    3,
                    9,
                    "upload_initiated",
                    1,
                    "reference a6a2",
                    {{sm::eformidling_status::sendt, true}}};
    auto decoded_h = decode_history(encode(h), "history entry");
    BOOST_TEST_REQUIRE(decoded_h.has_value());
    BOOST_TEST((*decoded_h == h));
}

BOOST_AUTO_TEST_CASE(a_version_1_incoming_record_is_still_read) {
    // Version 1 ended with last_error; version 2 appends the broker's sender and recipient, the
    // signer and the rejection code.
    auto in = sample_incoming();
    in.listed_sender.clear();
    in.listed_recipient.clear();
    in.signer.clear();
    in.rejection.clear();
    in.last_error = "earlier";
    auto bytes = encode(in);
    BOOST_TEST_REQUIRE(static_cast<int>(bytes[1]) == 2);
    bytes.resize(bytes.size() - 4); // four empty strings: one length byte each
    bytes[1] = 1;
    auto decoded = decode_incoming(bytes, "incoming record v1");
    BOOST_TEST_REQUIRE(decoded.has_value(), decoded.error().describe());
    BOOST_TEST((*decoded == in));

    // A version 2 record that stops where version 1 would have is truncated, not version 1.
    bytes[1] = 2;
    BOOST_TEST((decode_incoming(bytes, "y").error().code == errc::corrupt_record));
}

BOOST_AUTO_TEST_CASE(an_unknown_version_is_refused_by_name_not_misread) {
    auto bytes = encode(sample_outgoing());
    bytes[1] = 7; // a version from the future
    auto r = decode_outgoing(bytes, "outgoing record 5f1c0a52");
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == errc::unknown_record_version));
    BOOST_TEST(r.error().message.find("outgoing record 5f1c0a52") != std::string::npos);
    BOOST_TEST(r.error().message.find("version 7") != std::string::npos);

    auto h = encode(history_entry{});
    h[1] = 2;
    BOOST_TEST((decode_history(h, "history").error().code == errc::unknown_record_version));
    auto i = encode(sample_incoming());
    i[1] = 3;
    BOOST_TEST((decode_incoming(i, "incoming").error().code == errc::unknown_record_version));
    i[1] = 0;
    BOOST_TEST((decode_incoming(i, "incoming").error().code == errc::unknown_record_version));
}

BOOST_AUTO_TEST_CASE(truncated_mislabelled_or_padded_bytes_are_corrupt) {
    const auto bytes = encode(sample_incoming());
    for (std::size_t cut = 0; cut < bytes.size(); cut += 7) {
        auto r = decode_incoming(std::string_view(bytes).substr(0, cut), "incoming record y");
        BOOST_TEST_REQUIRE(r.has_error(), "cut at " << cut);
        BOOST_TEST(
            (r.error().code == errc::corrupt_record || r.error().code == errc::unknown_record_version));
    }
    BOOST_TEST((decode_incoming(bytes + "x", "y").error().code == errc::corrupt_record));
    BOOST_TEST((decode_outgoing(bytes, "y").error().code == errc::corrupt_record),
               "an incoming record is not outgoing");

    auto bad_state = encode(sample_outgoing());
    // The state byte follows tag, version and three length-prefixed strings.
    const auto out = sample_outgoing();
    const std::size_t state_at =
        2 + 1 + out.id.size() + 1 + out.message_id.size() + 1 + out.conversation_id.size();
    bad_state[state_at] = 42;
    auto r = decode_outgoing(bad_state, "outgoing record z");
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == errc::corrupt_record));
}

BOOST_AUTO_TEST_SUITE_END()

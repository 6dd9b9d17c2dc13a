#include "test_support.hpp"

#include <kurer/dpo/errors.hpp>
#include <kurer/dpo/sbd.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

using namespace kurer::dpo;
using namespace std::chrono;

namespace {

// Example J1 of message-package.md as Jackson's pretty printer lays it out.
constexpr std::string_view sample_j1 = R"({
  "standardBusinessDocumentHeader" : {
    "headerVersion" : "1.0",
    "sender" : [ {
      "identifier" : {
        "value" : "0192:910077473",
        "authority" : "iso6523-actorid-upis"
      }
    } ],
    "receiver" : [ {
      "identifier" : {
        "value" : "0192:910075918",
        "authority" : "iso6523-actorid-upis"
      }
    } ],
    "documentIdentification" : {
      "standard" : "urn:no:difi:arkivmelding:xsd::arkivmelding",
      "typeVersion" : "2.0",
      "instanceIdentifier" : "ff88849c-e281-4809-8555-7cd54952b916",
      "type" : "arkivmelding",
      "creationDateAndTime" : "2026-03-25T11:35:07+01:00"
    },
    "businessScope" : {
      "scope" : [ {
        "type" : "ConversationId",
        "instanceIdentifier" : "37efbd4c-413d-4e2c-bbc5-257ef4a65a56",
        "identifier" : "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0",
        "scopeInformation" : [ {
          "expectedResponseDateTime" : "2026-03-26T11:35:07+01:00"
        } ]
      }, {
        "type" : "SenderRef",
        "instanceIdentifier" : "ec5e72a3-5772-4bd5-aa33-72094951ca4d"
      } ]
    }
  },
  "arkivmelding" : {
    "sikkerhetsnivaa" : 3,
    "hoveddokument" : "arkivmelding.xml"
  }
})";

// Example J2: the MOTTATT status the receiver builds for J1 at 2026-03-25T11:40:07+01:00.
constexpr std::string_view sample_j2 = R"({
  "standardBusinessDocumentHeader" : {
    "headerVersion" : "1.0",
    "sender" : [ {
      "identifier" : {
        "value" : "0192:910075918",
        "authority" : "iso6523-actorid-upis"
      }
    } ],
    "receiver" : [ {
      "identifier" : {
        "value" : "0192:910077473",
        "authority" : "iso6523-actorid-upis"
      }
    } ],
    "documentIdentification" : {
      "standard" : "urn:no:difi:eformidling:xsd::status",
      "typeVersion" : "2.0",
      "instanceIdentifier" : "ff88849c-e281-4809-8555-7cd54952b916",
      "type" : "status",
      "creationDateAndTime" : "2026-03-25T11:40:02+01:00"
    },
    "businessScope" : {
      "scope" : [ {
        "type" : "ConversationId",
        "instanceIdentifier" : "37efbd4c-413d-4e2c-bbc5-257ef4a65a56",
        "identifier" : "urn:no:difi:profile:arkivmelding:response:ver1.0",
        "scopeInformation" : [ {
          "expectedResponseDateTime" : "2026-03-26T11:40:07+01:00"
        } ]
      } ]
    }
  },
  "status" : {
    "status" : "MOTTATT"
  }
})";

instant utc(int y, unsigned m, unsigned d, int h, int mi, int s = 0) {
    return instant{sys_days{year{y} / m / d} + hours{h} + minutes{mi} + seconds{s}};
}

sbd parsed(std::string_view text) {
    auto r = parse_sbd(text);
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().describe()));
    return *r;
}

std::string replace(std::string text, std::string_view from, std::string_view to) {
    const auto pos = text.find(from);
    BOOST_TEST_REQUIRE(pos != std::string::npos, std::string(from));
    text.replace(pos, from.size(), to);
    return text;
}

void expect_parse_error(std::string_view text, errc code, std::string_view mentions) {
    auto r = parse_sbd(text);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == code, r.error().describe());
    BOOST_TEST(r.error().message.find(mentions) != std::string::npos, r.error().message);
}

void expect_invalid(const sbd& d, errc code, std::string_view field) {
    auto r = validate(d);
    BOOST_TEST_REQUIRE(!r.has_value(), std::string(field));
    BOOST_TEST(r.error().code == code, r.error().describe());
    BOOST_TEST(r.error().message.starts_with(field), r.error().message);
}

} // namespace

BOOST_AUTO_TEST_SUITE(sbd_json)

BOOST_AUTO_TEST_CASE(round_trips_the_reference_layout_byte_for_byte) {
    const auto d = parsed(sample_j1);
    BOOST_TEST(d.message_id() == "ff88849c-e281-4809-8555-7cd54952b916");
    BOOST_TEST(d.conversation_id().value() == "37efbd4c-413d-4e2c-bbc5-257ef4a65a56");
    BOOST_TEST(d.process().value() == process::administrasjon);
    BOOST_TEST(d.sender_identifier().value() == "0192:910077473");
    BOOST_TEST(d.business_string("hoveddokument").value() == "arkivmelding.xml");
    BOOST_TEST((d.expected_response()->utc == utc(2026, 3, 26, 10, 35, 7)));
    BOOST_TEST(to_json(d) == sample_j1);
    BOOST_TEST(validate(d).has_value());
}

BOOST_AUTO_TEST_CASE(reads_members_in_any_order_and_ignores_unknown_header_members) {
    const std::string shuffled = R"({
      "arkivmelding": {"hoveddokument": "arkivmelding.xml"},
      "standardBusinessDocumentHeader": {
        "businessScope": {"scope": [{"scopeInformation": [{"expectedResponseDateTime": "2026-03-26T11:35:07"}],
          "identifier": "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0",
          "instanceIdentifier": "37efbd4c-413d-4e2c-bbc5-257ef4a65a56", "type": "ConversationId"}]},
        "somethingNew": {"nested": [1, 2, 3]},
        "documentIdentification": {"creationDateAndTime": "2026-07-25T11:35:07.120",
          "instanceIdentifier": "ff88849c-e281-4809-8555-7cd54952b916",
          "standard": "urn:no:difi:arkivmelding:xsd::arkivmelding", "type": "Arkivmelding", "typeVersion": "2.0"},
        "headerVersion": "1.0",
        "receiver": [{"identifier": {"authority": "iso6523-actorid-upis", "value": "0192:910075918"}}],
        "sender": [{"identifier": {"value": "0192:910077473", "authority": "iso6523-actorid-upis"},
                    "contactInformation": []}]
      }
    })";
    // "Arkivmelding" matches case-insensitively; the member name must be the lower-case one.
    const auto d = parsed(shuffled);
    BOOST_TEST(d.type() == "arkivmelding");
    BOOST_TEST(validate(d).has_value());
    const auto out = to_json(d);
    // Offset-less times are Oslo time: CET in March, CEST in July; the fraction survives.
    BOOST_TEST(out.find("\"expectedResponseDateTime\" : \"2026-03-26T11:35:07+01:00\"") != std::string::npos);
    BOOST_TEST(out.find("\"creationDateAndTime\" : \"2026-07-25T11:35:07.12+02:00\"") != std::string::npos);
    BOOST_TEST(out.find("somethingNew") == std::string::npos);
    BOOST_TEST(out.find("\"standardBusinessDocumentHeader\"") < out.find("\"arkivmelding\" : {"));
}

BOOST_AUTO_TEST_CASE(escapes_strings_like_jackson) {
    auto d = parsed(sample_j1);
    d.business_message["note"] = "line\nbreak \"quoted\" \x01 \\ / æøå";
    const auto out = to_json(d);
    BOOST_TEST(out.find(R"("note" : "line\nbreak \"quoted\" \u0001 \\ / æøå")") != std::string::npos, out);
    BOOST_TEST(parsed(out).business_string("note").value() == "line\nbreak \"quoted\" \x01 \\ / æøå");
}

BOOST_AUTO_TEST_CASE(rejects_structural_faults_each_with_its_own_code) {
    expect_parse_error("{", errc::sbd_malformed_json, "not valid JSON");
    expect_parse_error("[]", errc::sbd_top_level, "top level");
    expect_parse_error(
        replace(std::string(sample_j1), "\"arkivmelding\" : {", "\"extra\" : 1, \"arkivmelding\" : {"),
        errc::sbd_top_level, "exactly two members");
    expect_parse_error(R"({"standardBusinessDocumentHeader": {}})", errc::sbd_top_level,
                       "exactly two members");
    expect_parse_error(R"({"arkivmelding": {}, "other": {}})", errc::sbd_missing_field,
                       "standardBusinessDocumentHeader: missing");
    expect_parse_error(replace(std::string(sample_j1), "\"arkivmelding\" : {", "\"status\" : {"),
                       errc::sbd_top_level, "business message member is \"status\"");
    expect_parse_error(
        replace(std::string(sample_j1), "\"type\" : \"arkivmelding\"", "\"type\" : \"brevpost\""),
        errc::sbd_unknown_type, "brevpost");
    expect_parse_error(replace(std::string(sample_j1),
                               "\"instanceIdentifier\" : \"ff88849c-e281-4809-8555-7cd54952b916\",", ""),
                       errc::sbd_missing_field, "documentIdentification.instanceIdentifier");
    expect_parse_error(
        replace(std::string(sample_j1), "\"sender\" : [", "\"sender\" : {\"a\" : 1}, \"ignored\" : ["),
        errc::sbd_invalid_field, "standardBusinessDocumentHeader.sender: expected an array");
    expect_parse_error(replace(std::string(sample_j1), "\"2026-03-26T11:35:07+01:00\"", "\"tomorrow\""),
                       errc::sbd_invalid_field,
                       "businessScope.scope[0].scopeInformation[0].expectedResponseDateTime");
    expect_parse_error(replace(std::string(sample_j1), "\"headerVersion\" : \"1.0\",",
                               "\"headerVersion\" : \"1.0\", \"headerVersion\" : \"2.0\","),
                       errc::sbd_duplicate_key, "headerVersion");
}

BOOST_AUTO_TEST_CASE(bounds_size_and_depth) {
    limits lim;
    lim.max_sbd_bytes = 100;
    auto r = parse_sbd(sample_j1, lim);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == errc::sbd_too_large);

    std::string deep = std::string(sample_j1);
    deep = replace(deep, "\"sikkerhetsnivaa\" : 3", "\"x\" : " + std::string(40, '[') + std::string(40, ']'));
    expect_parse_error(deep, errc::sbd_too_deep, "deeper than 32");
    lim = limits{};
    lim.max_json_depth = 64;
    BOOST_TEST(parse_sbd(deep, lim).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sbd_validation)

BOOST_AUTO_TEST_CASE(names_the_field_at_fault) {
    const auto good = parsed(sample_j1);
    const std::string h = "standardBusinessDocumentHeader";
    {
        auto d = good;
        d.header.header_version = "2.0";
        expect_invalid(d, errc::sbd_invalid_field, h + ".headerVersion");
    }
    {
        auto d = good;
        d.header.sender.front().identifier = "9908:910077473";
        expect_invalid(d, errc::sbd_invalid_field, h + ".sender[0].identifier.value");
    }
    {
        auto d = good;
        d.header.receiver.clear();
        expect_invalid(d, errc::sbd_missing_field, h + ".receiver");
    }
    {
        auto d = good;
        d.header.receiver.push_back(d.header.receiver.front());
        expect_invalid(d, errc::sbd_invalid_field, h + ".receiver");
    }
    {
        auto d = good;
        d.header.sender.front().authority = "nhn-actorid";
        expect_invalid(d, errc::sbd_invalid_field, h + ".sender[0].identifier.authority");
    }
    {
        auto d = good;
        d.header.document.instance_identifier = "not-a-uuid";
        expect_invalid(d, errc::sbd_not_uuid, h + ".documentIdentification.instanceIdentifier");
    }
    {
        auto d = good;
        d.header.document.standard = "urn:no:difi:arkivmelding:xsd::status";
        expect_invalid(d, errc::sbd_invalid_field, h + ".documentIdentification.standard");
    }
    {
        auto d = good;
        d.header.document.type = "digital";
        expect_invalid(d, errc::sbd_unknown_type, h + ".documentIdentification.type");
    }
    {
        auto d = good;
        d.header.document.creation_date_and_time.reset();
        expect_invalid(d, errc::sbd_missing_field, h + ".documentIdentification.creationDateAndTime");
    }
    {
        auto d = good;
        d.header.scopes.front().instance_identifier = "37efbd4c";
        expect_invalid(d, errc::sbd_not_uuid, h + ".businessScope.scope[0].instanceIdentifier");
    }
    {
        auto d = good;
        d.header.scopes.front().scope_information.clear();
        expect_invalid(d, errc::sbd_missing_field,
                       h + ".businessScope.scope[0].scopeInformation[0].expectedResponseDateTime");
    }
    {
        auto d = good;
        d.header.scopes.front().identifier.reset();
        expect_invalid(d, errc::sbd_missing_field, h + ".businessScope.scope[0].identifier");
    }
    {
        auto d = good;
        d.header.scopes.erase(d.header.scopes.begin());
        expect_invalid(d, errc::sbd_missing_field, h + ".businessScope.scope");
    }
    {
        auto d = good;
        d.header.scopes.push_back(d.header.scopes.front());
        expect_invalid(d, errc::sbd_invalid_field, h + ".businessScope.scope");
    }
    {
        auto d = good;
        d.header.scopes[1].type = "Kanal";
        expect_invalid(d, errc::sbd_invalid_field, h + ".businessScope.scope[1].type");
    }
    {
        auto d = good;
        d.header.scopes[1].instance_identifier = "my-own-ref";
        expect_invalid(d, errc::sbd_not_uuid, h + ".businessScope.scope[1].instanceIdentifier");
    }
    {
        auto d = good;
        d.business_message["sikkerhetsnivaa"] = "high";
        expect_invalid(d, errc::sbd_invalid_field, "arkivmelding.sikkerhetsnivaa");
    }
}

BOOST_AUTO_TEST_CASE(receiving_side_only_insists_on_uuids) {
    auto d = parsed(sample_j1);
    d.header.sender.front().identifier = "9908:910077473"; // legacy, but a receiver takes it
    BOOST_TEST(validate_for_receipt(d).has_value());
    d.header.document.instance_identifier = "42";
    BOOST_TEST(validate_for_receipt(d).error().code == errc::sbd_not_uuid);
    d = parsed(sample_j1);
    d.header.scopes.front().instance_identifier = "conversation-1";
    BOOST_TEST(validate_for_receipt(d).error().code == errc::sbd_not_uuid);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sbd_factory)

BOOST_AUTO_TEST_CASE(status_follows_sbdfactory_create_status_from) {
    const auto original = parsed(sample_j1);
    const auto status = make_status(original, receipt_status::mottatt, utc(2026, 3, 25, 10, 40, 7));
    BOOST_TEST(to_json(status) == sample_j2);
    BOOST_TEST(validate(status).has_value());
    const auto levert = make_status(original, receipt_status::levert, utc(2026, 3, 25, 10, 40, 7));
    BOOST_TEST(levert.business_string("status").value() == "LEVERT");
}

BOOST_AUTO_TEST_CASE(status_copies_the_message_channel_and_answers_avtalt_with_its_own_process) {
    auto original = parsed(sample_j1);
    original.header.scopes.front().identifier = std::string(process::avtalt);
    scope channel;
    channel.type = "MessageChannel";
    channel.instance_identifier = "0d7c5a4e-1ad3-4c43-9bb8-8d4d6f2c2d11";
    channel.identifier = "arkiv-2";
    original.header.scopes.push_back(channel);
    const auto status = make_status(original, receipt_status::levert, utc(2026, 3, 25, 10, 40, 7));
    BOOST_TEST(status.process().value() == process::avtalt_response);
    BOOST_TEST(status.message_channel().value() == "arkiv-2");
    BOOST_TEST(status.find_scope("MessageChannel")->instance_identifier.value() ==
               *channel.instance_identifier);
    BOOST_TEST(status.find_scope("SenderRef") == nullptr);
}

BOOST_AUTO_TEST_CASE(kvittering_answers_the_original) {
    const auto original = parsed(sample_j1);
    const auto k =
        make_arkivmelding_kvittering(original, "OK", {{"Recno", "315890"}}, utc(2026, 3, 25, 12, 2, 44));
    BOOST_TEST(validate(k).has_value(), (validate(k) ? "" : validate(k).error().message));
    BOOST_TEST(k.message_id() != original.message_id());
    BOOST_TEST((k.conversation_id() == original.conversation_id()));
    BOOST_TEST((k.sender_identifier() == original.receiver_identifier()));
    BOOST_TEST(k.process().value() == process::arkivmelding_response);
    BOOST_TEST(k.business_string("relatedToMessageId").value() == original.message_id());
    const auto json = to_json(k);
    BOOST_TEST(json.find(R"("messages" : [ {
      "code" : "Recno",
      "text" : "315890"
    } ])") != std::string::npos,
               json);
}

BOOST_AUTO_TEST_CASE(new_messages_get_fresh_ids_and_a_24_hour_deadline) {
    message_params p;
    p.sender = "910077473";
    p.receiver = "0192:910075918";
    p.message_channel = "kanal_1";
    const auto d = make_message(p, utc(2026, 6, 1, 10, 0) + milliseconds{123});
    BOOST_TEST(validate(d).has_value(), (validate(d) ? "" : validate(d).error().message));
    BOOST_TEST(d.sender_identifier().value() == "0192:910077473");
    BOOST_TEST(format_date_time(*d.header.document.creation_date_and_time) == "2026-06-01T12:00:00+02:00");
    BOOST_TEST(format_date_time(*d.expected_response()) == "2026-06-02T12:00:00+02:00");
    BOOST_TEST(d.business_string("hoveddokument").value() == "arkivmelding.xml");
    BOOST_TEST(d.message_channel().value() == "kanal_1");
    BOOST_TEST(make_message(p, utc(2026, 6, 1, 10, 0)).message_id() != d.message_id());
}

BOOST_AUTO_TEST_SUITE_END()

#include <kurer/core/xml.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/test/unit_test.hpp>

#include <fstream>

namespace xml = kurer::xml;

namespace {

constexpr std::string_view soap_ns = "http://schemas.xmlsoap.org/soap/envelope/";
constexpr std::string_view broker_ns = "http://www.altinn.no/services/ServiceEngine/Broker/2015/06";

void write(const std::filesystem::path& p, std::string_view text) {
    std::ofstream(p) << text;
}

constexpr std::string_view manifest_xsd = R"(<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:kurer:test"
           xmlns="urn:kurer:test" elementFormDefault="qualified">
  <xs:include schemaLocation="types.xsd"/>
  <xs:element name="Manifest">
    <xs:complexType><xs:sequence>
      <xs:element name="Code" type="code"/>
      <xs:element name="Edition" type="xs:int"/>
    </xs:sequence></xs:complexType>
  </xs:element>
</xs:schema>)";

constexpr std::string_view types_xsd = R"(<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:kurer:test"
           xmlns="urn:kurer:test" elementFormDefault="qualified">
  <xs:simpleType name="code"><xs:restriction base="xs:string"><xs:pattern value="[0-9]{4}"/></xs:restriction></xs:simpleType>
</xs:schema>)";

} // namespace

BOOST_AUTO_TEST_SUITE(xml_parsing)

BOOST_AUTO_TEST_CASE(parses_namespaces_attributes_and_text) {
    auto doc = xml::parse(R"(<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
  <InitiateBrokerServiceBasicResponse xmlns="http://www.altinn.no/services/ServiceEngine/Broker/2015/06">
    <InitiateBrokerServiceBasicResult>af303bd0-3333-4ec9-af6a-31dd05569011</InitiateBrokerServiceBasicResult>
  </InitiateBrokerServiceBasicResponse>
  <x a="1" xmlns:p="urn:p" p:b="&lt;2&gt;"><![CDATA[raw <text>]]> and more &amp; æøå</x>
</s:Body></s:Envelope>)");
    BOOST_TEST_REQUIRE(doc.has_value(), (doc ? "" : doc.error().describe()));
    BOOST_TEST(doc->ns == soap_ns);
    BOOST_TEST(doc->local == "Envelope");
    const auto* body = doc->child(soap_ns, "Body");
    BOOST_TEST_REQUIRE(body != nullptr);
    const auto* resp = body->child(broker_ns, "InitiateBrokerServiceBasicResponse");
    BOOST_TEST_REQUIRE(resp != nullptr);
    BOOST_TEST(resp->child(broker_ns, "InitiateBrokerServiceBasicResult")->text ==
               "af303bd0-3333-4ec9-af6a-31dd05569011");
    const auto* x = body->child("", "x");
    BOOST_TEST_REQUIRE(x != nullptr);
    BOOST_TEST(x->attr("a").value() == "1");
    BOOST_TEST(x->attr("b", "urn:p").value() == "<2>");
    BOOST_TEST(!x->attr("b").has_value());
    BOOST_TEST(x->text == "raw <text> and more & æøå");
}

BOOST_AUTO_TEST_CASE(refuses_doctype_external_entities_and_billion_laughs) {
    const char* xxe =
        R"(<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><r>&e;</r>)";
    const char* laughs = R"(<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>)";
    const char* external_dtd =
        R"(<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:1/evil.dtd"><r/>)";
    for (const char* doc : {xxe, laughs, external_dtd}) {
        auto r = xml::parse(doc);
        BOOST_TEST_REQUIRE(r.has_error());
        BOOST_TEST((r.error().code == xml::errc::doctype_forbidden), r.error().describe());
    }
    // Behind a BOM and a comment it is still the prolog.
    auto behind = xml::parse("\xEF\xBB\xBF<!-- c --><?pi x?>\n<!DOCTYPE r [<!ENTITY e \"x\">]><r>&e;</r>");
    BOOST_TEST((behind.error().code == xml::errc::doctype_forbidden));

    // In UTF-16 the byte scan cannot see it; Xerces' own disallow-doctype still refuses it.
    const std::string ascii =
        R"(<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>)";
    std::string utf16 = "\xFF\xFE";
    for (const char c : ascii) {
        utf16 += c;
        utf16 += '\0';
    }
    auto wide = xml::parse(utf16);
    BOOST_TEST(wide.has_error());
}

BOOST_AUTO_TEST_CASE(reports_malformed_xml_with_its_position) {
    auto r = xml::parse("<a>\n  <b></a>");
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == xml::errc::malformed));
    BOOST_TEST(r.error().message.find(":2:") != std::string::npos, r.error().message);
    BOOST_TEST(xml::parse("").has_error());
    BOOST_TEST(xml::parse("<a/><b/>").has_error()); // trailing data
}

BOOST_AUTO_TEST_CASE(enforces_size_depth_and_node_limits) {
    std::string deep;
    for (int i = 0; i < 100; ++i)
        deep += "<a>";
    for (int i = 0; i < 100; ++i)
        deep += "</a>";
    auto r = xml::parse(deep);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == xml::errc::too_deep));

    BOOST_TEST((xml::parse("<a>0123456789</a>", {.max_bytes = 10}).error().code == xml::errc::too_large));

    std::string wide = "<a>";
    for (int i = 0; i < 50; ++i)
        wide += "<b/>";
    wide += "</a>";
    BOOST_TEST((xml::parse(wide, {.max_nodes = 20}).error().code == xml::errc::too_many_nodes));
    BOOST_TEST(xml::parse(wide).has_value());
}

BOOST_AUTO_TEST_CASE(escapes_markup_for_hand_written_xml) {
    BOOST_TEST(xml::escape_text("a<b & 'c'") == "a&lt;b &amp; 'c'");
    BOOST_TEST(xml::escape_attribute("\"q\" & 'a'") == "&quot;q&quot; &amp; &apos;a&apos;");
    auto round =
        xml::parse("<r v=\"" + xml::escape_attribute("<\"&'>") + "\">" + xml::escape_text("<&>") + "</r>");
    BOOST_TEST_REQUIRE(round.has_value());
    BOOST_TEST(round->attr("v").value() == "<\"&'>");
    BOOST_TEST(round->text == "<&>");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(xml_schemas)

BOOST_AUTO_TEST_CASE(validates_against_schemas_that_include_local_files) {
    kurer::testing::scratch_dir dir;
    write(dir / "types.xsd", types_xsd);
    write(dir / "manifest.xsd", manifest_xsd);
    xml::schema_set schemas;
    BOOST_TEST_REQUIRE(schemas.add_file(dir / "manifest.xsd").has_value());

    auto ok = schemas.validate(
        R"(<Manifest xmlns="urn:kurer:test"><Code>4192</Code><Edition>270815</Edition></Manifest>)");
    BOOST_TEST(ok.has_value(), (ok ? "" : ok.error().describe()));

    auto bad_pattern = schemas.validate(
        R"(<Manifest xmlns="urn:kurer:test"><Code>v3888</Code><Edition>1</Edition></Manifest>)");
    BOOST_TEST_REQUIRE(bad_pattern.has_error());
    BOOST_TEST((bad_pattern.error().code == xml::errc::invalid));
    BOOST_TEST(bad_pattern.error().message.find("v3888") != std::string::npos, bad_pattern.error().message);

    auto wrong_order = schemas.validate(
        R"(<Manifest xmlns="urn:kurer:test"><Edition>1</Edition><Code>4192</Code></Manifest>)");
    BOOST_TEST(wrong_order.has_error());
}

BOOST_AUTO_TEST_CASE(validation_keeps_the_parser_hardening) {
    kurer::testing::scratch_dir dir;
    write(dir / "types.xsd", types_xsd);
    write(dir / "manifest.xsd", manifest_xsd);
    xml::schema_set schemas;
    BOOST_TEST_REQUIRE(schemas.add_file(dir / "manifest.xsd").has_value());
    auto r = schemas.validate(R"(<!DOCTYPE Manifest [<!ENTITY e SYSTEM "file:///etc/hostname">]>
<Manifest xmlns="urn:kurer:test"><Code>&e;</Code><Edition>1</Edition></Manifest>)");
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == xml::errc::doctype_forbidden), r.error().describe());
}

BOOST_AUTO_TEST_CASE(schemas_in_memory_import_each_other_by_namespace) {
    // As in a WSDL's wsdl:types: xs:import with a namespace and no schemaLocation.
    constexpr std::string_view types = R"(<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
        targetNamespace="urn:kurer:types"><xs:simpleType name="code"><xs:restriction base="xs:string">
        <xs:pattern value="[0-9]{4}"/></xs:restriction></xs:simpleType></xs:schema>)";
    constexpr std::string_view doc = R"(<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
        xmlns:t="urn:kurer:types" targetNamespace="urn:kurer:doc"><xs:import namespace="urn:kurer:types"/>
        <xs:element name="C" type="t:code"/></xs:schema>)";
    xml::schema_set schemas;
    BOOST_TEST_REQUIRE(schemas.add_text(types, "types").has_value());
    BOOST_TEST_REQUIRE(schemas.add_text(doc, "doc").has_value());
    auto ok = schemas.validate(R"(<C xmlns="urn:kurer:doc">4192</C>)");
    BOOST_TEST(ok.has_value(), (ok ? "" : ok.error().describe()));
    BOOST_TEST(schemas.validate(R"(<C xmlns="urn:kurer:doc">v3888</C>)").has_error());
}

BOOST_AUTO_TEST_CASE(schemas_held_in_memory_and_unusable_schemas) {
    xml::schema_set schemas;
    std::string standalone(types_xsd);
    standalone.replace(standalone.find("</xs:schema>"), 12,
                       "<xs:element name=\"C\" type=\"code\"/></xs:schema>");
    BOOST_TEST_REQUIRE(schemas.add_text(standalone, "types-in-memory.xsd").has_value());
    BOOST_TEST(schemas.validate(R"(<C xmlns="urn:kurer:test">1234</C>)").has_value());
    BOOST_TEST(schemas.validate(R"(<C xmlns="urn:kurer:test">12345</C>)").has_error());

    xml::schema_set broken;
    BOOST_TEST_REQUIRE(
        broken.add_text("<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"><xs:element", "broken.xsd")
            .has_value());
    auto r = broken.validate("<a/>");
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == xml::errc::schema_unusable));
    BOOST_TEST(broken.add_file("/nonexistent/schema.xsd").has_error());
}

BOOST_AUTO_TEST_SUITE_END()

// Internal helpers shared by the codec's writers and readers.
#pragma once

#include <kurer/altinn2/errors.hpp>
#include <kurer/core/xml.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kurer::altinn2::detail {

// True when `s` is valid UTF-8 made only of characters XML 1.0 allows.
bool is_xml_text(std::string_view s) noexcept;

// Appends markup and escaped values; remembers the first value XML cannot carry and fails
// finish() naming its field (never quoting the value: it may be a password).
class xml_writer {
public:
    xml_writer& raw(std::string_view markup);
    xml_writer& text(std::string_view field, std::string_view value);
    xml_writer& attribute_value(std::string_view field, std::string_view value);
    // <qname>value</qname>
    xml_writer& leaf(std::string_view qname, std::string_view field, std::string_view value);
    // <qname i:nil="true"/>; the i prefix must be bound to the XSI namespace.
    xml_writer& nil(std::string_view qname);
    result<std::string> finish();

private:
    bool check(std::string_view field, std::string_view value);

    std::string out_;
    std::optional<std::string> invalid_field_;
};

std::string to_string(std::int64_t v);

// The SOAP 1.1 envelope around a body (and optional header) content.
inline constexpr std::string_view envelope_open =
    "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\">";
inline constexpr std::string_view envelope_close = "</s:Envelope>";

// ---- reading

enum class order {
    wcf, // DataContractSerializer: members in sequence order; an out-of-order one is absent
    any, // by name, wherever it is
};

// How a reader reports a problem: responses are the server's doing (retryable), requests the
// client's (permanent).
struct reading {
    std::string_view what; // "InitiateBrokerServiceBasicResponse", for messages
    retry r;

    kurer::error malformed(std::string message) const;
};

// Parses a SOAP 1.1 envelope.
result<xml::element> parse_envelope(std::string_view document, const reading& ctx);
// The first element child of soap:Body, which must be ns:local. A soap:Fault becomes its
// typed error (fault_error); any other element is malformed.
result<xml::element> take_body_child(xml::element& envelope, std::string_view ns, std::string_view local,
                                     const reading& ctx);
const xml::element* find_body(const xml::element& envelope) noexcept;
std::optional<soap_fault> fault_of(const xml::element& envelope);

// One slot per name, in the order given; nullptr for a member that is absent.
std::vector<const xml::element*> members(const xml::element& parent, std::string_view ns,
                                         std::initializer_list<std::string_view> names, order o);

bool is_nil(const xml::element& e) noexcept;
std::optional<std::string> optional_text(const xml::element* e);
result<std::string> required_text(const xml::element* e, std::string_view path, const reading& ctx);
result<std::optional<std::int32_t>> optional_int32(const xml::element* e, std::string_view path,
                                                   const reading& ctx);
result<std::optional<std::int64_t>> optional_int64(const xml::element* e, std::string_view path,
                                                   const reading& ctx);
result<std::optional<bool>> optional_bool(const xml::element* e, std::string_view path, const reading& ctx);

} // namespace kurer::altinn2::detail

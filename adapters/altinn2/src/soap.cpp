#include "soap.hpp"

#include <kurer/altinn2/namespaces.hpp>

#include <charconv>

namespace kurer::altinn2::detail {

bool is_xml_text(std::string_view s) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
        const unsigned char c = *p;
        std::uint32_t cp = 0;
        int extra = 0;
        if (c < 0x80) {
            cp = c;
        } else if ((c & 0xE0) == 0xC0) {
            cp = c & 0x1F;
            extra = 1;
        } else if ((c & 0xF0) == 0xE0) {
            cp = c & 0x0F;
            extra = 2;
        } else if ((c & 0xF8) == 0xF0) {
            cp = c & 0x07;
            extra = 3;
        } else {
            return false;
        }
        if (end - p < 1 + extra)
            return false;
        for (int i = 1; i <= extra; ++i) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
        static constexpr std::uint32_t min_for_length[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_for_length[extra] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return false;
        const bool xml_char = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                              (cp >= 0xE000 && cp <= 0xFFFD) || cp >= 0x10000;
        if (!xml_char)
            return false;
        p += 1 + extra;
    }
    return true;
}

bool xml_writer::check(std::string_view field, std::string_view value) {
    if (invalid_field_)
        return false;
    if (!is_xml_text(value)) {
        invalid_field_ = std::string(field);
        return false;
    }
    return true;
}

xml_writer& xml_writer::raw(std::string_view markup) {
    out_ += markup;
    return *this;
}

namespace {

// escape_text leaves CR alone, and an XML reader turns a literal CR into LF; a character
// reference keeps it.
void append_escaped(std::string& out, std::string escaped) {
    if (escaped.find('\r') == std::string::npos) {
        out += escaped;
        return;
    }
    for (const char c : escaped) {
        if (c == '\r')
            out += "&#13;";
        else
            out += c;
    }
}

} // namespace

xml_writer& xml_writer::text(std::string_view field, std::string_view value) {
    if (check(field, value))
        append_escaped(out_, xml::escape_text(value));
    return *this;
}

xml_writer& xml_writer::attribute_value(std::string_view field, std::string_view value) {
    if (check(field, value)) {
        // In attributes a reader also normalises tabs and line feeds to spaces.
        std::string escaped;
        for (const char c : xml::escape_attribute(value)) {
            if (c == '\t')
                escaped += "&#9;";
            else if (c == '\n')
                escaped += "&#10;";
            else
                escaped += c;
        }
        append_escaped(out_, std::move(escaped));
    }
    return *this;
}

xml_writer& xml_writer::leaf(std::string_view qname, std::string_view field, std::string_view value) {
    out_ += '<';
    out_ += qname;
    out_ += '>';
    text(field, value);
    out_ += "</";
    out_ += qname;
    out_ += '>';
    return *this;
}

xml_writer& xml_writer::nil(std::string_view qname) {
    out_ += '<';
    out_ += qname;
    out_ += " i:nil=\"true\"/>";
    return *this;
}

result<std::string> xml_writer::finish() {
    if (invalid_field_)
        return make_error(errc::invalid_value,
                          *invalid_field_ + " holds a character XML cannot carry (a control character or "
                                            "invalid UTF-8)");
    return std::move(out_);
}

std::string to_string(std::int64_t v) {
    return std::to_string(v);
}

kurer::error reading::malformed(std::string message) const {
    return make_error(errc::malformed_envelope, std::string(what) + ": " + message, r);
}

result<xml::element> parse_envelope(std::string_view document, const reading& ctx) {
    auto doc = xml::parse(document);
    if (!doc)
        return ctx.malformed(doc.error().message);
    if (doc->local == "Envelope" && doc->ns == ns::soap12)
        return ctx.malformed("a SOAP 1.2 envelope; the Basic bindings speak SOAP 1.1 only");
    if (doc->local != "Envelope" || doc->ns != ns::soap)
        return ctx.malformed("the document is not a SOAP 1.1 envelope (root element {" + doc->ns + "}" +
                             doc->local + ")");
    if (find_body(*doc) == nullptr)
        return ctx.malformed("the envelope has no soap:Body");
    return doc;
}

const xml::element* find_body(const xml::element& envelope) noexcept {
    return envelope.child(ns::soap, "Body");
}

namespace {

// SOAP 1.1 puts faultcode, faultstring and detail in no namespace; some stacks qualify them.
const xml::element* fault_child(const xml::element& fault, std::string_view local) noexcept {
    for (const auto& c : fault.children)
        if (c.local == local && (c.ns.empty() || c.ns == ns::soap))
            return &c;
    return nullptr;
}

std::string_view local_part(std::string_view qname) noexcept {
    const auto colon = qname.rfind(':');
    return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

std::string trimmed(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos)
        return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(first, last - first + 1));
}

} // namespace

std::optional<soap_fault> fault_of(const xml::element& envelope) {
    const auto* body = find_body(envelope);
    if (body == nullptr)
        return std::nullopt;
    const auto* fault = body->child(ns::soap, "Fault");
    if (fault == nullptr)
        return std::nullopt;
    soap_fault out;
    if (const auto* code = fault_child(*fault, "faultcode"))
        out.code = std::string(local_part(trimmed(code->text)));
    if (const auto* text = fault_child(*fault, "faultstring"))
        out.text = text->text;
    if (const auto* detail = fault_child(*fault, "detail")) {
        if (const auto* af = detail->child(ns::fault, "AltinnFault")) {
            altinn_fault d;
            const auto m =
                members(*af, ns::fault,
                        {"AltinnErrorMessage", "AltinnExtendedErrorMessage", "AltinnLocalizedErrorMessage",
                         "ErrorGuid", "ErrorID", "UserGuid", "UserId"},
                        order::any);
            d.error_message = optional_text(m[0]);
            d.extended_error_message = optional_text(m[1]);
            d.localized_error_message = optional_text(m[2]);
            d.error_guid = optional_text(m[3]);
            if (auto id = optional_int32(m[4], "ErrorID", {"AltinnFault", retry::yes}); id && *id)
                d.error_id = **id;
            d.user_guid = optional_text(m[5]);
            d.user_id = optional_text(m[6]);
            out.detail = std::move(d);
        }
    }
    return out;
}

result<xml::element> take_body_child(xml::element& envelope, std::string_view ns, std::string_view local,
                                     const reading& ctx) {
    auto* body = const_cast<xml::element*>(find_body(envelope));
    if (body == nullptr)
        return ctx.malformed("the envelope has no soap:Body");
    if (body->children.empty())
        return ctx.malformed("soap:Body is empty; expected " + std::string(local));
    if (auto fault = fault_of(envelope))
        return fault_error(*fault);
    auto& first = body->children.front();
    if (first.ns != ns || first.local != local)
        return ctx.malformed("soap:Body holds {" + first.ns + "}" + first.local + "; expected {" +
                             std::string(ns) + "}" + std::string(local));
    return std::move(first);
}

std::vector<const xml::element*> members(const xml::element& parent, std::string_view ns,
                                         std::initializer_list<std::string_view> names, order o) {
    std::vector<const xml::element*> slots(names.size(), nullptr);
    const std::string_view* const first = names.begin();
    std::size_t next = 0; // WCF: the first member still expected
    for (const auto& c : parent.children) {
        if (c.ns != ns)
            continue;
        const std::size_t from = o == order::wcf ? next : 0;
        for (std::size_t k = from; k < names.size(); ++k) {
            if (first[k] != c.local)
                continue;
            if (slots[k] == nullptr) {
                slots[k] = &c;
                if (o == order::wcf)
                    next = k + 1;
            }
            break;
        }
    }
    return slots;
}

bool is_nil(const xml::element& e) noexcept {
    const auto v = e.attr("nil", ns::xsi);
    return v && (*v == "true" || *v == "1");
}

std::optional<std::string> optional_text(const xml::element* e) {
    if (e == nullptr || is_nil(*e))
        return std::nullopt;
    return e->text;
}

result<std::string> required_text(const xml::element* e, std::string_view path, const reading& ctx) {
    if (e == nullptr)
        return ctx.malformed(std::string(path) + " is missing");
    if (is_nil(*e))
        return ctx.malformed(std::string(path) + " is nil");
    return e->text;
}

namespace {

template <class Int>
result<std::optional<Int>> optional_integer(const xml::element* e, std::string_view path,
                                            const reading& ctx) {
    if (e == nullptr || is_nil(*e))
        return std::optional<Int>{};
    // xs:int and xs:long collapse whitespace and allow a leading '+'.
    std::string s = trimmed(e->text);
    std::string_view digits = s;
    if (digits.starts_with('+'))
        digits.remove_prefix(1);
    Int v{};
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size())
        return ctx.malformed(std::string(path) + " is not an integer of its type: '" + s.substr(0, 40) + "'");
    return std::optional<Int>{v};
}

} // namespace

result<std::optional<std::int32_t>> optional_int32(const xml::element* e, std::string_view path,
                                                   const reading& ctx) {
    return optional_integer<std::int32_t>(e, path, ctx);
}

result<std::optional<std::int64_t>> optional_int64(const xml::element* e, std::string_view path,
                                                   const reading& ctx) {
    return optional_integer<std::int64_t>(e, path, ctx);
}

result<std::optional<bool>> optional_bool(const xml::element* e, std::string_view path, const reading& ctx) {
    if (e == nullptr || is_nil(*e))
        return std::optional<bool>{};
    const std::string s = trimmed(e->text);
    if (s == "true" || s == "1")
        return std::optional<bool>{true};
    if (s == "false" || s == "0")
        return std::optional<bool>{false};
    return ctx.malformed(std::string(path) + " is not a boolean: '" + s.substr(0, 40) + "'");
}

} // namespace kurer::altinn2::detail

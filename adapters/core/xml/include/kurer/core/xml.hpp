// Hardened XML reading with Xerces-C++, for every XML kurer receives: SOAP envelopes, MTOM
// roots, ASiC manifests, broker manifests.
//
// Documents with a DOCTYPE are refused outright (no DTDs means no entity expansion and no
// external entities); nothing outside the document is ever fetched (xsi:schemaLocation is
// ignored); size, depth and node count are bounded. The result is a small owned tree with
// UTF-8 strings, so callers never touch Xerces types.
#pragma once

#include <kurer/core/error.hpp>

#include <boost/system/error_category.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kurer::xml {

enum class errc {
    malformed = 1,     // not well-formed XML
    doctype_forbidden, // a DOCTYPE declaration (DTD) is present
    too_large,         // more bytes than limits::max_bytes
    too_deep,          // elements nested deeper than limits::max_depth
    too_many_nodes,    // more elements and attributes than limits::max_nodes
    invalid,           // well-formed but not valid against the schemas
    schema_unusable,   // a schema given to schema_set could not be loaded
};

const boost::system::error_category& xml_category() noexcept;
boost::system::error_code make_error_code(errc e) noexcept;

struct limits {
    std::size_t max_bytes = 16 * 1024 * 1024;
    std::size_t max_depth = 64;
    std::size_t max_nodes = 200'000;
};

struct attribute {
    std::string ns; // empty for unqualified attributes
    std::string local;
    std::string value;
};

struct element {
    std::string ns;    // namespace URI, empty when none
    std::string local; // local name
    std::vector<attribute> attributes;
    std::string text; // the element's own character data (text and CDATA children), concatenated
    std::vector<element> children;

    // The first child element with this namespace and local name.
    const element* child(std::string_view ns, std::string_view local) const noexcept;
    std::vector<const element*> children_named(std::string_view ns, std::string_view local) const;
    // An attribute's value by namespace (empty for unqualified) and local name.
    std::optional<std::string_view> attr(std::string_view local, std::string_view ns = {}) const noexcept;
};

// Parses a whole document held in memory. Errors name the line and column.
result<element> parse(std::string_view document, const limits& lim = {});

// A set of trusted XSDs to validate documents against. Schemas may import each other by
// relative schemaLocation (resolved only to files beside the schema) or by namespace alone
// when the imported schema is also in the set; add imported schemas first.
class schema_set {
public:
    schema_set();
    ~schema_set();
    schema_set(schema_set&&) noexcept;
    schema_set& operator=(schema_set&&) noexcept;

    result<void> add_file(const std::filesystem::path& xsd);
    // A schema held in memory (e.g. one of the xs:schema elements of a WSDL); `name` appears
    // in error messages and is the base for relative imports.
    result<void> add_text(std::string_view xsd, std::string name);

    // Validates a document (same hardening as parse()). The error lists the first problems
    // found with their line and column.
    result<void> validate(std::string_view document, const limits& lim = {}) const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// Escapes &, <, > (and in attributes also " and ') for writing XML by hand.
std::string escape_text(std::string_view text);
std::string escape_attribute(std::string_view text);

} // namespace kurer::xml

template <>
struct boost::system::is_error_code_enum<kurer::xml::errc> : std::true_type {};

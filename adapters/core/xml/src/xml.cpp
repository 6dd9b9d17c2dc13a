#include <kurer/core/xml.hpp>

#include <xercesc/dom/DOM.hpp>
#include <xercesc/framework/LocalFileInputSource.hpp>
#include <xercesc/framework/MemBufInputSource.hpp>
#include <xercesc/framework/Wrapper4InputSource.hpp>
#include <xercesc/util/PlatformUtils.hpp>
#include <xercesc/util/TransService.hpp>
#include <xercesc/util/XMLException.hpp>
#include <xercesc/util/XMLUni.hpp>
#include <xercesc/validators/common/Grammar.hpp>

#include <mutex>
#include <set>

namespace kurer::xml {

namespace x = XERCES_CPP_NAMESPACE;

namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "kurer.xml"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::malformed:
            return "XML is not well-formed";
        case errc::doctype_forbidden:
            return "XML with a DOCTYPE is refused";
        case errc::too_large:
            return "XML document too large";
        case errc::too_deep:
            return "XML nested too deeply";
        case errc::too_many_nodes:
            return "XML has too many nodes";
        case errc::invalid:
            return "XML is not valid against its schema";
        case errc::schema_unusable:
            return "XML schema could not be loaded";
        }
        return "unknown XML error";
    }
};

void ensure_initialized() {
    static std::once_flag once;
    // Xerces is initialised once per process and never terminated: terminating while another
    // thread parses would be a use-after-free, and the process exit reclaims it anyway.
    std::call_once(once, [] { x::XMLPlatformUtils::Initialize(); });
}

std::string utf8(const XMLCh* s) {
    if (s == nullptr)
        return {};
    x::TranscodeToStr out(s, "UTF-8");
    return std::string(reinterpret_cast<const char*>(out.str()), out.length());
}

std::basic_string<XMLCh> xmlch(std::string_view s) {
    x::TranscodeFromStr in(reinterpret_cast<const XMLByte*>(s.data()), s.size(), "UTF-8");
    return std::basic_string<XMLCh>(in.str(), in.length());
}

struct parser_deleter {
    void operator()(x::DOMLSParser* p) const noexcept { p->release(); }
};
using parser_ptr = std::unique_ptr<x::DOMLSParser, parser_deleter>;

// Collects what Xerces reports; stops at the first fatal error, keeps going through
// validation errors so the caller sees several at once.
class error_collector final : public x::DOMErrorHandler {
public:
    bool handleError(const x::DOMError& e) override {
        if (e.getSeverity() == x::DOMError::DOM_SEVERITY_WARNING)
            return true;
        const auto* loc = e.getLocation();
        std::string text = utf8(e.getMessage());
        if (loc != nullptr) {
            std::string where = utf8(loc->getURI());
            text = (where.empty() ? std::string() : where + ":") + std::to_string(loc->getLineNumber()) +
                   ":" + std::to_string(loc->getColumnNumber()) + ": " + text;
        }
        if (e.getSeverity() == x::DOMError::DOM_SEVERITY_FATAL_ERROR)
            fatal_ = true;
        if (messages_.size() < 5)
            messages_.push_back(std::move(text));
        return !fatal_;
    }
    bool any() const noexcept { return !messages_.empty(); }
    bool fatal() const noexcept { return fatal_; }
    std::string joined() const {
        std::string out;
        for (const auto& m : messages_)
            out += (out.empty() ? "" : "; ") + m;
        return out;
    }
    void reset() {
        messages_.clear();
        fatal_ = false;
    }

private:
    std::vector<std::string> messages_;
    bool fatal_ = false;
};

// Resolves nothing for instance documents; for schema loading, only files inside the
// directories of schemas the caller registered.
class local_schema_resolver final : public x::DOMLSResourceResolver {
public:
    explicit local_schema_resolver(const std::set<std::filesystem::path>* allowed_dirs)
        : allowed_(allowed_dirs) {}
    x::DOMLSInput* resolveResource(const XMLCh* resource_type, const XMLCh*, const XMLCh*,
                                   const XMLCh* system_id, const XMLCh* base_uri) override {
        // An xs:import by namespace alone has nothing to fetch: answering "no resource" lets
        // Xerces use the grammar already loaded for that namespace.
        if (system_id == nullptr && allowed_ != nullptr &&
            x::XMLString::compareString(resource_type, x::XMLUni::fgDOMDTDType) != 0)
            return nullptr;
        if (allowed_ == nullptr || system_id == nullptr ||
            x::XMLString::compareString(resource_type, x::XMLUni::fgDOMDTDType) == 0)
            return refuse();
        std::string sys = utf8(system_id);
        std::string base = utf8(base_uri);
        if (base.starts_with("file://"))
            base.erase(0, 7);
        if (sys.find("://") != std::string::npos)
            return refuse();
        std::error_code ec;
        auto path = std::filesystem::weakly_canonical(std::filesystem::path(base).parent_path() / sys, ec);
        if (ec || !std::filesystem::is_regular_file(path) || !allowed_->contains(path.parent_path()))
            return refuse();
        return new x::Wrapper4InputSource(new x::LocalFileInputSource(xmlch(path.string()).c_str()));
    }

private:
    // An empty document instead of the resource: with default entity resolution disabled this
    // makes the reference fail rather than reach the network or the file system.
    static x::DOMLSInput* refuse() {
        static const XMLByte nothing[] = "";
        return new x::Wrapper4InputSource(new x::MemBufInputSource(nothing, 0, "refused", false));
    }
    const std::set<std::filesystem::path>* allowed_;
};

parser_ptr make_parser(x::DOMErrorHandler* errors, x::DOMLSResourceResolver* resolver, bool validate) {
    static const XMLCh ls[] = {x::chLatin_L, x::chLatin_S, x::chNull};
    auto* impl = x::DOMImplementationRegistry::getDOMImplementation(ls);
    parser_ptr p(static_cast<x::DOMImplementationLS*>(impl)->createLSParser(
        x::DOMImplementationLS::MODE_SYNCHRONOUS, nullptr));
    auto* cfg = p->getDomConfig();
    cfg->setParameter(x::XMLUni::fgDOMDisallowDoctype, true);
    cfg->setParameter(x::XMLUni::fgDOMNamespaces, true);
    cfg->setParameter(x::XMLUni::fgDOMEntities, false);
    cfg->setParameter(x::XMLUni::fgDOMComments, false);
    cfg->setParameter(x::XMLUni::fgXercesLoadExternalDTD, false);
    cfg->setParameter(x::XMLUni::fgXercesDisableDefaultEntityResolution, true);
    cfg->setParameter(x::XMLUni::fgXercesLoadSchema, false);
    cfg->setParameter(x::XMLUni::fgDOMErrorHandler, errors);
    cfg->setParameter(x::XMLUni::fgDOMResourceResolver, resolver);
    if (validate) {
        cfg->setParameter(x::XMLUni::fgDOMValidate, true);
        cfg->setParameter(x::XMLUni::fgXercesSchema, true);
        cfg->setParameter(x::XMLUni::fgXercesHandleMultipleImports, true);
        cfg->setParameter(x::XMLUni::fgXercesUseCachedGrammarInParse, true);
        cfg->setParameter(x::XMLUni::fgXercesCacheGrammarFromParse, false);
    }
    return p;
}

struct convert_state {
    const limits& lim;
    std::size_t nodes = 0;
    std::optional<error> failure;
};

void convert(const x::DOMElement* in, element& out, std::size_t depth, convert_state& st) {
    if (st.failure)
        return;
    if (depth > st.lim.max_depth) {
        st.failure = make_error(errc::too_deep, "XML elements are nested deeper than " +
                                                    std::to_string(st.lim.max_depth) + " levels");
        return;
    }
    out.ns = utf8(in->getNamespaceURI());
    out.local = utf8(in->getLocalName());
    if (const auto* attrs = in->getAttributes()) {
        for (XMLSize_t i = 0; i < attrs->getLength(); ++i) {
            const auto* a = attrs->item(i);
            std::string ns = utf8(a->getNamespaceURI());
            if (ns == "http://www.w3.org/2000/xmlns/")
                continue; // namespace declarations are not data
            out.attributes.push_back({std::move(ns), utf8(a->getLocalName()), utf8(a->getNodeValue())});
        }
        st.nodes += attrs->getLength();
    }
    for (const x::DOMNode* c = in->getFirstChild(); c != nullptr; c = c->getNextSibling()) {
        if (++st.nodes > st.lim.max_nodes) {
            st.failure = make_error(errc::too_many_nodes,
                                    "XML has more than " + std::to_string(st.lim.max_nodes) + " nodes");
            return;
        }
        switch (c->getNodeType()) {
        case x::DOMNode::ELEMENT_NODE:
            out.children.emplace_back();
            convert(static_cast<const x::DOMElement*>(c), out.children.back(), depth + 1, st);
            if (st.failure)
                return;
            break;
        case x::DOMNode::TEXT_NODE:
        case x::DOMNode::CDATA_SECTION_NODE:
            out.text += utf8(c->getNodeValue());
            break;
        default:
            break;
        }
    }
}

// True when the prolog (before the root element) holds a DOCTYPE. Xerces refuses such a
// document too (disallow-doctype), but only says "invalid document structure"; this lets the
// error say why.
bool has_doctype(std::string_view doc) {
    if (doc.starts_with("\xEF\xBB\xBF"))
        doc.remove_prefix(3);
    while (!doc.empty()) {
        const char c = doc.front();
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            doc.remove_prefix(1);
        } else if (doc.starts_with("<?") || doc.starts_with("<!--")) {
            const bool pi = doc[1] == '?';
            const auto end = doc.find(pi ? "?>" : "-->");
            if (end == std::string_view::npos)
                return false;
            doc.remove_prefix(end + (pi ? 2 : 3));
        } else {
            return doc.starts_with("<!DOCTYPE");
        }
    }
    return false;
}

result<void> check_input(std::string_view document, const limits& lim) {
    if (document.size() > lim.max_bytes)
        return make_error(errc::too_large, "XML document of " + std::to_string(document.size()) +
                                               " bytes exceeds the limit of " +
                                               std::to_string(lim.max_bytes));
    if (has_doctype(document))
        return make_error(errc::doctype_forbidden,
                          "the document has a DOCTYPE declaration; DTDs and entities are refused");
    return {};
}

error parse_failure(const error_collector& errors, std::string_view what) {
    return make_error(errc::malformed, std::string(what) + " is not well-formed XML: " + errors.joined());
}

} // namespace

const boost::system::error_category& xml_category() noexcept {
    static const category instance;
    return instance;
}

boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), xml_category()};
}

const element* element::child(std::string_view ns_, std::string_view local_) const noexcept {
    for (const auto& c : children)
        if (c.ns == ns_ && c.local == local_)
            return &c;
    return nullptr;
}

std::vector<const element*> element::children_named(std::string_view ns_, std::string_view local_) const {
    std::vector<const element*> out;
    for (const auto& c : children)
        if (c.ns == ns_ && c.local == local_)
            out.push_back(&c);
    return out;
}

std::optional<std::string_view> element::attr(std::string_view local_, std::string_view ns_) const noexcept {
    for (const auto& a : attributes)
        if (a.local == local_ && a.ns == ns_)
            return a.value;
    return std::nullopt;
}

result<element> parse(std::string_view document, const limits& lim) {
    if (auto ok = check_input(document, lim); !ok)
        return ok.error();
    ensure_initialized();
    error_collector errors;
    local_schema_resolver refuse_all(nullptr);
    try {
        auto parser = make_parser(&errors, &refuse_all, false);
        x::Wrapper4InputSource input(new x::MemBufInputSource(
            reinterpret_cast<const XMLByte*>(document.data()), document.size(), "document", false));
        x::DOMDocument* doc = parser->parse(&input);
        if (errors.fatal() || doc == nullptr || doc->getDocumentElement() == nullptr)
            return parse_failure(errors, "the document");
        element root;
        convert_state st{lim, 0, std::nullopt};
        convert(doc->getDocumentElement(), root, 1, st);
        if (st.failure)
            return *st.failure;
        return root;
    } catch (const x::XMLException& e) {
        return make_error(errc::malformed, "the document is not well-formed XML: " + utf8(e.getMessage()));
    } catch (const x::DOMLSException& e) {
        if (errors.any())
            return parse_failure(errors, "the document");
        return make_error(errc::malformed, "the document is not well-formed XML: " + utf8(e.getMessage()));
    } catch (const x::DOMException& e) {
        return make_error(errc::malformed, "the document is not well-formed XML: " + utf8(e.getMessage()));
    }
}

struct schema_set::impl {
    struct schema {
        std::string name;
        std::string text;           // when held in memory
        std::filesystem::path file; // when on disk
    };
    std::vector<schema> schemas;
    std::set<std::filesystem::path> allowed_dirs;
};

schema_set::schema_set()
    : impl_(std::make_unique<impl>()) {}
schema_set::~schema_set() = default;
schema_set::schema_set(schema_set&&) noexcept = default;
schema_set& schema_set::operator=(schema_set&&) noexcept = default;

result<void> schema_set::add_file(const std::filesystem::path& xsd) {
    std::error_code ec;
    auto path = std::filesystem::canonical(xsd, ec);
    if (ec || !std::filesystem::is_regular_file(path))
        return make_error(errc::schema_unusable, "schema file " + xsd.string() + " cannot be read");
    impl_->allowed_dirs.insert(path.parent_path());
    impl_->schemas.push_back({path.string(), {}, path});
    return {};
}

result<void> schema_set::add_text(std::string_view xsd, std::string name) {
    impl_->schemas.push_back({std::move(name), std::string(xsd), {}});
    return {};
}

result<void> schema_set::validate(std::string_view document, const limits& lim) const {
    if (auto ok = check_input(document, lim); !ok)
        return ok.error();
    ensure_initialized();
    error_collector errors;
    local_schema_resolver resolver(&impl_->allowed_dirs);
    try {
        auto parser = make_parser(&errors, &resolver, true);
        for (const auto& s : impl_->schemas) {
            errors.reset();
            std::unique_ptr<x::Wrapper4InputSource> input;
            if (s.file.empty()) {
                auto* src = new x::MemBufInputSource(reinterpret_cast<const XMLByte*>(s.text.data()),
                                                     s.text.size(), xmlch(s.name).c_str(), false);
                input = std::make_unique<x::Wrapper4InputSource>(src);
            } else {
                input = std::make_unique<x::Wrapper4InputSource>(
                    new x::LocalFileInputSource(xmlch(s.file.string()).c_str()));
            }
            if (parser->loadGrammar(input.get(), x::Grammar::SchemaGrammarType, true) == nullptr ||
                errors.any())
                return make_error(errc::schema_unusable,
                                  "schema " + s.name + " cannot be loaded: " + errors.joined());
        }
        errors.reset();
        x::Wrapper4InputSource input(new x::MemBufInputSource(
            reinterpret_cast<const XMLByte*>(document.data()), document.size(), "document", false));
        x::DOMDocument* doc = parser->parse(&input);
        if (errors.any() || doc == nullptr)
            return make_error(errors.fatal() && doc == nullptr ? errc::malformed : errc::invalid,
                              "the document is not valid: " + errors.joined());
        return {};
    } catch (const x::XMLException& e) {
        return make_error(errc::malformed, "the document could not be validated: " + utf8(e.getMessage()));
    } catch (const x::DOMLSException&) {
        return make_error(errc::invalid, "the document is not valid: " + errors.joined());
    } catch (const x::DOMException& e) {
        return make_error(errc::malformed, "the document could not be validated: " + utf8(e.getMessage()));
    }
}

namespace {

std::string escape(std::string_view text, bool attribute) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += attribute ? "&quot;" : "\"";
            break;
        case '\'':
            out += attribute ? "&apos;" : "'";
            break;
        default:
            out += c;
        }
    }
    return out;
}

} // namespace

std::string escape_text(std::string_view text) {
    return escape(text, false);
}
std::string escape_attribute(std::string_view text) {
    return escape(text, true);
}

} // namespace kurer::xml

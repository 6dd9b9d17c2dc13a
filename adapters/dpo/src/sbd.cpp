#include <kurer/core/uuid.hpp>
#include <kurer/dpo/errors.hpp>
#include <kurer/dpo/sbd.hpp>

#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>

#include <array>
#include <charconv>
#include <set>

namespace kurer::dpo {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr std::string_view header_key = "standardBusinessDocumentHeader";

// Business messages the reference knows (message-package.md §1.1); only the first four are DPO.
constexpr std::array<std::string_view, 4> dpo_types{"arkivmelding", "arkivmelding_kvittering", "status",
                                                    "avtalt"};
constexpr std::array<std::string_view, 12> known_types{"arkivmelding",
                                                       "arkivmelding_kvittering",
                                                       "status",
                                                       "avtalt",
                                                       "digital",
                                                       "digital_dpv",
                                                       "print",
                                                       "dialogmelding",
                                                       "dialogmelding_kvittering",
                                                       "innsynskrav",
                                                       "publisering",
                                                       "einnsyn_kvittering"};
constexpr std::array<std::string_view, 6> scope_types{"ConversationId", "SenderRef", "ReceiverRef",
                                                      "MessageChannel", "ParentId",  "JournalpostId"};
// ReceiptStatus names.
constexpr std::array<std::string_view, 10> receipt_statuses{"OPPRETTET",
                                                            "SENDT",
                                                            "MOTTATT",
                                                            "LEVERT",
                                                            "LEST",
                                                            "FEIL",
                                                            "ANNET",
                                                            "INNKOMMENDE_MOTTATT",
                                                            "INNKOMMENDE_LEVERT",
                                                            "LEVETID_UTLOPT"};

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& set, std::string_view v) {
    for (auto s : set)
        if (s == v)
            return true;
    return false;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// ---------------------------------------------------------------------------------------------
// Writing, in the layout of Jackson's DefaultPrettyPrinter: objects indent two spaces per
// enclosing object, arrays stay on the line ("[ {" ... "} ]"), "key" : value.

void write_string(std::string& out, std::string_view s) {
    out += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default:
            if (c < 0x20) {
                static constexpr char hex[] = "0123456789ABCDEF";
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 15];
            } else {
                out += ch;
            }
        }
    }
    out += '"';
}

void write_value(std::string& out, const json::value& v, int nesting);

void newline_indent(std::string& out, int nesting) {
    out += '\n';
    out.append(static_cast<std::size_t>(nesting) * 2, ' ');
}

void write_object(std::string& out, const json::object& o, int nesting) {
    if (o.empty()) {
        out += "{ }";
        return;
    }
    out += '{';
    bool first = true;
    for (const auto& kv : o) {
        if (!first)
            out += ',';
        first = false;
        newline_indent(out, nesting + 1);
        write_string(out, kv.key());
        out += " : ";
        write_value(out, kv.value(), nesting + 1);
    }
    newline_indent(out, nesting);
    out += '}';
}

void write_array(std::string& out, const json::array& a, int nesting) {
    if (a.empty()) {
        out += "[ ]";
        return;
    }
    out += "[ ";
    bool first = true;
    for (const auto& v : a) {
        if (!first)
            out += ", ";
        first = false;
        write_value(out, v, nesting);
    }
    out += " ]";
}

void write_value(std::string& out, const json::value& v, int nesting) {
    switch (v.kind()) {
    case json::kind::object:
        write_object(out, v.get_object(), nesting);
        break;
    case json::kind::array:
        write_array(out, v.get_array(), nesting);
        break;
    case json::kind::string:
        write_string(out, v.get_string());
        break;
    case json::kind::double_: {
        // Java's Double.toString keeps a ".0" on integral values.
        char buf[64];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.get_double());
        std::string s(buf, end);
        if (s.find_first_of(".eEn") == std::string::npos)
            s += ".0";
        out += s;
        break;
    }
    default:
        out += json::serialize(v);
    }
}

// ---------------------------------------------------------------------------------------------
// The model <-> JSON values.

json::value date_value(const date_time& t) {
    return json::string(format_date_time(t));
}

json::object partner_json(const partner& p) {
    json::object id;
    id["value"] = p.identifier;
    id["authority"] = p.authority;
    json::object o;
    o["identifier"] = std::move(id);
    return o;
}

json::object header_json(const sbd_header& h) {
    json::object o;
    o["headerVersion"] = h.header_version;
    json::array senders, receivers;
    for (const auto& p : h.sender)
        senders.push_back(partner_json(p));
    for (const auto& p : h.receiver)
        receivers.push_back(partner_json(p));
    o["sender"] = std::move(senders);
    o["receiver"] = std::move(receivers);

    json::object di;
    di["standard"] = h.document.standard;
    di["typeVersion"] = h.document.type_version;
    di["instanceIdentifier"] = h.document.instance_identifier;
    di["type"] = h.document.type;
    if (h.document.multiple_type)
        di["multipleType"] = *h.document.multiple_type;
    if (h.document.creation_date_and_time)
        di["creationDateAndTime"] = date_value(*h.document.creation_date_and_time);
    o["documentIdentification"] = std::move(di);

    json::array scopes;
    for (const auto& s : h.scopes) {
        json::object so;
        so["type"] = s.type;
        if (s.instance_identifier)
            so["instanceIdentifier"] = *s.instance_identifier;
        if (s.identifier)
            so["identifier"] = *s.identifier;
        if (!s.scope_information.empty()) {
            json::array infos;
            for (const auto& ci : s.scope_information) {
                json::object io;
                if (ci.requesting_document_creation_date_time)
                    io["requestingDocumentCreationDateTime"] =
                        date_value(*ci.requesting_document_creation_date_time);
                if (ci.requesting_document_instance_identifier)
                    io["requestingDocumentInstanceIdentifier"] = *ci.requesting_document_instance_identifier;
                if (ci.expected_response_date_time)
                    io["expectedResponseDateTime"] = date_value(*ci.expected_response_date_time);
                infos.push_back(std::move(io));
            }
            so["scopeInformation"] = std::move(infos);
        }
        scopes.push_back(std::move(so));
    }
    json::object bs;
    bs["scope"] = std::move(scopes);
    o["businessScope"] = std::move(bs);
    return o;
}

error field_error(errc code, std::string_view path, std::string why) {
    return make_dpo_error(code, std::string(path) + ": " + why);
}

// Reading helpers: each names the JSON path it looks at.
struct reader {
    std::string path;

    result<const json::value*> member(const json::object& o, std::string_view key, bool required) const {
        const auto* v = o.if_contains(key);
        if (v == nullptr || v->is_null()) {
            if (required)
                return field_error(errc::sbd_missing_field, path + "." + std::string(key), "missing");
            return static_cast<const json::value*>(nullptr);
        }
        return v;
    }

    result<std::optional<std::string>> string_member(const json::object& o, std::string_view key,
                                                     bool required) const {
        auto v = member(o, key, required);
        if (!v)
            return v.error();
        if (*v == nullptr)
            return std::optional<std::string>();
        if (!(*v)->is_string())
            return field_error(errc::sbd_invalid_field, path + "." + std::string(key), "expected a string");
        return std::optional<std::string>(std::string((*v)->get_string()));
    }

    result<std::optional<date_time>> date_member(const json::object& o, std::string_view key,
                                                 bool required) const {
        auto s = string_member(o, key, required);
        if (!s)
            return s.error();
        if (!*s)
            return std::optional<date_time>();
        auto t = parse_date_time(**s);
        if (!t)
            return field_error(errc::sbd_invalid_field, path + "." + std::string(key), t.error().message);
        return std::optional<date_time>(*t);
    }

    result<const json::object*> object_member(const json::object& o, std::string_view key,
                                              bool required) const {
        auto v = member(o, key, required);
        if (!v)
            return v.error();
        if (*v == nullptr)
            return static_cast<const json::object*>(nullptr);
        if (!(*v)->is_object())
            return field_error(errc::sbd_invalid_field, path + "." + std::string(key), "expected an object");
        return &(*v)->get_object();
    }

    result<const json::array*> array_member(const json::object& o, std::string_view key,
                                            bool required) const {
        auto v = member(o, key, required);
        if (!v)
            return v.error();
        if (*v == nullptr)
            return static_cast<const json::array*>(nullptr);
        if (!(*v)->is_array())
            return field_error(errc::sbd_invalid_field, path + "." + std::string(key),
                               "expected an array (a single value is not accepted as one)");
        return &(*v)->get_array();
    }

    reader at(std::string_view key) const { return reader{path + "." + std::string(key)}; }
    reader at(std::string_view key, std::size_t index) const {
        return reader{path + "." + std::string(key) + "[" + std::to_string(index) + "]"};
    }
};

#define KURER_TRY(var, expr)                                                                                 \
    auto var##_r = (expr);                                                                                   \
    if (!var##_r)                                                                                            \
        return var##_r.error();                                                                              \
    auto var = std::move(*var##_r)

result<std::vector<partner>> read_partners(const reader& r, const json::object& h, std::string_view key) {
    std::vector<partner> out;
    KURER_TRY(arr, r.array_member(h, key, false));
    if (arr == nullptr)
        return out;
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const reader pr = r.at(key, i);
        if (!(*arr)[i].is_object())
            return field_error(errc::sbd_invalid_field, pr.path, "expected an object");
        KURER_TRY(id, pr.object_member((*arr)[i].get_object(), "identifier", true));
        const reader ir = pr.at("identifier");
        KURER_TRY(value, ir.string_member(*id, "value", true));
        KURER_TRY(authority, ir.string_member(*id, "authority", false));
        out.push_back(partner{*value, authority.value_or("")});
    }
    return out;
}

result<sbd_header> read_header(const json::object& h) {
    const reader r{std::string(header_key)};
    sbd_header out;
    KURER_TRY(version, r.string_member(h, "headerVersion", false));
    out.header_version = version.value_or("");
    KURER_TRY(senders, read_partners(r, h, "sender"));
    KURER_TRY(receivers, read_partners(r, h, "receiver"));
    out.sender = std::move(senders);
    out.receiver = std::move(receivers);

    KURER_TRY(di, r.object_member(h, "documentIdentification", true));
    const reader dr = r.at("documentIdentification");
    KURER_TRY(standard, dr.string_member(*di, "standard", false));
    KURER_TRY(type_version, dr.string_member(*di, "typeVersion", false));
    KURER_TRY(instance, dr.string_member(*di, "instanceIdentifier", true));
    KURER_TRY(type, dr.string_member(*di, "type", true));
    KURER_TRY(multiple, dr.string_member(*di, "multipleType", false));
    KURER_TRY(created, dr.date_member(*di, "creationDateAndTime", false));
    out.document = document_identification{
        standard.value_or(""), type_version.value_or(""), *instance, *type, multiple, created};

    KURER_TRY(bs, r.object_member(h, "businessScope", false));
    if (bs != nullptr) {
        const reader br = r.at("businessScope");
        KURER_TRY(scopes, br.array_member(*bs, "scope", false));
        if (scopes != nullptr) {
            for (std::size_t i = 0; i < scopes->size(); ++i) {
                const reader sr = br.at("scope", i);
                if (!(*scopes)[i].is_object())
                    return field_error(errc::sbd_invalid_field, sr.path, "expected an object");
                const auto& so = (*scopes)[i].get_object();
                scope s;
                KURER_TRY(stype, sr.string_member(so, "type", false));
                KURER_TRY(sinst, sr.string_member(so, "instanceIdentifier", false));
                KURER_TRY(sid, sr.string_member(so, "identifier", false));
                s.type = stype.value_or("");
                s.instance_identifier = sinst;
                s.identifier = sid;
                KURER_TRY(infos, sr.array_member(so, "scopeInformation", false));
                if (infos != nullptr) {
                    for (std::size_t j = 0; j < infos->size(); ++j) {
                        const reader cr = sr.at("scopeInformation", j);
                        if (!(*infos)[j].is_object())
                            return field_error(errc::sbd_invalid_field, cr.path, "expected an object");
                        const auto& co = (*infos)[j].get_object();
                        KURER_TRY(rdct, cr.date_member(co, "requestingDocumentCreationDateTime", false));
                        KURER_TRY(rdii, cr.string_member(co, "requestingDocumentInstanceIdentifier", false));
                        KURER_TRY(erdt, cr.date_member(co, "expectedResponseDateTime", false));
                        s.scope_information.push_back(correlation_information{rdct, rdii, erdt});
                    }
                }
                out.scopes.push_back(std::move(s));
            }
        }
    }
    return out;
}

// A SAX pass before building the tree: Boost.JSON keeps only the last of repeated members,
// while the reference (and an attacker hoping the two disagree) would see both.
class duplicate_key_finder {
public:
    static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);

    std::vector<std::set<std::string>> keys;
    std::string partial;
    std::string duplicate;

    bool on_document_begin(boost::system::error_code&) { return true; }
    bool on_document_end(boost::system::error_code&) { return true; }
    bool on_object_begin(boost::system::error_code&) {
        keys.emplace_back();
        return true;
    }
    bool on_object_end(std::size_t, boost::system::error_code&) {
        keys.pop_back();
        return true;
    }
    bool on_array_begin(boost::system::error_code&) { return true; }
    bool on_array_end(std::size_t, boost::system::error_code&) { return true; }
    bool on_key_part(std::string_view s, std::size_t, boost::system::error_code&) {
        partial += s;
        return true;
    }
    bool on_key(std::string_view s, std::size_t, boost::system::error_code& ec) {
        partial += s;
        if (!keys.back().insert(partial).second) {
            duplicate = partial;
            ec = make_error_code(errc::sbd_duplicate_key);
            return false;
        }
        partial.clear();
        return true;
    }
    bool on_string_part(std::string_view, std::size_t, boost::system::error_code&) { return true; }
    bool on_string(std::string_view, std::size_t, boost::system::error_code&) { return true; }
    bool on_number_part(std::string_view, boost::system::error_code&) { return true; }
    bool on_int64(std::int64_t, std::string_view, boost::system::error_code&) { return true; }
    bool on_uint64(std::uint64_t, std::string_view, boost::system::error_code&) { return true; }
    bool on_double(double, std::string_view, boost::system::error_code&) { return true; }
    bool on_bool(bool, boost::system::error_code&) { return true; }
    bool on_null(boost::system::error_code&) { return true; }
    bool on_comment_part(std::string_view, boost::system::error_code&) { return true; }
    bool on_comment(std::string_view, boost::system::error_code&) { return true; }
};

bool is_org_identifier(std::string_view v) {
    if (v.size() != 14 || !v.starts_with("0192:"))
        return false;
    for (std::size_t i = 5; i < v.size(); ++i)
        if (v[i] < '0' || v[i] > '9')
            return false;
    return true;
}

bool is_channel_name(std::string_view v) {
    if (v.empty() || v.size() > 25)
        return false;
    for (const char c : v)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-'))
            return false;
    return true;
}

scope conversation_scope(std::string conversation_id, std::string_view process, date_time deadline) {
    scope s;
    s.type = "ConversationId";
    s.instance_identifier = std::move(conversation_id);
    s.identifier = std::string(process);
    s.scope_information.push_back(correlation_information{std::nullopt, std::nullopt, deadline});
    return s;
}

std::string response_process(const sbd& original) {
    const auto p = original.process().value_or("");
    return p.find(":avtalt:") != std::string::npos ? std::string(process::avtalt_response)
                                                   : std::string(process::arkivmelding_response);
}

} // namespace

// ---------------------------------------------------------------------------------------------

const scope* sbd::find_scope(std::string_view t) const noexcept {
    for (const auto& s : header.scopes)
        if (s.type == t)
            return &s;
    return nullptr;
}

std::optional<std::string> sbd::conversation_id() const {
    const auto* s = find_scope("ConversationId");
    return s ? s->instance_identifier : std::nullopt;
}

std::optional<std::string> sbd::process() const {
    const auto* s = find_scope("ConversationId");
    return s ? s->identifier : std::nullopt;
}

std::optional<date_time> sbd::expected_response() const {
    const auto* s = find_scope("ConversationId");
    if (s == nullptr || s->scope_information.empty())
        return std::nullopt;
    return s->scope_information.front().expected_response_date_time;
}

std::optional<std::string> sbd::message_channel() const {
    const auto* s = find_scope("MessageChannel");
    return s ? s->identifier : std::nullopt;
}

std::optional<std::string> sbd::sender_identifier() const {
    if (header.sender.empty())
        return std::nullopt;
    return header.sender.front().identifier;
}

std::optional<std::string> sbd::receiver_identifier() const {
    if (header.receiver.empty())
        return std::nullopt;
    return header.receiver.front().identifier;
}

std::optional<std::string> sbd::business_string(std::string_view name) const {
    const auto* v = business_message.if_contains(name);
    if (v == nullptr || !v->is_string())
        return std::nullopt;
    return std::string(v->get_string());
}

std::string to_json(const sbd& document) {
    json::object top;
    top[header_key] = header_json(document.header);
    top[document.header.document.type] = document.business_message;
    std::string out;
    write_object(out, top, 0);
    return out;
}

result<sbd> parse_sbd(std::string_view text, const limits& lim) {
    if (lim.max_sbd_bytes != 0 && text.size() > lim.max_sbd_bytes)
        return make_dpo_error(errc::sbd_too_large, "sbd.json is " + std::to_string(text.size()) +
                                                       " bytes, more than the limit of " +
                                                       std::to_string(lim.max_sbd_bytes));
    json::parse_options opts;
    opts.max_depth = lim.max_json_depth == 0 ? static_cast<std::size_t>(-1) : lim.max_json_depth;
    {
        json::basic_parser<duplicate_key_finder> sax(opts);
        boost::system::error_code ec;
        sax.write_some(false, text.data(), text.size(), ec);
        if (ec == errc::sbd_duplicate_key)
            return make_dpo_error(errc::sbd_duplicate_key, "sbd.json: the member \"" +
                                                               sax.handler().duplicate.substr(0, 80) +
                                                               "\" appears twice in one object");
        if (ec == json::error::too_deep)
            return make_dpo_error(errc::sbd_too_deep, "sbd.json: nested deeper than " +
                                                          std::to_string(lim.max_json_depth) + " levels");
        if (ec)
            return make_dpo_error(errc::sbd_malformed_json, "sbd.json is not valid JSON: " + ec.message());
    }
    boost::system::error_code ec;
    json::value v = json::parse(text, ec, {}, opts);
    if (ec)
        return make_dpo_error(errc::sbd_malformed_json, "sbd.json is not valid JSON: " + ec.message());
    if (!v.is_object())
        return make_dpo_error(errc::sbd_top_level, "sbd.json: the top level must be an object");
    const auto& top = v.get_object();
    const auto* h = top.if_contains(header_key);
    if (h == nullptr)
        return make_dpo_error(errc::sbd_missing_field, std::string(header_key) + ": missing");
    if (top.size() != 2) {
        std::string names;
        for (const auto& kv : top)
            names += (names.empty() ? "" : ", ") + std::string(kv.key());
        return make_dpo_error(errc::sbd_top_level, "sbd.json must have exactly two members, " +
                                                       std::string(header_key) +
                                                       " and the business message; it has " +
                                                       std::to_string(top.size()) + " (" + names + ")");
    }
    if (!h->is_object())
        return make_dpo_error(errc::sbd_invalid_field, std::string(header_key) + ": expected an object");
    auto header = read_header(h->get_object());
    if (!header)
        return header.error();

    sbd out;
    out.header = std::move(*header);
    const std::string type = lower(out.header.document.type);
    if (!one_of(known_types, type))
        return make_dpo_error(errc::sbd_unknown_type, std::string(header_key) +
                                                          ".documentIdentification.type: \"" +
                                                          out.header.document.type.substr(0, 64) +
                                                          "\" names no known business message");
    out.header.document.type = type;
    for (const auto& kv : top) {
        if (kv.key() == header_key)
            continue;
        if (kv.key() != type)
            return make_dpo_error(errc::sbd_top_level, "sbd.json: the business message member is \"" +
                                                           std::string(kv.key()).substr(0, 64) +
                                                           "\" but documentIdentification.type is \"" + type +
                                                           "\"");
        if (!kv.value().is_object())
            return make_dpo_error(errc::sbd_invalid_field, type + ": expected an object");
        out.business_message = kv.value().get_object();
    }
    return out;
}

result<void> validate_for_receipt(const sbd& d) {
    const std::string base = std::string(header_key);
    if (!is_uuid(d.message_id()))
        return field_error(errc::sbd_not_uuid, base + ".documentIdentification.instanceIdentifier",
                           "\"" + d.message_id().substr(0, 64) + "\" is not a UUID");
    const auto conv = d.conversation_id();
    if (!conv)
        return field_error(errc::sbd_missing_field, base + ".businessScope.scope[ConversationId]",
                           "no ConversationId scope with an instanceIdentifier");
    if (!is_uuid(*conv))
        return field_error(errc::sbd_not_uuid,
                           base + ".businessScope.scope[ConversationId].instanceIdentifier",
                           "\"" + conv->substr(0, 64) + "\" is not a UUID");
    return {};
}

result<void> validate(const sbd& d) {
    const std::string base = std::string(header_key);
    const auto& h = d.header;
    if (h.header_version != "1.0")
        return field_error(h.header_version.empty() ? errc::sbd_missing_field : errc::sbd_invalid_field,
                           base + ".headerVersion", "must be \"1.0\"");
    for (const auto* which : {"sender", "receiver"}) {
        const auto& list = std::string_view(which) == "sender" ? h.sender : h.receiver;
        const std::string path = base + "." + which;
        if (list.empty())
            return field_error(errc::sbd_missing_field, path, "missing");
        if (list.size() != 1)
            return field_error(errc::sbd_invalid_field, path, "must have exactly one element");
        if (list.front().identifier.empty())
            return field_error(errc::sbd_missing_field, path + "[0].identifier.value", "missing");
        if (!is_org_identifier(list.front().identifier))
            return field_error(errc::sbd_invalid_field, path + "[0].identifier.value",
                               "\"" + list.front().identifier.substr(0, 64) +
                                   "\" is not an organisation identifier 0192:<9 digits>");
        if (list.front().authority != iso6523_authority)
            return field_error(errc::sbd_invalid_field, path + "[0].identifier.authority",
                               "must be \"" + std::string(iso6523_authority) + "\"");
    }
    const std::string di = base + ".documentIdentification";
    if (!one_of(dpo_types, h.document.type))
        return field_error(errc::sbd_unknown_type, di + ".type",
                           "\"" + h.document.type.substr(0, 64) +
                               "\" is not a DPO business message (arkivmelding, arkivmelding_kvittering, "
                               "status, avtalt)");
    if (h.document.standard.empty())
        return field_error(errc::sbd_missing_field, di + ".standard", "missing");
    if (!h.document.standard.ends_with("::" + h.document.type))
        return field_error(errc::sbd_invalid_field, di + ".standard",
                           "\"" + h.document.standard.substr(0, 96) +
                               "\" does not end with ::" + h.document.type);
    if (h.document.type_version.empty())
        return field_error(errc::sbd_missing_field, di + ".typeVersion", "missing");
    if (h.document.instance_identifier.empty())
        return field_error(errc::sbd_missing_field, di + ".instanceIdentifier", "missing");
    if (!is_uuid(h.document.instance_identifier))
        return field_error(errc::sbd_not_uuid, di + ".instanceIdentifier",
                           "\"" + h.document.instance_identifier.substr(0, 64) + "\" is not a UUID");
    if (!h.document.creation_date_and_time)
        return field_error(errc::sbd_missing_field, di + ".creationDateAndTime", "missing");

    const std::string sp = base + ".businessScope.scope";
    if (h.scopes.empty())
        return field_error(errc::sbd_missing_field, sp, "at least one scope (ConversationId) is required");
    int conversations = 0;
    for (std::size_t i = 0; i < h.scopes.size(); ++i) {
        const auto& s = h.scopes[i];
        const std::string p = sp + "[" + std::to_string(i) + "]";
        if (s.type.empty())
            return field_error(errc::sbd_missing_field, p + ".type", "missing");
        if (!one_of(scope_types, s.type))
            return field_error(errc::sbd_invalid_field, p + ".type",
                               "\"" + s.type.substr(0, 64) +
                                   "\" is not one of ConversationId, SenderRef, ReceiverRef, MessageChannel, "
                                   "ParentId, JournalpostId");
        if (s.type == "ConversationId") {
            ++conversations;
            if (!s.instance_identifier || s.instance_identifier->empty())
                return field_error(errc::sbd_missing_field, p + ".instanceIdentifier", "missing");
            if (!is_uuid(*s.instance_identifier))
                return field_error(errc::sbd_not_uuid, p + ".instanceIdentifier",
                                   "\"" + s.instance_identifier->substr(0, 64) + "\" is not a UUID");
            if (!s.identifier || s.identifier->empty())
                return field_error(errc::sbd_missing_field, p + ".identifier", "missing (the process)");
            if (s.scope_information.empty() || !s.scope_information.front().expected_response_date_time)
                return field_error(errc::sbd_missing_field,
                                   p + ".scopeInformation[0].expectedResponseDateTime",
                                   "missing (the delivery deadline)");
        } else if (s.type == "SenderRef") {
            if (s.instance_identifier && !is_uuid(*s.instance_identifier))
                return field_error(errc::sbd_not_uuid, p + ".instanceIdentifier",
                                   "\"" + s.instance_identifier->substr(0, 64) + "\" is not a UUID");
        } else if (s.type == "MessageChannel") {
            if (!s.identifier || !is_channel_name(*s.identifier))
                return field_error(errc::sbd_invalid_field, p + ".identifier",
                                   "a message channel is 1-25 characters of [A-Za-z0-9_-]");
        }
    }
    if (conversations != 1)
        return field_error(conversations == 0 ? errc::sbd_missing_field : errc::sbd_invalid_field, sp,
                           "exactly one ConversationId scope is required, found " +
                               std::to_string(conversations));

    const std::string bm = h.document.type;
    const auto& b = d.business_message;
    const auto* hd = b.if_contains("hoveddokument");
    if (hd != nullptr && !hd->is_string() && !hd->is_null())
        return field_error(errc::sbd_invalid_field, bm + ".hoveddokument", "expected a string (a file name)");
    if (bm == "status") {
        const auto* st = b.if_contains("status");
        if (st == nullptr || st->is_null())
            return field_error(errc::sbd_missing_field, "status.status", "missing");
        if (!st->is_string() || !one_of(receipt_statuses, st->get_string()))
            return field_error(errc::sbd_invalid_field, "status.status",
                               "not a receipt status name (MOTTATT, LEVERT, ...)");
    } else if (bm == "arkivmelding_kvittering") {
        const auto* rt = b.if_contains("receiptType");
        if (rt == nullptr || rt->is_null())
            return field_error(errc::sbd_missing_field, bm + ".receiptType", "missing");
        if (!rt->is_string() || rt->get_string().empty())
            return field_error(errc::sbd_invalid_field, bm + ".receiptType",
                               "expected OK, WARNING, ERROR or NOTSUPPORTED");
        const auto* rel = b.if_contains("relatedToMessageId");
        if (rel == nullptr || rel->is_null())
            return field_error(errc::sbd_missing_field, bm + ".relatedToMessageId", "missing");
        if (!rel->is_string() || !is_uuid(rel->get_string()))
            return field_error(errc::sbd_not_uuid, bm + ".relatedToMessageId", "not a UUID");
        const auto* msgs = b.if_contains("messages");
        if (msgs != nullptr && !msgs->is_null() && !msgs->is_array())
            return field_error(errc::sbd_invalid_field, bm + ".messages", "expected an array");
    } else if (bm == "arkivmelding") {
        const auto* sn = b.if_contains("sikkerhetsnivaa");
        if (sn != nullptr && !sn->is_null() && !sn->is_int64() && !sn->is_uint64())
            return field_error(errc::sbd_invalid_field, bm + ".sikkerhetsnivaa", "expected an integer");
    }
    return {};
}

std::optional<std::string> normalize_organization(std::string_view id) {
    std::string candidate = id.size() == 9 ? "0192:" + std::string(id) : std::string(id);
    if (!is_org_identifier(candidate))
        return std::nullopt;
    return candidate;
}

std::string organization_number(std::string_view identifier) {
    const auto colon = identifier.rfind(':');
    return std::string(colon == std::string_view::npos ? identifier : identifier.substr(colon + 1));
}

sbd make_message(const message_params& p, instant now) {
    sbd d;
    const auto created = date_time::in_oslo(std::chrono::floor<std::chrono::seconds>(now));
    d.header.sender.push_back(partner{normalize_organization(p.sender).value_or(p.sender)});
    d.header.receiver.push_back(partner{normalize_organization(p.receiver).value_or(p.receiver)});
    d.header.document =
        document_identification{p.standard, "2.0",        p.message_id.empty() ? random_uuid() : p.message_id,
                                p.type,     std::nullopt, created};
    const auto deadline = p.expected_response.value_or(date_time::in_oslo(created.utc + p.ttl));
    d.header.scopes.push_back(conversation_scope(
        p.conversation_id.empty() ? random_uuid() : p.conversation_id, p.process, deadline));
    if (p.message_channel) {
        scope mc;
        mc.type = "MessageChannel";
        mc.instance_identifier = random_uuid();
        mc.identifier = *p.message_channel;
        d.header.scopes.push_back(std::move(mc));
    }
    d.business_message = p.business_message;
    if (d.business_message.empty() && p.type == "arkivmelding")
        d.business_message["hoveddokument"] = "arkivmelding.xml";
    return d;
}

sbd make_status(const sbd& original, receipt_status status, instant now) {
    sbd d;
    const auto t = std::chrono::floor<std::chrono::seconds>(now);
    d.header.sender = original.header.receiver;
    d.header.receiver = original.header.sender;
    d.header.document = document_identification{
        std::string(standard::status), "2.0", original.message_id(), "status", std::nullopt,
        date_time::in_oslo(t - 5s)};
    d.header.scopes.push_back(conversation_scope(original.conversation_id().value_or(""),
                                                 response_process(original), date_time::in_oslo(t + 24h)));
    if (const auto* mc = original.find_scope("MessageChannel"))
        d.header.scopes.push_back(*mc);
    d.business_message["status"] = status == receipt_status::mottatt ? "MOTTATT" : "LEVERT";
    return d;
}

sbd make_arkivmelding_kvittering(const sbd& original, std::string_view receipt_type,
                                 const std::vector<kvittering_message>& messages, instant now) {
    sbd d;
    const auto t = std::chrono::floor<std::chrono::seconds>(now);
    d.header.sender = original.header.receiver;
    d.header.receiver = original.header.sender;
    d.header.document = document_identification{std::string(standard::arkivmelding_kvittering),
                                                "2.0",
                                                random_uuid(),
                                                "arkivmelding_kvittering",
                                                std::nullopt,
                                                date_time::in_oslo(t)};
    d.header.scopes.push_back(conversation_scope(original.conversation_id().value_or(random_uuid()),
                                                 process::arkivmelding_response,
                                                 date_time::in_oslo(t + 24h)));
    if (const auto* mc = original.find_scope("MessageChannel"))
        d.header.scopes.push_back(*mc);
    d.business_message["receiptType"] = std::string(receipt_type);
    d.business_message["relatedToMessageId"] = original.message_id();
    if (!messages.empty()) {
        json::array list;
        for (const auto& m : messages) {
            json::object o;
            o["code"] = m.code;
            o["text"] = m.text;
            list.push_back(std::move(o));
        }
        d.business_message["messages"] = std::move(list);
    }
    return d;
}

} // namespace kurer::dpo

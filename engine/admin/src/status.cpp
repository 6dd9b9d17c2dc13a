// /api/statuses, /api/conversations and /api/capabilities, as the reference's
// MessageStatusController, ConversationController and CapabilitiesController.
//
// The reference keeps conversations and statuses in database tables; kurer derives them from
// what the store already holds: the drafts (OPPRETTET), every outgoing message's and every
// received message's timed history (each transition records the statuses it produced). A query
// by messageId is a few point reads; any other query reads every message (bounded by
// admin_config::max_scan) and filters.
#include "internal.hpp"

#include <kurer/dpo/sbd.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <charconv>

namespace kurer::engine::admin {
namespace {

constexpr std::string_view expired_text = "Levetiden for meldingen er utgått. Må sendes på nytt";

std::uint64_t fnv1a(std::string_view s) {
    std::uint64_t h = 1469598103934665603ull;
    for (const unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

// Numeric ids in time order, as the reference's database sequences are, derived from the record
// so the same status has the same id in every answer: the time in ms, then 12 bits of the
// message's hash, then 8 bits of its position in the message's history (same-ms statuses of one
// message keep their order).
std::int64_t derived_id(storage::time_point t, std::string_view key, std::uint32_t position) {
    const auto ms = static_cast<std::uint64_t>(std::max<std::int64_t>(0, t.time_since_epoch().count()));
    const auto low = ((fnv1a(key) & 0xFFF) << 8) | (position & 0xFF);
    return static_cast<std::int64_t>(((ms << 20) | low) & 0x7FFFFFFFFFFFFFFFull);
}

struct status_item {
    std::int64_t id = 0;
    storage::time_point time{};
    std::string status;
    std::string description;
};

struct conversation {
    std::int64_t id = 0;
    std::string message_id;
    std::string conversation_id;
    std::string sender; // 9 digits
    std::string receiver;
    std::string process;
    std::string standard;
    storage::time_point last_update{};
    std::optional<storage::time_point> expiry;
    bool finished = false;
    bool outgoing = true;
    std::vector<status_item> statuses;
};

void add_statuses(conversation& c, const std::vector<storage::history_entry>& history, std::string_view key) {
    for (const auto& e : history)
        for (std::size_t i = 0; i < e.statuses.size(); ++i) {
            const auto& s = e.statuses[i];
            status_item item;
            item.time = e.time;
            item.status = std::string(sm::to_string(s.status));
            item.id = derived_id(e.time, key, e.seq * 4 + static_cast<std::uint32_t>(i));
            if (s.implied)
                item.description = "implied by a later status: it was not received itself";
            else if (s.status == sm::eformidling_status::levetid_utlopt)
                item.description = std::string(expired_text);
            else if (s.status == sm::eformidling_status::feil)
                item.description = e.detail;
            c.statuses.push_back(std::move(item));
        }
}

std::optional<conversation> from_outgoing(const outgoing_view& v) {
    const auto& r = v.record;
    if (r.machine.kind != sm::outgoing_kind::message)
        return std::nullopt; // status messages are part of the incoming message they answer
    conversation c;
    c.id = derived_id(r.created, "o/" + r.message_id, 0);
    c.message_id = r.message_id;
    c.conversation_id = r.conversation_id;
    c.sender = r.sender;
    c.receiver = r.receiver;
    c.process = r.process;
    c.standard = r.document_type;
    c.last_update = r.updated;
    c.expiry = r.deadline;
    c.finished = sm::is_terminal(r.machine.state);
    c.outgoing = true;
    add_statuses(c, v.history, "o/" + r.id);
    return c;
}

bool conversation_state(sm::incoming_state s) {
    switch (s) {
    case sm::incoming_state::stored:
    case sm::incoming_state::confirmed:
    case sm::incoming_state::queued:
    case sm::incoming_state::locked:
    case sm::incoming_state::taken:
    case sm::incoming_state::levert_sent:
    case sm::incoming_state::expired:
        return true;
    default:
        return false; // not yet read, a status for one of ours, a duplicate or a rejected file
    }
}

std::optional<conversation> from_incoming(const incoming_view& v) {
    const auto& r = v.record;
    if (!conversation_state(r.machine.state) || r.message_id.empty() ||
        r.kind == storage::package_kind::status)
        return std::nullopt;
    conversation c;
    c.id = derived_id(r.listed, "i/" + r.message_id, 0);
    c.message_id = r.message_id;
    c.conversation_id = r.conversation_id;
    c.sender = r.sender;
    c.receiver = r.receiver;
    c.process = r.process;
    c.standard = r.document_type;
    c.last_update = r.updated;
    c.expiry = r.deadline;
    c.finished = sm::is_terminal(r.machine.state);
    c.outgoing = false;
    add_statuses(c, v.history, "i/" + r.reference);
    return c;
}

std::optional<conversation> from_draft(const draft& d) {
    auto sbd = dpo::parse_sbd(d.sbd);
    if (!sbd)
        return std::nullopt;
    conversation c;
    c.id = derived_id(d.created, "o/" + d.message_id, 0);
    c.message_id = d.message_id;
    c.conversation_id = sbd->conversation_id().value_or("");
    c.sender = org_number(sbd->sender_identifier().value_or("")).value_or("");
    c.receiver = org_number(sbd->receiver_identifier().value_or("")).value_or("");
    c.process = sbd->process().value_or("");
    c.standard = sbd->header.document.standard;
    c.last_update = d.created;
    if (auto e = sbd->expected_response())
        c.expiry = std::chrono::floor<std::chrono::milliseconds>(e->utc);
    c.outgoing = true;
    c.statuses.push_back({derived_id(d.created, "o/" + d.message_id, 0), d.created, "OPPRETTET", {}});
    return c;
}

struct scope_filter {
    std::optional<std::string> message_id;
    bool outgoing = true;
    bool incoming = true;
    bool unfinished_only = false;
};

// Every conversation the filter cannot rule out without reading it.
result<std::vector<conversation>> collect(state& st, const scope_filter& f) {
    std::vector<conversation> out;
    auto& engine = st.ctx.engine;
    if (f.message_id) {
        const auto& id = *f.message_id;
        if (f.outgoing) {
            auto d = st.drafts.find(id);
            if (!d)
                return d.error();
            if (*d) {
                if (auto c = from_draft(**d))
                    out.push_back(std::move(*c));
            } else if (auto o = engine.find_outgoing(id); !o) {
                return o.error();
            } else if (*o) {
                if (auto c = from_outgoing(**o))
                    out.push_back(std::move(*c));
            }
        }
        if (f.incoming) {
            auto i = engine.find_incoming_by_message_id(id);
            if (!i)
                return i.error();
            if (*i)
                if (auto c = from_incoming(**i))
                    out.push_back(std::move(*c));
        }
        return out;
    }
    std::size_t scanned = 0;
    const auto budget = [&]() -> result<void> {
        if (st.config.max_scan != 0 && ++scanned > st.config.max_scan)
            return make_error(make_error_code(errc::invalid_request),
                              "more than " + std::to_string(st.config.max_scan) +
                                  " messages to read for this query: narrow it with messageId");
        return {};
    };
    if (f.outgoing) {
        auto drafts = st.drafts.list();
        if (!drafts)
            return drafts.error();
        for (const auto& d : *drafts) {
            if (auto b = budget(); !b)
                return b.error();
            if (auto c = from_draft(d))
                out.push_back(std::move(*c));
        }
        for (const auto s : sm::all_outgoing_states) {
            if (f.unfinished_only && sm::is_terminal(s))
                continue;
            auto ids = engine.list_outgoing(s);
            if (!ids)
                return ids.error();
            for (const auto& id : *ids) {
                if (auto b = budget(); !b)
                    return b.error();
                auto v = engine.find_outgoing(id);
                if (!v)
                    return v.error();
                if (*v)
                    if (auto c = from_outgoing(**v))
                        out.push_back(std::move(*c));
            }
        }
    }
    if (f.incoming) {
        for (const auto s : sm::all_incoming_states) {
            if (!conversation_state(s) || (f.unfinished_only && sm::is_terminal(s)))
                continue;
            auto refs = engine.list_incoming(s);
            if (!refs)
                return refs.error();
            for (const auto& ref : *refs) {
                if (auto b = budget(); !b)
                    return b.error();
                auto v = engine.find_incoming(ref);
                if (!v)
                    return v.error();
                if (*v)
                    if (auto c = from_incoming(**v))
                        out.push_back(std::move(*c));
            }
        }
    }
    return out;
}

api_error bad_parameter(std::string_view name, std::string_view value, std::string_view expected) {
    return {400, "org.springframework.web.method.annotation.MethodArgumentTypeMismatchException",
            std::string(name) + ": '" + std::string(value) + "' is not " + std::string(expected)};
}

std::optional<api_error> read_time(const exchange& ex, std::string_view name,
                                   std::optional<storage::time_point>& into) {
    if (auto v = ex.query(name)) {
        into = parse_api_time(*v);
        if (!into)
            return bad_parameter(name, *v, "a date (yyyy-MM-dd) or an ISO-8601 date-time");
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// statuses

json::object status_json(const conversation& c, const status_item& s) {
    json::object o{{"id", s.id}, {"lastUpdate", api_time(s.time)}, {"status", s.status}};
    if (!s.description.empty())
        o["description"] = s.description;
    o["convId"] = c.id;
    o["conversationId"] = c.conversation_id;
    o["messageId"] = c.message_id;
    return o;
}

asio::awaitable<answer> statuses(std::shared_ptr<state> st, exchange ex,
                                 std::optional<std::string> fixed_id) {
    page_request p;
    if (auto e = read_page_request(ex, st->config.max_page_size, {"id", "lastUpdate"}, p))
        co_return answer::fail(*e);
    scope_filter f;
    f.message_id = fixed_id ? fixed_id : ex.query("messageId");
    const auto conversation_id = ex.query("conversationId");
    const auto status = ex.query("status");
    std::optional<std::int64_t> id;
    if (auto v = ex.query("id")) {
        std::int64_t n = 0;
        const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
        if (ec != std::errc{} || end != v->data() + v->size())
            co_return answer::fail(bad_parameter("id", *v, "a number"));
        id = n;
    }
    if (status && !sm::eformidling_status_from_string(*status))
        co_return answer::fail(bad_parameter("status", *status, "a status (OPPRETTET, SENDT, MOTTATT, ...)"));
    std::optional<storage::time_point> from, to;
    if (auto e = read_time(ex, "fromDateTime", from))
        co_return answer::fail(*e);
    if (auto e = read_time(ex, "toDateTime", to))
        co_return answer::fail(*e);

    auto job = [st, f] {
        return collect(*st, f);
    };
    auto found = co_await st->offload(std::move(job));
    if (!found)
        co_return answer::fail(to_api_error(found.error()));
    if (fixed_id && found->empty())
        co_return answer::fail(404, "no.difi.meldingsutveksling.exceptions.MessageNotFoundException",
                               "no message " + *fixed_id);
    std::vector<std::pair<const conversation*, const status_item*>> items;
    for (const auto& c : *found) {
        if (conversation_id && c.conversation_id != *conversation_id)
            continue;
        for (const auto& s : c.statuses) {
            if ((status && s.status != *status) || (id && s.id != *id) || (from && s.time < *from) ||
                (to && s.time > *to))
                continue;
            items.emplace_back(&c, &s);
        }
    }
    const bool by_time = p.sort_property == "lastUpdate";
    std::stable_sort(items.begin(), items.end(), [&](const auto& a, const auto& b) {
        const auto ka = by_time ? a.second->time.time_since_epoch().count() : a.second->id;
        const auto kb = by_time ? b.second->time.time_since_epoch().count() : b.second->id;
        return p.descending ? kb < ka : ka < kb;
    });
    json::array all;
    for (const auto& [c, s] : items)
        all.push_back(status_json(*c, *s));
    co_return answer::value(make_page(std::move(all), p));
}

// ---------------------------------------------------------------------------------------------
// conversations

json::object conversation_json(const conversation& c) {
    json::array statuses;
    for (const auto& s : c.statuses) {
        json::object o{{"id", s.id}, {"lastUpdate", api_time(s.time)}, {"status", s.status}};
        if (!s.description.empty())
            o["description"] = s.description;
        statuses.push_back(std::move(o));
    }
    json::object o{{"id", c.id},
                   {"conversationId", c.conversation_id},
                   {"messageId", c.message_id},
                   {"sender", c.sender},
                   {"senderIdentifier", iso6523(c.sender)},
                   {"receiver", c.receiver},
                   {"receiverIdentifier", iso6523(c.receiver)},
                   {"processIdentifier", c.process},
                   {"documentIdentifier", c.standard},
                   {"lastUpdate", api_time(c.last_update)},
                   {"finished", c.finished}};
    if (c.expiry)
        o["expiry"] = api_time(*c.expiry);
    o["direction"] = c.outgoing ? "OUTGOING" : "INCOMING";
    o["serviceIdentifier"] = "DPO";
    o["messageStatuses"] = std::move(statuses);
    return o;
}

asio::awaitable<answer> conversations(std::shared_ptr<state> st, exchange ex) {
    page_request p;
    if (auto e = read_page_request(ex, st->config.max_page_size, {"lastUpdate", "id"}, p))
        co_return answer::fail(*e);
    if (!p.sorted) { // the reference's default: newest first
        p.sort_property = "lastUpdate";
        p.descending = true;
    }
    scope_filter f;
    f.message_id = ex.query("messageId");
    if (auto d = ex.query("direction")) {
        if (*d == "OUTGOING")
            f.incoming = false;
        else if (*d == "INCOMING")
            f.outgoing = false;
        else
            co_return answer::fail(bad_parameter("direction", *d, "INCOMING or OUTGOING"));
    }
    std::optional<bool> finished;
    if (auto v = ex.query("finished")) {
        if (*v != "true" && *v != "false")
            co_return answer::fail(bad_parameter("finished", *v, "true or false"));
        finished = *v == "true";
        f.unfinished_only = !*finished;
    }
    if (auto v = ex.query("pollable"); v && *v != "true" && *v != "false")
        co_return answer::fail(bad_parameter("pollable", *v, "true or false"));
    std::optional<storage::time_point> from, to;
    if (auto e = read_time(ex, "lastUpdateFrom", from))
        co_return answer::fail(*e);
    if (auto e = read_time(ex, "lastUpdateTo", to))
        co_return answer::fail(*e);
    if (to && ex.query("lastUpdateTo")->size() == 10)
        *to += std::chrono::hours(24); // a date includes its whole day

    auto job = [st, f] {
        return collect(*st, f);
    };
    auto found = co_await st->offload(std::move(job));
    if (!found)
        co_return answer::fail(to_api_error(found.error()));
    const auto party = [&](std::string_view q1, std::string_view q2, const std::string& have) {
        for (const auto q : {q1, q2})
            if (auto v = ex.query(q); v && org_number(*v).value_or(*v) != have)
                return false;
        return true;
    };
    const auto service = ex.query("serviceIdentifier");
    const bool nothing = (service && *service != "DPO") ||
                         ex.query("pollable") == std::optional<std::string>("true") ||
                         ex.query("messageReference") || ex.query("messageTitle");
    std::vector<const conversation*> items;
    for (const auto& c : *found) {
        if (nothing)
            break;
        if (auto v = ex.query("conversationId"); v && *v != c.conversation_id)
            continue;
        if (!party("sender", "senderIdentifier", c.sender) ||
            !party("receiver", "receiverIdentifier", c.receiver))
            continue;
        if ((finished && c.finished != *finished) || (from && c.last_update < *from) ||
            (to && c.last_update > *to))
            continue;
        items.push_back(&c);
    }
    const bool by_id = p.sort_property == "id";
    std::stable_sort(items.begin(), items.end(), [&](const auto* a, const auto* b) {
        const auto ka = by_id ? a->id : a->last_update.time_since_epoch().count();
        const auto kb = by_id ? b->id : b->last_update.time_since_epoch().count();
        return p.descending ? kb < ka : ka < kb;
    });
    json::array all;
    for (const auto* c : items)
        all.push_back(conversation_json(*c));
    co_return answer::value(make_page(std::move(all), p));
}

asio::awaitable<answer> conversation_by_message_id(std::shared_ptr<state> st, exchange ex) {
    scope_filter f;
    f.message_id = ex.param("messageId");
    auto job = [st, f] {
        return collect(*st, f);
    };
    auto found = co_await st->offload(std::move(job));
    if (!found)
        co_return answer::fail(to_api_error(found.error()));
    if (found->empty())
        co_return answer::fail(404, "no.difi.meldingsutveksling.exceptions.ConversationNotFoundException",
                               "no conversation for message " + *f.message_id);
    // The reference looks up outgoing conversations; the outgoing one comes first here too.
    co_return answer::value(conversation_json(found->front()));
}

// ---------------------------------------------------------------------------------------------
// capabilities

asio::awaitable<answer> capabilities(std::shared_ptr<state> st, exchange ex) {
    const auto receiver = ex.param("receiver");
    const auto org = org_number(receiver);
    if (!org)
        co_return answer::fail(400, "no.difi.meldingsutveksling.exceptions.IdentifierNotFoundException",
                               "'" + receiver +
                                   "' is not an organisation number (0192:<9 digits> or 9 digits)");
    if (!st->ctx.capabilities)
        co_return answer::fail(503, "kurer.TemporarilyUnavailableException",
                               "this engine has no Service Registry to ask");
    auto found = co_await lookup_capabilities(st, *org, ex.query("process").value_or(""));
    if (!found)
        co_return answer::fail(504, "kurer.RequestTimeoutException",
                               "the Service Registry did not answer within " +
                                   std::to_string(st->config.request_timeout.count()) + " ms");
    if (!*found) {
        const auto& e = (*found).error();
        co_return answer::fail(e.retryable ? 503 : 502, "kurer.ServiceRegistryException",
                               "the Service Registry lookup of " + *org + " failed: " + e.message);
    }
    json::array list;
    for (const auto& c : **found) {
        json::array types;
        for (const auto& standard : c.document_types)
            types.push_back(json::object{{"type", type_of_standard(standard)}, {"standard", standard}});
        list.push_back(json::object{{"process", c.process},
                                    {"serviceIdentifier", c.service_identifier},
                                    {"documentTypes", std::move(types)}});
    }
    co_return answer::value(json::object{{"capabilities", std::move(list)}});
}

} // namespace

asio::awaitable<std::optional<result<std::vector<capability>>>>
lookup_capabilities(std::shared_ptr<state> st, std::string receiver, std::string process) {
    using namespace asio::experimental::awaitable_operators;
    auto op = st->ctx.capabilities(std::move(receiver), std::move(process));
    if (st->config.request_timeout.count() <= 0)
        co_return co_await std::move(op);
    asio::steady_timer timer(co_await asio::this_coro::executor, st->config.request_timeout);
    auto wait = timer.async_wait(asio::use_awaitable);
    auto raced = co_await (std::move(op) || std::move(wait));
    if (raced.index() == 0)
        co_return std::move(std::get<0>(raced));
    co_return std::nullopt;
}

void add_status_routes(route_table& routes, std::shared_ptr<state> st) {
    routes.add(verb::get, "/api/statuses", [st](exchange ex) { return statuses(st, ex, std::nullopt); });
    routes.add(verb::get, "/api/statuses/{messageId}",
               [st](exchange ex) { return statuses(st, ex, ex.param("messageId")); });
    routes.add(verb::get, "/api/conversations", [st](exchange ex) { return conversations(st, ex); });
    routes.add(verb::get, "/api/conversations/messageId/{messageId}",
               [st](exchange ex) { return conversation_by_message_id(st, ex); });
    routes.add(verb::get, "/api/capabilities/{receiver}", [st](exchange ex) { return capabilities(st, ex); });
}

} // namespace kurer::engine::admin

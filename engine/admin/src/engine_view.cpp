// /admin/...: the engine's own view for operators: health, Prometheus metrics, messages with
// their machine state and timed history, the live event stream, pause/resume and retry.
#include "internal.hpp"

#include <kurer/core/version.hpp>
#include <kurer/dpo/sbd.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>

namespace kurer::engine::admin {
namespace {

std::string state_name(bool outgoing, std::uint8_t s) {
    return outgoing ? std::string(sm::to_string(static_cast<sm::outgoing_state>(s)))
                    : std::string(sm::to_string(static_cast<sm::incoming_state>(s)));
}

json::array history_json(bool outgoing, const std::vector<storage::history_entry>& history) {
    json::array out;
    for (const auto& e : history) {
        json::array statuses;
        for (const auto& s : e.statuses)
            statuses.push_back(json::object{{"status", sm::to_string(s.status)}, {"implied", s.implied}});
        out.push_back(json::object{{"seq", e.seq},
                                   {"time", api_time(e.time)},
                                   {"from", state_name(outgoing, e.from)},
                                   {"to", state_name(outgoing, e.to)},
                                   {"event", e.event},
                                   {"attempt", e.attempt},
                                   {"detail", e.detail},
                                   {"statuses", std::move(statuses)}});
    }
    return out;
}

json::array recorded_statuses(sm::status_set set) {
    json::array out;
    for (auto s = 0u; s <= static_cast<unsigned>(sm::eformidling_status::innkommende_levert); ++s)
        if (set.contains(static_cast<sm::eformidling_status>(s)))
            out.push_back(json::value(sm::to_string(static_cast<sm::eformidling_status>(s))));
    return out;
}

json::object outgoing_json(const outgoing_view& v, bool with_history) {
    const auto& r = v.record;
    json::array documents;
    for (const auto& d : r.documents)
        documents.push_back(json::object{{"name", d.name},
                                         {"mimeType", d.mime_type},
                                         {"primary", d.primary},
                                         {"size", d.file.size},
                                         {"sha256", d.file.sha256}});
    json::object o{{"direction", "outgoing"},
                   {"id", r.id},
                   {"messageId", r.message_id},
                   {"conversationId", r.conversation_id},
                   {"kind", r.machine.kind == sm::outgoing_kind::status ? "status" : "message"},
                   {"state", sm::to_string(r.machine.state)},
                   {"nextAction", sm::to_string(sm::next_action(r.machine))},
                   {"statuses", recorded_statuses(r.machine.recorded)},
                   {"sender", r.sender},
                   {"receiver", r.receiver},
                   {"process", r.process},
                   {"documentType", r.document_type},
                   {"created", api_time(r.created)},
                   {"updated", api_time(r.updated)},
                   {"deadline", api_time(r.deadline)},
                   {"attempt", r.attempt},
                   {"lastError", r.last_error}};
    if (with_history) {
        o["sendersReference"] = r.senders_reference;
        o["brokerReference"] = r.broker_reference;
        o["messageChannel"] = r.message_channel;
        o["documents"] = std::move(documents);
        if (!r.package.path.empty())
            o["package"] = json::object{{"size", r.package.size}, {"sha256", r.package.sha256}};
        o["history"] = history_json(true, v.history);
    }
    return o;
}

std::string_view kind_name(storage::package_kind k) {
    switch (k) {
    case storage::package_kind::message:
        return "message";
    case storage::package_kind::status:
        return "status";
    case storage::package_kind::kvittering:
        return "kvittering";
    default:
        return "unknown";
    }
}

json::object incoming_json(const incoming_view& v, bool with_history) {
    const auto& r = v.record;
    json::object o{{"direction", "incoming"},
                   {"id", r.reference},
                   {"messageId", r.message_id},
                   {"conversationId", r.conversation_id},
                   {"kind", kind_name(r.kind)},
                   {"state", sm::to_string(r.machine.state)},
                   {"nextAction", sm::to_string(sm::next_action(r.machine))},
                   {"sender", r.sender},
                   {"receiver", r.receiver},
                   {"process", r.process},
                   {"documentType", r.document_type},
                   {"created", api_time(r.listed)},
                   {"updated", api_time(r.updated)},
                   {"attempt", r.attempt},
                   {"lastError", r.last_error}};
    if (r.deadline)
        o["deadline"] = api_time(*r.deadline);
    if (!r.rejection.empty())
        o["rejection"] = r.rejection;
    if (with_history) {
        o["sendersReference"] = r.senders_reference;
        o["messageChannel"] = r.message_channel;
        // Who the broker says sent it and to whom, and who signed it (verified).
        o["uploadedBy"] = r.listed_sender;
        o["addressedTo"] = r.listed_recipient;
        o["signer"] = r.signer;
        if (r.lock_until)
            o["lockedUntil"] = api_time(*r.lock_until);
        if (!r.related_message_id.empty())
            o["relatedMessageId"] = r.related_message_id;
        if (!r.receipt_value.empty())
            o["receipt"] = r.receipt_value;
        if (!r.package.path.empty())
            o["package"] = json::object{{"size", r.package.size}, {"sha256", r.package.sha256}};
        if (!r.payload.path.empty())
            o["payload"] = json::object{{"size", r.payload.size}, {"sha256", r.payload.sha256}};
        o["history"] = history_json(false, v.history);
    }
    return o;
}

json::object draft_json(const draft& d) {
    json::array files;
    for (const auto& f : d.files)
        files.push_back(
            json::object{{"name", f.name}, {"mimeType", f.mime_type}, {"title", f.title}, {"size", f.size}});
    boost::system::error_code ec;
    return json::object{{"direction", "outgoing"},
                        {"id", d.message_id},
                        {"messageId", d.message_id},
                        {"kind", "message"},
                        {"state", "Draft"},
                        {"statuses", json::array{"OPPRETTET"}},
                        {"created", api_time(d.created)},
                        {"documents", std::move(files)},
                        {"sbd", json::parse(d.sbd, ec)},
                        {"history", json::array{}}};
}

// ---------------------------------------------------------------------------------------------

asio::awaitable<answer> health(std::shared_ptr<state> st, exchange) {
    const auto s = st->ctx.engine.stats();
    const auto up =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - st->started);
    co_return answer::value(
        json::object{{"status", "UP"},
                     {"version", kurer::version()},
                     {"organization", st->ctx.organization},
                     {"sendingPaused", st->ctx.engine.sending_paused()},
                     {"uptimeSeconds", up.count()},
                     {"actors", {{"outgoing", s.live_outgoing}, {"incoming", s.live_incoming}}},
                     {"actionsInFlight", s.in_flight},
                     {"actionsWaiting", s.waiting_for_slot},
                     {"transitions", s.transitions},
                     {"eventClients", st->events.clients()}});
}

asio::awaitable<answer> metrics_text(std::shared_ptr<state> st, exchange) {
    auto job = [st] {
        return st->ctx.registry.render();
    };
    auto text = co_await st->offload(std::move(job));
    answer a = answer::json(std::move(text));
    a.content_type = "text/plain; version=0.0.4; charset=utf-8";
    co_return a;
}

asio::awaitable<answer> message(std::shared_ptr<state> st, exchange ex) {
    const auto id = ex.param("id");
    auto job = [st, id]() -> result<std::optional<json::object>> {
        auto o = st->ctx.engine.find_outgoing(id);
        if (!o)
            return o.error();
        if (*o)
            return std::optional<json::object>(outgoing_json(**o, true));
        auto d = st->drafts.find(id);
        if (!d)
            return d.error();
        if (*d)
            return std::optional<json::object>(draft_json(**d));
        auto i = st->ctx.engine.find_incoming_by_message_id(id);
        if (!i)
            return i.error();
        if (!*i) {
            i = st->ctx.engine.find_incoming(id); // a broker reference
            if (!i)
                return i.error();
        }
        if (!*i)
            return std::optional<json::object>();
        auto out = incoming_json(**i, true);
        // The MOTTATT and LEVERT this engine sends back for it.
        json::array receipts;
        for (const auto status : {sm::eformidling_status::mottatt, sm::eformidling_status::levert})
            if (auto s = st->ctx.engine.find_outgoing(status_message_id((*i)->record.message_id, status));
                s && *s)
                receipts.push_back(outgoing_json(**s, false));
        out["receipts"] = std::move(receipts);
        return std::optional<json::object>(std::move(out));
    };
    auto found = co_await st->offload(std::move(job));
    if (!found)
        co_return answer::fail(to_api_error(found.error()));
    if (!*found)
        co_return answer::fail(404, "no.difi.meldingsutveksling.exceptions.MessageNotFoundException",
                               "no message, draft or broker file " + id);
    co_return answer::value(std::move(**found));
}

asio::awaitable<answer> messages(std::shared_ptr<state> st, exchange ex) {
    bool outgoing = true, incoming = true;
    if (auto d = ex.query("direction")) {
        if (*d == "outgoing")
            incoming = false;
        else if (*d == "incoming")
            outgoing = false;
        else
            co_return answer::fail(400, "javax.validation.ConstraintViolationException",
                                   "direction: '" + *d + "' is neither outgoing nor incoming");
    }
    std::optional<sm::outgoing_state> out_state;
    std::optional<sm::incoming_state> in_state;
    if (auto s = ex.query("state")) {
        out_state = outgoing ? sm::outgoing_state_from_string(*s) : std::nullopt;
        in_state = incoming ? sm::incoming_state_from_string(*s) : std::nullopt;
        if (!out_state && !in_state) {
            std::string known;
            for (const auto x : sm::all_outgoing_states)
                known += (known.empty() ? "" : ", ") + std::string(sm::to_string(x));
            co_return answer::fail(
                400, "javax.validation.ConstraintViolationException",
                "state: '" + *s + "' is no state (outgoing: " + known +
                    "; incoming: Listed, Downloaded, Stored, Confirmed, Queued, Locked, Taken, "
                    "LevertSent, Routed, Duplicate, Rejected, Expired)");
        }
        outgoing = out_state.has_value();
        incoming = in_state.has_value();
    }
    std::size_t limit = 100;
    if (auto l = ex.query("limit")) {
        const auto [end, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
        if (ec != std::errc{} || end != l->data() + l->size() || limit == 0 ||
            limit > st->config.max_page_size)
            co_return answer::fail(400, "javax.validation.ConstraintViolationException",
                                   "limit: '" + *l + "' is not a number from 1 to " +
                                       std::to_string(st->config.max_page_size));
    }
    auto job = [st, outgoing, incoming, out_state, in_state, limit]() -> result<json::array> {
        json::array out;
        if (outgoing)
            for (const auto s : sm::all_outgoing_states) {
                if ((out_state && s != *out_state) || out.size() >= limit)
                    continue;
                auto ids = st->ctx.engine.list_outgoing(s, limit - out.size());
                if (!ids)
                    return ids.error();
                for (const auto& id : *ids)
                    if (auto v = st->ctx.engine.find_outgoing(id); v && *v)
                        out.push_back(outgoing_json(**v, false));
            }
        if (incoming)
            for (const auto s : sm::all_incoming_states) {
                if ((in_state && s != *in_state) || out.size() >= limit)
                    continue;
                auto refs = st->ctx.engine.list_incoming(s, limit - out.size());
                if (!refs)
                    return refs.error();
                for (const auto& ref : *refs)
                    if (auto v = st->ctx.engine.find_incoming(ref); v && *v)
                        out.push_back(incoming_json(**v, false));
            }
        return out;
    };
    auto found = co_await st->offload(std::move(job));
    if (!found)
        co_return answer::fail(to_api_error(found.error()));
    co_return answer::value(json::object{{"messages", std::move(*found)}});
}

asio::awaitable<answer> pause(std::shared_ptr<state> st, exchange, bool paused) {
    auto job = [st, paused] {
        return paused ? st->ctx.engine.pause_sending() : st->ctx.engine.resume_sending();
    };
    if (auto r = co_await st->offload(std::move(job)); !r)
        co_return answer::fail(to_api_error(r.error()));
    co_return answer::value(json::object{{"sendingPaused", st->ctx.engine.sending_paused()}});
}

asio::awaitable<answer> retry(std::shared_ptr<state> st, exchange ex) {
    const auto id = ex.param("id");
    auto op = st->ctx.engine.retry(id);
    if (auto r = co_await std::move(op); !r)
        co_return answer::fail(to_api_error(r.error()));
    auto v = co_await st->ctx.engine.async_find_outgoing(id);
    if (!v || !*v)
        co_return answer::value(json::object{{"messageId", id}});
    co_return answer::value(outgoing_json(**v, false));
}

// A live NDJSON stream: one {"type":"transition",...} line per durable transition (only
// ?messageId='s, when given), a {"type":"heartbeat"} line when idle, and a {"type":"dropped"}
// line before the stream ends if the client read too slowly to keep up.
asio::awaitable<answer> events(std::shared_ptr<state> st, exchange ex) {
    using namespace asio::experimental::awaitable_operators;
    auto client = std::make_shared<event_client>(st->io, st->config.event_buffer_bytes,
                                                 ex.query("messageId").value_or(""));
    if (!st->events.add(client, st->config.max_event_clients)) {
        auto a = answer::fail(503, "kurer.TemporarilyUnavailableException",
                              "the event stream is full: " + std::to_string(st->config.max_event_clients) +
                                  " clients are following it already (max_event_clients)");
        a.headers.set(boost::beast::http::field::retry_after, "5");
        co_return a;
    }
    struct leave {
        std::shared_ptr<state> st;
        std::shared_ptr<event_client> c;
        ~leave() { st->events.remove(c); }
    } unsubscribe{st, client};

    http::fields headers;
    headers.set(boost::beast::http::field::content_type, "application/x-ndjson");
    headers.set(boost::beast::http::field::cache_control, "no-store");
    headers.set(boost::beast::http::field::connection, "close");
    if (auto started = co_await ex.start_chunked(200, std::move(headers)); !started)
        co_return answer::already_sent();
    const auto line = [](json::object o) {
        return json::serialize(o) + "\n";
    };
    auto hello =
        line({{"type", "subscribed"}, {"time", api_time(now_ms())}, {"messageId", client->filter()}});
    if (auto w = co_await ex.write_chunk(std::move(hello)); !w)
        co_return answer::already_sent();
    asio::steady_timer heartbeat(co_await asio::this_coro::executor);
    try {
        for (;;) {
            auto batch = client->take();
            if (!batch.bytes.empty())
                if (auto w = co_await ex.write_chunk(std::move(batch.bytes)); !w)
                    break;
            if (batch.dropped) {
                st->log(log_level::warning, "an event stream client read too slowly and was dropped",
                        {{"limit_bytes", st->config.event_buffer_bytes}});
                auto bye = line(
                    {{"type", "dropped"},
                     {"time", api_time(now_ms())},
                     {"reason", "the client read more slowly than events arrived; more than " +
                                    std::to_string(st->config.event_buffer_bytes) + " bytes were waiting"}});
                if (auto w = co_await ex.write_chunk(std::move(bye)); w)
                    (void)co_await ex.finish_chunked();
                break;
            }
            if (batch.closed) {
                (void)co_await ex.finish_chunked();
                break;
            }
            auto ring = client->doorbell().async_receive(asio::use_awaitable);
            if (st->config.event_heartbeat.count() <= 0) {
                co_await std::move(ring);
                continue;
            }
            heartbeat.expires_after(st->config.event_heartbeat);
            auto tick = heartbeat.async_wait(asio::use_awaitable);
            auto woke = co_await (std::move(ring) || std::move(tick));
            if (woke.index() == 1) {
                auto beat = line({{"type", "heartbeat"}, {"time", api_time(now_ms())}});
                if (auto w = co_await ex.write_chunk(std::move(beat)); !w)
                    break;
            }
        }
    } catch (const std::exception&) {
        // The connection closed or the server is stopping: the stream simply ends.
    }
    co_return answer::already_sent();
}

} // namespace

void add_admin_routes(route_table& routes, std::shared_ptr<state> st) {
    routes.add(verb::get, "/admin/health", [st](exchange ex) { return health(st, ex); });
    routes.add(verb::get, "/admin/metrics", [st](exchange ex) { return metrics_text(st, ex); });
    routes.add(verb::get, "/admin/messages", [st](exchange ex) { return messages(st, ex); });
    routes.add(verb::get, "/admin/messages/{id}", [st](exchange ex) { return message(st, ex); });
    routes.add(verb::post, "/admin/messages/{id}/retry", [st](exchange ex) { return retry(st, ex); });
    routes.add(verb::get, "/admin/events", [st](exchange ex) { return events(st, ex); });
    routes.add(verb::post, "/admin/pause", [st](exchange ex) { return pause(st, ex, true); });
    routes.add(verb::post, "/admin/resume", [st](exchange ex) { return pause(st, ex, false); });
}

} // namespace kurer::engine::admin

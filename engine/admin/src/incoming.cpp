// /api/messages/in: the end system's queue, as the reference's NextMoveMessageInController:
// list, peek (locks), pop (the decrypted ASiC-E, streamed) and DELETE (taken, only when locked:
// LEVERT goes back).
#include "internal.hpp"

#include <kurer/dpo/sbd.hpp>

#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace kurer::engine::admin {
namespace {

constexpr std::string_view exceptions = "no.difi.meldingsutveksling.exceptions.";
constexpr std::string_view asic_mime = "application/vnd.etsi.asic-e+zip";

api_error not_found(const std::string& id) {
    return {404, std::string(exceptions) + "MessageNotFoundException", "no incoming message " + id};
}

// The query's filters as the runner's peek filter; `dpo_only` is false when the caller asked
// for another service (nothing of that kind ever arrives here).
struct in_filters {
    peek_filter peek;
    bool dpo_only = true;
};

std::variant<in_filters, api_error> read_filters(const exchange& ex) {
    in_filters f;
    f.peek.process = ex.query("process").value_or("");
    f.peek.conversation_id = ex.query("conversationId").value_or("");
    f.peek.message_id = ex.query("messageId").value_or("");
    for (const auto& [param, into] :
         {std::pair{"senderIdentifier", &f.peek.sender}, std::pair{"receiverIdentifier", &f.peek.receiver}}) {
        if (auto v = ex.query(param)) {
            auto org = org_number(*v);
            if (!org)
                return api_error{400, "javax.validation.ConstraintViolationException",
                                 std::string(param) + ": '" + *v + "' is not an organisation number"};
            *into = *org;
        }
    }
    if (auto service = ex.query("serviceIdentifier"))
        f.dpo_only = *service == "DPO";
    return f;
}

bool matches(const peek_filter& f, const storage::incoming_record& r) {
    const auto differs = [](const std::string& want, const std::string& have) {
        return !want.empty() && want != have;
    };
    return !(differs(f.process, r.process) || differs(f.conversation_id, r.conversation_id) ||
             differs(f.message_id, r.message_id) || differs(f.sender, r.sender) ||
             differs(f.receiver, r.receiver));
}

asio::awaitable<answer> list(std::shared_ptr<state> st, exchange ex) {
    page_request p;
    if (auto e = read_page_request(ex, st->config.max_page_size, {"lastUpdated"}, p))
        co_return answer::fail(*e);
    auto filters = read_filters(ex);
    if (auto* e = std::get_if<api_error>(&filters))
        co_return answer::fail(*e);
    const auto f = std::get<in_filters>(filters);
    auto collect_job = [st, f]() -> result<std::vector<storage::incoming_record>> {
        std::vector<storage::incoming_record> out;
        if (!f.dpo_only)
            return out;
        for (const auto s : {sm::incoming_state::queued, sm::incoming_state::locked}) {
            auto refs = st->ctx.engine.list_incoming(s);
            if (!refs)
                return refs.error();
            for (const auto& ref : *refs) {
                auto v = st->ctx.engine.find_incoming(ref);
                if (!v)
                    return v.error();
                if (*v && matches(f.peek, (*v)->record))
                    out.push_back(std::move((*v)->record));
            }
        }
        // Queue order: arrival, kept across lock expiries.
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
            return std::tie(a.queue_key, a.reference) < std::tie(b.queue_key, b.reference);
        });
        return out;
    };
    auto all = co_await st->offload(std::move(collect_job));
    if (!all)
        co_return answer::fail(to_api_error(all.error()));
    if (p.descending)
        std::reverse(all->begin(), all->end());
    json::array items;
    for (const auto& r : *all)
        items.push_back(sbd_of(r));
    co_return answer::value(make_page(std::move(items), p));
}

asio::awaitable<answer> peek(std::shared_ptr<state> st, exchange ex) {
    auto filters = read_filters(ex);
    if (auto* e = std::get_if<api_error>(&filters))
        co_return answer::fail(*e);
    const auto f = std::get<in_filters>(filters);
    if (!f.dpo_only)
        co_return answer::empty(204);
    auto op = st->ctx.engine.peek(f.peek);
    auto peeked = co_await std::move(op);
    if (!peeked)
        co_return answer::fail(to_api_error(peeked.error()));
    if (!*peeked)
        co_return answer::empty(204);
    auto v = co_await st->ctx.engine.async_find_incoming((*peeked)->reference);
    if (!v || !*v)
        co_return answer::fail(not_found((*peeked)->message_id));
    co_return answer::value(sbd_of((*v)->record));
}

asio::awaitable<answer> pop(std::shared_ptr<state> st, exchange ex) {
    const auto id = ex.param("messageId");
    auto v = co_await st->ctx.engine.async_find_incoming_by_message_id(id);
    if (!v)
        co_return answer::fail(to_api_error(v.error()));
    if (!*v)
        co_return answer::fail(not_found(id));
    const auto& r = (*v)->record;
    if (r.machine.state != sm::incoming_state::locked)
        co_return answer::fail(400, std::string(exceptions) + "MessageNotLockedException",
                               "incoming message " + id + " is not locked (it is " +
                                   std::string(sm::to_string(r.machine.state)) +
                                   "): peek it first with GET /api/messages/in/peek?messageId=" + id);
    if (r.payload.path.empty())
        co_return answer::empty(204); // a receipt (arkivmelding_kvittering) carries no ASiC
    auto file = co_await st->ctx.engine.async_pop(id);
    if (!file)
        co_return answer::fail(to_api_error(file.error()));
    http::fields headers;
    headers.set(boost::beast::http::field::content_disposition, "attachment; filename=asic.zip");
    auto sent = co_await ex.send_file(*file, std::string(asic_mime), std::move(headers));
    if (!sent && !ex.replied())
        co_return answer::fail(to_api_error(sent.error()));
    co_return answer::already_sent();
}

// DELETE: the end system has the message. As the reference (NextMoveMessageInService), only a
// locked message can be taken: 400 MessageNotLockedException otherwise, 404 for an unknown one.
asio::awaitable<answer> take(std::shared_ptr<state> st, exchange ex) {
    const auto id = ex.param("messageId");
    auto op = st->ctx.engine.take(id);
    auto taken = co_await std::move(op);
    if (!taken && taken.error().code == errc::not_locked)
        co_return answer::fail(400, std::string(exceptions) + "MessageNotLockedException",
                               taken.error().message + " with GET /api/messages/in/peek?messageId=" + id +
                                   ", then pop it");
    if (!taken)
        co_return answer::fail(to_api_error(taken.error()));
    auto v = co_await st->ctx.engine.async_find_incoming_by_message_id(id);
    if (!v || !*v)
        co_return answer::fail(not_found(id));
    co_return answer::value(sbd_of((*v)->record));
}

} // namespace

void add_incoming_routes(route_table& routes, std::shared_ptr<state> st) {
    routes.add(verb::get, "/api/messages/in", [st](exchange ex) { return list(st, ex); });
    routes.add(verb::get, "/api/messages/in/peek", [st](exchange ex) { return peek(st, ex); });
    routes.add(verb::get, "/api/messages/in/pop/{messageId}", [st](exchange ex) { return pop(st, ex); });
    routes.add(verb::delete_, "/api/messages/in/{messageId}", [st](exchange ex) { return take(st, ex); });
}

} // namespace kurer::engine::admin

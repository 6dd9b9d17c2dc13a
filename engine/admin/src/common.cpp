// What every admin route shares: answers and errors, times, paging, the per-message lock, the
// route table, and SBDs rebuilt from records.
#include "internal.hpp"

#include <kurer/dpo/date_time.hpp>
#include <kurer/dpo/errors.hpp>
#include <kurer/dpo/sbd.hpp>
#include <kurer/http/error.hpp>

#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace kurer::engine::admin {

// ---------------------------------------------------------------------------------------------
// answers and errors

answer answer::value(const json::value& v, unsigned status) {
    return answer::json(json::serialize(v), status);
}

std::string reason_phrase(unsigned status) {
    auto r = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
    return std::string(r.data(), r.size());
}

api_error to_api_error(const error& e) {
    const auto& c = e.code;
    if (c.category() == engine_category()) {
        switch (static_cast<errc>(c.value())) {
        case errc::invalid_request:
            return {400, "javax.validation.ConstraintViolationException", e.message};
        case errc::conflict:
            return {409, "no.difi.meldingsutveksling.exceptions.MessageAlreadyExistsException", e.message};
        case errc::not_found:
            return {404, "no.difi.meldingsutveksling.exceptions.MessageNotFoundException", e.message};
        case errc::not_locked:
            return {400, "no.difi.meldingsutveksling.exceptions.MessageNotLockedException", e.message};
        case errc::not_retryable:
            return {409, "kurer.NotRetryableException", e.message};
        case errc::stopping:
            return {503, "kurer.EngineStoppingException", e.message};
        }
    }
    if (c.category() == dpo::make_error_code(dpo::errc::sbd_malformed_json).category())
        return {400, "javax.validation.ConstraintViolationException", e.message};
    if (c == http::errc::message_too_large)
        return {413, "org.springframework.web.multipart.MaxUploadSizeExceededException", e.message};
    if (c == http::errc::timeout)
        return {408, "kurer.RequestTimeoutException", e.message};
    if (c == http::errc::bad_message)
        return {400, "org.springframework.http.converter.HttpMessageNotReadableException", e.message};
    if (e.retryable)
        return {503, "kurer.TemporarilyUnavailableException", e.message};
    return {500, "kurer.InternalErrorException", e.message};
}

std::string error_body(const api_error& e, std::string_view path) {
    json::object o{
        {"timestamp", api_time(now_ms())}, {"status", e.status},   {"error", reason_phrase(e.status)},
        {"exception", e.exception},        {"message", e.message}, {"path", path}};
    return json::serialize(o);
}

asio::awaitable<void> send_answer(exchange ex, answer a) {
    http::reply r;
    if (a.error) {
        r.status = a.error->status;
        r.headers = std::move(a.headers);
        r.headers.set(boost::beast::http::field::content_type, "application/json");
        r.body = http::body_source::from_string(error_body(*a.error, ex.path()));
    } else {
        r.status = a.status;
        r.headers = std::move(a.headers);
        if (a.status != 204 && a.status != 304) {
            if (!a.content_type.empty())
                r.headers.set(boost::beast::http::field::content_type, a.content_type);
            r.body = http::body_source::from_string(std::move(a.body));
        }
    }
    auto sent = co_await ex.send(std::move(r));
    (void)sent; // a client that went away: nothing to tell it
}

// ---------------------------------------------------------------------------------------------
// times and identifiers

storage::time_point now_ms() {
    return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::string api_time(storage::time_point t) {
    const dpo::instant i{std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch())};
    return dpo::format_date_time(dpo::date_time::in_oslo(i));
}

std::optional<storage::time_point> parse_api_time(std::string_view text) {
    std::string s(text);
    if (s.size() == 10) // yyyy-MM-dd: midnight in Oslo
        s += "T00:00";
    // Instants are nanoseconds since 1970 (up to 2262): a later date, as a client may give for
    // "no upper bound", is the end of time. The rest of it must still be a date-time.
    const bool beyond = std::atoi(s.substr(0, 4).c_str()) >= 2262;
    if (beyond)
        s.replace(0, 4, "2261");
    auto t = dpo::parse_date_time(s);
    if (!t)
        return std::nullopt;
    if (beyond)
        return storage::time_point::max();
    return std::chrono::floor<std::chrono::milliseconds>(t->utc);
}

std::string iso6523(std::string_view organization) {
    return "0192:" + std::string(organization);
}

std::optional<std::string> org_number(std::string_view identifier) {
    if (identifier.starts_with("0192:"))
        identifier.remove_prefix(5);
    if (identifier.size() != 9 ||
        !std::all_of(identifier.begin(), identifier.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    return std::string(identifier);
}

std::string type_of_standard(std::string_view standard) {
    const auto at = standard.rfind("::");
    return at == std::string_view::npos ? std::string(standard) : std::string(standard.substr(at + 2));
}

namespace {

void canonical_into(std::string& out, const json::value& v) {
    if (v.is_object()) {
        const auto& o = v.get_object();
        std::vector<const json::key_value_pair*> members;
        for (const auto& kv : o)
            members.push_back(&kv);
        std::sort(members.begin(), members.end(),
                  [](const auto* a, const auto* b) { return a->key() < b->key(); });
        out += '{';
        for (std::size_t i = 0; i < members.size(); ++i) {
            if (i > 0)
                out += ',';
            out += json::serialize(json::value(members[i]->key()));
            out += ':';
            canonical_into(out, members[i]->value());
        }
        out += '}';
    } else if (v.is_array()) {
        out += '[';
        const auto& a = v.get_array();
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (i > 0)
                out += ',';
            canonical_into(out, a[i]);
        }
        out += ']';
    } else {
        out += json::serialize(v);
    }
}

} // namespace

std::string canonical_json(const json::value& v) {
    std::string out;
    canonical_into(out, v);
    return out;
}

// ---------------------------------------------------------------------------------------------
// keyed_lock

std::shared_ptr<keyed_lock::entry> keyed_lock::enter(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto& e = entries_[key];
    if (!e)
        e = std::make_shared<entry>(executor_);
    ++e->users;
    return e;
}

void keyed_lock::leave(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it != entries_.end() && --it->second->users == 0)
        entries_.erase(it);
}

asio::awaitable<keyed_lock::guard> keyed_lock::lock(std::string key) {
    auto e = enter(key);
    try {
        co_await e->held.async_send(boost::system::error_code{}, asio::use_awaitable);
    } catch (...) {
        leave(key);
        throw;
    }
    co_return guard(this, std::move(key));
}

void keyed_lock::unlock(const std::string& key) {
    std::shared_ptr<entry> e;
    {
        std::lock_guard lock(mutex_);
        auto it = entries_.find(key);
        if (it == entries_.end())
            return;
        e = it->second;
    }
    e->held.try_receive([](boost::system::error_code) {}); // lets the next waiter in
    leave(key);
}

// ---------------------------------------------------------------------------------------------
// state

state::state(admin_context c, admin_config cfg, asio::any_io_executor executor)
    : ctx(std::move(c))
    , config(std::move(cfg))
    , io(std::move(executor))
    , pool(std::max(1u, config.worker_threads))
    , drafts(config.drafts_dir)
    , locks(io) {}

// ---------------------------------------------------------------------------------------------
// routes

namespace {

std::vector<std::string_view> split(std::string_view path) {
    std::vector<std::string_view> out;
    if (path.empty() || path.front() != '/')
        return out;
    path.remove_prefix(1);
    for (;;) {
        const auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos)
            break;
        path.remove_prefix(slash + 1);
    }
    return out;
}

bool matches(std::string_view pattern, std::string_view path) {
    const auto p = split(pattern);
    const auto s = split(path);
    if (p.size() != s.size())
        return false;
    for (std::size_t i = 0; i < p.size(); ++i)
        if (!(p[i].size() >= 2 && p[i].front() == '{' && p[i].back() == '}') && p[i] != s[i])
            return false;
    return true;
}

} // namespace

void route_table::add(verb method, std::string pattern, api_handler h) {
    patterns_.emplace_back(method, pattern);
    auto st = state_;
    auto wrapped = [st, h = std::move(h), pattern](exchange ex) -> asio::awaitable<void> {
        answer a;
        std::string failure;
        try {
            a = co_await h(ex);
        } catch (const std::exception& e) {
            failure = e.what();
        }
        if (!failure.empty()) {
            st->log(log_level::error, "request failed",
                    {{"method", std::string(ex.method_string())},
                     {"path", std::string(ex.path())},
                     {"error", failure}});
            if (ex.replied())
                co_return;
            a = answer::fail(500, "kurer.InternalErrorException", "internal error: " + failure);
        }
        const unsigned status = a.sent ? ex.status_sent() : a.error ? a.error->status : a.status;
        if (!a.sent)
            co_await send_answer(ex, std::move(a));
        st->ctx.registry
            .counter("kurer_admin_requests_total", "Requests on the admin socket, by route and status.",
                     {{"method", std::string(ex.method_string())},
                      {"route", pattern},
                      {"status", std::to_string(status)}})
            .inc();
    };
    router_.add(method, std::move(pattern), std::move(wrapped));
}

http::router route_table::build() {
    auto patterns = patterns_;
    auto fallback = [patterns](exchange ex) -> asio::awaitable<void> {
        std::string allowed;
        for (const auto& [m, p] : patterns)
            if (matches(p, ex.path())) {
                const auto name = boost::beast::http::to_string(m);
                if (allowed.find(std::string(name.data(), name.size())) == std::string::npos)
                    allowed += (allowed.empty() ? "" : ", ") + std::string(name.data(), name.size());
            }
        answer a;
        if (!allowed.empty()) {
            a = answer::fail(405, "org.springframework.web.HttpRequestMethodNotSupportedException",
                             "method " + std::string(ex.method_string()) + " is not allowed on " +
                                 std::string(ex.path()) + " (allowed: " + allowed + ")");
            a.headers.set(boost::beast::http::field::allow, allowed);
        } else {
            a = answer::fail(404, "org.springframework.web.servlet.NoHandlerFoundException",
                             "no such resource: " + std::string(ex.path()));
        }
        co_await send_answer(ex, std::move(a));
    };
    for (const auto m :
         {verb::get, verb::post, verb::put, verb::delete_, verb::patch, verb::head, verb::options})
        router_.add(m, "/{path*}", fallback);
    return std::move(router_);
}

// ---------------------------------------------------------------------------------------------
// paging

std::optional<api_error> read_page_request(const exchange& ex, std::size_t max_size,
                                           const std::vector<std::string_view>& properties,
                                           page_request& out) {
    const auto number = [&](std::string_view name, std::size_t& into, std::size_t min,
                            std::size_t max) -> std::optional<api_error> {
        const auto v = ex.query(name);
        if (!v)
            return std::nullopt;
        std::size_t n = 0;
        const auto* end = v->data() + v->size();
        const auto [p, ec] = std::from_chars(v->data(), end, n);
        if (ec != std::errc{} || p != end || n < min || n > max)
            return api_error{400,
                             "org.springframework.web.method.annotation.MethodArgumentTypeMismatchException",
                             std::string(name) + ": '" + *v + "' is not a number from " +
                                 std::to_string(min) + " to " + std::to_string(max)};
        into = n;
        return std::nullopt;
    };
    if (auto e = number("page", out.page, 0, 1'000'000'000))
        return e;
    if (auto e = number("size", out.size, 1, max_size))
        return e;
    if (auto sort = ex.query("sort")) {
        std::string_view s = *sort;
        const auto comma = s.find(',');
        const auto property = s.substr(0, comma);
        if (std::find(properties.begin(), properties.end(), property) == properties.end()) {
            std::string known;
            for (const auto p : properties)
                known += (known.empty() ? "" : ", ") + std::string(p);
            return api_error{400, "org.springframework.data.mapping.PropertyReferenceException",
                             "sort: cannot sort by '" + std::string(property) + "' (known: " + known + ")"};
        }
        out.sort_property = std::string(property);
        out.sorted = true;
        if (comma != std::string_view::npos) {
            const auto dir = s.substr(comma + 1);
            if (dir == "desc" || dir == "DESC")
                out.descending = true;
            else if (dir != "asc" && dir != "ASC")
                return api_error{400, "java.lang.IllegalArgumentException",
                                 "sort: direction '" + std::string(dir) + "' is neither asc nor desc"};
        }
    }
    return std::nullopt;
}

json::object make_page(json::array all, const page_request& p) {
    const std::size_t total = all.size();
    const std::size_t offset = p.page * p.size;
    json::array content;
    for (std::size_t i = offset; i < total && i < offset + p.size; ++i)
        content.push_back(std::move(all[i]));
    const std::size_t pages = total == 0 ? 0 : (total + p.size - 1) / p.size;
    const json::object sort{{"empty", !p.sorted}, {"sorted", p.sorted}, {"unsorted", !p.sorted}};
    const auto n = content.size();
    return json::object{{"content", std::move(content)},
                        {"pageable",
                         {{"sort", sort},
                          {"offset", offset},
                          {"pageNumber", p.page},
                          {"pageSize", p.size},
                          {"paged", true},
                          {"unpaged", false}}},
                        {"last", p.page + 1 >= pages},
                        {"totalPages", pages},
                        {"totalElements", total},
                        {"size", p.size},
                        {"number", p.page},
                        {"sort", sort},
                        {"first", p.page == 0},
                        {"numberOfElements", n},
                        {"empty", n == 0}};
}

// ---------------------------------------------------------------------------------------------
// SBDs from records

namespace {

dpo::date_time oslo(storage::time_point t) {
    return dpo::date_time::in_oslo(
        dpo::instant{std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch())});
}

json::value rebuilt_sbd(const std::string& message_id, const std::string& conversation_id,
                        const std::string& sender, const std::string& receiver, const std::string& process,
                        const std::string& standard, storage::time_point created,
                        std::optional<storage::time_point> deadline, const std::string& channel,
                        const std::string& business_message) {
    dpo::sbd d;
    d.header.sender.push_back({iso6523(sender)});
    d.header.receiver.push_back({iso6523(receiver)});
    d.header.document.standard = standard;
    d.header.document.type_version = "2.0";
    d.header.document.instance_identifier = message_id;
    d.header.document.type = type_of_standard(standard);
    d.header.document.creation_date_and_time = oslo(created);
    dpo::scope conv;
    conv.type = "ConversationId";
    conv.instance_identifier = conversation_id;
    conv.identifier = process;
    if (deadline)
        conv.scope_information.push_back({std::nullopt, std::nullopt, oslo(*deadline)});
    d.header.scopes.push_back(std::move(conv));
    if (!channel.empty()) {
        dpo::scope ch;
        ch.type = "MessageChannel";
        ch.identifier = channel;
        d.header.scopes.push_back(std::move(ch));
    }
    boost::system::error_code ec;
    auto bm = json::parse(business_message, ec);
    if (!ec && bm.is_object()) {
        // Accept both the business message itself and {"<type>": {...}} around it.
        auto& o = bm.get_object();
        if (o.size() == 1 && o.contains(d.header.document.type) && o.at(d.header.document.type).is_object())
            d.business_message = o.at(d.header.document.type).get_object();
        else
            d.business_message = o;
    }
    return json::parse(dpo::to_json(d));
}

} // namespace

json::value sbd_of(const storage::outgoing_record& r) {
    return rebuilt_sbd(r.message_id, r.conversation_id, r.sender, r.receiver, r.process, r.document_type,
                       r.created, r.deadline, r.message_channel, r.business_message);
}

json::value sbd_of(const storage::incoming_record& r) {
    boost::system::error_code ec;
    auto v = json::parse(r.sbd, ec);
    if (!ec && v.is_object())
        return v;
    return rebuilt_sbd(r.message_id, r.conversation_id, r.sender, r.receiver, r.process, r.document_type,
                       r.listed, r.deadline, r.message_channel, "{}");
}

} // namespace kurer::engine::admin

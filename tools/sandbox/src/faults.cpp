#include <kurer/sandbox/faults.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

namespace kurer::sandbox {
namespace {

error invalid(std::string what) {
    return make_error(make_error_code(boost::system::errc::invalid_argument),
                      "fault rule: " + std::move(what));
}

} // namespace

result<fault_rule> fault_rule::from_json(const boost::json::value& v) {
    if (!v.is_object())
        return invalid("expected a JSON object");
    fault_rule r;
    for (const auto& [key, value] : v.as_object()) {
        const auto uint = [&](std::string_view name) -> result<std::uint64_t> {
            if (!value.is_int64() || value.as_int64() < 0)
                return invalid(std::string(name) + ": expected a non-negative integer");
            return static_cast<std::uint64_t>(value.as_int64());
        };
        if (key == "path_prefix") {
            if (!value.is_string() || !value.as_string().starts_with("/"))
                return invalid("path_prefix: expected a path starting with /");
            r.path_prefix = value.as_string();
        } else if (key == "method") {
            if (!value.is_string())
                return invalid("method: expected a string");
            r.method = std::string(value.as_string());
        } else if (key == "latency_ms") {
            auto n = uint(key);
            if (!n)
                return n.error();
            r.latency = std::chrono::milliseconds(*n);
        } else if (key == "status") {
            auto n = uint(key);
            if (!n || *n < 100 || *n > 599)
                return invalid("status: expected an HTTP status 100-599");
            r.status = static_cast<unsigned>(*n);
        } else if (key == "body") {
            if (!value.is_string())
                return invalid("body: expected a string");
            r.body = value.as_string();
        } else if (key == "content_type") {
            if (!value.is_string())
                return invalid("content_type: expected a string");
            r.content_type = value.as_string();
        } else if (key == "reset_after_bytes") {
            auto n = uint(key);
            if (!n)
                return n.error();
            r.reset_after_bytes = *n;
        } else if (key == "rate") {
            if (!value.is_number() || value.to_number<double>() < 0 || value.to_number<double>() > 1)
                return invalid("rate: expected a number from 0 to 1");
            r.rate = value.to_number<double>();
        } else if (key == "count") {
            auto n = uint(key);
            if (!n)
                return n.error();
            r.count = *n;
        } else {
            return invalid("unknown member '" + std::string(key) + "'");
        }
    }
    if (r.status && r.reset_after_bytes)
        return invalid("status and reset_after_bytes exclude each other");
    return r;
}

boost::json::object fault_rule::to_json() const {
    boost::json::object o{
        {"path_prefix", path_prefix}, {"latency_ms", latency.count()}, {"rate", rate}, {"applied", applied}};
    if (method)
        o["method"] = *method;
    if (status) {
        o["status"] = *status;
        o["body"] = body;
        o["content_type"] = content_type;
    }
    if (reset_after_bytes)
        o["reset_after_bytes"] = *reset_after_bytes;
    if (count)
        o["count"] = *count;
    return o;
}

fault_injector::fault_injector(boost::asio::any_io_executor executor)
    : executor_(std::move(executor))
    , random_(std::random_device{}()) {}

result<void> fault_injector::add(const boost::json::value& v) {
    const boost::json::value* list = &v;
    if (v.is_object() && v.as_object().contains("rules"))
        list = &v.as_object().at("rules");
    std::vector<fault_rule> parsed;
    if (list->is_array()) {
        for (const auto& item : list->as_array()) {
            auto r = fault_rule::from_json(item);
            if (!r)
                return r.error();
            parsed.push_back(std::move(*r));
        }
    } else {
        auto r = fault_rule::from_json(*list);
        if (!r)
            return r.error();
        parsed.push_back(std::move(*r));
    }
    rules_.insert(rules_.end(), parsed.begin(), parsed.end());
    return {};
}

void fault_injector::clear() {
    rules_.clear();
}

boost::json::array fault_injector::list() const {
    boost::json::array out;
    for (const auto& r : rules_)
        out.push_back(r.to_json());
    return out;
}

std::optional<fault_rule> fault_injector::take(std::string_view method, std::string_view path) {
    for (auto& r : rules_) {
        if (!path.starts_with(r.path_prefix) || (r.method && *r.method != method))
            continue;
        if (r.count && *r.count == 0)
            continue;
        if (r.rate < 1.0 && std::uniform_real_distribution<double>(0.0, 1.0)(random_) >= r.rate)
            return std::nullopt;
        if (r.count)
            --*r.count;
        ++r.applied;
        return r;
    }
    return std::nullopt;
}

http::middleware fault_injector::middleware() {
    return [this](http::exchange ex, http::handler next) -> boost::asio::awaitable<void> {
        if (ex.path().starts_with("/sandbox/")) {
            co_await next(ex);
            co_return;
        }
        const auto rule = take(ex.method_string(), ex.path());
        if (!rule) {
            co_await next(ex);
            co_return;
        }
        if (rule->latency.count() > 0) {
            boost::asio::steady_timer pause(executor_, rule->latency);
            co_await pause.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        }
        if (rule->status) {
            co_await ex.send(http::reply::text(*rule->status, rule->body, rule->content_type));
            co_return;
        }
        if (rule->reset_after_bytes)
            ex.reset_connection_after(*rule->reset_after_bytes);
        co_await next(ex);
    };
}

} // namespace kurer::sandbox

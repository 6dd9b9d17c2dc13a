#include "detail/exchange_impl.hpp"

#include <kurer/http/percent.hpp>
#include <kurer/http/server.hpp>

namespace kurer::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
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

} // namespace

void router::add(verb method, std::string pattern, handler h) {
    route r{method, {}, false, std::move(h)};
    for (auto seg : split_path(pattern))
        r.segments.emplace_back(seg);
    if (!r.segments.empty()) {
        const auto& last = r.segments.back();
        if (last.size() > 3 && last.front() == '{' && last.ends_with("*}")) {
            r.rest = true;
        }
    }
    routes_.push_back(std::move(r));
}

void router::use(middleware m) {
    middleware_.push_back(std::move(m));
}

boost::asio::awaitable<void> router::dispatch(exchange ex) const {
    co_await run_chain(ex, 0);
}

boost::asio::awaitable<void> router::run_chain(exchange ex, std::size_t index) const {
    if (index == middleware_.size()) {
        co_await route_request(ex);
        co_return;
    }
    handler next = [this, index](exchange e) {
        return run_chain(e, index + 1);
    };
    co_await middleware_[index](ex, std::move(next));
}

boost::asio::awaitable<void> router::route_request(exchange ex) const {
    // Segments are matched decoded; a path that is not valid percent-encoding matches nothing.
    const auto raw_segments = split_path(ex.path());
    std::vector<std::string> segments;
    for (const auto raw : raw_segments) {
        auto decoded = percent_decode(raw);
        if (!decoded) {
            auto bad = reply::text(400, "bad request path " + std::string(ex.path().substr(0, 200)) + ": " +
                                            decoded.error().message + "\n");
            co_await ex.send(std::move(bad));
            co_return;
        }
        segments.push_back(std::move(*decoded));
    }
    std::vector<std::pair<std::string, std::string>> params;
    std::string allowed;
    const route* found = nullptr;
    for (const auto& r : routes_) {
        params.clear();
        const std::size_t fixed = r.rest ? r.segments.size() - 1 : r.segments.size();
        if (r.rest ? segments.size() < fixed : segments.size() != fixed)
            continue;
        bool match = true;
        for (std::size_t i = 0; i < fixed && match; ++i) {
            const auto& pat = r.segments[i];
            if (pat.size() >= 2 && pat.front() == '{' && pat.back() == '}')
                params.emplace_back(pat.substr(1, pat.size() - 2), segments[i]);
            else
                match = segments[i] == pat;
        }
        if (!match)
            continue;
        if (r.rest) {
            std::string rest;
            for (std::size_t i = fixed; i < segments.size(); ++i) {
                if (i > fixed)
                    rest += '/';
                rest += segments[i];
            }
            const auto& pat = r.segments.back();
            params.emplace_back(pat.substr(1, pat.size() - 3), std::move(rest));
        }
        if (r.method != ex.method()) {
            if (!allowed.empty())
                allowed += ", ";
            allowed += std::string(boost::beast::http::to_string(r.method));
            continue;
        }
        found = &r;
        break;
    }
    if (found) {
        ex.impl()->params = std::move(params);
        co_await found->h(ex);
        co_return;
    }
    if (!allowed.empty()) {
        auto r = reply::text(405, "method " + std::string(ex.method_string()) + " not allowed on " +
                                      std::string(ex.path()) + "\n");
        r.headers.set(boost::beast::http::field::allow, allowed);
        co_await ex.send(std::move(r));
        co_return;
    }
    co_await ex.send(reply::text(404, "no such resource: " + std::string(ex.path()) + "\n"));
}

} // namespace kurer::http

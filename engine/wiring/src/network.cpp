// The network the HTTP adapters share, and the token and resolver ports over it.
#include "internal.hpp"

#include <boost/asio/post.hpp>

namespace kurer::engine::wiring_detail {

network_impl::network_impl(unsigned threads, adapter_observer obs)
    : observer(std::move(obs)) {
    work_.emplace(io.get_executor());
    for (unsigned i = 0; i < std::max(1u, threads); ++i)
        threads_.emplace_back([this] {
            for (;;) {
                try {
                    io.run();
                    return;
                } catch (const std::exception&) {
                    // A handler threw (a bug in an adapter): keep the thread serving the others.
                }
            }
        });
}

network_impl::~network_impl() {
    stop();
}

void network_impl::stop() {
    if (stopped_.exchange(true))
        return;
    // Closes idle connections on the client's own strands, then ends the threads.
    work_.reset();
    asio::post(io, [this] {
        if (http)
            http->shutdown();
        io.stop();
    });
    for (auto& t : threads_)
        if (t.joinable())
            t.join();
    threads_.clear();
    blocking.join();
}

error network_impl::stopped_error() {
    return make_http_error(http::errc::shut_down, "the engine's network is stopped");
}

void network_impl::observe(std::string_view adapter, std::string_view operation,
                           std::chrono::steady_clock::time_point began, std::uint64_t bytes, bool ok) const {
    if (!observer)
        return;
    observer({adapter, operation, std::chrono::steady_clock::now() - began, bytes, ok});
}

namespace {

time_point wall_time_of(std::chrono::steady_clock::time_point steady) {
    const auto left = steady - std::chrono::steady_clock::now();
    return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now() + left);
}

class maskinporten_tokens final : public token_port {
public:
    explicit maskinporten_tokens(std::shared_ptr<network_impl> net)
        : net_(std::move(net)) {}

    task<access_token> get_token(std::vector<std::string> scopes) override {
        const auto began = std::chrono::steady_clock::now();
        auto op = fetch(net_, std::move(scopes));
        auto got = co_await net_->run(std::move(op));
        net_->observe("maskinporten", "token", began, 0, got.has_value());
        co_return got;
    }

private:
    static asio::awaitable<result<access_token>> fetch(std::shared_ptr<network_impl> net,
                                                       std::vector<std::string> scopes) {
        maskinporten::token_request request;
        request.scopes = std::move(scopes);
        auto token = co_await net->tokens->get(std::move(request));
        if (!token)
            co_return token.error();
        co_return access_token{std::move(token->value), wall_time_of(token->expires_at)};
    }

    std::shared_ptr<network_impl> net_;
};

class registry_resolver final : public resolver_port {
public:
    explicit registry_resolver(std::shared_ptr<network_impl> net)
        : net_(std::move(net)) {}

    task<service_record> resolve(std::string receiver, std::string process,
                                 std::string document_type) override {
        const auto began = std::chrono::steady_clock::now();
        auto op = lookup(net_, std::move(receiver), std::move(process), std::move(document_type));
        auto got = co_await net_->run(std::move(op));
        net_->observe("service_registry", "resolve", began, 0, got.has_value());
        co_return got;
    }

private:
    static asio::awaitable<result<service_record>> lookup(std::shared_ptr<network_impl> net,
                                                          std::string receiver, std::string process,
                                                          std::string document_type) {
        service_registry::lookup l;
        l.identifier = receiver;
        l.process = process;
        auto found = co_await net->registry->resolve(std::move(l), document_type);
        if (!found)
            co_return found.error();
        // The SR answers with another service (DPV, DPF, ...) when the receiver does not take DPO
        // for this process: kurer sends DPO only, so that is final for this message.
        if (found->record.service.identifier != "DPO")
            co_return make_error(service_registry::errc::no_matching_record,
                                 "receiver " + receiver + " is not on DPO for process " + process +
                                     " (the Service Registry offers " + found->record.service.identifier +
                                     ")",
                                 retry::no);
        if (!found->certificate)
            co_return make_error(service_registry::errc::certificate_invalid,
                                 "the Service Registry has no certificate for receiver " + receiver,
                                 retry::no);
        co_return service_record{found->record.service.identifier, std::move(found->certificate->pem)};
    }

    std::shared_ptr<network_impl> net_;
};

asio::awaitable<result<std::vector<capability>>>
find_capabilities(std::shared_ptr<network_impl> net, std::string receiver, std::string process) {
    service_registry::lookup l;
    l.identifier = std::move(receiver);
    l.process = std::move(process);
    auto found = co_await net->registry->find(std::move(l));
    if (!found) {
        // An organisation the SR does not know (or not for this process) takes nothing.
        if (found.error().code == service_registry::errc::not_registered)
            co_return std::vector<capability>{};
        co_return found.error();
    }
    std::vector<capability> out;
    for (auto& r : found->records)
        out.push_back({std::move(r.process), std::move(r.service.identifier), std::move(r.document_types)});
    co_return out;
}

asio::awaitable<result<std::vector<capability>>>
capabilities_on_network(std::shared_ptr<network_impl> net, std::string receiver, std::string process) {
    const auto began = std::chrono::steady_clock::now();
    auto op = find_capabilities(net, std::move(receiver), std::move(process));
    auto got = co_await net->run(std::move(op));
    net->observe("service_registry", "capabilities", began, 0, got.has_value());
    co_return got;
}

} // namespace

capabilities_lookup make_capabilities_lookup(std::shared_ptr<network_impl> net) {
    // Not a coroutine itself: the coroutine gets its own copy of `net`, whatever happens to this
    // function object.
    return [net](std::string receiver, std::string process) {
        return capabilities_on_network(net, std::move(receiver), std::move(process));
    };
}

std::shared_ptr<token_port> make_token_port(std::shared_ptr<network_impl> net) {
    return std::make_shared<maskinporten_tokens>(std::move(net));
}

std::shared_ptr<resolver_port> make_resolver_port(std::shared_ptr<network_impl> net) {
    return std::make_shared<registry_resolver>(std::move(net));
}

} // namespace kurer::engine::wiring_detail

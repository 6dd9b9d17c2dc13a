// broker_port over the Altinn 3 broker (kurer::altinn3::broker): the REST client with its token
// exchange, for this organisation's system user. The broker facade already speaks DPO (MD5 with
// initialize, BRO-00004 -> already uploaded, repeat confirms, the message-channel filter); this
// port moves each call onto the network's threads and reports it to the observer.
#include "internal.hpp"

#include <kurer/altinn3/broker.hpp>
#include <kurer/altinn3/client.hpp>
#include <kurer/dpo/date_time.hpp>
#include <kurer/maskinporten/grant.hpp>

namespace kurer::engine::wiring_detail {
namespace {

time_point created_time(const std::string& created) {
    if (auto parsed = dpo::parse_date_time(created))
        return std::chrono::floor<std::chrono::milliseconds>(parsed->utc);
    return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::uint64_t size_of(const std::filesystem::path& file) {
    std::error_code ec;
    const auto n = std::filesystem::file_size(file, ec);
    return ec ? 0 : static_cast<std::uint64_t>(n);
}

// The client and the facade over it, kept together (the facade points at the client).
struct altinn3_parts {
    altinn3_parts(http::client& http, altinn3::config cfg,
                  std::shared_ptr<altinn3::maskinporten_tokens> tokens, asio::any_io_executor blocking,
                  std::string organization, std::string channel)
        : organization(organization)
        , client(http, std::move(cfg), std::move(tokens), blocking)
        , broker(client, std::move(organization), std::move(channel), blocking) {}

    std::string organization; // the recipient of every file the broker lists for us
    altinn3::client client;
    altinn3::broker broker;
};

// "0192:910077473" or "urn:altinn:organization:identifier-no:910077473" -> "910077473"; the
// engine compares it with the SBD's sender, so anything else is kept as it is and will differ.
std::string organization_of(std::string_view party) {
    const auto colon = party.rfind(':');
    return std::string(colon == std::string_view::npos ? party : party.substr(colon + 1));
}
using parts_ptr = std::shared_ptr<altinn3_parts>;

class altinn3_broker final : public broker_port {
public:
    altinn3_broker(std::shared_ptr<network_impl> net, parts_ptr parts)
        : net_(std::move(net))
        , parts_(std::move(parts)) {}

    task<std::string> initiate(transfer_request request) override {
        const auto began = std::chrono::steady_clock::now();
        auto op = do_initiate(parts_, std::move(request));
        auto got = co_await net_->run(std::move(op));
        net_->observe("altinn3", "initiate", began, 0, got.has_value());
        co_return got;
    }

    task<upload_result> upload(std::string reference, std::filesystem::path file) override {
        const auto began = std::chrono::steady_clock::now();
        const auto bytes = size_of(file);
        auto op = do_upload(parts_, std::move(reference), std::move(file));
        auto got = co_await net_->run(std::move(op));
        net_->observe("altinn3", "upload", began, got ? bytes : 0, got.has_value());
        co_return got;
    }

    task<std::vector<available_file>> list_available() override {
        const auto began = std::chrono::steady_clock::now();
        auto op = do_list(parts_);
        auto got = co_await net_->run(std::move(op));
        net_->observe("altinn3", "list", began, 0, got.has_value());
        co_return got;
    }

    task<void> download(std::string reference, std::filesystem::path to) override {
        const auto began = std::chrono::steady_clock::now();
        auto op = do_download(parts_, std::move(reference), to);
        auto got = co_await net_->run(std::move(op));
        net_->observe("altinn3", "download", began, got ? size_of(to) : 0, got.has_value());
        if (!got)
            co_return got.error();
        co_return result<void>{};
    }

    task<void> confirm(std::string reference) override {
        const auto began = std::chrono::steady_clock::now();
        auto op = do_confirm(parts_, std::move(reference));
        auto got = co_await net_->run(std::move(op));
        net_->observe("altinn3", "confirm", began, 0, got.has_value());
        if (!got)
            co_return got.error();
        co_return result<void>{};
    }

private:
    // result<void> does not travel through network_impl::run: these carry a bool.
    static asio::awaitable<result<std::string>> do_initiate(parts_ptr p, transfer_request request) {
        altinn3::send_request s;
        s.sender = std::move(request.sender);
        s.receiver = std::move(request.receiver);
        s.senders_reference = std::move(request.senders_reference);
        if (!request.file_name.empty())
            s.file_name = std::move(request.file_name);
        s.file = std::move(request.file);
        co_return co_await p->broker.initiate(std::move(s));
    }

    static asio::awaitable<result<upload_result>> do_upload(parts_ptr p, std::string reference,
                                                            std::filesystem::path file) {
        auto up = co_await p->broker.upload(std::move(reference), std::move(file));
        if (!up)
            co_return up.error();
        co_return *up == altinn3::upload_result::already_uploaded ? upload_result::already_uploaded
                                                                  : upload_result::uploaded;
    }

    static asio::awaitable<result<std::vector<available_file>>> do_list(parts_ptr p) {
        auto listed = co_await p->broker.list_available();
        if (!listed)
            co_return listed.error();
        std::vector<available_file> files;
        files.reserve(listed->size());
        for (const auto& f : *listed)
            files.push_back({f.reference, f.senders_reference.value_or(""), f.size, created_time(f.created),
                             organization_of(f.sender), p->organization});
        co_return files;
    }

    static asio::awaitable<result<bool>> do_download(parts_ptr p, std::string reference,
                                                     std::filesystem::path to) {
        auto r = co_await p->broker.download(std::move(reference), std::move(to));
        if (!r)
            co_return r.error();
        co_return true;
    }

    static asio::awaitable<result<bool>> do_confirm(parts_ptr p, std::string reference) {
        auto r = co_await p->broker.confirm(std::move(reference));
        if (!r)
            co_return r.error();
        co_return true;
    }

    std::shared_ptr<network_impl> net_;
    parts_ptr parts_;
};

} // namespace

result<std::shared_ptr<broker_port>> make_altinn3_broker(std::shared_ptr<network_impl> net,
                                                         const daemon_config& config) {
    const auto& a = *config.broker.altinn3;
    altinn3::config c;
    c.base_url = a.base_url;
    c.exchange_url = a.exchange_url;
    c.resource_id = a.resource_id;
    maskinporten::altinn_system_user user;
    user.organization = config.runner.organization;
    user.external_ref = a.system_user;
    auto tokens = altinn3::system_user_tokens(*net->tokens, std::move(user));
    auto parts = std::make_shared<altinn3_parts>(*net->http, std::move(c), std::move(tokens),
                                                 net->blocking.get_executor(), config.runner.organization,
                                                 config.runner.message_channel);
    return std::shared_ptr<broker_port>(std::make_shared<altinn3_broker>(std::move(net), std::move(parts)));
}

} // namespace kurer::engine::wiring_detail

// broker_port over the Altinn 2 broker client (kurer::altinn2::broker_client).
//
// The port speaks of references only; Altinn 2 also wants the Reportee the file is addressed to
// for download and confirm. A poll tells it for every file it lists, and that is remembered. A
// reference the port has not seen in this process (a restart between listing and confirming)
// is looked up with a fresh poll; one no longer listed (already confirmed) belongs to the own
// organisation unless a poll said otherwise. With no further reportees configured, every file
// is the own organisation's and no lookup is needed.
#include "internal.hpp"

#include <kurer/altinn2/client.hpp>
#include <kurer/dpo/date_time.hpp>

#include <map>
#include <mutex>

namespace kurer::engine::wiring_detail {
namespace {

time_point sent_time(const std::string& sent_date) {
    if (auto parsed = dpo::parse_date_time(sent_date))
        return std::chrono::floor<std::chrono::milliseconds>(parsed->utc);
    // Altinn always sends one; without it the listing time is the best we know.
    return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::uint64_t size_of(const std::filesystem::path& file) {
    std::error_code ec;
    const auto n = std::filesystem::file_size(file, ec);
    return ec ? 0 : static_cast<std::uint64_t>(n);
}

class altinn2_broker final : public broker_port {
public:
    altinn2_broker(std::shared_ptr<network_impl> net, std::shared_ptr<altinn2::broker_client> client)
        : net_(std::move(net))
        , client_(std::move(client))
        , state_(std::make_shared<reportees>()) {}

    task<std::string> initiate(transfer_request request) override {
        const auto began = std::chrono::steady_clock::now();
        auto op = do_initiate(client_, std::move(request));
        auto got = co_await net_->run(std::move(op));
        net_->observe("altinn2", "initiate", began, 0, got.has_value());
        co_return got;
    }

    task<upload_result> upload(std::string reference, std::filesystem::path file) override {
        const auto began = std::chrono::steady_clock::now();
        const auto bytes = size_of(file);
        auto op = do_upload(client_, std::move(reference), std::move(file));
        auto got = co_await net_->run(std::move(op));
        net_->observe("altinn2", "upload", began, got ? bytes : 0, got.has_value());
        co_return got;
    }

    task<std::vector<available_file>> list_available() override {
        const auto began = std::chrono::steady_clock::now();
        auto op = do_poll(client_, state_);
        auto got = co_await net_->run(std::move(op));
        net_->observe("altinn2", "poll", began, 0, got.has_value());
        co_return got;
    }

    task<void> download(std::string reference, std::filesystem::path to) override {
        const auto began = std::chrono::steady_clock::now();
        auto op = do_download(client_, state_, std::move(reference), std::move(to));
        auto got = co_await net_->run(std::move(op));
        net_->observe("altinn2", "download", began, got ? *got : 0, got.has_value());
        if (!got)
            co_return got.error();
        co_return result<void>{};
    }

    task<void> confirm(std::string reference) override {
        const auto began = std::chrono::steady_clock::now();
        auto op = do_confirm(client_, state_, std::move(reference));
        auto got = co_await net_->run(std::move(op));
        net_->observe("altinn2", "confirm", began, 0, got.has_value());
        if (!got)
            co_return got.error();
        co_return result<void>{};
    }

private:
    using client_ptr = std::shared_ptr<altinn2::broker_client>;

    // reference -> the Reportee it was listed for
    struct reportees {
        std::mutex mutex;
        std::map<std::string, std::string> of;

        void remember(const std::vector<altinn2::incoming_file>& files) {
            std::lock_guard lock(mutex);
            for (const auto& f : files)
                of.insert_or_assign(f.reference, f.reportee);
        }
        std::optional<std::string> find(const std::string& reference) {
            std::lock_guard lock(mutex);
            auto it = of.find(reference);
            if (it == of.end())
                return std::nullopt;
            return it->second;
        }
        void forget(const std::string& reference) {
            std::lock_guard lock(mutex);
            of.erase(reference);
        }
    };
    using state_ptr = std::shared_ptr<reportees>;

    static asio::awaitable<result<std::string>> reportee_of(client_ptr client, state_ptr state,
                                                            std::string reference) {
        if (auto known = state->find(reference))
            co_return *known;
        const auto& own = client->config().organization;
        if (client->config().reportees.empty())
            co_return own;
        auto polled = co_await client->poll();
        if (!polled)
            co_return polled.error();
        state->remember(*polled);
        if (auto known = state->find(reference))
            co_return *known;
        co_return own;
    }

    static asio::awaitable<result<std::string>> do_initiate(client_ptr client, transfer_request request) {
        const auto file_name = request.file_name.empty() ? std::string("sbd.zip") : request.file_name;
        co_return co_await client->initiate(std::move(request.sender), std::move(request.senders_reference),
                                            std::move(request.receiver), file_name);
    }

    static asio::awaitable<result<upload_result>> do_upload(client_ptr client, std::string reference,
                                                            std::filesystem::path file) {
        const auto sender = client->config().organization;
        auto up = co_await client->upload(std::move(reference), sender, std::move(file));
        if (!up)
            co_return up.error();
        co_return up->status == altinn2::upload_status::already_uploaded ? upload_result::already_uploaded
                                                                         : upload_result::uploaded;
    }

    static asio::awaitable<result<std::vector<available_file>>> do_poll(client_ptr client, state_ptr state) {
        auto polled = co_await client->poll();
        if (!polled)
            co_return polled.error();
        state->remember(*polled);
        std::vector<available_file> files;
        files.reserve(polled->size());
        for (const auto& f : *polled)
            files.push_back({f.reference, f.senders_reference.value_or(""), f.size, sent_time(f.sent_date),
                             f.sender, f.reportee});
        co_return files;
    }

    static asio::awaitable<result<std::uint64_t>>
    do_download(client_ptr client, state_ptr state, std::string reference, std::filesystem::path to) {
        auto reportee = co_await reportee_of(client, state, reference);
        if (!reportee)
            co_return reportee.error();
        co_return co_await client->download(std::move(reference), std::move(*reportee), std::move(to));
    }

    static asio::awaitable<result<bool>> do_confirm(client_ptr client, state_ptr state,
                                                    std::string reference) {
        auto reportee = co_await reportee_of(client, state, reference);
        if (!reportee)
            co_return reportee.error();
        auto confirmed = co_await client->confirm(reference, std::move(*reportee));
        if (!confirmed)
            co_return confirmed.error();
        state->forget(reference);
        co_return true;
    }

    std::shared_ptr<network_impl> net_;
    client_ptr client_;
    state_ptr state_;
};

} // namespace

result<std::shared_ptr<broker_port>> make_altinn2_broker(std::shared_ptr<network_impl> net,
                                                         const daemon_config& config) {
    const auto& a = *config.broker.altinn2;
    altinn2::client_config c;
    c.broker.basic_url = a.basic_url;
    c.broker.streamed_url = a.streamed_url;
    c.broker.account = {a.system_user, a.system_password};
    c.broker.service = {a.service_code, static_cast<std::int32_t>(a.service_edition)};
    c.organization = config.runner.organization;
    c.reportees = config.broker.reportees;
    if (!config.runner.message_channel.empty())
        c.message_channel = config.runner.message_channel;
    // The runner retries on its own schedule (config.retry) and records each attempt in the
    // message's history: one try per call here.
    c.attempts = 1;
    c.blocking = net->blocking.get_executor();
    auto client = altinn2::broker_client::create(net->http, std::move(c));
    if (!client)
        return make_error(config_errc::invalid, "broker.altinn2: " + client.error().message);
    return std::shared_ptr<broker_port>(
        std::make_shared<altinn2_broker>(net, std::make_shared<altinn2::broker_client>(std::move(*client))));
}

} // namespace kurer::engine::wiring_detail

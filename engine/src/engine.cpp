// The embeddable engine: wiring, runner, and the order they start and stop in.
#include <kurer/dpo/date_time.hpp>
#include <kurer/dpo/sbd.hpp>
#include <kurer/engine/engine.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <condition_variable>
#include <mutex>

namespace kurer::engine {
namespace {

// Defaults and limits the runner does not know about (they come from kurer.json).
result<void> complete(submit_request& request, const daemon_config& config) {
    if (request.process.empty())
        request.process = config.default_process;
    if (request.document_type.empty())
        request.document_type = std::string(dpo::standard::arkivmelding);
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < request.documents.size(); ++i) {
        const auto& d = request.documents[i];
        std::uint64_t size = d.bytes.size();
        if (d.file) {
            std::error_code ec;
            size = std::filesystem::file_size(*d.file, ec);
            if (ec)
                return make_error(errc::invalid_request, "documents[" + std::to_string(i) + "].file: " +
                                                             d.file->string() + ": " + ec.message());
        }
        total += size;
    }
    if (total > config.max_message_bytes)
        return make_error(errc::invalid_request, "documents: " + std::to_string(total) +
                                                     " bytes together, more than limits.max_message_bytes (" +
                                                     std::to_string(config.max_message_bytes) + ")");
    return {};
}

} // namespace

engine::engine(daemon_config config, std::unique_ptr<runner> r, std::shared_ptr<network> net)
    : config_(std::move(config))
    , runner_(std::move(r))
    , network_(std::move(net)) {}

engine::~engine() {
    stop();
}

result<std::unique_ptr<engine>> engine::start(daemon_config config, engine_options options) {
    config.runner.log = logger(config.level, options.log); // options.log empty: stderr
    // SBDs and the admin API write Oslo time: without tzdata, refuse to start rather than guess.
    if (auto zone = dpo::load_oslo_time_zone(); !zone)
        return zone.error();

    struct ports chosen;
    std::shared_ptr<network> net;
    capabilities_lookup capabilities;
    if (options.ports) {
        chosen = std::move(*options.ports);
    } else {
        wiring_options w;
        w.observer = options.observer;
        w.broker = std::move(options.broker);
        auto got = wire(config, std::move(w));
        if (!got)
            return got.error();
        chosen = std::move(got->ports);
        net = std::move(got->network);
        capabilities = std::move(got->capabilities);
    }
    const auto stop_network = [&net] {
        if (net)
            net->stop();
    };

    auto opened = runner::open(config.runner, std::move(chosen));
    if (!opened) {
        stop_network();
        return opened.error();
    }
    if (auto started = (*opened)->start(); !started) {
        (*opened)->stop();
        stop_network();
        return started.error();
    }
    std::unique_ptr<engine> e(new engine(std::move(config), std::move(*opened), std::move(net)));
    e->capabilities_ = std::move(capabilities);
    return e;
}

result<std::unique_ptr<engine>> engine::start(const std::filesystem::path& config_file,
                                              engine_options options) {
    auto config = load_config(config_file);
    if (!config)
        return config.error();
    return start(std::move(*config), std::move(options));
}

void engine::stop() {
    // The runner first: its actions still use the network until they have recorded their results.
    if (runner_)
        runner_->stop();
    if (network_)
        network_->stop();
}

result<submit_result> engine::submit(submit_request request) {
    if (auto ok = complete(request, config_); !ok)
        return ok.error();
    return runner_->submit_blocking(std::move(request));
}

boost::asio::awaitable<result<submit_result>> engine::async_submit(submit_request request) {
    if (auto ok = complete(request, config_); !ok)
        co_return ok.error();
    auto r = co_await runner_->submit(std::move(request));
    co_return r;
}

result<std::optional<outgoing_view>> engine::find(const std::string& id) const {
    return runner_->find_outgoing(id);
}

result<std::optional<incoming_view>> engine::find_incoming(const std::string& reference) const {
    return runner_->find_incoming(reference);
}

result<statemachine::outgoing_state> engine::wait_for(const std::string& id,
                                                      std::function<bool(statemachine::outgoing_state)> done,
                                                      std::chrono::milliseconds timeout) {
    struct shared {
        std::mutex mutex;
        std::condition_variable changed;
        std::uint64_t transitions = 0;
    };
    auto s = std::make_shared<shared>();
    const auto subscription = runner_->subscribe([s, id](const transition_event& e) {
        if (e.kind != storage::record_kind::outgoing || e.id != id)
            return;
        std::lock_guard lock(s->mutex);
        ++s->transitions;
        s->changed.notify_all();
    });
    struct unsubscribe_on_exit {
        runner& r;
        std::uint64_t id;
        ~unsubscribe_on_exit() { r.unsubscribe(id); }
    } guard{*runner_, subscription};

    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::uint64_t seen = 0;
    for (;;) {
        // Read the record after subscribing: a transition between the two is not missed.
        auto found = runner_->find_outgoing(id);
        if (!found)
            return found.error();
        if (!*found)
            return make_error(errc::not_found, "no outgoing message " + id);
        const auto state = (*found)->record.machine.state;
        if (done(state))
            return state;
        std::unique_lock lock(s->mutex);
        if (!s->changed.wait_until(lock, deadline, [&] { return s->transitions != seen; }))
            return state;
        seen = s->transitions;
    }
}

std::uint64_t engine::subscribe(std::function<void(const transition_event&)> callback) {
    return runner_->subscribe(std::move(callback));
}

void engine::unsubscribe(std::uint64_t id) {
    runner_->unsubscribe(id);
}

} // namespace kurer::engine

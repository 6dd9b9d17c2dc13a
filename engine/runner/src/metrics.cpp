// The metrics registry, its Prometheus rendering, the measured ports and the runner feed.
#include <kurer/engine/metrics.hpp>
#include <kurer/engine/runner.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <variant>

namespace kurer::engine {
namespace {

enum family_type { counter_type, gauge_type, histogram_type };

std::string_view type_name(int t) {
    switch (t) {
    case counter_type:
        return "counter";
    case gauge_type:
        return "gauge";
    default:
        return "histogram";
    }
}

bool valid_name(std::string_view name, bool allow_colon) {
    if (name.empty())
        return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool letter =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
        const bool digit = c >= '0' && c <= '9';
        if (!letter && !(digit && i > 0))
            return false;
    }
    return true;
}

void escape_into(std::string& out, std::string_view text, bool quote) {
    for (const char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (quote && c == '"')
            out += "\\\"";
        else
            out += c;
    }
}

// {a="x",b="y"}, or "" without labels; the key that orders and identifies a series.
std::string render_labels(const metric_labels& labels) {
    if (labels.empty())
        return {};
    auto sorted = labels;
    std::sort(sorted.begin(), sorted.end());
    std::string out = "{";
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        if (!valid_name(sorted[i].first, false) || sorted[i].first.starts_with("__"))
            throw std::invalid_argument("metrics: bad label name '" + sorted[i].first + "'");
        if (i > 0) {
            if (sorted[i].first == sorted[i - 1].first)
                throw std::invalid_argument("metrics: label '" + sorted[i].first + "' given twice");
            out += ',';
        }
        out += sorted[i].first;
        out += "=\"";
        escape_into(out, sorted[i].second, true);
        out += '"';
    }
    out += '}';
    return out;
}

// Integers without a fraction, everything else with enough digits to read back exactly.
std::string number(double v) {
    if (std::isnan(v))
        return "NaN";
    if (std::isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    char buf[40];
    if (v == std::floor(v) && std::fabs(v) < 1e15) {
        std::snprintf(buf, sizeof buf, "%.0f", v);
        return buf;
    }
    // The shortest form that reads back as the same double (0.1, not 0.10000000000000001).
    for (int precision = 15; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, v);
        if (std::strtod(buf, nullptr) == v)
            break;
    }
    return buf;
}

// `{a="x"}` plus one more label, for histogram buckets.
std::string with_label(const std::string& labels, std::string_view name, std::string_view value) {
    std::string extra = std::string(name) + "=\"" + std::string(value) + "\"";
    if (labels.empty())
        return "{" + extra + "}";
    return labels.substr(0, labels.size() - 1) + "," + extra + "}";
}

} // namespace

// ---------------------------------------------------------------------------------------------
// histogram_metric

histogram_metric::histogram_metric(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds))
    , buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
    if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
        std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end())
        throw std::invalid_argument("metrics: histogram bounds must be strictly increasing");
    for (std::size_t i = 0; i <= bounds_.size(); ++i)
        buckets_[i].store(0, std::memory_order_relaxed);
}

void histogram_metric::observe(double v) noexcept {
    const auto at =
        static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
    buckets_[at].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
}

void histogram_metric::assign(std::span<const std::uint64_t> counts, double sum) noexcept {
    for (std::size_t i = 0; i <= bounds_.size(); ++i)
        buckets_[i].store(i < counts.size() ? counts[i] : 0, std::memory_order_relaxed);
    sum_.store(sum, std::memory_order_relaxed);
}

std::vector<std::uint64_t> histogram_metric::cumulative_counts() const {
    std::vector<std::uint64_t> out(bounds_.size() + 1);
    std::uint64_t running = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        running += buckets_[i].load(std::memory_order_relaxed);
        out[i] = running;
    }
    return out;
}

std::uint64_t histogram_metric::count() const noexcept {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i)
        n += buckets_[i].load(std::memory_order_relaxed);
    return n;
}

// ---------------------------------------------------------------------------------------------
// the registry

struct metrics::family {
    int type = counter_type;
    std::string help;
    std::vector<double> bounds; // histograms
    // Rendered labels -> series. Exactly one of the three kinds per family.
    std::map<std::string, std::variant<std::unique_ptr<counter_metric>, std::unique_ptr<gauge_metric>,
                                       std::unique_ptr<histogram_metric>>>
        series;
};

metrics::metrics() = default;
metrics::~metrics() = default;

template <class Series, class Make>
Series& metrics::find_or_create(std::string_view name, std::string_view help, const metric_labels& labels,
                                int type, Make make) {
    if (!valid_name(name, true))
        throw std::invalid_argument("metrics: bad metric name '" + std::string(name) + "'");
    auto key = render_labels(labels);
    std::lock_guard lock(mutex_);
    auto it = families_.find(name);
    if (it == families_.end()) {
        auto f = std::make_unique<family>();
        f->type = type;
        f->help = std::string(help);
        it = families_.emplace(std::string(name), std::move(f)).first;
    } else if (it->second->type != type) {
        throw std::invalid_argument("metrics: '" + std::string(name) + "' is a " +
                                    std::string(type_name(it->second->type)) + ", not a " +
                                    std::string(type_name(type)));
    }
    auto& f = *it->second;
    auto s = f.series.find(key);
    if (s == f.series.end())
        s = f.series.emplace(std::move(key), make(f)).first;
    return *std::get<std::unique_ptr<Series>>(s->second);
}

counter_metric& metrics::counter(std::string_view name, std::string_view help, const metric_labels& labels) {
    return find_or_create<counter_metric>(name, help, labels, counter_type,
                                          [](family&) { return std::make_unique<counter_metric>(); });
}

gauge_metric& metrics::gauge(std::string_view name, std::string_view help, const metric_labels& labels) {
    return find_or_create<gauge_metric>(name, help, labels, gauge_type,
                                        [](family&) { return std::make_unique<gauge_metric>(); });
}

histogram_metric& metrics::histogram(std::string_view name, std::string_view help,
                                     const metric_labels& labels, std::span<const double> upper_bounds) {
    return find_or_create<histogram_metric>(name, help, labels, histogram_type, [&](family& f) {
        // A family shares one set of bounds: the first series decides it.
        if (f.series.empty())
            f.bounds.assign(upper_bounds.begin(), upper_bounds.end());
        return std::make_unique<histogram_metric>(f.bounds);
    });
}

std::uint64_t metrics::add_collector(collector c) {
    std::lock_guard lock(collectors_mutex_);
    const auto id = next_collector_++;
    collectors_.emplace(id, std::move(c));
    return id;
}

void metrics::remove_collector(std::uint64_t id) {
    std::lock_guard lock(collectors_mutex_);
    collectors_.erase(id);
}

std::string metrics::render() const {
    {
        // Held while collectors run, so a collector is never removed (and its owner destroyed)
        // in the middle of its call.
        std::lock_guard lock(collectors_mutex_);
        for (const auto& [id, c] : collectors_)
            c(const_cast<metrics&>(*this));
    }
    std::string out;
    std::lock_guard lock(mutex_);
    for (const auto& [name, f] : families_) {
        out += "# HELP " + name + " ";
        escape_into(out, f->help, false);
        out += "\n# TYPE " + name + " " + std::string(type_name(f->type)) + "\n";
        for (const auto& [labels, series] : f->series) {
            if (const auto* c = std::get_if<std::unique_ptr<counter_metric>>(&series)) {
                out += name + labels + " " + number((*c)->value()) + "\n";
            } else if (const auto* g = std::get_if<std::unique_ptr<gauge_metric>>(&series)) {
                out += name + labels + " " + number((*g)->value()) + "\n";
            } else {
                const auto& h = *std::get<std::unique_ptr<histogram_metric>>(series);
                const auto counts = h.cumulative_counts();
                for (std::size_t i = 0; i < h.upper_bounds().size(); ++i)
                    out += name + "_bucket" + with_label(labels, "le", number(h.upper_bounds()[i])) + " " +
                           number(static_cast<double>(counts[i])) + "\n";
                out += name + "_bucket" + with_label(labels, "le", "+Inf") + " " +
                       number(static_cast<double>(counts.back())) + "\n";
                out += name + "_sum" + labels + " " + number(h.sum()) + "\n";
                out += name + "_count" + labels + " " + number(static_cast<double>(counts.back())) + "\n";
            }
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// measured ports

namespace {

constexpr std::string_view duration_name = "kurer_adapter_duration_seconds";
constexpr std::string_view duration_help =
    "Time spent in each call to an outside party or the packer, by outcome.";
constexpr std::string_view bytes_name = "kurer_adapter_bytes_total";
constexpr std::string_view bytes_help = "Package bytes packed, uploaded, downloaded and opened.";

class meter {
public:
    meter(metrics& m, std::string adapter, std::string operation)
        : m_(m)
        , adapter_(std::move(adapter))
        , operation_(std::move(operation))
        , start_(std::chrono::steady_clock::now()) {}

    template <class T>
    void done(const result<T>& r) {
        finish(r ? "ok" : r.error().retryable ? "retryable" : "permanent");
    }
    void failed() { finish("exception"); }
    void bytes(std::uint64_t n) {
        m_.counter(bytes_name, bytes_help, {{"adapter", adapter_}, {"operation", operation_}})
            .inc(static_cast<double>(n));
    }

private:
    void finish(std::string_view outcome) {
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start_;
        m_.histogram(duration_name, duration_help,
                     {{"adapter", adapter_}, {"operation", operation_}, {"outcome", std::string(outcome)}})
            .observe(took.count());
    }

    metrics& m_;
    std::string adapter_;
    std::string operation_;
    std::chrono::steady_clock::time_point start_;
};

std::uint64_t size_of(const std::filesystem::path& p) {
    std::error_code ec;
    const auto n = std::filesystem::file_size(p, ec);
    return ec ? 0 : n;
}

// Awaits `op`, recording its duration and outcome under (adapter, operation).
template <class T>
task<T> measured(metrics* m, std::string adapter, std::string operation, task<T> op) {
    meter timing(*m, std::move(adapter), std::move(operation));
    std::optional<result<T>> r;
    try {
        r.emplace(co_await std::move(op));
    } catch (...) {
        timing.failed();
        throw;
    }
    timing.done(*r);
    co_return std::move(*r);
}

class measured_token final : public token_port {
public:
    measured_token(std::shared_ptr<token_port> inner, metrics& m)
        : inner_(std::move(inner))
        , m_(&m) {}
    task<access_token> get_token(std::vector<std::string> scopes) override {
        auto op = inner_->get_token(std::move(scopes));
        co_return co_await measured(m_, "maskinporten", "get_token", std::move(op));
    }

private:
    std::shared_ptr<token_port> inner_;
    metrics* m_;
};

class measured_resolver final : public resolver_port {
public:
    measured_resolver(std::shared_ptr<resolver_port> inner, metrics& m)
        : inner_(std::move(inner))
        , m_(&m) {}
    task<service_record> resolve(std::string receiver, std::string process,
                                 std::string document_type) override {
        auto op = inner_->resolve(std::move(receiver), std::move(process), std::move(document_type));
        co_return co_await measured(m_, "service_registry", "resolve", std::move(op));
    }

private:
    std::shared_ptr<resolver_port> inner_;
    metrics* m_;
};

class measured_packer final : public packer_port {
public:
    measured_packer(std::shared_ptr<packer_port> inner, metrics& m)
        : inner_(std::move(inner))
        , m_(&m) {}

    result<package_info> pack(const outgoing_message& message, const std::vector<document>& documents,
                              std::string_view receiver_certificate_pem,
                              const std::filesystem::path& out) override {
        return run("pack", [&] { return inner_->pack(message, documents, receiver_certificate_pem, out); });
    }
    result<package_info> pack_status(std::string_view original_sbd, statemachine::eformidling_status status,
                                     const std::filesystem::path& out) override {
        return run("pack_status", [&] { return inner_->pack_status(original_sbd, status, out); });
    }
    result<opened_package> open(const std::filesystem::path& package,
                                const std::filesystem::path& payload_out, time_point uploaded) override {
        meter timing(*m_, "packer", "open");
        try {
            auto r = inner_->open(package, payload_out, uploaded);
            timing.done(r);
            if (r)
                timing.bytes(size_of(package));
            return r;
        } catch (...) {
            timing.failed();
            throw;
        }
    }

    std::string_view rejection_of(const error& e) const override { return inner_->rejection_of(e); }

private:
    template <class F>
    result<package_info> run(std::string operation, F f) {
        meter timing(*m_, "packer", std::move(operation));
        try {
            auto r = f();
            timing.done(r);
            if (r)
                timing.bytes(r->size);
            return r;
        } catch (...) {
            timing.failed();
            throw;
        }
    }

    std::shared_ptr<packer_port> inner_;
    metrics* m_;
};

class measured_broker final : public broker_port {
public:
    measured_broker(std::shared_ptr<broker_port> inner, metrics& m)
        : inner_(std::move(inner))
        , m_(&m) {}

    task<std::string> initiate(transfer_request request) override {
        auto op = inner_->initiate(std::move(request));
        co_return co_await measured(m_, "broker", "initiate", std::move(op));
    }
    task<upload_result> upload(std::string reference, std::filesystem::path file) override {
        const auto bytes = size_of(file);
        auto op = inner_->upload(std::move(reference), file);
        auto r = co_await measured(m_, "broker", "upload", std::move(op));
        if (r && *r == upload_result::uploaded)
            m_->counter(bytes_name, bytes_help, {{"adapter", "broker"}, {"operation", "upload"}})
                .inc(static_cast<double>(bytes));
        co_return r;
    }
    task<std::vector<available_file>> list_available() override {
        auto op = inner_->list_available();
        co_return co_await measured(m_, "broker", "list_available", std::move(op));
    }
    task<void> download(std::string reference, std::filesystem::path to) override {
        auto op = inner_->download(std::move(reference), to);
        auto r = co_await measured(m_, "broker", "download", std::move(op));
        if (r)
            m_->counter(bytes_name, bytes_help, {{"adapter", "broker"}, {"operation", "download"}})
                .inc(static_cast<double>(size_of(to)));
        co_return r;
    }
    task<void> confirm(std::string reference) override {
        auto op = inner_->confirm(std::move(reference));
        co_return co_await measured(m_, "broker", "confirm", std::move(op));
    }

private:
    std::shared_ptr<broker_port> inner_;
    metrics* m_;
};

} // namespace

ports instrument(ports p, metrics& m) {
    ports out;
    if (p.token)
        out.token = std::make_shared<measured_token>(std::move(p.token), m);
    if (p.resolver)
        out.resolver = std::make_shared<measured_resolver>(std::move(p.resolver), m);
    if (p.packer)
        out.packer = std::make_shared<measured_packer>(std::move(p.packer), m);
    if (p.broker)
        out.broker = std::make_shared<measured_broker>(std::move(p.broker), m);
    return out;
}

// ---------------------------------------------------------------------------------------------
// the runner feed

namespace {

std::string_view direction_of(storage::record_kind k) {
    return k == storage::record_kind::outgoing ? "outgoing" : "incoming";
}

std::string state_name(storage::record_kind k, std::uint8_t s) {
    if (k == storage::record_kind::outgoing)
        return std::string(statemachine::to_string(static_cast<statemachine::outgoing_state>(s)));
    return std::string(statemachine::to_string(static_cast<statemachine::incoming_state>(s)));
}

// Group sizes as the committer counts them: 1, 2-3, 4-7, ..., 2^14..2^15-1, then 2^15 and more.
std::vector<double> commit_group_bounds() {
    std::vector<double> b;
    for (int i = 1; i <= 15; ++i)
        b.push_back(static_cast<double>((1u << i) - 1));
    return b;
}

} // namespace

runner_metrics::runner_metrics(runner& r, metrics& m)
    : runner_(r)
    , metrics_(m) {
    metrics* reg = &m;
    subscription_ = r.subscribe([reg](const transition_event& e) {
        const std::string direction(direction_of(e.kind));
        reg->counter("kurer_transitions_total", "Durable transitions, by the event that caused them.",
                     {{"direction", direction}, {"event", e.event}})
            .inc();
        if (e.event == "retryable_failure")
            reg->counter("kurer_retries_total", "Actions that failed retryably and will be tried again.",
                         {{"direction", direction}, {"state", state_name(e.kind, e.from)}})
                .inc();
        if (e.from != e.to || e.seq == 0)
            reg->counter("kurer_state_entered_total", "Messages that entered each state.",
                         {{"direction", direction}, {"state", state_name(e.kind, e.to)}})
                .inc();
        if (!e.rejection.empty())
            reg->counter("kurer_incoming_rejected_total",
                         "Incoming packages refused (never queued, no receipts sent), by why.",
                         {{"reason", e.rejection}})
                .inc();
    });
    runner* run = &r;
    collector_ = m.add_collector([run](metrics& reg) {
        const auto s = run->stats();
        reg.gauge("kurer_actors", "Messages with an actor in memory.", {{"direction", "outgoing"}})
            .set(static_cast<double>(s.live_outgoing));
        reg.gauge("kurer_actors", "Messages with an actor in memory.", {{"direction", "incoming"}})
            .set(static_cast<double>(s.live_incoming));
        reg.gauge("kurer_actions_in_flight", "Actions running now (bounded by max_in_flight).")
            .set(static_cast<double>(s.in_flight));
        reg.gauge("kurer_actions_waiting", "Actions waiting for a slot.")
            .set(static_cast<double>(s.waiting_for_slot));
        reg.gauge("kurer_sending_paused", "1 while sending is paused.").set(run->sending_paused() ? 1 : 0);
        reg.counter("kurer_commit_writes_total", "Synced RocksDB writes of the group committer.")
            .advance_to(static_cast<double>(s.commits.writes));
        reg.counter("kurer_commit_batches_total", "Transitions committed by those writes.")
            .advance_to(static_cast<double>(s.commits.batches));
        static const auto bounds = commit_group_bounds();
        reg.histogram("kurer_commit_group_size", "Transitions made durable by one synced write.", {}, bounds)
            .assign(s.commits.group_sizes, static_cast<double>(s.commits.batches));
        // Messages in each state that is not finished (the store's live index: cheap).
        for (const auto state : statemachine::all_outgoing_states) {
            if (statemachine::is_terminal(state))
                continue;
            auto ids = run->list_outgoing(state);
            reg.gauge("kurer_messages", "Messages not yet finished, by state.",
                      {{"direction", "outgoing"}, {"state", std::string(statemachine::to_string(state))}})
                .set(ids ? static_cast<double>(ids->size()) : 0.0);
        }
        for (const auto state : statemachine::all_incoming_states) {
            if (statemachine::is_terminal(state))
                continue;
            auto ids = run->list_incoming(state);
            reg.gauge("kurer_messages", "Messages not yet finished, by state.",
                      {{"direction", "incoming"}, {"state", std::string(statemachine::to_string(state))}})
                .set(ids ? static_cast<double>(ids->size()) : 0.0);
        }
    });
}

runner_metrics::~runner_metrics() {
    runner_.unsubscribe(subscription_);
    metrics_.remove_collector(collector_);
}

} // namespace kurer::engine

#include "events.hpp"
#include "internal.hpp"

#include <boost/json/serialize.hpp>

namespace kurer::engine::admin {

std::string event_line(const transition_event& e) {
    const bool outgoing = e.kind == storage::record_kind::outgoing;
    const auto state = [&](std::uint8_t s) {
        return outgoing ? std::string(sm::to_string(static_cast<sm::outgoing_state>(s)))
                        : std::string(sm::to_string(static_cast<sm::incoming_state>(s)));
    };
    json::array statuses;
    for (const auto& s : e.statuses)
        statuses.push_back(json::object{{"status", sm::to_string(s.status)}, {"implied", s.implied}});
    json::object o{{"type", "transition"},
                   {"time", api_time(e.time)},
                   {"direction", outgoing ? "outgoing" : "incoming"},
                   {"id", e.id},
                   {"messageId", e.message_id},
                   {"seq", e.seq},
                   {"from", state(e.from)},
                   {"to", state(e.to)},
                   {"event", e.event},
                   {"attempt", e.attempt},
                   {"detail", e.detail},
                   {"statuses", std::move(statuses)}};
    return json::serialize(o) + "\n";
}

event_client::event_client(const asio::any_io_executor& executor, std::size_t limit, std::string message_id)
    : doorbell_(executor, 1)
    , limit_(limit)
    , message_id_(std::move(message_id)) {}

void event_client::ring() {
    doorbell_.try_send(boost::system::error_code{}); // full: it is ringing already
}

bool event_client::offer(const transition_event& e, const std::string& line) {
    if (!message_id_.empty() && e.message_id != message_id_ && e.id != message_id_)
        return false;
    bool dropped_now = false;
    {
        std::lock_guard lock(mutex_);
        if (dropped_ || closed_)
            return false;
        if (limit_ != 0 && pending_.size() + line.size() > limit_) {
            dropped_ = true;
            dropped_now = true;
            pending_.clear();
            pending_.shrink_to_fit();
        } else {
            pending_ += line;
        }
    }
    ring();
    return dropped_now;
}

void event_client::close() {
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
    }
    ring();
}

event_client::batch event_client::take() {
    std::lock_guard lock(mutex_);
    batch b;
    b.bytes.swap(pending_);
    b.dropped = dropped_;
    b.closed = closed_;
    return b;
}

event_hub::~event_hub() {
    detach();
}

void event_hub::attach(runner& r, std::shared_ptr<const void> owner, std::function<void()> on_drop) {
    if (runner_)
        return;
    runner_ = &r;
    on_drop_ = std::move(on_drop);
    subscription_ = r.subscribe([this, owner = std::move(owner)](const transition_event& e) { publish(e); });
}

void event_hub::detach() {
    if (runner_) {
        runner_->unsubscribe(subscription_);
        runner_ = nullptr;
    }
}

bool event_hub::add(const std::shared_ptr<event_client>& c, std::size_t limit) {
    std::lock_guard lock(mutex_);
    if (limit != 0 && clients_.size() >= limit)
        return false;
    clients_.push_back(c);
    return true;
}

void event_hub::remove(const std::shared_ptr<event_client>& c) {
    std::lock_guard lock(mutex_);
    std::erase(clients_, c);
}

void event_hub::close_all() {
    std::vector<std::shared_ptr<event_client>> all;
    {
        std::lock_guard lock(mutex_);
        all = clients_;
    }
    for (auto& c : all)
        c->close();
}

std::size_t event_hub::clients() const {
    std::lock_guard lock(mutex_);
    return clients_.size();
}

void event_hub::publish(const transition_event& e) {
    std::vector<std::shared_ptr<event_client>> all;
    {
        std::lock_guard lock(mutex_);
        if (clients_.empty())
            return;
        all = clients_;
    }
    const auto line = event_line(e);
    for (auto& c : all)
        if (c->offer(e, line) && on_drop_)
            on_drop_();
}

} // namespace kurer::engine::admin

// The one driver: it runs any message machine. Internal to the runner.
//
// A message in memory is an actor: its record, a strand, a timer that is both its sleep and its
// wake-up, the outside events queued for it, and one coroutine that asks the machine what to do
// next (sm::next_step: perform, fire a timer event, wait, finish) and does it. Every change goes
// through apply(): the machine decides (sm::decide), the transition is staged with its history
// entry and committed, and only then does memory change and the next step start. A new record is
// its machine's first transition (create()).
//
// What differs between the directions is a Traits type (outgoing_traits, incoming_traits in
// runtime.hpp): the record, its control facts, the step rule's extra inputs, the side effects of
// each action (perform) and the files of a finished message.
#pragma once

#include "runtime.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>

namespace kurer::engine {

std::string join_detail(std::string_view a, std::string_view b);

template <class Traits>
void actor<Traits>::ensure_running() {
    if (running || rt.stopping)
        return;
    running = true;
    rt.spawn(std::static_pointer_cast<actor>(shared_from_this()));
}

template <class Traits>
bool actor<Traits>::try_retire() {
    std::lock_guard lock(rt.actors_mutex);
    if (!inbox.empty())
        return false;
    auto& live = rt.actors<Traits>();
    if (auto it = live.find(id); it != live.end() && it->second.get() == this)
        live.erase(it);
    retired = true;
    return true;
}

template <class Traits>
sm::control actor<Traits>::control() const {
    auto c = Traits::control_of(record);
    c.not_before = not_before;
    return c;
}

template <class Traits>
asio::awaitable<void> actor<Traits>::run(std::shared_ptr<actor> self) {
    struct on_exit {
        actor& a;
        ~on_exit() {
            a.running = false;
            a.release_slot();
            a.drop_ticket();
            while (!a.inbox.empty()) {
                auto env = std::move(a.inbox.front());
                a.inbox.pop_front();
                env.done(make_error(errc::stopping, "the engine is stopping; the event was not applied"));
            }
        }
    } guard{*self};
    runtime& rt = self->rt;
    const auto far = [] {
        return now_ms() + std::chrono::hours(24);
    };

    for (;;) {
        if (!self->inbox.empty()) {
            auto env = std::move(self->inbox.front());
            self->inbox.pop_front();
            auto applied =
                co_await self->apply(std::move(env.event), std::move(env.detail), std::move(env.mutate));
            env.done(std::move(applied));
            continue;
        }
        if (rt.stopping)
            co_return; // parked: recovery resumes it at the recorded action
        const auto now = now_ms();
        const auto control = self->control();
        const auto step = Traits::next_step(rt, self->record, control, now);
        using kind = typename decltype(step)::kind;
        if (step.what != kind::perform) {
            self->release_slot();
            self->drop_ticket();
        }
        switch (step.what) {
        case kind::finish:
            if (self->try_retire())
                co_return;
            break;
        case kind::wait: {
            const auto until = step.until.value_or(far());
            co_await self->sleep_until(until);
            break;
        }
        case kind::fire: {
            auto why = timer_detail(step.timer, control);
            auto timer = step.timer;
            auto fired = co_await self->apply(std::move(timer), std::move(why), {});
            if (!fired) {
                const auto until = now + rt.backoff(1);
                co_await self->sleep_until(until);
            }
            break;
        }
        case kind::perform:
            if (step.needs_slot && !self->want_slot()) {
                // Poked when the slot is granted; the deadline still ends the wait.
                const auto until = control.deadline.value_or(far());
                co_await self->sleep_until(until);
                break;
            }
            co_await Traits::perform(*self, step.act);
            self->release_slot();
            break;
        }
    }
}

template <class Traits>
asio::awaitable<result<sm::verdict>> actor<Traits>::apply(event_type event, std::string detail,
                                                          mutation mutate, storage::write_batch* extra) {
    auto next = record;
    if (mutate)
        mutate(next);
    const auto ctx = rt.context();
    auto c = Traits::control_of(next);
    c.not_before = not_before;
    const auto t = sm::decide(record.machine, c, event, ctx);
    if (t.verdict != sm::verdict::accepted) {
        rt.log(t.verdict == sm::verdict::rejected ? log_level::warning : log_level::debug,
               t.verdict == sm::verdict::rejected ? "event rejected" : "event ignored",
               {{Traits::id_key, id},
                {"event", t.event},
                {"state", sm::to_string(record.machine.state)},
                {"why", t.note}});
        co_return t.verdict;
    }
    next.machine = t.after;
    Traits::set_control(next, t.control);
    next.updated = ctx.now;
    if (t.control.lock_until && t.control.lock_until != c.lock_until)
        detail = join_detail(detail, "locked until " + format_time(*t.control.lock_until));
    storage::history_entry entry{next.history_size++,
                                 ctx.now,
                                 static_cast<std::uint8_t>(t.before.state),
                                 static_cast<std::uint8_t>(t.after.state),
                                 std::string(t.event),
                                 t.control.attempt,
                                 join_detail(detail, t.note),
                                 {t.statuses.begin(), t.statuses.end()}};
    storage::write_batch batch;
    if (extra != nullptr)
        batch = std::move(*extra);
    storage::store::stage(batch, &record, next, &entry);
    auto committed = co_await rt.store->commit(std::move(batch), asio::use_awaitable);
    if (!committed) {
        rt.log(log_level::error, "cannot record a transition",
               {{Traits::id_key, id}, {"event", t.event}, {"error", committed.error().describe()}});
        co_return committed.error();
    }
    const bool finishes = sm::is_finished(next.machine) && !sm::is_finished(record.machine);
    record = std::move(next);
    not_before = t.control.not_before;
    rt.announce<Traits>(record, entry);
    if (finishes && rt.config.remove_finished_files)
        Traits::finished(rt, record);
    co_return sm::verdict::accepted;
}

template <class Traits>
void actor<Traits>::record_outcome(const result<sm::verdict>& applied) {
    // The result of an action that could not be recorded is produced again after a backoff.
    if (!applied)
        not_before = now_ms() + rt.backoff(control().attempt + 1);
}

template <class Traits>
asio::awaitable<void> actor<Traits>::fail(sm::action a, error e) {
    rt.log(e.retryable ? log_level::info : log_level::warning, "action failed",
           {{Traits::id_key, id}, {"action", sm::to_string(a)}, {"error", e.describe()}});
    auto text = e.describe();
    mutation remember = [text](record_type& r) {
        r.last_error = text;
    };
    event_type failure = e.retryable ? Traits::retryable_failure() : Traits::permanent_failure();
    auto applied = co_await apply(std::move(failure), std::move(text), std::move(remember));
    record_outcome(applied);
}

// ---- the runtime's generic parts

template <class Traits>
void runtime::spawn(std::shared_ptr<actor<Traits>> a) {
    coroutine_started();
    // The completion handler keeps the actor, and with it the cancellation signal the coroutine
    // is bound to, alive until co_spawn is completely done with that signal: the coroutine's own
    // frame (which also holds the actor) is gone before co_spawn's last resumption clears the slot.
    auto& slot_source = a->cancel;
    auto job = actor<Traits>::run(a);
    asio::co_spawn(a->strand, std::move(job),
                   asio::bind_cancellation_slot(slot_source.slot(), [this, keep = a](std::exception_ptr e) {
                       coroutine_finished(std::string(Traits::name) + " " + keep->id, e);
                   }));
}

template <class Traits>
asio::awaitable<result<std::shared_ptr<actor<Traits>>>> runtime::actor_for(const std::string& id) {
    {
        std::lock_guard lock(actors_mutex);
        auto& live = actors<Traits>();
        if (auto it = live.find(id); it != live.end())
            co_return it->second;
    }
    // Read on the reader pool, outside the lock; a racing lookup that loaded it first wins.
    auto load = [id](const storage::store& s) {
        return Traits::load(s, id);
    };
    auto rec = co_await read_async(std::move(load));
    if (!rec)
        co_return rec.error();
    if (!*rec)
        co_return make_error(errc::not_found, "no " + std::string(Traits::name) + " message " + id);
    auto a = std::make_shared<actor<Traits>>(*this, std::move(**rec));
    std::lock_guard lock(actors_mutex);
    co_return actors<Traits>().try_emplace(id, std::move(a)).first->second;
}

template <class Traits>
asio::awaitable<result<sm::verdict>> runtime::deliver(std::string id, typename Traits::event event,
                                                      std::string detail,
                                                      std::function<void(typename Traits::record&)> mutate) {
    using answer = std::optional<result<sm::verdict>>;
    // An actor that retired between the lookup and the hand-over sends the event back: look again.
    for (int round = 0; round < 16; ++round) {
        if (stopping)
            co_return make_error(errc::stopping, "the engine is stopping");
        auto found = co_await actor_for<Traits>(id);
        if (!found)
            co_return found.error();
        auto initiation = [this](auto handler, std::shared_ptr<actor<Traits>> a, typename Traits::event e,
                                 std::string d, std::function<void(typename Traits::record&)> m) {
            auto done = posting(std::move(handler));
            asio::post(a->strand, [this, a, e = std::move(e), d = std::move(d), m = std::move(m),
                                   done = std::move(done)]() mutable {
                if (a->retired)
                    return done(answer());
                if (stopping)
                    return done(answer(make_error(errc::stopping, "the engine is stopping")));
                a->inbox.push_back({std::move(e), std::move(d), std::move(m),
                                    [done = std::move(done)](result<sm::verdict> r) mutable {
                                        done(answer(std::move(r)));
                                    }});
                a->ensure_running();
                a->poke();
            });
        };
        auto target = *found;
        auto e = event;
        auto d = detail;
        auto m = mutate;
        auto got = co_await asio::async_initiate<const asio::use_awaitable_t<>, void(answer)>(
            std::move(initiation), asio::use_awaitable, std::move(target), std::move(e), std::move(d),
            std::move(m));
        if (got)
            co_return std::move(*got);
    }
    co_return make_error(errc::stopping, std::string(Traits::name) + " message " + id +
                                             " kept retiring while an event was handed to it");
}

template <class Traits>
storage::history_entry runtime::stage_new(storage::write_batch& batch, typename Traits::record& r,
                                          const sm::transition<typename Traits::snapshot>& t,
                                          std::string detail) {
    r.machine = t.after;
    Traits::set_control(r, t.control);
    storage::history_entry entry{r.history_size++,
                                 r.updated,
                                 static_cast<std::uint8_t>(t.before.state),
                                 static_cast<std::uint8_t>(t.after.state),
                                 std::string(t.event),
                                 0,
                                 std::move(detail),
                                 {t.statuses.begin(), t.statuses.end()}};
    storage::store::stage(batch, nullptr, r, &entry);
    return entry;
}

template <class Traits>
void runtime::launch(typename Traits::record r, const storage::history_entry& first) {
    announce<Traits>(r, first);
    auto a = std::make_shared<actor<Traits>>(*this, std::move(r));
    {
        std::lock_guard lock(actors_mutex);
        auto [it, fresh] = actors<Traits>().try_emplace(a->id, a);
        if (!fresh)
            a = it->second;
    }
    asio::post(a->strand, [a] { a->ensure_running(); });
}

template <class Traits>
void runtime::announce(const typename Traits::record& r, const storage::history_entry& e) {
    ++transitions;
    notify({Traits::kind, Traits::id(r), r.message_id, e.seq, e.from, e.to, e.event, e.attempt, e.detail,
            e.statuses, e.time, Traits::rejection_of(r, e)});
}

} // namespace kurer::engine

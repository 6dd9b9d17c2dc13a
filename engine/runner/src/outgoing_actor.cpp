// One outgoing message: "persist the transition, then perform the next action", until finished.
#include "runtime.hpp"

#include <kurer/core/files.hpp>
#include <kurer/storage/kill_point.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>

namespace kurer::engine {
namespace {

namespace ev = sm::out_event;

std::string kill_point_name(std::string_view when, sm::action a) {
    return std::string(when) + "." + std::string(sm::to_string(a));
}

// Actions paused by pause_sending(): everything that leads to an upload.
bool is_sending(sm::action a) noexcept {
    return a == sm::action::authorize || a == sm::action::resolve || a == sm::action::pack ||
           a == sm::action::initiate_upload || a == sm::action::upload;
}

std::string join(std::string_view a, std::string_view b) {
    if (a.empty())
        return std::string(b);
    if (b.empty())
        return std::string(a);
    return std::string(a) + "; " + std::string(b);
}

outgoing_message message_of(const storage::outgoing_record& r) {
    return {r.message_id,    r.conversation_id, r.sender,   r.receiver,         r.process,
            r.document_type, r.message_channel, r.deadline, r.business_message, r.senders_reference};
}

} // namespace

outgoing_actor::outgoing_actor(runtime& r, storage::outgoing_record rec)
    : actor_base(r, rec.id)
    , record(std::move(rec)) {}

void outgoing_actor::ensure_running() {
    if (running || rt.stopping)
        return;
    running = true;
    rt.spawn_outgoing(std::static_pointer_cast<outgoing_actor>(shared_from_this()));
}

bool outgoing_actor::try_retire() {
    std::lock_guard lock(rt.actors_mutex);
    if (!inbox.empty())
        return false;
    if (auto it = rt.outgoing.find(id); it != rt.outgoing.end() && it->second.get() == this)
        rt.outgoing.erase(it);
    retired = true;
    return true;
}

asio::awaitable<void> outgoing_actor::run(std::shared_ptr<outgoing_actor> self) {
    struct on_exit {
        outgoing_actor& a;
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
        const auto act = sm::next_action(self->record.machine);
        if (sm::is_waiting(act)) {
            self->release_slot();
            self->drop_ticket();
        }
        if (act == sm::action::none) {
            if (self->try_retire())
                co_return;
            continue;
        }
        const auto now = now_ms();
        if (now >= self->record.deadline) {
            std::string why = "the deadline " + format_time(self->record.deadline) + " passed";
            outgoing_mutation none;
            auto expired = co_await self->apply(ev::deadline_passed{}, std::move(why), std::move(none));
            if (!expired)
                co_await self->sleep_until(now + rt.backoff(1));
            continue;
        }
        if (act == sm::action::await_receipts) {
            co_await self->sleep_until(self->record.deadline);
            continue;
        }
        if (self->not_before && now < *self->not_before) {
            co_await self->sleep_until(std::min(*self->not_before, self->record.deadline));
            continue;
        }
        if (rt.paused && is_sending(act)) {
            self->drop_ticket();
            co_await self->sleep_until(self->record.deadline);
            continue;
        }
        if (!self->want_slot()) {
            co_await self->sleep_until(self->record.deadline);
            continue;
        }
        co_await self->perform(act);
    }
}

asio::awaitable<result<sm::verdict>>
outgoing_actor::apply(sm::outgoing_event event, std::string detail,
                      std::function<void(storage::outgoing_record&)> mutate) {
    sm::outgoing_machine machine(record.machine);
    const auto o = machine.handle(event);
    if (o.verdict != sm::verdict::accepted) {
        rt.log(o.verdict == sm::verdict::rejected ? log_level::warning : log_level::debug,
               o.verdict == sm::verdict::rejected ? "event rejected" : "event ignored",
               {{"id", id},
                {"event", sm::event_name(event)},
                {"state", sm::to_string(record.machine.state)},
                {"why", o.note}});
        co_return o.verdict;
    }
    auto next = record;
    if (mutate)
        mutate(next);
    next.machine = o.after;
    const auto now = now_ms();
    next.updated = now;
    const bool moved = o.after.state != record.machine.state;
    next.attempt = o.retry ? record.attempt + 1 : (moved ? 0 : record.attempt);
    storage::history_entry entry{next.history_size++,
                                 now,
                                 static_cast<std::uint8_t>(record.machine.state),
                                 static_cast<std::uint8_t>(o.after.state),
                                 std::string(sm::event_name(event)),
                                 next.attempt,
                                 join(detail, o.note),
                                 {o.statuses.begin(), o.statuses.end()}};
    storage::write_batch batch;
    storage::store::stage(batch, &record, next, &entry);
    auto committed = co_await rt.store->commit(std::move(batch), asio::use_awaitable);
    if (!committed) {
        rt.log(log_level::error, "cannot record a transition",
               {{"id", id}, {"event", sm::event_name(event)}, {"error", committed.error().describe()}});
        co_return committed.error();
    }
    const bool finishes = sm::is_finished(next.machine) && !sm::is_finished(record.machine);
    record = std::move(next);
    ++rt.transitions;
    not_before = o.retry ? std::optional(now + rt.backoff(record.attempt)) : std::nullopt;
    rt.notify({storage::record_kind::outgoing, id, record.message_id, entry.seq, entry.from, entry.to,
               entry.event, entry.attempt, entry.detail, entry.statuses, now});
    if (finishes && rt.config.remove_finished_files) {
        // A Failed message the broker never had may be retried: keep its documents for that.
        const bool may_retry = record.machine.state == sm::outgoing_state::failed &&
                               !record.machine.recorded.contains(sm::eformidling_status::sendt);
        std::error_code ignored;
        if (!record.package.path.empty())
            std::filesystem::remove(rt.store->absolute(record.package), ignored);
        if (!may_retry)
            rt.store->remove_outgoing_files(record);
    }
    co_return sm::verdict::accepted;
}

asio::awaitable<void> outgoing_actor::fail(sm::action a, error e) {
    rt.log(e.retryable ? log_level::info : log_level::warning, "action failed",
           {{"id", id}, {"action", sm::to_string(a)}, {"error", e.describe()}});
    auto text = e.describe();
    outgoing_mutation remember = [text](storage::outgoing_record& r) {
        r.last_error = text;
    };
    const sm::outgoing_event failure = e.retryable ? sm::outgoing_event{ev::retryable_failure{}}
                                                   : sm::outgoing_event{ev::permanent_failure{}};
    auto applied = co_await apply(failure, std::move(text), std::move(remember));
    if (!applied)
        not_before = now_ms() + rt.backoff(record.attempt + 1);
}

asio::awaitable<void> outgoing_actor::perform(sm::action a) {
    // Every argument of a co_await expression below is a named variable: GCC 12 mishandles
    // temporaries with destructors (capturing lambdas above all) inside co_await expressions.
    storage::kill_point(kill_point_name("before", a));
    sm::outgoing_event event;
    std::string detail;
    outgoing_mutation mutate;

    switch (a) {
    case sm::action::authorize: {
        auto op = rt.ports.token->get_token(rt.config.scopes);
        auto token = co_await guarded(&rt, std::move(op), "get_token");
        release_slot();
        if (!token) {
            co_await fail(a, token.error());
            co_return;
        }
        event = ev::token_obtained{};
        detail = "token valid until " + format_time(token->expires_at);
        break;
    }
    case sm::action::resolve: {
        auto op = rt.ports.resolver->resolve(record.receiver, record.process, record.document_type);
        auto found = co_await guarded(&rt, std::move(op), "resolve");
        release_slot();
        if (!found) {
            co_await fail(a, found.error());
            co_return;
        }
        event = ev::record_resolved{};
        detail = "service " + found->service_identifier;
        mutate = [service = found->service_identifier,
                  certificate = found->receiver_certificate_pem](storage::outgoing_record& r) {
            r.service_identifier = service;
            r.receiver_certificate = certificate;
        };
        break;
    }
    case sm::action::pack: {
        const auto relative = rt.store->outgoing_package_file(record.id);
        const auto path = rt.store->data_dir() / relative;
        std::vector<document> documents;
        for (const auto& d : record.documents)
            documents.push_back({d.name, d.mime_type, d.primary, rt.store->absolute(d.file)});
        auto job = [packer = rt.ports.packer, path, documents = std::move(documents),
                    message = message_of(record), certificate = record.receiver_certificate,
                    kind = record.machine.kind, status = record.status_value,
                    sbd = record.original_sbd]() -> result<package_info> {
            try {
                auto info = kind == sm::outgoing_kind::status
                                ? packer->pack_status(sbd, status, path)
                                : packer->pack(message, documents, certificate, path);
                if (!info)
                    return info;
                // On disk before Packed is recorded: recovery never finds Packed without its file.
                if (auto synced = sync_file_and_directory(path); !synced)
                    return synced.error();
                return info;
            } catch (const std::exception& e) {
                return make_error(make_error_code(boost::system::errc::io_error),
                                  std::string("the packer threw: ") + e.what(), retry::yes);
            }
        };
        auto packed = co_await rt.offload(std::move(job));
        release_slot();
        if (!packed) {
            co_await fail(a, packed.error());
            co_return;
        }
        event = ev::packed{};
        detail = std::to_string(packed->size) + " bytes";
        mutate = [relative, info = *packed](storage::outgoing_record& r) {
            r.package = {relative, info.size, info.sha256};
            r.receiver_certificate.clear(); // needed no more; keeps live records small
        };
        break;
    }
    case sm::action::initiate_upload: {
        transfer_request request{record.sender,
                                 record.receiver,
                                 record.senders_reference,
                                 "sbd.zip",
                                 record.package.size,
                                 record.package.sha256,
                                 rt.store->data_dir() / record.package.path};
        auto op = rt.ports.broker->initiate(std::move(request));
        auto reference = co_await guarded(&rt, std::move(op), "initiate");
        release_slot();
        if (!reference) {
            co_await fail(a, reference.error());
            co_return;
        }
        event = ev::upload_initiated{};
        detail = "broker reference " + *reference;
        mutate = [ref = *reference](storage::outgoing_record& r) {
            r.broker_reference = ref;
        };
        break;
    }
    case sm::action::upload: {
        auto op = rt.ports.broker->upload(record.broker_reference, rt.store->absolute(record.package));
        auto uploaded = co_await guarded(&rt, std::move(op), "upload");
        release_slot();
        if (!uploaded) {
            co_await fail(a, uploaded.error());
            co_return;
        }
        event = ev::uploaded{};
        if (*uploaded == upload_result::already_uploaded)
            detail = "the broker already had the file: a repeat after a crash";
        break;
    }
    default:
        release_slot();
        rt.log(log_level::error, "an outgoing message asked for an action it cannot have",
               {{"id", id}, {"action", sm::to_string(a)}});
        not_before = now_ms() + rt.backoff(1);
        co_return;
    }

    storage::kill_point(kill_point_name("after", a));
    // The result of an action that could not be recorded is simply produced again later.
    auto applied = co_await apply(event, std::move(detail), std::move(mutate));
    if (!applied)
        not_before = now_ms() + rt.backoff(record.attempt + 1);
}

void runtime::spawn_outgoing(std::shared_ptr<outgoing_actor> a) {
    coroutine_started();
    // The completion handler keeps the actor, and with it the cancellation signal the coroutine
    // is bound to, alive until co_spawn is completely done with that signal: the coroutine's own
    // frame (which also holds the actor) is gone before co_spawn's last resumption clears the slot.
    auto& slot_source = a->cancel;
    auto job = outgoing_actor::run(a);
    asio::co_spawn(a->strand, std::move(job),
                   asio::bind_cancellation_slot(slot_source.slot(), [this, keep = a](std::exception_ptr e) {
                       coroutine_finished("outgoing " + keep->id, e);
                   }));
}

result<std::shared_ptr<outgoing_actor>> runtime::outgoing_actor_for(const std::string& id) {
    std::lock_guard lock(actors_mutex);
    if (auto it = outgoing.find(id); it != outgoing.end())
        return it->second;
    auto rec = store->find_outgoing(id);
    if (!rec)
        return rec.error();
    if (!*rec)
        return make_error(errc::not_found, "no outgoing message " + id);
    auto a = std::make_shared<outgoing_actor>(*this, std::move(**rec));
    outgoing.emplace(id, a);
    return a;
}

asio::awaitable<result<sm::verdict>> runtime::deliver(std::string id, sm::outgoing_event event,
                                                      std::string detail,
                                                      std::function<void(storage::outgoing_record&)> mutate) {
    using answer = std::optional<result<sm::verdict>>;
    // An actor that retired between the lookup and the hand-over sends the event back: look again.
    for (int round = 0; round < 16; ++round) {
        if (stopping)
            co_return make_error(errc::stopping, "the engine is stopping");
        auto actor = outgoing_actor_for(id);
        if (!actor)
            co_return actor.error();
        auto initiation = [this](auto handler, std::shared_ptr<outgoing_actor> a, sm::outgoing_event e,
                                 std::string d, std::function<void(storage::outgoing_record&)> m) {
            auto done = posting<void(answer)>(std::move(handler));
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
        auto target = *actor;
        auto e = event;
        auto d = detail;
        auto m = mutate;
        auto got = co_await asio::async_initiate<const asio::use_awaitable_t<>, void(answer)>(
            std::move(initiation), asio::use_awaitable, std::move(target), std::move(e), std::move(d),
            std::move(m));
        if (got)
            co_return std::move(*got);
    }
    co_return make_error(errc::stopping, "message " + id + " kept retiring while an event was handed to it");
}

} // namespace kurer::engine

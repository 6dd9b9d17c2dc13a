// One broker file: download, open, store or route, confirm, queue for the end system, answer
// with MOTTATT and LEVERT. Also the poller that finds the files.
#include "provenance.hpp"
#include "runtime.hpp"

#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/engine/polling.hpp>
#include <kurer/storage/kill_point.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>

namespace kurer::engine {
namespace {

namespace ev = sm::in_event;

std::string kill_point_name(std::string_view when, sm::action a) {
    return std::string(when) + "." + std::string(sm::to_string(a));
}

std::string queue_key(time_point t, std::string_view reference) {
    std::string k;
    const auto v = static_cast<std::uint64_t>(std::max<std::int64_t>(0, t.time_since_epoch().count()));
    for (int i = 7; i >= 0; --i)
        k.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    k.append(reference);
    return k;
}

bool needs_slot(sm::action a) noexcept {
    return a == sm::action::download || a == sm::action::open_package || a == sm::action::confirm_download;
}

} // namespace

incoming_actor::incoming_actor(runtime& r, storage::incoming_record rec)
    : actor_base(r, rec.reference)
    , record(std::move(rec)) {}

void incoming_actor::ensure_running() {
    if (running || rt.stopping)
        return;
    running = true;
    rt.spawn_incoming(std::static_pointer_cast<incoming_actor>(shared_from_this()));
}

bool incoming_actor::try_retire() {
    std::lock_guard lock(rt.actors_mutex);
    if (!inbox.empty())
        return false;
    if (auto it = rt.incoming.find(id); it != rt.incoming.end() && it->second.get() == this)
        rt.incoming.erase(it);
    retired = true;
    return true;
}

asio::awaitable<void> incoming_actor::run(std::shared_ptr<incoming_actor> self) {
    struct on_exit {
        incoming_actor& a;
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
    auto& rec = self->record;

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
            co_return;
        const auto act = sm::next_action(rec.machine);
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
        const auto far = now + std::chrono::hours(24);
        if (rec.deadline && now >= *rec.deadline &&
            sm::incoming_machine(rec.machine).handle(ev::deadline_passed{}).verdict ==
                sm::verdict::accepted) {
            std::string why = "the deadline " + format_time(*rec.deadline) + " passed";
            incoming_mutation unlock = [](storage::incoming_record& r) {
                r.lock_until.reset();
            };
            auto expired = co_await self->apply(ev::deadline_passed{}, std::move(why), std::move(unlock));
            if (!expired)
                co_await self->sleep_until(now + rt.backoff(1));
            continue;
        }
        if (act == sm::action::await_end_system) {
            if (rec.machine.state == sm::incoming_state::locked && rec.lock_until && now >= *rec.lock_until) {
                std::string why = "the end system's lock expired";
                incoming_mutation unlock = [](storage::incoming_record& r) {
                    r.lock_until.reset();
                };
                auto unlocked = co_await self->apply(ev::lock_expired{}, std::move(why), std::move(unlock));
                if (!unlocked)
                    co_await self->sleep_until(now + rt.backoff(1));
                continue;
            }
            auto until = rec.deadline.value_or(far);
            if (rec.machine.state == sm::incoming_state::locked && rec.lock_until)
                until = std::min(until, *rec.lock_until);
            co_await self->sleep_until(until);
            continue;
        }
        if (self->not_before && now < *self->not_before) {
            co_await self->sleep_until(std::min(*self->not_before, rec.deadline.value_or(far)));
            continue;
        }
        if (needs_slot(act) && !self->want_slot()) {
            co_await self->sleep_until(rec.deadline.value_or(far));
            continue;
        }
        co_await self->perform(act);
    }
}

asio::awaitable<result<sm::verdict>> incoming_actor::apply(sm::incoming_event event, std::string detail,
                                                           incoming_mutation mutate,
                                                           storage::write_batch* extra) {
    sm::incoming_machine machine(record.machine);
    const auto o = machine.handle(event);
    if (o.verdict != sm::verdict::accepted) {
        rt.log(o.verdict == sm::verdict::rejected ? log_level::warning : log_level::debug,
               o.verdict == sm::verdict::rejected ? "event rejected" : "event ignored",
               {{"reference", id},
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
    std::string text = std::move(detail);
    if (!o.note.empty())
        text += (text.empty() ? "" : "; ") + std::string(o.note);
    storage::history_entry entry{next.history_size++,
                                 now,
                                 static_cast<std::uint8_t>(record.machine.state),
                                 static_cast<std::uint8_t>(o.after.state),
                                 std::string(sm::event_name(event)),
                                 next.attempt,
                                 std::move(text),
                                 {o.statuses.begin(), o.statuses.end()}};
    storage::write_batch batch;
    if (extra != nullptr)
        batch = std::move(*extra);
    storage::store::stage(batch, &record, next, &entry);
    auto committed = co_await rt.store->commit(std::move(batch), asio::use_awaitable);
    if (!committed) {
        rt.log(
            log_level::error, "cannot record a transition",
            {{"reference", id}, {"event", sm::event_name(event)}, {"error", committed.error().describe()}});
        co_return committed.error();
    }
    const bool finishes = sm::is_finished(next.machine) && !sm::is_finished(record.machine);
    record = std::move(next);
    ++rt.transitions;
    not_before = o.retry ? std::optional(now + rt.backoff(record.attempt)) : std::nullopt;
    rt.notify(
        {storage::record_kind::incoming, id, record.message_id, entry.seq, entry.from, entry.to, entry.event,
         entry.attempt, entry.detail, entry.statuses, now,
         record.machine.state == sm::incoming_state::rejected && moved ? record.rejection : std::string()});
    // A rejected package stays for whoever wants to look at it.
    if (finishes && rt.config.remove_finished_files && record.machine.state != sm::incoming_state::rejected)
        rt.store->remove_incoming_files(record);
    co_return sm::verdict::accepted;
}

asio::awaitable<void> incoming_actor::fail(sm::action a, error e) {
    rt.log(e.retryable ? log_level::info : log_level::warning, "action failed",
           {{"reference", id}, {"action", sm::to_string(a)}, {"error", e.describe()}});
    auto text = e.describe();
    incoming_mutation remember = [text](storage::incoming_record& r) {
        r.last_error = text;
    };
    const sm::incoming_event failure = e.retryable ? sm::incoming_event{ev::retryable_failure{}}
                                                   : sm::incoming_event{ev::permanent_failure{}};
    auto applied = co_await apply(failure, std::move(text), std::move(remember));
    record_outcome(applied);
}

asio::awaitable<void> incoming_actor::reject(std::string_view reason, std::string why) {
    rt.log(log_level::warning, "incoming package rejected",
           {{"reference", id}, {"reason", reason}, {"why", why}});
    incoming_mutation remember = [why, code = std::string(reason)](storage::incoming_record& r) {
        r.last_error = why;
        r.rejection = code;
    };
    auto applied = co_await apply(ev::package_rejected{}, why, std::move(remember));
    record_outcome(applied);
}

void incoming_actor::record_outcome(const result<sm::verdict>& applied) {
    // The result of an action that could not be recorded is produced again after a backoff.
    if (!applied)
        not_before = now_ms() + rt.backoff(record.attempt + 1);
}

asio::awaitable<void> incoming_actor::perform(sm::action a) {
    // As in outgoing_actor::perform: only named variables inside co_await expressions (GCC 12).
    storage::kill_point(kill_point_name("before", a));
    switch (a) {
    case sm::action::download: {
        const auto relative = rt.store->incoming_package_file(id);
        const auto path = rt.store->data_dir() / relative;
        auto op = rt.ports.broker->download(id, path);
        auto downloaded = co_await guarded(&rt, std::move(op), "download");
        release_slot();
        if (!downloaded) {
            co_await fail(a, downloaded.error());
            co_return;
        }
        // On disk before Downloaded is recorded.
        auto job = [path]() -> result<std::uint64_t> {
            if (auto synced = sync_file_and_directory(path); !synced)
                return synced.error();
            std::error_code ec;
            const auto n = std::filesystem::file_size(path, ec);
            if (ec)
                return make_error(ec, "cannot read the size of " + path.string(), retry::yes);
            return static_cast<std::uint64_t>(n);
        };
        auto size = co_await rt.offload(std::move(job));
        if (!size) {
            co_await fail(a, size.error());
            co_return;
        }
        storage::kill_point(kill_point_name("after", a));
        std::string detail = std::to_string(*size) + " bytes";
        incoming_mutation keep = [relative, n = *size](storage::incoming_record& r) {
            r.package = {relative, n, {}};
        };
        auto applied = co_await apply(ev::downloaded{}, std::move(detail), std::move(keep));
        record_outcome(applied);
        co_return;
    }
    case sm::action::open_package:
        co_await open_package();
        co_return;
    case sm::action::confirm_download: {
        auto op = rt.ports.broker->confirm(id);
        auto confirmed = co_await guarded(&rt, std::move(op), "confirm");
        release_slot();
        if (!confirmed) {
            co_await fail(a, confirmed.error());
            co_return;
        }
        storage::kill_point(kill_point_name("after", a));
        auto applied = co_await apply(ev::download_confirmed{}, std::string(), incoming_mutation());
        record_outcome(applied);
        co_return;
    }
    case sm::action::send_mottatt:
        co_await submit_status(sm::eformidling_status::mottatt);
        co_return;
    case sm::action::send_levert:
        co_await submit_status(sm::eformidling_status::levert);
        co_return;
    default:
        release_slot();
        rt.log(log_level::error, "an incoming message asked for an action it cannot have",
               {{"reference", id}, {"action", sm::to_string(a)}});
        not_before = now_ms() + rt.backoff(1);
        co_return;
    }
}

asio::awaitable<void> incoming_actor::open_package() {
    const auto payload_relative = rt.store->incoming_payload_file(id);
    // The signer's certificate must have been valid when the broker received the file (the
    // broker's time, which the sender cannot choose); without one, now.
    const auto uploaded = record.sent.time_since_epoch().count() > 0 ? record.sent : now_ms();
    auto job = [packer = rt.ports.packer, package = rt.store->absolute(record.package),
                payload = rt.store->data_dir() / payload_relative, uploaded]() -> result<opened_package> {
        try {
            return packer->open(package, payload, uploaded);
        } catch (const std::exception& e) {
            return make_error(make_error_code(boost::system::errc::io_error),
                              std::string("the packer threw: ") + e.what(), retry::yes);
        }
    };
    auto opened = co_await rt.offload(std::move(job));
    release_slot();
    if (!opened) {
        if (opened.error().retryable)
            co_await fail(sm::action::open_package, opened.error());
        else {
            // Named before the co_await (GCC 12, see docs/architecture.md).
            const auto reason = rt.ports.packer->rejection_of(opened.error());
            auto why = opened.error().describe();
            co_await reject(reason, std::move(why));
        }
        co_return;
    }
    const opened_package p = std::move(*opened);
    // The reference discards packages whose ids are not UUIDs (it confirms them and moves on).
    if (!is_uuid(p.message_id) || !is_uuid(p.conversation_id)) {
        auto why =
            "messageId '" + p.message_id + "' or conversationId '" + p.conversation_id + "' is not a UUID";
        co_await reject(rejection::malformed, std::move(why));
        co_return;
    }
    if (auto refused = check_parties(record, p)) {
        auto why = "messageId " + p.message_id + ": " + refused->why;
        co_await reject(refused->reason, std::move(why));
        co_return;
    }
    const incoming_mutation fill = [p, data_dir = rt.store->data_dir(),
                                    payload_relative](storage::incoming_record& r) {
        r.kind = p.kind;
        r.message_id = p.message_id;
        r.conversation_id = p.conversation_id;
        r.sender = p.sender;
        r.receiver = p.receiver;
        r.process = p.process;
        r.document_type = p.document_type;
        r.message_channel = p.message_channel;
        r.sbd = p.sbd;
        r.deadline = p.deadline;
        r.related_message_id = p.kind == storage::package_kind::status ? p.message_id : p.related_message_id;
        r.receipt_value = p.kind == storage::package_kind::status ? p.status : p.receipt_type;
        r.signer = p.signer;
        if (p.has_payload) {
            std::error_code ec;
            const auto size = std::filesystem::file_size(data_dir / payload_relative, ec);
            r.payload = {payload_relative, ec ? 0 : static_cast<std::uint64_t>(size), {}};
        }
    };

    // What vouches for the sender, for the history.
    const auto vouched = p.signer.empty() ? "unsigned, uploaded by " + record.listed_sender
                                          : "signature of " + p.signer_organization + " verified";

    // Receipts for our own messages are handed to their machines first; if that cannot be
    // recorded the open is repeated later, and a repeated receipt is a harmless duplicate.
    std::string detail;
    if (p.kind == storage::package_kind::status) {
        std::optional<sm::outgoing_event> e;
        if (p.status == "MOTTATT")
            e = sm::out_event::status_mottatt{};
        else if (p.status == "LEVERT")
            e = sm::out_event::status_levert{};
        if (e) {
            auto target = p.message_id;
            auto what = "status " + p.status + " from " + p.sender;
            auto routed = co_await route_receipt(std::move(target), *e, std::move(what), p);
            if (!routed)
                co_return;
            detail = std::move(*routed);
        } else {
            detail = "status '" + p.status + "' is not one this engine acts on";
        }
        storage::kill_point("after.open_package");
        detail += "; " + vouched;
        auto applied = co_await apply(ev::opened{true, false, false}, detail, fill);
        record_outcome(applied);
        co_return;
    }
    if (p.kind == storage::package_kind::kvittering) {
        const bool failed = p.receipt_type == "ERROR" || p.receipt_type == "NOTSUPPORTED";
        const sm::outgoing_event e = failed ? sm::outgoing_event{sm::out_event::kvittering_error{}}
                                            : sm::outgoing_event{sm::out_event::kvittering_ok{}};
        auto target = p.related_message_id;
        auto what = "arkivmelding_kvittering " + p.receipt_type + " in message " + p.message_id;
        auto routed = co_await route_receipt(std::move(target), e, std::move(what), p);
        if (!routed)
            co_return;
        detail = std::move(*routed);
    }

    // De-duplicate by messageId: the first file to store it owns it.
    bool claimed = false;
    {
        std::lock_guard lock(rt.claims_mutex);
        claimed = rt.claimed_message_ids.insert(p.message_id).second;
    }
    bool duplicate = !claimed;
    if (claimed) {
        auto owner = rt.store->incoming_by_message_id(p.message_id);
        if (!owner) {
            {
                std::lock_guard lock(rt.claims_mutex);
                rt.claimed_message_ids.erase(p.message_id);
            }
            co_await fail(sm::action::open_package, owner.error());
            co_return;
        }
        duplicate = owner->has_value() && **owner != id;
        if (duplicate) {
            // A repeat comes from the same sender; another organisation's package with that
            // messageId is not a copy, and must neither be dropped silently nor replace the first.
            auto first = rt.store->find_incoming(**owner);
            if (!first || !*first) {
                {
                    std::lock_guard lock(rt.claims_mutex);
                    rt.claimed_message_ids.erase(p.message_id);
                }
                auto why = first ? make_error(errc::not_found, "broker file " + **owner + " is gone")
                                 : first.error();
                co_await fail(sm::action::open_package, std::move(why));
                co_return;
            }
            if ((*first)->sender != p.sender) {
                {
                    std::lock_guard lock(rt.claims_mutex);
                    rt.claimed_message_ids.erase(p.message_id);
                }
                auto why = "messageId " + p.message_id + " already belongs to a message from " +
                           (*first)->sender + " (broker file " + **owner + "); " + p.sender +
                           " cannot send one with it";
                co_await reject(rejection::message_id_taken, std::move(why));
                co_return;
            }
            detail = (detail.empty() ? "" : detail + "; ") + "messageId already received in broker file " +
                     **owner;
        }
    }
    const bool expired = p.deadline && *p.deadline <= now_ms();
    storage::kill_point("after.open_package");
    detail = (detail.empty() ? "" : detail + "; ") + vouched;
    auto applied = co_await apply(ev::opened{false, duplicate, expired}, detail, fill);
    if (claimed) {
        std::lock_guard lock(rt.claims_mutex);
        rt.claimed_message_ids.erase(p.message_id);
    }
    record_outcome(applied);
}

asio::awaitable<std::optional<std::string>> incoming_actor::route_receipt(std::string target,
                                                                          sm::outgoing_event e,
                                                                          std::string what,
                                                                          const opened_package& p) {
    // Only the organisation the message went to may answer for it.
    auto original = rt.store->find_outgoing(target);
    if (!original) {
        not_before = now_ms() + rt.backoff(record.attempt + 1);
        rt.log(log_level::warning, "cannot look up the message a receipt is about",
               {{"reference", id}, {"message", target}, {"error", original.error().describe()}});
        co_return std::nullopt;
    }
    if (*original) {
        const auto receipt = p.kind == storage::package_kind::status
                                 ? "status " + p.status
                                 : "arkivmelding_kvittering " + p.receipt_type;
        if (auto refused = check_receipt_origin(p, receipt, **original)) {
            auto why = std::move(refused->why);
            co_await reject(refused->reason, std::move(why));
            co_return std::nullopt;
        }
    }
    auto detail = what + " (broker file " + id + ")";
    auto to = target;
    auto routed = co_await rt.deliver(std::move(to), e, std::move(detail), outgoing_mutation());
    if (routed)
        co_return std::string(sm::event_name(e)) + " for " + target + ": " +
            std::string(sm::to_string(*routed));
    if (routed.error().code == errc::not_found)
        co_return "no outgoing message " + target + " for this " + std::string(sm::event_name(e));
    not_before = now_ms() + rt.backoff(record.attempt + 1);
    rt.log(log_level::warning, "cannot hand a receipt to its message",
           {{"reference", id}, {"message", target}, {"error", routed.error().describe()}});
    co_return std::nullopt;
}

asio::awaitable<void> incoming_actor::submit_status(sm::eformidling_status status) {
    const bool mottatt = status == sm::eformidling_status::mottatt;
    const auto status_id = record.message_id + (mottatt ? ".mottatt" : ".levert");
    const auto now = now_ms();

    auto existing = rt.store->find_outgoing(status_id);
    if (!existing) {
        co_await fail(mottatt ? sm::action::send_mottatt : sm::action::send_levert, existing.error());
        co_return;
    }
    storage::write_batch batch;
    if (!*existing) {
        storage::outgoing_record s;
        s.id = status_id;
        s.message_id = record.message_id;
        s.conversation_id = record.conversation_id;
        // A status SBD needs no token or Service Registry lookup: it starts at Resolved.
        s.machine = {sm::outgoing_state::resolved, sm::outgoing_kind::status, {}};
        s.machine.recorded.insert(sm::eformidling_status::opprettet);
        s.sender = record.receiver.empty() ? rt.config.organization : record.receiver;
        s.receiver = record.sender;
        s.process = record.process;
        s.document_type = "urn:no:difi:eformidling:xsd::status";
        // A reply goes back on the sender's channel when it named one (altinn-broker.md §3.5).
        s.senders_reference = record.message_channel.empty() ? random_uuid() : record.message_channel;
        s.message_channel = record.message_channel;
        s.created = now;
        s.updated = now;
        s.deadline = now + rt.config.default_ttl;
        s.status_value = status;
        s.original_sbd = record.sbd;
        storage::history_entry created{s.history_size++,
                                       now,
                                       static_cast<std::uint8_t>(s.machine.state),
                                       static_cast<std::uint8_t>(s.machine.state),
                                       "created",
                                       0,
                                       std::string(sm::to_string(status)) + " for incoming broker file " + id,
                                       {{sm::eformidling_status::opprettet, false}}};
        storage::store::stage(batch, nullptr, s, &created);
    }
    auto detail = std::string(sm::to_string(status)) + " queued as outgoing " + status_id;
    incoming_mutation place = [mottatt, key = queue_key(now, id)](storage::incoming_record& r) {
        if (mottatt && r.queue_key.empty())
            r.queue_key = key;
    };
    auto applied = co_await apply(ev::status_submitted{}, std::move(detail), std::move(place), &batch);
    if (!applied) {
        record_outcome(applied);
        co_return;
    }
    if (*applied == sm::verdict::accepted && !*existing) {
        if (auto actor = rt.outgoing_actor_for(status_id))
            asio::post((*actor)->strand, [a = *actor] { a->ensure_running(); });
    }
}

void runtime::spawn_incoming(std::shared_ptr<incoming_actor> a) {
    coroutine_started();
    // The completion handler keeps the actor, and with it the cancellation signal the coroutine
    // is bound to, alive until co_spawn is completely done with that signal: the coroutine's own
    // frame (which also holds the actor) is gone before co_spawn's last resumption clears the slot.
    auto& slot_source = a->cancel;
    auto job = incoming_actor::run(a);
    asio::co_spawn(a->strand, std::move(job),
                   asio::bind_cancellation_slot(slot_source.slot(), [this, keep = a](std::exception_ptr e) {
                       coroutine_finished("incoming " + keep->id, e);
                   }));
}

result<std::shared_ptr<incoming_actor>> runtime::incoming_actor_for(const std::string& reference) {
    std::lock_guard lock(actors_mutex);
    if (auto it = incoming.find(reference); it != incoming.end())
        return it->second;
    auto rec = store->find_incoming(reference);
    if (!rec)
        return rec.error();
    if (!*rec)
        return make_error(errc::not_found, "no incoming broker file " + reference);
    auto a = std::make_shared<incoming_actor>(*this, std::move(**rec));
    incoming.emplace(reference, a);
    return a;
}

asio::awaitable<result<sm::verdict>> runtime::deliver(std::string reference, sm::incoming_event event,
                                                      std::string detail,
                                                      std::function<void(storage::incoming_record&)> mutate) {
    using answer = std::optional<result<sm::verdict>>;
    for (int round = 0; round < 16; ++round) {
        if (stopping)
            co_return make_error(errc::stopping, "the engine is stopping");
        auto actor = incoming_actor_for(reference);
        if (!actor)
            co_return actor.error();
        auto initiation = [this](auto handler, std::shared_ptr<incoming_actor> a, sm::incoming_event e,
                                 std::string d, std::function<void(storage::incoming_record&)> m) {
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
    co_return make_error(errc::stopping,
                         "broker file " + reference + " kept retiring while an event was handed to it");
}

asio::awaitable<void> runtime::poll_loop(runtime* rt) {
    while (!rt->stopping) {
        co_await rt->poll_once();
        if (rt->stopping)
            break;
        rt->poll_timer->expires_after(rt->config.polling_interval);
        co_await rt->poll_timer->async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

asio::awaitable<void> runtime::poll_once() {
    auto op = ports.broker->list_available();
    auto listed = co_await guarded(this, std::move(op), "list_available");
    if (!listed) {
        log(log_level::warning, "cannot list the broker's files", {{"error", listed.error().describe()}});
        co_return;
    }
    const auto now = now_ms();
    storage::write_batch batch;
    std::vector<storage::incoming_record> fresh;
    for (const auto& f : *listed) {
        if (f.reference.empty() || f.reference.find('\0') != std::string::npos ||
            !accepts_transfer(config.message_channel, f.senders_reference))
            continue;
        {
            std::lock_guard lock(actors_mutex);
            if (incoming.contains(f.reference))
                continue;
        }
        auto known = store->find_incoming(f.reference);
        if (!known) {
            log(log_level::error, "cannot look a broker file up",
                {{"reference", f.reference}, {"error", known.error().describe()}});
            continue;
        }
        if (*known)
            continue; // seen before: its own machine takes care of it
        storage::incoming_record r;
        r.reference = f.reference;
        r.senders_reference = f.senders_reference;
        r.listed_size = f.size;
        r.listed_sender = f.sender;
        r.listed_recipient = f.recipient;
        r.sent = f.sent;
        r.listed = now;
        r.updated = now;
        storage::history_entry entry{r.history_size++,
                                     now,
                                     0,
                                     0,
                                     "listed",
                                     0,
                                     std::to_string(f.size) + " bytes, sent " + format_time(f.sent) +
                                         (f.sender.empty() ? std::string() : " by " + f.sender),
                                     {}};
        storage::store::stage(batch, nullptr, r, &entry);
        fresh.push_back(std::move(r));
    }
    if (fresh.empty())
        co_return;
    auto committed = co_await store->commit(std::move(batch), asio::use_awaitable);
    if (!committed) {
        log(log_level::error, "cannot record listed broker files", {{"error", committed.error().describe()}});
        co_return;
    }
    for (auto& r : fresh) {
        transitions += 1;
        notify({storage::record_kind::incoming, r.reference, {}, 0, 0, 0, "listed", 0, {}, {}, now});
        auto actor = std::make_shared<incoming_actor>(*this, std::move(r));
        {
            std::lock_guard lock(actors_mutex);
            incoming.emplace(actor->id, actor);
        }
        asio::post(actor->strand, [actor] { actor->ensure_running(); });
    }
}

} // namespace kurer::engine

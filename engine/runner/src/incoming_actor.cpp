// The incoming direction for the driver (driver.hpp): one broker file. Its actions: download,
// open (verify, store or route), confirm, and MOTTATT and LEVERT back to the sender. Also the
// poller that finds the files.
#include "driver.hpp"
#include "provenance.hpp"

#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/engine/polling.hpp>
#include <kurer/storage/kill_point.hpp>

#include <boost/asio/as_tuple.hpp>

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

} // namespace

sm::control incoming_traits::control_of(const record& r) {
    sm::control c;
    c.deadline = r.deadline;
    c.lock_until = r.lock_until;
    c.attempt = r.attempt;
    return c;
}

void incoming_traits::set_control(record& r, const sm::control& c) {
    r.deadline = c.deadline;
    r.lock_until = c.lock_until;
    r.attempt = c.attempt;
}

sm::step<sm::incoming_event> incoming_traits::next_step(const runtime&, const record& r, const sm::control& c,
                                                        time_point now) {
    return sm::next_step(r.machine, c, now);
}

result<std::optional<storage::incoming_record>> incoming_traits::load(const storage::store& s,
                                                                      const std::string& id) {
    return s.find_incoming(id);
}

void incoming_traits::finished(runtime& rt, const record& r) {
    // A rejected package stays for whoever wants to look at it.
    if (r.machine.state != sm::incoming_state::rejected)
        rt.store->remove_incoming_files(r);
}

std::string incoming_traits::rejection_of(const record& r, const storage::history_entry& e) {
    return r.machine.state == sm::incoming_state::rejected && e.from != e.to ? r.rejection : std::string();
}

namespace {

// Refuses the package for good (Rejected: confirmed at the broker, never queued, no receipts):
// logged, recorded with `reason` (a rejection:: code) and `why`, counted.
asio::awaitable<void> reject(incoming_actor& self, std::string_view reason, std::string why) {
    runtime& rt = self.rt;
    const std::string& id = self.id;

    rt.log(log_level::warning, "incoming package rejected",
           {{"reference", id}, {"reason", reason}, {"why", why}});
    incoming_mutation remember = [why, code = std::string(reason)](storage::incoming_record& r) {
        r.last_error = why;
        r.rejection = code;
    };
    auto applied = co_await self.apply(ev::package_rejected{}, why, std::move(remember));
    self.record_outcome(applied);
}

// Hands a receipt to the outgoing message it is about: the history detail, or nothing when it
// could not be recorded (the open is then repeated after a backoff) or was refused (the
// package is then Rejected: only the organisation the message went to may answer for it).
asio::awaitable<std::optional<std::string>> route_receipt(incoming_actor& self, std::string target,
                                                          sm::outgoing_event e, std::string what,
                                                          const opened_package& p) {
    runtime& rt = self.rt;
    auto& record = self.record;
    const std::string& id = self.id;

    // Only the organisation the message went to may answer for it.
    auto original = rt.store->find_outgoing(target);
    if (!original) {
        self.not_before = now_ms() + rt.backoff(record.attempt + 1);
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
            co_await reject(self, refused->reason, std::move(why));
            co_return std::nullopt;
        }
    }
    auto detail = what + " (broker file " + id + ")";
    auto to = target;
    auto routed = co_await rt.deliver<outgoing_traits>(std::move(to), e, std::move(detail));
    if (routed)
        co_return std::string(sm::event_name(e)) + " for " + target + ": " +
            std::string(sm::to_string(*routed));
    if (routed.error().code == errc::not_found)
        co_return "no outgoing message " + target + " for this " + std::string(sm::event_name(e));
    self.not_before = now_ms() + rt.backoff(record.attempt + 1);
    rt.log(log_level::warning, "cannot hand a receipt to its message",
           {{"reference", id}, {"message", target}, {"error", routed.error().describe()}});
    co_return std::nullopt;
}

asio::awaitable<void> open_package(incoming_actor& self) {
    runtime& rt = self.rt;
    auto& record = self.record;
    const std::string& id = self.id;

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
    self.release_slot();
    if (!opened) {
        if (opened.error().retryable)
            co_await self.fail(sm::action::open_package, opened.error());
        else {
            // Named before the co_await (GCC 12, see docs/architecture.md).
            const auto reason = rt.ports.packer->rejection_of(opened.error());
            auto why = opened.error().describe();
            co_await reject(self, reason, std::move(why));
        }
        co_return;
    }
    const opened_package p = std::move(*opened);
    // The reference discards packages whose ids are not UUIDs (it confirms them and moves on).
    if (!is_uuid(p.message_id) || !is_uuid(p.conversation_id)) {
        auto why =
            "messageId '" + p.message_id + "' or conversationId '" + p.conversation_id + "' is not a UUID";
        co_await reject(self, rejection::malformed, std::move(why));
        co_return;
    }
    if (auto refused = check_parties(record, p)) {
        auto why = "messageId " + p.message_id + ": " + refused->why;
        co_await reject(self, refused->reason, std::move(why));
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
            auto routed = co_await route_receipt(self, std::move(target), *e, std::move(what), p);
            if (!routed)
                co_return;
            detail = std::move(*routed);
        } else {
            detail = "status '" + p.status + "' is not one this engine acts on";
        }
        storage::kill_point("after.open_package");
        detail += "; " + vouched;
        auto applied = co_await self.apply(ev::opened{true, false, false}, detail, fill);
        self.record_outcome(applied);
        co_return;
    }
    if (p.kind == storage::package_kind::kvittering) {
        const bool failed = p.receipt_type == "ERROR" || p.receipt_type == "NOTSUPPORTED";
        const sm::outgoing_event e = failed ? sm::outgoing_event{sm::out_event::kvittering_error{}}
                                            : sm::outgoing_event{sm::out_event::kvittering_ok{}};
        auto target = p.related_message_id;
        auto what = "arkivmelding_kvittering " + p.receipt_type + " in message " + p.message_id;
        auto routed = co_await route_receipt(self, std::move(target), e, std::move(what), p);
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
            co_await self.fail(sm::action::open_package, owner.error());
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
                co_await self.fail(sm::action::open_package, std::move(why));
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
                co_await reject(self, rejection::message_id_taken, std::move(why));
                co_return;
            }
            detail = (detail.empty() ? "" : detail + "; ") + "messageId already received in broker file " +
                     **owner;
        }
    }
    const bool expired = p.deadline && *p.deadline <= now_ms();
    storage::kill_point("after.open_package");
    detail = (detail.empty() ? "" : detail + "; ") + vouched;
    auto applied = co_await self.apply(ev::opened{false, duplicate, expired}, detail, fill);
    if (claimed) {
        std::lock_guard lock(rt.claims_mutex);
        rt.claimed_message_ids.erase(p.message_id);
    }
    self.record_outcome(applied);
}

// MOTTATT or LEVERT as its own outgoing status message, created in the same write as the
// transition that submits it.
asio::awaitable<void> submit_status(incoming_actor& self, sm::eformidling_status status) {
    runtime& rt = self.rt;
    auto& record = self.record;
    const std::string& id = self.id;

    const bool mottatt = status == sm::eformidling_status::mottatt;
    const auto status_id = status_message_id(record.message_id, status);
    const auto ctx = rt.context();

    auto existing = rt.store->find_outgoing(status_id);
    if (!existing) {
        co_await self.fail(mottatt ? sm::action::send_mottatt : sm::action::send_levert, existing.error());
        co_return;
    }
    storage::write_batch batch;
    std::optional<std::pair<storage::outgoing_record, storage::history_entry>> created;
    if (!*existing) {
        storage::outgoing_record s;
        s.id = status_id;
        s.message_id = record.message_id;
        s.conversation_id = record.conversation_id;
        s.sender = record.receiver.empty() ? rt.config.organization : record.receiver;
        s.receiver = record.sender;
        s.process = record.process;
        s.document_type = "urn:no:difi:eformidling:xsd::status";
        // A reply goes back on the sender's channel when it named one (altinn-broker.md §3.5).
        s.senders_reference = record.message_channel.empty() ? random_uuid() : record.message_channel;
        s.message_channel = record.message_channel;
        s.created = ctx.now;
        s.updated = ctx.now;
        s.status_value = status;
        s.original_sbd = record.sbd;
        const auto first =
            sm::create_outgoing(sm::outgoing_kind::status, ctx.now + rt.config.default_ttl, ctx);
        auto entry = rt.stage_new<outgoing_traits>(
            batch, s, first, std::string(sm::to_string(status)) + " for incoming broker file " + id);
        created.emplace(std::move(s), std::move(entry));
    }
    auto detail = std::string(sm::to_string(status)) + " queued as outgoing " + status_id;
    incoming_mutation place = [mottatt, key = queue_key(ctx.now, id)](storage::incoming_record& r) {
        if (mottatt && r.queue_key.empty())
            r.queue_key = key;
    };
    auto applied =
        co_await self.apply(sm::in_event::status_submitted{}, std::move(detail), std::move(place), &batch);
    self.record_outcome(applied);
    if (applied && *applied == sm::verdict::accepted && created)
        rt.launch<outgoing_traits>(std::move(created->first), created->second);
}

} // namespace

asio::awaitable<void> incoming_traits::perform(incoming_actor& self, sm::action a) {
    runtime& rt = self.rt;
    const std::string& id = self.id;

    // Only named variables inside co_await expressions (GCC 12, docs/architecture.md).
    storage::kill_point(kill_point_name("before", a));
    switch (a) {
    case sm::action::download: {
        const auto relative = rt.store->incoming_package_file(id);
        const auto path = rt.store->data_dir() / relative;
        auto op = rt.ports.broker->download(id, path);
        auto downloaded = co_await guarded(&rt, std::move(op), "download");
        self.release_slot();
        if (!downloaded) {
            co_await self.fail(a, downloaded.error());
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
            co_await self.fail(a, size.error());
            co_return;
        }
        storage::kill_point(kill_point_name("after", a));
        std::string detail = std::to_string(*size) + " bytes";
        incoming_mutation keep = [relative, n = *size](storage::incoming_record& r) {
            r.package = {relative, n, {}};
        };
        auto applied = co_await self.apply(ev::downloaded{}, std::move(detail), std::move(keep));
        self.record_outcome(applied);
        co_return;
    }
    case sm::action::open_package:
        co_await open_package(self);
        co_return;
    case sm::action::confirm_download: {
        auto op = rt.ports.broker->confirm(id);
        auto confirmed = co_await guarded(&rt, std::move(op), "confirm");
        self.release_slot();
        if (!confirmed) {
            co_await self.fail(a, confirmed.error());
            co_return;
        }
        storage::kill_point(kill_point_name("after", a));
        auto applied = co_await self.apply(ev::download_confirmed{}, std::string(), incoming_mutation());
        self.record_outcome(applied);
        co_return;
    }
    case sm::action::send_mottatt:
        co_await submit_status(self, sm::eformidling_status::mottatt);
        co_return;
    case sm::action::send_levert:
        co_await submit_status(self, sm::eformidling_status::levert);
        co_return;
    default:
        self.release_slot();
        rt.log(log_level::error, "an incoming message asked for an action it cannot have",
               {{"reference", id}, {"action", sm::to_string(a)}});
        self.not_before = now_ms() + rt.backoff(1);
        co_return;
    }
}

asio::awaitable<void> runtime::poll_loop(runtime* rt) {
    while (!rt->stopping) {
        const auto fresh = co_await rt->poll_once();
        if (rt->stopping)
            break;
        // A listing that brought new files may have been capped (Altinn 3 lists 100 at a time):
        // list again at once; only a listing with nothing new waits the interval.
        if (fresh > 0)
            continue;
        rt->poll_timer->expires_after(rt->config.polling_interval);
        co_await rt->poll_timer->async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

asio::awaitable<std::size_t> runtime::poll_once() {
    auto op = ports.broker->list_available();
    auto listed = co_await guarded(this, std::move(op), "list_available");
    if (!listed) {
        log(log_level::warning, "cannot list the broker's files", {{"error", listed.error().describe()}});
        co_return 0;
    }
    std::vector<available_file> candidates;
    for (auto& f : *listed) {
        if (f.reference.empty() || f.reference.find('\0') != std::string::npos ||
            !accepts_transfer(config.message_channel, f.senders_reference))
            continue;
        std::lock_guard lock(actors_mutex);
        if (!incoming.contains(f.reference))
            candidates.push_back(std::move(f));
    }
    if (candidates.empty())
        co_return 0;
    // Files seen before have their own machines; the store says which (read off the event loop).
    auto lookup = [this, candidates = std::move(candidates)]() mutable {
        std::vector<available_file> unseen;
        for (auto& f : candidates) {
            auto known = store->find_incoming(f.reference);
            if (!known)
                log(log_level::error, "cannot look a broker file up",
                    {{"reference", f.reference}, {"error", known.error().describe()}});
            else if (!*known)
                unseen.push_back(std::move(f));
        }
        return unseen;
    };
    auto unseen = co_await offload(std::move(lookup));
    if (unseen.empty())
        co_return 0;
    const auto ctx = context();
    storage::write_batch batch;
    std::vector<std::pair<storage::incoming_record, storage::history_entry>> fresh;
    for (const auto& f : unseen) {
        storage::incoming_record r;
        r.reference = f.reference;
        r.senders_reference = f.senders_reference;
        r.listed_size = f.size;
        r.listed_sender = f.sender;
        r.listed_recipient = f.recipient;
        r.sent = f.sent;
        r.listed = ctx.now;
        r.updated = ctx.now;
        auto entry =
            stage_new<incoming_traits>(batch, r, sm::create_incoming(ctx),
                                       std::to_string(f.size) + " bytes, sent " + format_time(f.sent) +
                                           (f.sender.empty() ? std::string() : " by " + f.sender));
        fresh.emplace_back(std::move(r), std::move(entry));
    }
    auto committed = co_await store->commit(std::move(batch), asio::use_awaitable);
    if (!committed) {
        log(log_level::error, "cannot record listed broker files", {{"error", committed.error().describe()}});
        co_return 0;
    }
    for (auto& [r, entry] : fresh)
        launch<incoming_traits>(std::move(r), entry);
    co_return fresh.size();
}

template struct actor<incoming_traits>;

} // namespace kurer::engine

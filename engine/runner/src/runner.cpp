// The runner's public face: opening, recovery, shutdown, and the operations later layers call.
#include "driver.hpp"

#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/storage/kill_point.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>

namespace kurer::engine {

struct runner::impl : runtime {
    using runtime::runtime;
};

namespace {

bool is_org_number(std::string_view s) {
    return s.size() == 9 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

error invalid(std::string message) {
    return make_error(errc::invalid_request, std::move(message));
}

error stopped() {
    return make_error(errc::stopping, "the engine is not running");
}

result<void> validate(const submit_request& r) {
    if (!is_uuid(r.message_id))
        return invalid("messageId: '" + r.message_id + "' is not a UUID");
    if (!r.conversation_id.empty() && !is_uuid(r.conversation_id))
        return invalid("conversationId: '" + r.conversation_id + "' is not a UUID");
    if (!is_org_number(r.receiver))
        return invalid("receiver: '" + r.receiver + "' is not a 9-digit organisation number");
    if (r.process.empty())
        return invalid("process: missing");
    if (r.document_type.empty())
        return invalid("documentType: missing");
    for (std::size_t i = 0; i < r.documents.size(); ++i) {
        const auto& d = r.documents[i];
        const auto where = "documents[" + std::to_string(i) + "]";
        if (d.name.empty() || d.name.front() == '.' || d.name.find_first_of("/\\") != std::string::npos ||
            d.name.find('\0') != std::string::npos)
            return invalid(where + ".name: '" + d.name + "' is not a plain file name");
        if (d.mime_type.empty())
            return invalid(where + ".mimeType: missing");
        if (d.file && !std::filesystem::is_regular_file(*d.file))
            return invalid(where + ".file: " + d.file->string() + " is not a readable file");
    }
    return {};
}

// What makes two submits "the same message": every field the sender chose, the documents by
// content. Generated fields (a missing conversationId, the default deadline) are left out.
result<std::string> content_digest(const submit_request& r) {
    std::string canonical;
    const auto field = [&](std::string_view v) {
        canonical += std::to_string(v.size());
        canonical += ':';
        canonical.append(v);
    };
    field(r.message_id);
    field(r.conversation_id);
    field(r.receiver);
    field(r.process);
    field(r.document_type);
    field(r.deadline ? std::to_string(r.deadline->time_since_epoch().count()) : "");
    field(r.business_message);
    for (const auto& d : r.documents) {
        field(d.name);
        field(d.mime_type);
        field(d.primary ? "1" : "0");
        if (d.file) {
            auto h = sha256_file(*d.file);
            if (!h)
                return h.error();
            field(*h);
        } else {
            field(sha256_hex(d.bytes));
        }
    }
    return sha256_hex(canonical);
}

template <class T>
result<T> run_blocking(runtime& rt, asio::awaitable<result<T>> op) {
    if (!rt.started || rt.stopping)
        return stopped();
    if (rt.io.get_executor().running_in_this_thread())
        return make_error(errc::invalid_request, "a blocking runner call was made from a runner thread");
    auto future = asio::co_spawn(rt.io, std::move(op), asio::use_future);
    try {
        return future.get();
    } catch (const std::exception& e) {
        return make_error(make_error_code(boost::system::errc::io_error), e.what());
    }
}

inbox_message to_inbox_message(const storage::incoming_record& r) {
    return {r.message_id, r.reference, r.conversation_id, r.sender, r.process, r.document_type,
            r.sbd,        r.kind};
}

// Files and directories no record needs: a submit killed between writing its documents and
// committing its record, or a finished message whose files were not yet removed when the
// process died. Run by open(), before anything can submit. Names that the store does not make
// (hidden work files, strays) are left to their owners.
struct swept {
    std::size_t documents = 0;
    std::size_t packages = 0;
};

result<swept> sweep_leftovers(const storage::store& store, bool remove_finished_files) {
    namespace fs = std::filesystem;
    swept out;
    const auto each_entry = [&](const fs::path& dir, auto visit) -> result<void> {
        std::error_code ec;
        std::vector<fs::path> entries;
        for (const auto& entry : fs::directory_iterator(dir, ec))
            entries.push_back(entry.path());
        if (ec)
            return make_error(ec, "cannot read " + dir.string() + ": " + ec.message(), retry::yes);
        for (const auto& p : entries)
            if (auto r = visit(p); !r)
                return r;
        return {};
    };
    const auto remove = [](const fs::path& p, std::size_t& counter) -> result<void> {
        std::error_code ec;
        fs::remove_all(p, ec);
        if (ec)
            return make_error(ec, "cannot remove the leftover " + p.string() + ": " + ec.message(),
                              retry::yes);
        ++counter;
        return {};
    };
    const auto outgoing_needs = [&](const std::string& id, bool documents) -> result<bool> {
        auto r = store.find_outgoing(id);
        if (!r)
            return r.error();
        if (!*r)
            return false;
        if (!sm::is_finished((*r)->machine) || !remove_finished_files)
            return true;
        // A Failed message the broker never had may be retried: its documents stay for that.
        return documents && (*r)->machine.state == sm::outgoing_state::failed &&
               !(*r)->machine.recorded.contains(sm::eformidling_status::sendt);
    };

    const auto& data = store.data_dir();
    auto documents = each_entry(data / "documents", [&](const fs::path& p) -> result<void> {
        const auto id = storage::id_of_file_name(p.filename().string());
        if (!id)
            return {};
        auto needed = outgoing_needs(*id, true);
        if (!needed)
            return needed.error();
        return *needed ? result<void>() : remove(p, out.documents);
    });
    if (!documents)
        return documents.error();
    auto packages_out = each_entry(data / "packages" / "out", [&](const fs::path& p) -> result<void> {
        const auto id = storage::id_of_file_name(p.stem().string());
        if (p.extension() != ".zip" || !id)
            return {};
        auto needed = outgoing_needs(*id, false);
        if (!needed)
            return needed.error();
        return *needed ? result<void>() : remove(p, out.packages);
    });
    if (!packages_out)
        return packages_out.error();
    auto packages_in = each_entry(data / "packages" / "in", [&](const fs::path& p) -> result<void> {
        const auto reference = storage::id_of_file_name(p.stem().string());
        if ((p.extension() != ".zip" && p.extension() != ".payload") || !reference)
            return {};
        auto r = store.find_incoming(*reference);
        if (!r)
            return r.error();
        // The package of a Rejected file is kept for whoever wants to look at it.
        const bool needed = *r && (!sm::is_finished((*r)->machine) || !remove_finished_files ||
                                   (*r)->machine.state == sm::incoming_state::rejected);
        return needed ? result<void>() : remove(p, out.packages);
    });
    if (!packages_in)
        return packages_in.error();
    return out;
}

} // namespace

runtime::runtime(runner_config c, engine::ports p)
    : config(std::move(c))
    , ports(std::move(p))
    , pool(std::max(1u, config.worker_threads))
    , slots(config.max_in_flight) {
    config.log = config.log.component("runner");
}

std::string status_message_id(std::string_view message_id, sm::eformidling_status status) {
    return std::string(message_id) + (status == sm::eformidling_status::mottatt ? ".mottatt" : ".levert");
}

runner::runner(std::unique_ptr<impl> p)
    : impl_(std::move(p)) {}

runner::~runner() {
    stop();
}

result<std::unique_ptr<runner>> runner::open(runner_config config, engine::ports p) {
    if (config.data_dir.empty())
        return invalid("data_dir: missing");
    if (!is_org_number(config.organization))
        return invalid("organization: '" + config.organization + "' is not a 9-digit organisation number");
    if (!p.token || !p.resolver || !p.packer || !p.broker)
        return invalid("ports: every port (token, resolver, packer, broker) is required");
    if (config.retry.initial.count() < 0 || config.retry.max < config.retry.initial ||
        config.retry.multiplier < 1.0)
        return invalid("retry: needs 0 <= initial <= max and multiplier >= 1");
    auto store_options = config.store;
    auto rt = std::make_unique<impl>(std::move(config), std::move(p));
    auto s = storage::store::open(rt->config.data_dir, store_options);
    if (!s)
        return s.error();
    rt->store = std::move(*s);
    rt->files = rt->store->data_dir();
    for (const auto& t : rt->store->tightened())
        rt->log(
            log_level::warning, "a data directory was open to others; it is private now",
            {{"directory", t.path.string()}, {"mode_before", format_mode(t.mode_before)}, {"mode", "0700"}});
    auto swept = sweep_leftovers(*rt->store, rt->config.remove_finished_files);
    if (!swept)
        return swept.error();
    if (swept->documents + swept->packages > 0)
        rt->log(log_level::info, "removed leftovers no message needs",
                {{"documents", swept->documents}, {"packages", swept->packages}});
    auto paused = rt->store->sending_paused();
    if (!paused)
        return paused.error();
    rt->paused = *paused;
    return std::unique_ptr<runner>(new runner(std::move(rt)));
}

result<void> runner::start() {
    auto& rt = *impl_;
    if (rt.stopping || !rt.store)
        return stopped();
    if (rt.started.exchange(true))
        return {};
    rt.work.emplace(rt.io.get_executor());
    for (unsigned i = 0; i < std::max(1u, rt.config.io_threads); ++i)
        rt.threads.emplace_back([&rt] {
            for (;;) {
                try {
                    rt.io.run();
                    return;
                } catch (const std::exception& e) {
                    rt.log(log_level::error, "an I/O thread caught an exception", {{"error", e.what()}});
                }
            }
        });

    auto recovered = rt.store->recover();
    if (!recovered)
        return recovered.error();
    // Oldest first, so that they queue for action slots in the order they were created.
    std::sort(recovered->outgoing.begin(), recovered->outgoing.end(), [](const auto& x, const auto& y) {
        return std::tie(x.created, x.id) < std::tie(y.created, y.id);
    });
    std::sort(recovered->incoming.begin(), recovered->incoming.end(), [](const auto& x, const auto& y) {
        return std::tie(x.listed, x.reference) < std::tie(y.listed, y.reference);
    });
    {
        std::lock_guard lock(rt.actors_mutex);
        for (auto& r : recovered->outgoing) {
            auto a = std::make_shared<outgoing_actor>(rt, std::move(r));
            rt.outgoing.emplace(a->id, a);
            asio::post(a->strand, [a] { a->ensure_running(); });
        }
        for (auto& r : recovered->incoming) {
            auto a = std::make_shared<incoming_actor>(rt, std::move(r));
            rt.incoming.emplace(a->id, a);
            asio::post(a->strand, [a] { a->ensure_running(); });
        }
    }
    rt.log(log_level::info, "started",
           {{"outgoing", recovered->outgoing.size()},
            {"incoming", recovered->incoming.size()},
            {"sending_paused", rt.paused.load()}});

    if (rt.config.polling_interval.count() > 0) {
        rt.poll_strand.emplace(asio::make_strand(rt.io));
        rt.poll_timer.emplace(*rt.poll_strand);
        rt.coroutine_started();
        runtime* raw = &rt;
        asio::co_spawn(*rt.poll_strand, runtime::poll_loop(raw),
                       [raw](std::exception_ptr e) { raw->coroutine_finished("poller", e); });
    }
    return {};
}

void runner::stop() {
    auto& rt = *impl_;
    if (rt.stopping.exchange(true))
        return;
    if (!rt.started) {
        std::unique_lock gate(rt.store_gate);
        rt.store.reset();
        return;
    }
    rt.log(log_level::info, "stopping");
    if (rt.poll_strand)
        asio::post(*rt.poll_strand, [&rt] { rt.poll_timer->cancel(); });
    const auto each_actor = [&rt](auto f) {
        std::lock_guard lock(rt.actors_mutex);
        for (auto& [id, a] : rt.outgoing)
            asio::post(a->strand, [a, f] { f(*a); });
        for (auto& [id, a] : rt.incoming)
            asio::post(a->strand, [a, f] { f(*a); });
    };
    // Waiting actors wake up and park; actors in an action finish it and record its result.
    each_actor([](actor_base& a) { a.poke(); });
    const auto all_parked = [&rt](std::chrono::milliseconds within) {
        std::unique_lock lock(rt.alive_mutex);
        return rt.alive_changed.wait_for(lock, within, [&rt] { return rt.alive == 0; });
    };
    if (!all_parked(rt.config.shutdown_grace)) {
        rt.log(log_level::warning, "actions still running after the shutdown grace: cancelling them");
        each_actor([](actor_base& a) { a.cancel.emit(asio::cancellation_type::terminal); });
        if (!all_parked(std::chrono::seconds(5)))
            rt.log(log_level::error, "some actions ignored cancellation; stopping regardless");
    }
    rt.work.reset();
    rt.io.stop();
    for (auto& t : rt.threads)
        t.join();
    rt.threads.clear();
    rt.pool.join();
    rt.readers.join();
    // Flushes the committer (everything queued is written, its callers answered) and closes
    // RocksDB once no API call is inside the gate; later calls answer errc::stopping.
    std::unique_lock gate(rt.store_gate);
    rt.store.reset();
    rt.log(log_level::info, "stopped");
}

asio::awaitable<result<void>> runtime::commit(storage::write_batch batch) {
    auto initiation = [this](auto handler, storage::write_batch b) {
        auto done = posting(std::move(handler));
        std::shared_lock gate(store_gate);
        if (!store)
            return done(make_error(errc::stopping, "the engine is not running"));
        store->commit(std::move(b), [done = std::move(done)](result<void> r) mutable { done(std::move(r)); });
    };
    auto r = co_await asio::async_initiate<const asio::use_awaitable_t<>, void(result<void>)>(
        std::move(initiation), asio::use_awaitable, std::move(batch));
    co_return r;
}

asio::awaitable<result<submit_result>> runner::submit(submit_request request) {
    auto& rt = *impl_;
    if (!rt.started || rt.stopping)
        co_return stopped();
    if (auto valid = validate(request); !valid)
        co_return valid.error();
    // Lambdas are named before co_await sees them: GCC 12 destroys a capturing lambda twice when
    // it is a temporary in a co_await expression.
    auto hash_job = [request]() {
        return content_digest(request);
    };
    auto digest = co_await rt.offload(std::move(hash_job));
    if (!digest)
        co_return digest.error();
    const auto id = request.message_id;

    // The same messageId submitted before: the same content is that message, other content a conflict.
    const auto existing = [id, digest =
                                   *digest](const storage::store& s) -> result<std::optional<submit_result>> {
        auto found = s.find_outgoing(id);
        if (!found)
            return found.error();
        if (!*found)
            return std::optional<submit_result>();
        if ((*found)->content_digest != digest)
            return make_error(errc::conflict,
                              "message " + id + " was submitted before with different content");
        return std::optional<submit_result>(submit_result{id, false, (*found)->machine.state});
    };
    auto first_look = existing;
    auto known = co_await rt.read_async(std::move(first_look));
    if (!known)
        co_return known.error();
    if (*known)
        co_return std::move(**known);
    {
        std::lock_guard lock(rt.claims_mutex);
        if (!rt.submitting.insert(id).second)
            co_return make_error(errc::conflict, "message " + id + " is being submitted right now");
    }
    struct unclaim {
        runtime& rt;
        std::string id;
        ~unclaim() {
            std::lock_guard lock(rt.claims_mutex);
            rt.submitting.erase(id);
        }
    } claim{rt, id};
    auto second_look = existing; // submitted by someone who just finished
    auto known_now = co_await rt.read_async(std::move(second_look));
    if (!known_now)
        co_return known_now.error();
    if (*known_now)
        co_return std::move(**known_now);

    const auto now = now_ms();
    const auto deadline = request.deadline.value_or(now + rt.config.default_ttl);
    if (deadline <= now)
        co_return invalid("expectedResponseDateTime: " + format_time(deadline) + " is not in the future");

    storage::outgoing_record r;
    r.id = id;
    r.message_id = id;
    r.conversation_id = request.conversation_id.empty() ? random_uuid() : request.conversation_id;
    r.sender = rt.config.organization;
    r.receiver = request.receiver;
    r.process = request.process;
    r.document_type = request.document_type;
    r.senders_reference = random_uuid();
    r.message_channel = rt.config.message_channel;
    r.created = now;
    r.updated = now;
    r.content_digest = *digest;
    r.business_message = request.business_message;

    // The documents go to files the store owns, fsynced, before the record names them. Until the
    // record is handed to the committer nothing else refers to them (the claim above keeps other
    // submits of this id away): a submit that fails before, a full disk included, removes them
    // again, so that running out of space does not leak it. From the commit on they are kept: a
    // write RocksDB reports as failed may still be in its log (a failed fsync) and the record come
    // back at the next open, which then sweeps the documents only if it did not. A crash leaves
    // them to that sweep too.
    struct discard_documents {
        std::filesystem::path dir;
        bool keep = false;
        ~discard_documents() {
            if (keep)
                return;
            std::error_code ignored;
            std::filesystem::remove_all(dir, ignored);
        }
    } unless_committed{rt.files / "documents" / storage::safe_file_name(id)};
    auto store_job =
        [data_dir = rt.files, id,
         docs = std::move(request.documents)]() mutable -> result<std::vector<storage::document_ref>> {
        std::vector<storage::document_ref> refs;
        if (docs.empty())
            return refs;
        const auto dir = data_dir / "documents" / storage::safe_file_name(id);
        if (auto made = make_private_directories(dir); !made)
            return made.error();
        for (std::size_t i = 0; i < docs.size(); ++i) {
            auto& d = docs[i];
            const auto relative = storage::store::document_file(id, i);
            const auto path = data_dir / relative;
            storage::document_ref ref{d.name, d.mime_type, d.primary, {relative, 0, {}}};
            if (d.file) {
                auto copied = copy_file_durably(*d.file, path);
                if (!copied)
                    return copied.error();
                ref.file.size = copied->first;
                ref.file.sha256 = copied->second;
            } else {
                if (auto written = write_file_durably(path, d.bytes); !written)
                    return written.error();
                ref.file.size = d.bytes.size();
                ref.file.sha256 = sha256_hex(d.bytes);
            }
            refs.push_back(std::move(ref));
        }
        for (const auto& sub : {dir, dir.parent_path()})
            if (auto synced = sync_file_and_directory(sub); !synced)
                return synced.error();
        return refs;
    };
    auto documents = co_await rt.offload(std::move(store_job));
    if (!documents)
        co_return documents.error();
    r.documents = std::move(*documents);
    storage::kill_point("after.store_documents");

    storage::write_batch batch;
    const auto first = sm::create_outgoing(sm::outgoing_kind::message, deadline, rt.context());
    auto entry = rt.stage_new<outgoing_traits>(batch, r, first,
                                               "to " + r.receiver + ", deadline " + format_time(deadline));
    unless_committed.keep = true;
    auto committed = co_await rt.commit(std::move(batch));
    if (!committed) {
        rt.log(log_level::warning, "a submit could not be recorded; its documents stay until the next start",
               {{"id", id}, {"error", committed.error().describe()}});
        co_return committed.error();
    }
    rt.launch<outgoing_traits>(std::move(r), entry);
    co_return submit_result{id, true, sm::outgoing_state::created};
}

result<submit_result> runner::submit_blocking(submit_request request) {
    return run_blocking(*impl_, submit(std::move(request)));
}

// ---- reads: each a function of the store, run blocking (read) or on the reader pool (read_async)

namespace {

result<std::optional<outgoing_view>> outgoing_of(const storage::store& s, const std::string& id) {
    auto r = s.find_outgoing(id);
    if (!r)
        return r.error();
    if (!*r)
        return std::optional<outgoing_view>();
    auto h = s.history(storage::record_kind::outgoing, id);
    if (!h)
        return h.error();
    return std::optional<outgoing_view>(outgoing_view{std::move(**r), std::move(*h)});
}

result<std::optional<incoming_view>> incoming_of(const storage::store& s, const std::string& reference) {
    auto r = s.find_incoming(reference);
    if (!r)
        return r.error();
    if (!*r)
        return std::optional<incoming_view>();
    auto h = s.history(storage::record_kind::incoming, reference);
    if (!h)
        return h.error();
    return std::optional<incoming_view>(incoming_view{std::move(**r), std::move(*h)});
}

result<std::optional<incoming_view>> incoming_by_message_id(const storage::store& s,
                                                            const std::string& message_id) {
    auto reference = s.incoming_by_message_id(message_id);
    if (!reference)
        return reference.error();
    if (!*reference)
        return std::optional<incoming_view>();
    return incoming_of(s, **reference);
}

result<std::filesystem::path> payload_of(const storage::store& s, const std::string& message_id) {
    auto reference = s.incoming_by_message_id(message_id);
    if (!reference)
        return reference.error();
    if (!*reference)
        return make_error(errc::not_found, "no incoming message " + message_id);
    auto r = s.find_incoming(**reference);
    if (!r)
        return r.error();
    if (!*r || (*r)->machine.state != sm::incoming_state::locked)
        return make_error(errc::not_locked,
                          "incoming message " + message_id + " is not locked: peek it first");
    return s.absolute((*r)->payload.path.empty() ? (*r)->package : (*r)->payload);
}

result<std::vector<inbox_message>> inbox_of(const storage::store& s, std::size_t limit) {
    std::vector<inbox_message> out;
    auto scanned = s.scan_inbox([&](const storage::incoming_record& r) {
        out.push_back(to_inbox_message(r));
        return limit == 0 || out.size() < limit;
    });
    if (!scanned)
        return scanned.error();
    return out;
}

} // namespace

result<std::optional<outgoing_view>> runner::find_outgoing(const std::string& id) const {
    return impl_->read([&](const storage::store& s) { return outgoing_of(s, id); });
}

result<std::optional<incoming_view>> runner::find_incoming(const std::string& reference) const {
    return impl_->read([&](const storage::store& s) { return incoming_of(s, reference); });
}

result<std::optional<incoming_view>>
runner::find_incoming_by_message_id(const std::string& message_id) const {
    return impl_->read([&](const storage::store& s) { return incoming_by_message_id(s, message_id); });
}

result<std::filesystem::path> runner::pop(const std::string& message_id) const {
    return impl_->read([&](const storage::store& s) { return payload_of(s, message_id); });
}

result<std::vector<inbox_message>> runner::list_inbox(std::size_t limit) const {
    return impl_->read([&](const storage::store& s) { return inbox_of(s, limit); });
}

result<std::vector<std::string>> runner::list_incoming(sm::incoming_state state, std::size_t limit) const {
    return impl_->read([&](const storage::store& s) {
        return s.list(storage::record_kind::incoming, static_cast<std::uint8_t>(state), limit);
    });
}

result<std::vector<std::string>> runner::list_outgoing(sm::outgoing_state state, std::size_t limit) const {
    return impl_->read([&](const storage::store& s) {
        return s.list(storage::record_kind::outgoing, static_cast<std::uint8_t>(state), limit);
    });
}

asio::awaitable<result<std::optional<outgoing_view>>> runner::async_find_outgoing(std::string id) {
    auto job = [id = std::move(id)](const storage::store& s) {
        return outgoing_of(s, id);
    };
    co_return co_await impl_->read_async(std::move(job));
}

asio::awaitable<result<std::optional<incoming_view>>> runner::async_find_incoming(std::string reference) {
    auto job = [reference = std::move(reference)](const storage::store& s) {
        return incoming_of(s, reference);
    };
    co_return co_await impl_->read_async(std::move(job));
}

asio::awaitable<result<std::optional<incoming_view>>>
runner::async_find_incoming_by_message_id(std::string message_id) {
    auto job = [message_id = std::move(message_id)](const storage::store& s) {
        return incoming_by_message_id(s, message_id);
    };
    co_return co_await impl_->read_async(std::move(job));
}

asio::awaitable<result<std::filesystem::path>> runner::async_pop(std::string message_id) {
    auto job = [message_id = std::move(message_id)](const storage::store& s) {
        return payload_of(s, message_id);
    };
    co_return co_await impl_->read_async(std::move(job));
}

asio::awaitable<result<std::vector<inbox_message>>> runner::async_list_inbox(std::size_t limit) {
    auto job = [limit](const storage::store& s) {
        return inbox_of(s, limit);
    };
    co_return co_await impl_->read_async(std::move(job));
}

result<void> runner::pause_sending() {
    auto& rt = *impl_;
    if (rt.stopping)
        return stopped();
    storage::write_batch b;
    storage::store::stage_sending_paused(b, true);
    if (auto r = rt.with_store([&b](storage::store& s) { return s.commit_blocking(std::move(b)); }); !r)
        return r;
    rt.paused = true;
    rt.log(log_level::info, "sending paused");
    return {};
}

result<void> runner::resume_sending() {
    auto& rt = *impl_;
    if (rt.stopping)
        return stopped();
    storage::write_batch b;
    storage::store::stage_sending_paused(b, false);
    if (auto r = rt.with_store([&b](storage::store& s) { return s.commit_blocking(std::move(b)); }); !r)
        return r;
    rt.paused = false;
    // Woken in creation order, so they line up for action slots in the order they were submitted.
    std::vector<std::shared_ptr<outgoing_actor>> actors;
    {
        std::lock_guard lock(rt.actors_mutex);
        for (auto& [id, a] : rt.outgoing)
            actors.push_back(a);
    }
    std::sort(actors.begin(), actors.end(),
              [](const auto& x, const auto& y) { return x->sequence < y->sequence; });
    for (auto& a : actors)
        asio::post(a->strand, [a] { a->poke(); });
    rt.log(log_level::info, "sending resumed");
    return {};
}

bool runner::sending_paused() const noexcept {
    return impl_->paused;
}

asio::awaitable<result<void>> runner::retry(std::string id) {
    auto& rt = *impl_;
    if (!rt.started || rt.stopping)
        co_return stopped();
    auto lookup = [id](const storage::store& s) {
        return s.find_outgoing(id);
    };
    auto r = co_await rt.read_async(std::move(lookup));
    if (!r)
        co_return r.error();
    if (!*r)
        co_return make_error(errc::not_found, "no outgoing message " + id);
    if ((*r)->deadline <= now_ms())
        co_return make_error(errc::not_retryable, "message " + id + " is past its deadline " +
                                                      format_time((*r)->deadline) +
                                                      "; send it again as a new message");
    std::string why = "retry requested";
    auto target = id;
    auto v = co_await rt.deliver<outgoing_traits>(std::move(target), sm::out_event::retry_requested{},
                                                  std::move(why));
    if (!v)
        co_return v.error();
    if (*v != sm::verdict::accepted)
        co_return make_error(errc::not_retryable,
                             "message " + id + " is " + std::string(sm::to_string((*r)->machine.state)) +
                                 ": only a Failed message the broker never accepted can be retried");
    co_return result<void>();
}

result<void> runner::retry_blocking(std::string id) {
    return run_blocking(*impl_, retry(std::move(id)));
}

asio::awaitable<result<std::optional<inbox_message>>> runner::peek(peek_filter filter) {
    auto& rt = *impl_;
    if (!rt.started || rt.stopping)
        co_return stopped();
    // A message another peek is locking right now, or one that moved on meanwhile, is skipped.
    std::unordered_set<std::string> skip;
    for (int round = 0; round < 64; ++round) {
        // The first match not skipped, claimed against concurrent peeks (on the reader pool).
        auto find = [&rt, filter,
                     skip](const storage::store& s) -> result<std::optional<storage::incoming_record>> {
            std::optional<storage::incoming_record> found;
            auto scanned = s.scan_inbox([&](const storage::incoming_record& r) {
                const auto differs = [](const std::string& wanted, const std::string& actual) {
                    return !wanted.empty() && wanted != actual;
                };
                if (skip.contains(r.reference) || differs(filter.process, r.process) ||
                    differs(filter.conversation_id, r.conversation_id) ||
                    differs(filter.message_id, r.message_id) || differs(filter.sender, r.sender) ||
                    differs(filter.receiver, r.receiver))
                    return true;
                std::lock_guard lock(rt.claims_mutex);
                if (!rt.peeking.insert(r.reference).second)
                    return true;
                found = r;
                return false;
            });
            if (!scanned)
                return scanned.error();
            return found;
        };
        auto scanned = co_await rt.read_async(std::move(find));
        if (!scanned)
            co_return scanned.error();
        auto& candidate = *scanned;
        if (!candidate)
            co_return std::optional<inbox_message>();
        auto reference = candidate->reference;
        auto v =
            co_await rt.deliver<incoming_traits>(std::move(reference), sm::in_event::peeked{}, std::string());
        {
            std::lock_guard lock(rt.claims_mutex);
            rt.peeking.erase(candidate->reference);
        }
        if (!v)
            co_return v.error();
        if (*v == sm::verdict::accepted)
            co_return std::optional<inbox_message>(to_inbox_message(*candidate));
        skip.insert(candidate->reference);
    }
    co_return std::optional<inbox_message>();
}

result<std::optional<inbox_message>> runner::peek_blocking(peek_filter filter) {
    return run_blocking(*impl_, peek(std::move(filter)));
}

asio::awaitable<result<void>> runner::take(std::string message_id) {
    auto& rt = *impl_;
    if (!rt.started || rt.stopping)
        co_return stopped();
    auto owner = [message_id](const storage::store& s) {
        return s.incoming_by_message_id(message_id);
    };
    auto reference = co_await rt.read_async(std::move(owner));
    if (!reference)
        co_return reference.error();
    if (!*reference)
        co_return make_error(errc::not_found, "no incoming message " + message_id);
    auto target = **reference;
    std::string detail = "taken by the end system";
    auto v =
        co_await rt.deliver<incoming_traits>(std::move(target), sm::in_event::taken{}, std::move(detail));
    if (!v)
        co_return v.error();
    if (*v == sm::verdict::rejected) {
        // As the reference: only a message the end system has locked (peeked) can be taken, so
        // that LEVERT never acknowledges what it did not download.
        auto lookup = [ref = **reference](const storage::store& s) {
            return s.find_incoming(ref);
        };
        auto r = co_await rt.read_async(std::move(lookup));
        if (!r)
            co_return r.error();
        if (*r && (*r)->machine.state == sm::incoming_state::queued)
            co_return make_error(errc::not_locked, "incoming message " + message_id +
                                                       " is not locked (it is Queued): peek it first");
        co_return make_error(errc::not_found, "incoming message " + message_id + " is not on the queue");
    }
    co_return result<void>(); // accepted, or ignored: taken before (a repeated DELETE)
}

result<void> runner::take_blocking(std::string message_id) {
    return run_blocking(*impl_, take(std::move(message_id)));
}

std::uint64_t runner::subscribe(std::function<void(const transition_event&)> callback) {
    auto& rt = *impl_;
    std::lock_guard lock(rt.subscribers_mutex);
    auto next =
        std::make_shared<std::vector<std::pair<std::uint64_t, std::function<void(const transition_event&)>>>>(
            *rt.subscribers);
    const auto id = rt.next_subscriber++;
    next->emplace_back(id, std::move(callback));
    rt.subscribers = std::move(next);
    return id;
}

void runner::unsubscribe(std::uint64_t id) {
    auto& rt = *impl_;
    std::lock_guard lock(rt.subscribers_mutex);
    auto next =
        std::make_shared<std::vector<std::pair<std::uint64_t, std::function<void(const transition_event&)>>>>(
            *rt.subscribers);
    std::erase_if(*next, [id](const auto& s) { return s.first == id; });
    rt.subscribers = std::move(next);
}

runner_stats runner::stats() const {
    auto& rt = *impl_;
    runner_stats s;
    {
        std::lock_guard lock(rt.actors_mutex);
        s.live_outgoing = rt.outgoing.size();
        s.live_incoming = rt.incoming.size();
    }
    s.in_flight = rt.slots.in_use();
    s.waiting_for_slot = rt.slots.waiting();
    s.transitions = rt.transitions;
    std::shared_lock gate(rt.store_gate);
    if (rt.store)
        s.commits = rt.store->commit_stats();
    return s;
}

result<std::size_t> runner::count_unfinished(storage::record_kind kind) const {
    return impl_->read([kind](const storage::store& s) { return s.count_live(kind); });
}

asio::any_io_executor runner::executor() const {
    return impl_->io.get_executor();
}

} // namespace kurer::engine

#include <kurer/core/files.hpp>
#include <kurer/storage/store.hpp>

#include <boost/assert.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace kurer::storage {
namespace {

namespace sm = statemachine;

constexpr std::string_view paused_key = "switch/sending_paused";

void append_be(std::string& out, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i)
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::string kind_prefix(record_kind kind, std::uint8_t state) {
    std::string k(1, static_cast<char>(kind));
    k.push_back(static_cast<char>(state));
    return k;
}

std::string history_prefix(record_kind kind, std::string_view id) {
    std::string k(1, static_cast<char>(kind));
    k.append(id);
    k.push_back('\0');
    return k;
}

std::string history_key(record_kind kind, std::string_view id, std::uint32_t seq) {
    auto k = history_prefix(kind, id);
    append_be(k, seq, 4);
    return k;
}

std::string state_key(record_kind kind, std::uint8_t state, std::string_view id) {
    auto k = kind_prefix(kind, state);
    k.append(id);
    return k;
}

[[maybe_unused]] bool valid_id(std::string_view id) {
    return !id.empty() && id.find('\0') == std::string_view::npos;
}

// Index maintenance shared by both kinds: live (non-finished, with the pending action) and
// finished.
template <class Snapshot>
void stage_indexes(write_batch& batch, record_kind kind, std::string_view id, const Snapshot* before,
                   const Snapshot& after) {
    const auto state_of = [](const Snapshot& s) {
        return static_cast<std::uint8_t>(s.state);
    };
    const bool was_finished = before != nullptr && sm::is_finished(*before);
    const bool is_finished = sm::is_finished(after);
    const bool state_changed = before == nullptr || state_of(*before) != state_of(after);
    const bool action_changed = before == nullptr || sm::next_action(*before) != sm::next_action(after);

    if (before != nullptr && (state_changed || was_finished != is_finished))
        batch.erase(was_finished ? family::finished : family::live, state_key(kind, state_of(*before), id));
    if (is_finished) {
        if (state_changed || !was_finished)
            batch.put(family::finished, state_key(kind, state_of(after), id), {});
    } else if (state_changed || action_changed || was_finished) {
        batch.put(family::live, state_key(kind, state_of(after), id),
                  std::string(1, static_cast<char>(sm::next_action(after))));
    }
}

// Creates the directory 0700 (with its parents), or makes an existing one private; returns the
// mode it had when it had to be tightened.
result<std::optional<unsigned>> make_private(const std::filesystem::path& dir) {
    if (auto made = make_private_directories(dir); !made)
        return make_error(errc::io_failure, made.error().message);
    auto tightened = tighten_directory(dir);
    if (!tightened)
        return make_error(errc::io_failure, tightened.error().message);
    return *tightened;
}

result<void> fsync_directory(const std::filesystem::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return make_error(errc::io_failure, "cannot open " + dir.string() + ": " + std::strerror(errno));
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0)
        return make_error(errc::io_failure, "cannot fsync " + dir.string() + ": " + std::strerror(err));
    return {};
}

} // namespace

std::string safe_file_name(std::string_view id) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(id.size());
    for (std::size_t i = 0; i < id.size(); ++i) {
        const auto c = static_cast<unsigned char>(id[i]);
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                           c == '-' || c == '_' || (c == '.' && i != 0);
        if (plain) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

std::optional<std::string> id_of_file_name(std::string_view name) {
    const auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        return -1;
    };
    std::string out;
    out.reserve(name.size());
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (name[i] != '%') {
            out.push_back(name[i]);
            continue;
        }
        if (i + 2 >= name.size())
            return std::nullopt;
        const int hi = hex(name[i + 1]);
        const int lo = hex(name[i + 2]);
        if (hi < 0 || lo < 0)
            return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    if (safe_file_name(out) != name) // not a name safe_file_name makes (a stray file)
        return std::nullopt;
    return out;
}

store::store(std::filesystem::path dir, std::unique_ptr<database> db, store_options options)
    : dir_(std::move(dir))
    , db_(std::move(db))
    , committer_(std::make_unique<committer>(*db_, options.commit)) {}

store::~store() {
    committer_->stop();
    committer_.reset();
    db_.reset();
}

result<std::unique_ptr<store>> store::open(const std::filesystem::path& data_dir, store_options options) {
    // Everything below data_dir is private: the records hold the SBDs, the files the documents.
    // The database directory is made here too, so RocksDB finds it private (it would make it 0755).
    std::vector<tightened_directory> tightened;
    for (const auto* sub : {"", "db", "packages", "packages/out", "packages/in", "documents"}) {
        const auto dir = std::string_view(sub).empty() ? data_dir : data_dir / sub;
        auto r = make_private(dir);
        if (!r)
            return r.error();
        if (*r)
            tightened.push_back({dir, **r});
    }
    // The directories' own entries must survive a crash before any file in them is relied on.
    for (const auto* sub : {"", "packages"})
        if (auto r = fsync_directory(data_dir / sub); !r)
            return r.error();
    auto db = database::open(data_dir / "db");
    if (!db)
        return db.error();
    std::unique_ptr<store> s(new store(data_dir, std::move(*db), options));
    s->tightened_ = std::move(tightened);
    return s;
}

result<std::optional<outgoing_record>> store::find_outgoing(std::string_view id) const {
    auto raw = db_->get(family::outgoing, id);
    if (!raw)
        return raw.error();
    if (!*raw)
        return std::optional<outgoing_record>();
    auto r = decode_outgoing(**raw, "outgoing record " + std::string(id));
    if (!r)
        return r.error();
    return std::optional<outgoing_record>(std::move(*r));
}

result<std::optional<incoming_record>> store::find_incoming(std::string_view reference) const {
    auto raw = db_->get(family::incoming, reference);
    if (!raw)
        return raw.error();
    if (!*raw)
        return std::optional<incoming_record>();
    auto r = decode_incoming(**raw, "incoming record " + std::string(reference));
    if (!r)
        return r.error();
    return std::optional<incoming_record>(std::move(*r));
}

result<std::vector<history_entry>> store::history(record_kind kind, std::string_view id) const {
    std::vector<history_entry> out;
    std::optional<error> failure;
    const std::string what = "history of " + std::string(id);
    auto scanned =
        db_->scan(family::history, history_prefix(kind, id), [&](std::string_view, std::string_view value) {
            auto e = decode_history(value, what);
            if (!e) {
                failure = e.error();
                return false;
            }
            out.push_back(std::move(*e));
            return true;
        });
    if (!scanned)
        return scanned.error();
    if (failure)
        return *failure;
    return out;
}

result<recovered> store::recover() const {
    recovered out;
    std::vector<std::string> ids;
    const auto collect = [&](record_kind kind) {
        ids.clear();
        return db_->scan(family::live, std::string(1, static_cast<char>(kind)),
                         [&](std::string_view key, std::string_view) {
                             ids.emplace_back(key.substr(2));
                             return true;
                         });
    };
    if (auto r = collect(record_kind::outgoing); !r)
        return r.error();
    for (const auto& id : ids) {
        auto rec = find_outgoing(id);
        if (!rec)
            return rec.error();
        if (!*rec)
            return make_error(errc::corrupt_record,
                              "the live index names outgoing message " + id + ", which has no record");
        out.outgoing.push_back(std::move(**rec));
    }
    if (auto r = collect(record_kind::incoming); !r)
        return r.error();
    for (const auto& id : ids) {
        auto rec = find_incoming(id);
        if (!rec)
            return rec.error();
        if (!*rec)
            return make_error(errc::corrupt_record,
                              "the live index names incoming file " + id + ", which has no record");
        out.incoming.push_back(std::move(**rec));
    }
    return out;
}

result<std::vector<std::string>> store::list(record_kind kind, std::uint8_t state, std::size_t limit) const {
    std::vector<std::string> out;
    const auto prefix = kind_prefix(kind, state);
    for (const auto f : {family::live, family::finished}) {
        auto r = db_->scan(f, prefix, [&](std::string_view key, std::string_view) {
            if (limit != 0 && out.size() >= limit)
                return false;
            out.emplace_back(key.substr(2));
            return true;
        });
        if (!r)
            return r.error();
    }
    return out;
}

result<std::optional<std::string>> store::incoming_by_message_id(std::string_view message_id) const {
    return db_->get(family::dedup, message_id);
}

result<void> store::scan_inbox(const std::function<bool(const incoming_record&)>& visit) const {
    std::optional<error> failure;
    auto r = db_->scan(family::inbox, {}, [&](std::string_view key, std::string_view reference) {
        auto rec = find_incoming(reference);
        if (!rec) {
            failure = rec.error();
            return false;
        }
        if (!*rec) {
            failure = make_error(errc::corrupt_record, "the inbox names file " + std::string(reference) +
                                                           " (queue key of " + std::to_string(key.size()) +
                                                           " bytes), which has no record");
            return false;
        }
        return visit(**rec);
    });
    if (!r)
        return r.error();
    if (failure)
        return *failure;
    return {};
}

result<std::size_t> store::count_live(record_kind kind) const {
    std::size_t n = 0;
    auto r = db_->scan(family::live, std::string(1, static_cast<char>(kind)),
                       [&](std::string_view, std::string_view) {
                           ++n;
                           return true;
                       });
    if (!r)
        return r.error();
    return n;
}

result<bool> store::sending_paused() const {
    auto v = db_->get(family::meta, paused_key);
    if (!v)
        return v.error();
    return *v && **v == "1";
}

void store::stage(write_batch& batch, const outgoing_record* before, const outgoing_record& after,
                  const history_entry* entry) {
    BOOST_ASSERT(valid_id(after.id));
    BOOST_ASSERT(before == nullptr || before->id == after.id);
    batch.put(family::outgoing, after.id, encode(after));
    if (entry != nullptr)
        batch.put(family::history, history_key(record_kind::outgoing, after.id, entry->seq), encode(*entry));
    stage_indexes(batch, record_kind::outgoing, after.id, before ? &before->machine : nullptr, after.machine);
}

void store::stage(write_batch& batch, const incoming_record* before, const incoming_record& after,
                  const history_entry* entry) {
    BOOST_ASSERT(valid_id(after.reference));
    BOOST_ASSERT(before == nullptr || before->reference == after.reference);
    batch.put(family::incoming, after.reference, encode(after));
    if (entry != nullptr)
        batch.put(family::history, history_key(record_kind::incoming, after.reference, entry->seq),
                  encode(*entry));
    stage_indexes(batch, record_kind::incoming, after.reference, before ? &before->machine : nullptr,
                  after.machine);

    // A messageId is claimed by the first file that stores it (or finds it expired); later
    // copies are duplicates of that one.
    const bool claims = after.machine.state == sm::incoming_state::stored ||
                        (after.machine.state == sm::incoming_state::expired && before != nullptr &&
                         before->machine.state == sm::incoming_state::downloaded);
    const bool claimed_before = before != nullptr && (before->machine.state == sm::incoming_state::stored ||
                                                      before->machine.state == sm::incoming_state::expired);
    if (claims && !claimed_before && !after.message_id.empty())
        batch.put(family::dedup, after.message_id, after.reference);

    const bool was_queued = before != nullptr && before->machine.state == sm::incoming_state::queued;
    const bool is_queued = after.machine.state == sm::incoming_state::queued;
    if (was_queued && !is_queued)
        batch.erase(family::inbox, before->queue_key);
    if (is_queued && !was_queued) {
        BOOST_ASSERT(!after.queue_key.empty());
        batch.put(family::inbox, after.queue_key, after.reference);
    }
}

void store::stage_sending_paused(write_batch& batch, bool paused) {
    batch.put(family::meta, std::string(paused_key), paused ? "1" : "0");
}

std::string store::outgoing_package_file(std::string_view id) {
    return "packages/out/" + safe_file_name(id) + ".zip";
}
std::string store::incoming_package_file(std::string_view reference) {
    return "packages/in/" + safe_file_name(reference) + ".zip";
}
std::string store::incoming_payload_file(std::string_view reference) {
    return "packages/in/" + safe_file_name(reference) + ".payload";
}
std::string store::document_file(std::string_view id, std::size_t index) {
    return "documents/" + safe_file_name(id) + "/" + std::to_string(index);
}

void store::remove_outgoing_files(const outgoing_record& r) const noexcept {
    std::error_code ignored;
    if (!r.package.path.empty())
        std::filesystem::remove(absolute(r.package), ignored);
    std::filesystem::remove_all(dir_ / "documents" / safe_file_name(r.id), ignored);
}

void store::remove_incoming_files(const incoming_record& r) const noexcept {
    std::error_code ignored;
    if (!r.package.path.empty())
        std::filesystem::remove(absolute(r.package), ignored);
    if (!r.payload.path.empty())
        std::filesystem::remove(absolute(r.payload), ignored);
}

} // namespace kurer::storage

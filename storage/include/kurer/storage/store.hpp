// The message store: records, transition history and indexes in RocksDB, package and document
// files in the data directory, and group-committed durable transitions.
//
//   <data_dir>/db/                 RocksDB (column families: see database.hpp)
//   <data_dir>/packages/out/<id>   outgoing packages (sbd.zip), written and fsynced before Packed
//   <data_dir>/packages/in/<ref>   downloaded packages, fsynced before Downloaded
//   <data_dir>/documents/<id>/<n>  submitted documents, fsynced before Created
//
// A transition is staged into one write_batch (the record, a history entry, every index it
// touches) and committed with sync = true; see docs/storage.md.
#pragma once

#include <kurer/storage/committer.hpp>
#include <kurer/storage/database.hpp>
#include <kurer/storage/records.hpp>
#include <kurer/storage/write_batch.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kurer::storage {

struct store_options {
    committer_options commit;
};

// A directory of the store that open() found open to its group or others and made private.
struct tightened_directory {
    std::filesystem::path path;
    unsigned mode_before = 0;
};

// Every message recovery must resume, read from the live index only.
struct recovered {
    std::vector<outgoing_record> outgoing;
    std::vector<incoming_record> incoming;
};

class store {
public:
    static result<std::unique_ptr<store>> open(const std::filesystem::path& data_dir,
                                               store_options options = {});

    ~store(); // commits what is queued, then closes the database
    store(const store&) = delete;
    store& operator=(const store&) = delete;

    // --- reads
    result<std::optional<outgoing_record>> find_outgoing(std::string_view id) const;
    result<std::optional<incoming_record>> find_incoming(std::string_view reference) const;
    result<std::vector<history_entry>> history(record_kind kind, std::string_view id) const;
    result<recovered> recover() const;
    // Ids in one state; non-terminal states come from the live index, terminal ones from the
    // finished index (oldest first). At most `limit` (0 = all).
    result<std::vector<std::string>> list(record_kind kind, std::uint8_t state, std::size_t limit = 0) const;
    result<std::optional<std::string>> incoming_by_message_id(std::string_view message_id) const;
    // The end system's queue in arrival order (Queued messages only; locked ones are off it).
    result<void> scan_inbox(const std::function<bool(const incoming_record&)>& visit) const;
    result<bool> sending_paused() const;
    // How many messages of a kind are not finished (a scan of the live index).
    result<std::size_t> count_live(record_kind kind) const;

    // --- staging: add one transition's writes to `batch`. `before` is null for a new record;
    // `entry` may be null (no history entry). The record's history_size must already count it.
    static void stage(write_batch& batch, const outgoing_record* before, const outgoing_record& after,
                      const history_entry* entry);
    static void stage(write_batch& batch, const incoming_record* before, const incoming_record& after,
                      const history_entry* entry);
    static void stage_sending_paused(write_batch& batch, bool paused);

    // --- durable commits (group committed)
    template <class CompletionToken>
    auto commit(write_batch batch, CompletionToken&& token) {
        return committer_->async_commit(std::move(batch), std::forward<CompletionToken>(token));
    }
    result<void> commit_blocking(write_batch batch) { return committer_->commit(std::move(batch)); }
    committer_stats commit_stats() const { return committer_->stats(); }

    // --- files owned by the store (absolute paths; the records hold them relative)
    const std::filesystem::path& data_dir() const noexcept { return dir_; }
    std::filesystem::path absolute(const file_ref& f) const { return dir_ / f.path; }
    static std::string outgoing_package_file(std::string_view id); // relative
    static std::string incoming_package_file(std::string_view reference);
    static std::string incoming_payload_file(std::string_view reference);
    static std::string document_file(std::string_view id, std::size_t index);
    // Removes a message's files once nothing will read them again (a finished message).
    void remove_outgoing_files(const outgoing_record& r) const noexcept;
    void remove_incoming_files(const incoming_record& r) const noexcept;

    // The store's directories (data_dir, db, packages, documents) are created 0700; those that
    // existed with permissions for the group or others were tightened by open(), listed here.
    const std::vector<tightened_directory>& tightened() const noexcept { return tightened_; }

    database& db() noexcept { return *db_; }

private:
    store(std::filesystem::path dir, std::unique_ptr<database> db, store_options options);

    std::filesystem::path dir_;
    std::unique_ptr<database> db_;
    std::unique_ptr<committer> committer_;
    std::vector<tightened_directory> tightened_;
};

// A name safe as one path component: letters, digits, '-', '_' and '.' pass, anything else is
// %-escaped, and a leading '.' is escaped too (no hidden files, no "..").
std::string safe_file_name(std::string_view id);
// The id safe_file_name made `name` from, or std::nullopt when it cannot have made it.
std::optional<std::string> id_of_file_name(std::string_view name);

} // namespace kurer::storage

// Drafts: outgoing messages created through the NextMove API (POST /api/messages/out) whose
// documents are being uploaded, kept until the send request hands them to the runner.
//
//   <drafts_dir>/<messageId>/draft.json     the completed SBD, the request digest, the file list
//   <drafts_dir>/<messageId>/f<n>           uploaded documents
//   <drafts_dir>/<messageId>/.upload-<uuid> an upload in progress (renamed to f<n> when complete)
//   <drafts_dir>/.staging/<uuid>/           multipart parts before their message exists
//   <drafts_dir>/.trash-<uuid>/             a draft being removed
//
// Every change is durable before it is acknowledged: a document is fsynced before it is renamed
// in, draft.json is replaced atomically (write_file_durably) and names only complete files. A
// request that fails (a full disk included) removes what it wrote.
// open() clears what an interrupted request left: temporary files, staging and trash
// directories, documents draft.json does not name, drafts without a draft.json, and drafts
// the runner already has (sent, then the process died before the draft was removed).
//
// The functions block (file system, fsync): the server calls them on its worker pool, and a
// per-message lock keeps two requests from changing one draft at the same time.
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/storage/records.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kurer::engine::admin {

struct draft_file {
    std::string name; // the document's name in the ASiC-E
    std::string mime_type;
    std::string title;  // the upload's title (kept, not sent: DPO carries no titles)
    std::string stored; // file name inside the draft's directory
    std::uint64_t size = 0;
};

struct draft {
    std::string message_id;
    std::string sbd;            // the completed SBD (JSON, as the API shows it)
    std::string request_digest; // of the create request: an identical repeat returns this draft
    storage::time_point created{};
    std::uint32_t next_file = 0; // numbering of stored files
    std::vector<draft_file> files;

    std::uint64_t total_bytes() const noexcept;
    const draft_file* file(std::string_view name) const noexcept;
};

class draft_store {
public:
    explicit draft_store(std::filesystem::path dir)
        : dir_(std::move(dir)) {}

    // Creates the directory if needed (0700, as every directory below it) and clears leftovers
    // (see above); `already_sent(id)` says whether the runner has the message. Returns how many
    // drafts are kept; swept() then says how many leftovers were removed.
    result<std::size_t> open(const std::function<bool(const std::string&)>& already_sent);
    std::size_t swept() const noexcept { return swept_; }

    result<std::optional<draft>> find(std::string_view message_id) const;
    result<std::vector<draft>> list() const;

    // Writes draft.json durably (creating the draft's directory the first time).
    result<void> save(const draft& d) const;
    // Removes the draft and its files (renamed aside first, so a crash leaves nothing half-removed).
    result<void> remove(std::string_view message_id) const;

    // Where an upload for an existing draft is written before it is adopted.
    std::filesystem::path upload_path(std::string_view message_id) const;
    // A fresh, empty staging directory for one multipart request.
    result<std::filesystem::path> make_staging() const;
    // Moves `from` (fsynced here) into the draft as its next file, appends `meta` (its `stored`
    // is set) and saves the draft. On failure the draft on disk is unchanged.
    result<void> adopt(draft& d, const std::filesystem::path& from, draft_file meta) const;

    std::filesystem::path file_path(const draft& d, const draft_file& f) const;
    const std::filesystem::path& dir() const noexcept { return dir_; }

private:
    std::filesystem::path draft_dir(std::string_view message_id) const;

    std::filesystem::path dir_;
    std::size_t swept_ = 0;
};

} // namespace kurer::engine::admin

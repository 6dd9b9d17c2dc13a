// The engine's RocksDB database: column families, format versioning, reads and synced writes.
//
// A database directory carries a format version. Opening one written by a newer kurer (an
// unknown version) is refused with a clear error rather than misread. Most code uses store.hpp,
// which knows the keys; this layer only knows column families.
#pragma once

#include <kurer/core/error.hpp>

#include <boost/system/error_category.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace kurer::storage {

inline constexpr std::uint32_t format_version = 1;

enum class errc {
    rocksdb_failure = 1,    // RocksDB returned an error status
    unknown_format_version, // the database was written by a format this build does not know
    corrupt_record,         // a stored record could not be decoded
    not_found,
    unknown_record_version, // a record was written by a newer kurer
    conflict,               // the same key with different content (idempotent submit)
    invalid_argument,       // a caller passed something the store cannot hold
    closed,                 // the store is shutting down
    io_failure,             // a package or document file could not be written or read
};

const boost::system::error_category& storage_category() noexcept;
boost::system::error_code make_error_code(errc e) noexcept;

// One RocksDB column family per kind of data; see docs/storage.md for the keys in each.
enum class family : std::uint8_t {
    meta,     // format version, operator switches (default column family)
    outgoing, // outgoing records by id
    incoming, // incoming records by broker reference
    history,  // transition history by kind, id, sequence
    live,     // non-terminal messages by kind, state, id -> pending action
    finished, // terminal messages by kind, state, time, id
    inbox,    // the end system's queue: queue key -> broker reference
    dedup,    // incoming messageId -> broker reference
};
inline constexpr std::size_t family_count = 8;

std::string_view to_string(family f) noexcept;

class write_batch;

class database {
public:
    // Opens (creating if needed) the database in `dir`.
    static result<std::unique_ptr<database>> open(const std::filesystem::path& dir);

    ~database();
    database(const database&) = delete;
    database& operator=(const database&) = delete;

    std::uint32_t stored_format_version() const noexcept { return version_; }
    const std::filesystem::path& directory() const noexcept { return dir_; }

    result<std::optional<std::string>> get(family f, std::string_view key) const;

    // Calls `visit` for every key starting with `prefix`, in key order, until it returns false.
    result<void> scan(family f, std::string_view prefix,
                      const std::function<bool(std::string_view key, std::string_view value)>& visit) const;

    // Applies the batches as one atomic RocksDB write; `sync` waits for fdatasync of the WAL.
    result<void> write(std::span<const write_batch* const> batches, bool sync);
    result<void> write(const write_batch& batch, bool sync);

private:
    struct impl;
    database(std::filesystem::path dir, std::unique_ptr<impl> p, std::uint32_t version);

    std::filesystem::path dir_;
    std::unique_ptr<impl> impl_;
    std::uint32_t version_;
};

} // namespace kurer::storage

template <>
struct boost::system::is_error_code_enum<kurer::storage::errc> : std::true_type {};

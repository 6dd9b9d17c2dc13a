// The engine's RocksDB database: opening, format versioning, closing.
//
// A database directory carries a format version. Opening one written by a newer kurer (an
// unknown version) is refused with a clear error rather than misread.
#pragma once

#include <kurer/core/error.hpp>

#include <boost/system/error_category.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>

namespace kurer::storage {

inline constexpr std::uint32_t format_version = 1;

enum class errc {
    rocksdb_failure = 1,     // RocksDB returned an error status
    unknown_format_version,  // the database was written by a format this build does not know
    corrupt_record,          // a stored record could not be decoded
    not_found,
};

const boost::system::error_category& storage_category() noexcept;
boost::system::error_code make_error_code(errc e) noexcept;

class database {
public:
    // Opens (creating if needed) the database in `dir`.
    static result<std::unique_ptr<database>> open(const std::filesystem::path& dir);

    ~database();
    database(const database&) = delete;
    database& operator=(const database&) = delete;

    std::uint32_t stored_format_version() const noexcept { return version_; }
    const std::filesystem::path& directory() const noexcept { return dir_; }

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

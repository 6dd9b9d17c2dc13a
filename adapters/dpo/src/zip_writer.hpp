// Writing ZIP files with libzip, entry by entry, with sources that stream: a buffer, or a
// provider called back while libzip writes (so a document is read once, hashed on the way,
// and a CMS blob is produced straight into the archive).
//
// libzip writes everything in zip_close(), in the order entries were added, into a temporary
// file it renames into place. Every entry's size is declared up front: libzip would otherwise
// add a Zip64 extra field to the local header, which the ASiC-E rules forbid for `mimetype`
// and which some readers mishandle.
#pragma once

#include <kurer/core/error.hpp>

#include <zip.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace kurer::dpo::detail {

// Supplies an entry's bytes while libzip writes it.
class entry_provider {
public:
    virtual ~entry_provider() = default;
    virtual result<void> open() = 0;                                   // (re)start from the beginning
    virtual result<std::size_t> read(std::span<std::uint8_t> buf) = 0; // 0 at the end
    virtual void close() {}
};

enum class compression { stored, deflated };

class zip_writer {
public:
    static result<zip_writer> create(const std::filesystem::path& path);
    zip_writer(zip_writer&&) noexcept;
    zip_writer& operator=(zip_writer&&) noexcept;
    ~zip_writer(); // discards the archive unless close() succeeded

    result<std::uint64_t> add_buffer(std::string name, std::string bytes, compression c, int level = 6);
    result<std::uint64_t> add_provider(std::string name, std::unique_ptr<entry_provider> provider,
                                       std::uint64_t size, compression c, int level = 6);
    result<void> set_entry_comment(std::uint64_t index, std::string_view comment);
    result<void> set_archive_comment(std::string_view comment);

    // Writes the archive; on failure the error a provider reported wins over libzip's.
    result<void> close();

private:
    struct impl;
    explicit zip_writer(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

} // namespace kurer::dpo::detail

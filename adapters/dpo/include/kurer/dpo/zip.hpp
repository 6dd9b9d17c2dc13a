// Bounded ZIP reading for sbd.zip and the ASiC-E.
//
// The central directory and every local header are parsed here, byte by byte, before libzip
// touches the file: entry names are checked as they are stored (libzip would quietly turn a NUL
// into a space), sizes, counts and ratios against `limits`, and local headers against the
// central directory. Entry data is then streamed through libzip, which inflates and checks the
// CRC; libzip's view of the archive must agree with ours entry by entry.
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/dpo/io.hpp>
#include <kurer/dpo/limits.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kurer::dpo {

struct zip_entry {
    std::string name;
    std::size_t index = 0;    // position in the central directory
    std::uint16_t method = 0; // 0 stored, 8 deflated
    std::uint16_t flags = 0;
    std::uint32_t crc32 = 0;
    std::uint64_t compressed_size = 0;
    std::uint64_t uncompressed_size = 0;
    std::uint64_t local_header_offset = 0;
    std::uint16_t central_extra_length = 0;
    std::string comment;

    // From the local header; local_header_error says why it could not be trusted.
    std::optional<std::string> local_header_error;
    std::uint64_t data_offset = 0;
    std::uint16_t local_extra_length = 0;
    bool sizes_in_local_header = false; // false when they follow the data (flag bit 3)
};

// The parsed structure of a ZIP file, checked against the limits (names, counts, sizes, ratio,
// overlapping or misplaced entries). Local-header faults are recorded per entry, not rejected,
// so the ASiC-E verifier can diagnose them; zip_reader rejects them.
struct zip_layout {
    std::vector<zip_entry> entries;
    std::string archive_comment;
    std::uint64_t file_size = 0;
    std::uint64_t central_directory_offset = 0;
};
result<zip_layout> scan_zip(const std::filesystem::path& path, const limits& lim);

// Checks one entry name against DPO's rules: non-empty, at most lim.max_name_bytes, UTF-8, no
// NUL or control characters, no backslash, not absolute, no "..", "." or empty segments (so
// also no directory entries).
result<void> check_entry_name(std::string_view name, const limits& lim);

class zip_reader {
public:
    // Scans and checks the file (zip_layout rules plus sound local headers), then opens it
    // with libzip. tolerate_local_header_faults keeps entries whose local header is broken (they
    // cannot be read, but the rest can: what the ASiC-E verifier needs for MOVE-610).
    static result<zip_reader> open(const std::filesystem::path& path, const limits& lim,
                                   bool tolerate_local_header_faults = false);
    zip_reader(zip_reader&&) noexcept;
    zip_reader& operator=(zip_reader&&) noexcept;
    ~zip_reader();

    const zip_layout& layout() const noexcept;
    const std::vector<zip_entry>& entries() const noexcept { return layout().entries; }
    const zip_entry* find(std::string_view name) const noexcept;
    const std::filesystem::path& path() const noexcept;

    // Streams an entry's uncompressed bytes; the CRC is checked when the end is reached.
    result<std::unique_ptr<byte_source>> open_entry(const zip_entry& entry) const;
    // A whole entry, refused when larger than max_bytes.
    result<std::string> read_entry(const zip_entry& entry, std::size_t max_bytes) const;

private:
    struct impl;
    explicit zip_reader(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

} // namespace kurer::dpo

// A ZIP writer for crafting bad input byte by byte: every header field can be set to a lie.
// Deflated entries are written as deflate "stored" blocks (valid deflate, no compression), so
// no zlib is needed; real compression comes from libzip where a test needs it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kurer::testing {

std::uint32_t crc32(std::string_view data);

struct raw_entry {
    std::string name;
    std::string data;         // uncompressed content
    std::uint16_t method = 0; // 0 stored, 8 deflate (stored blocks), anything else is written as stored bytes
    std::uint16_t flags = 0;
    std::string local_extra;
    std::string comment;
    // Lies, when set.
    std::optional<std::uint32_t> crc;
    std::optional<std::uint32_t> uncompressed_size;
    std::optional<std::uint32_t> compressed_size;
    std::optional<std::string> local_name;     // a different name in the local header
    std::optional<std::uint32_t> local_offset; // where the central directory says it starts
    std::optional<std::string> raw_compressed; // the compressed bytes verbatim
};

struct raw_zip {
    std::vector<raw_entry> entries;
    std::string comment;
    std::string prefix;   // bytes before the first entry
    std::string trailing; // bytes after the end record
};

std::string build_zip(const raw_zip& zip);

// Shorthands for the common case.
raw_entry file_entry(std::string name, std::string data, std::uint16_t method = 0);
std::string build_zip(std::vector<raw_entry> entries);

// The entries of a ZIP (names and uncompressed bytes), read with the code under test's reader.
std::vector<raw_entry> read_entries(const std::string& zip_file);

} // namespace kurer::testing

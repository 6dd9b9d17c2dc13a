// Durable file helpers: what "written and fsynced before the transition that references it"
// needs, in one place.
#pragma once

#include <kurer/core/error.hpp>

#include <filesystem>
#include <string_view>

namespace kurer {

// Writes `bytes` to `path` through a temporary sibling, fsyncs the file, renames it into place
// and fsyncs the directory, so after a crash the file is either absent or complete.
result<void> write_file_durably(const std::filesystem::path& path, std::string_view bytes);

// fsyncs an existing file and then its directory entry.
result<void> sync_file_and_directory(const std::filesystem::path& path);

// Reads a whole (small) file; refuses files larger than max_bytes.
result<std::string> read_small_file(const std::filesystem::path& path, std::size_t max_bytes);

} // namespace kurer

// Durable file helpers: what "written and fsynced before the transition that references it"
// needs, in one place.
#pragma once

#include <kurer/core/error.hpp>

#include <filesystem>
#include <optional>
#include <string_view>

namespace kurer {

// Writes `bytes` to `path` through a temporary sibling, fsyncs the file, renames it into place
// and fsyncs the directory, so after a crash the file is either absent or complete.
result<void> write_file_durably(const std::filesystem::path& path, std::string_view bytes);

// fsyncs an existing file and then its directory entry.
result<void> sync_file_and_directory(const std::filesystem::path& path);

// Reads a whole (small) file; refuses files larger than max_bytes.
result<std::string> read_small_file(const std::filesystem::path& path, std::size_t max_bytes);

// Creates `dir` and every missing parent with mode 0700 (the owner only). Directories that
// exist already are left as they are (see tighten_directory).
result<void> make_private_directories(const std::filesystem::path& dir);

// Takes the group's and others' permission bits off an existing directory. Returns the mode it
// had when it was changed, std::nullopt when it was private already.
result<std::optional<unsigned>> tighten_directory(const std::filesystem::path& dir);

// ssh's rule for secrets: refuses a file that its group or others may read or write, with
// "<path> is readable by others (mode 0644); chmod 600 it". A file that does not exist passes:
// reading it says so.
result<void> check_private_file(const std::filesystem::path& path);

// "0644": a permission mode as ls and chmod write it.
std::string format_mode(unsigned mode);

} // namespace kurer

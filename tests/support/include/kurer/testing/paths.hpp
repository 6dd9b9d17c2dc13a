// Where a test finds the built executables, the reference data and a scratch directory.
#pragma once

#include <filesystem>
#include <string_view>

namespace kurer::testing {

// A file under ../shared/protocol/data (KURER_REFERENCE_DATA). Only tests registered with
// REFERENCE_DATA may call it; their main has already skipped them when the folder is absent.
std::filesystem::path reference_data(std::string_view relative);

// build/bin/<name> (KURER_BIN_DIR).
std::filesystem::path executable(std::string_view name);

// A fresh directory under the system's temporary directory, removed when the object dies.
class scratch_dir {
public:
    scratch_dir();
    ~scratch_dir();
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

} // namespace kurer::testing

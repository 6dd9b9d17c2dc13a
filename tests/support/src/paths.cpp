#include <kurer/core/uuid.hpp>
#include <kurer/testing/paths.hpp>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace kurer::testing {
namespace {

std::filesystem::path from_env(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0')
        throw std::runtime_error(std::string("environment variable ") + name +
                                 " is not set; run the test through ctest");
    return value;
}

} // namespace

std::filesystem::path reference_data(std::string_view relative) {
    return from_env("KURER_REFERENCE_DATA") / relative;
}

std::filesystem::path executable(std::string_view name) {
    return from_env("KURER_BIN_DIR") / name;
}

scratch_dir::scratch_dir()
    : path_(std::filesystem::temp_directory_path() / ("kurer-test-" + random_uuid())) {
    std::filesystem::create_directories(path_);
}

scratch_dir::~scratch_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

} // namespace kurer::testing

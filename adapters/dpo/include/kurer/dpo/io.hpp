// Byte streams for the streaming parts of the package (CMS, zip entries): a document never has
// to be in memory whole. Readers pull from a byte_source; writers push into a byte_sink.
#pragma once

#include <kurer/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <span>

namespace kurer::dpo {

class byte_source {
public:
    virtual ~byte_source() = default;
    // Reads up to buf.size() bytes; 0 means the end. Never returns 0 before the end.
    virtual result<std::size_t> read(std::span<std::uint8_t> buf) = 0;
};

class byte_sink {
public:
    virtual ~byte_sink() = default;
    virtual result<void> write(std::span<const std::uint8_t> bytes) = 0;
};

// A file read from the start; moves only.
class file_source final : public byte_source {
public:
    static result<file_source> open(const std::filesystem::path& path);
    file_source(file_source&& other) noexcept;
    file_source& operator=(file_source&& other) noexcept;
    ~file_source() override;

    result<std::size_t> read(std::span<std::uint8_t> buf) override;
    std::uint64_t size() const noexcept { return size_; }

private:
    file_source(int fd, std::uint64_t size, std::filesystem::path path) noexcept;
    int fd_ = -1;
    std::uint64_t size_ = 0;
    std::filesystem::path path_;
};

// A new file (0600) that only appears under its name once committed: written beside the target
// as a hidden temporary, fsynced and renamed by commit(); removed if never committed.
class file_sink final : public byte_sink {
public:
    static result<file_sink> create(const std::filesystem::path& path);
    file_sink(file_sink&& other) noexcept;
    file_sink& operator=(file_sink&& other) noexcept;
    ~file_sink() override;

    result<void> write(std::span<const std::uint8_t> bytes) override;
    // Renames into place; when durable, fsyncs the file first and the directory after.
    result<void> commit(bool durable = true);
    std::uint64_t written() const noexcept { return written_; }

private:
    file_sink(int fd, std::filesystem::path tmp, std::filesystem::path target) noexcept;
    void discard() noexcept;
    int fd_ = -1;
    std::filesystem::path tmp_;
    std::filesystem::path target_;
    std::uint64_t written_ = 0;
};

// The error for a failed system call on `path` (errno), retryable.
error io_error(int err, std::string_view what, const std::filesystem::path& path);

} // namespace kurer::dpo

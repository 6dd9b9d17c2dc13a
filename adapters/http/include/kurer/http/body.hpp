// Message bodies that do not have to fit in memory.
//
// A body_source is what a client request or a server reply sends: a sequence of parts, each a
// string held in memory or a byte range of a file, or bytes pulled from a generator. Files are
// read 64 KiB at a time while the message is written, so a 1 GB upload costs 64 KiB of memory.
// The Altinn 2 MTOM upload is the motivating case: an envelope head in memory, the package file,
// and the closing boundary in memory, sent as one body.
#pragma once

#include <kurer/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace kurer::http {

namespace detail {
struct body_access;
}

class body_source {
public:
    // A contiguous byte range of a file; `length` nullopt means "to the end of the file", which
    // is measured when the body is sent.
    struct file_range {
        std::filesystem::path path;
        std::uint64_t offset = 0;
        std::optional<std::uint64_t> length;
    };
    // Fills `buffer` with the next bytes and returns how many it wrote; 0 means the body is
    // complete. An error aborts the message. Called on the connection's strand; it should not block
    // for long.
    using generator = std::function<result<std::size_t>(std::span<char> buffer)>;

    body_source() = default; // empty
    static body_source from_string(std::string bytes);
    static body_source from_file(std::filesystem::path path);
    // `length`, when known, is sent as Content-Length; otherwise the body is sent chunked.
    static body_source from_generator(generator g, std::optional<std::uint64_t> length = std::nullopt);

    body_source& append(std::string bytes);
    body_source& append_file(std::filesystem::path path, std::uint64_t offset = 0,
                             std::optional<std::uint64_t> length = std::nullopt);

    // Send with Transfer-Encoding: chunked even when the length is known (the reference sends its
    // MTOM uploads this way). Without it a body of known length carries Content-Length.
    body_source& chunked(bool on = true) {
        chunked_ = on;
        return *this;
    }
    bool is_chunked() const noexcept { return chunked_; }

    bool empty() const noexcept { return parts_.empty() && !generator_; }
    // False for generator bodies: they cannot be sent a second time.
    bool replayable() const noexcept { return !generator_; }

    // The total size, measuring files whose length is open. nullopt for a generator without a
    // declared length; an error when a file cannot be measured or is shorter than its range.
    result<std::optional<std::uint64_t>> measure() const;

    using part = std::variant<std::string, file_range>;
    const std::vector<part>& parts() const noexcept { return parts_; }
    const generator& source_generator() const noexcept { return generator_; }
    std::optional<std::uint64_t> generator_length() const noexcept { return generator_length_; }

private:
    friend struct detail::body_access;
    std::vector<part> parts_;
    generator generator_;
    std::optional<std::uint64_t> generator_length_;
    bool chunked_ = false;
};

} // namespace kurer::http

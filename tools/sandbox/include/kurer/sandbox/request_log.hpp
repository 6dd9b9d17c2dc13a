// DIR/requests.jsonl: one JSON line per request the sandbox received, so a developer can see
// exactly what a client sent.
//
//   {"time":"2026-01-01T12:00:00.123Z","remote":"127.0.0.1:50312","method":"POST","target":"/token",
//    "headers":{"Content-Type":"application/x-www-form-urlencoded","Authorization":"Bearer eyJraWQiOi...(812
//    bytes)"}, "body":"grant_type=...","body_bytes":1234,"body_truncated":false,"status":200,"duration_ms":3}
//
// Authorization values are shortened; bodies are cut at 64 KiB and written as base64
// ("body_encoding":"base64") when they are not UTF-8 text. The log also counts requests per
// "METHOD path?query" (conversationId left out), for GET /sandbox/stats.
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/http/server.hpp>

#include <boost/json/object.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

namespace kurer::sandbox {

class request_log {
public:
    static constexpr std::size_t body_limit = 64 * 1024;

    static result<std::unique_ptr<request_log>> open(const std::filesystem::path& file);
    ~request_log();

    http::middleware middleware();

    boost::json::object counts() const;
    void reset_counts();

    // "Bearer eyJhbGciOiJS...(812 bytes)".
    static std::string shorten_credentials(std::string_view value);
    // The stats key: "METHOD path?query" with conversationId removed from the query.
    static std::string count_key(std::string_view method, std::string_view target);

private:
    explicit request_log(int fd)
        : fd_(fd) {}
    void append(const std::string& line);

    int fd_;
    std::map<std::string, std::uint64_t> counts_;
};

} // namespace kurer::sandbox

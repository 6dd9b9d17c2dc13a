#include <kurer/maskinporten/jose.hpp>
#include <kurer/sandbox/request_log.hpp>

#include <boost/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>

namespace kurer::sandbox {
namespace {

bool is_text(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\r' && c != '\n')
                return false;
            ++i;
            continue;
        }
        const int extra = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
        if (extra < 0)
            return false;
        if (i + static_cast<std::size_t>(extra) >= s.size())
            return true; // cut in the middle of a character by the 64 KiB limit
        for (int k = 1; k <= extra; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80)
                return false;
        i += static_cast<std::size_t>(extra) + 1;
    }
    return true;
}

std::string iso_time(std::chrono::system_clock::time_point t) {
    const auto secs = std::chrono::system_clock::to_time_t(t);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

} // namespace

result<std::unique_ptr<request_log>> request_log::open(const std::filesystem::path& file) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return make_error(boost::system::error_code(errno, boost::system::system_category()),
                          "cannot open " + file.string() + ": " + std::strerror(errno));
    return std::unique_ptr<request_log>(new request_log(fd));
}

request_log::~request_log() {
    ::close(fd_);
}

void request_log::append(const std::string& line) {
    // One write() per line: O_APPEND keeps lines whole even if two processes share the file.
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        const ssize_t n = ::write(fd_, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

std::string request_log::shorten_credentials(std::string_view value) {
    const auto space = value.find(' ');
    const std::string_view scheme =
        space == std::string_view::npos ? std::string_view() : value.substr(0, space + 1);
    const std::string_view secret = value.substr(scheme.size());
    constexpr std::size_t shown = 12;
    if (secret.size() <= shown)
        return std::string(scheme) + std::string(secret.size(), '*');
    return std::string(scheme) + std::string(secret.substr(0, shown)) + "...(" +
           std::to_string(secret.size()) + " bytes)";
}

std::string request_log::count_key(std::string_view method, std::string_view target) {
    const auto q = target.find('?');
    std::string key = std::string(method) + " " + std::string(target.substr(0, q));
    if (q == std::string_view::npos)
        return key;
    std::string query;
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const auto part = rest.substr(0, amp);
        if (!part.starts_with("conversationId=") && !part.empty()) {
            if (!query.empty())
                query += '&';
            query += part;
        }
        if (amp == std::string_view::npos)
            break;
        rest.remove_prefix(amp + 1);
    }
    if (!query.empty())
        key += "?" + query;
    return key;
}

boost::json::object request_log::counts() const {
    boost::json::object o;
    for (const auto& [k, v] : counts_)
        o[k] = v;
    return o;
}

void request_log::reset_counts() {
    counts_.clear();
}

http::middleware request_log::middleware() {
    return [this](http::exchange ex, http::handler next) -> boost::asio::awaitable<void> {
        const auto started = std::chrono::steady_clock::now();
        const auto wall = std::chrono::system_clock::now();
        ++counts_[count_key(ex.method_string(), ex.target())];
        auto captured = std::make_shared<std::string>();
        auto total = std::make_shared<std::uint64_t>(0);
        ex.observe_body([captured, total](std::string_view chunk) {
            *total += chunk.size();
            if (captured->size() < body_limit)
                captured->append(chunk.substr(0, body_limit - captured->size()));
        });
        std::exception_ptr failure;
        try {
            co_await next(ex);
        } catch (...) {
            failure = std::current_exception();
        }
        if (!failure) {
            // Read what the service left unread so the log shows it (the server would drain it anyway).
            (void)co_await ex.read_body_chunks([](std::string_view) -> result<void> { return {}; });
        }
        boost::json::object headers;
        for (const auto& f : ex.headers()) {
            const std::string name(f.name_string());
            std::string value(f.value());
            if (f.name() == boost::beast::http::field::authorization ||
                f.name() == boost::beast::http::field::proxy_authorization)
                value = shorten_credentials(value);
            if (auto* existing = headers.if_contains(name))
                value = std::string(existing->as_string()) + ", " + value;
            headers[name] = value;
        }
        boost::json::object line{
            {"time", iso_time(wall)},
            {"remote", ex.remote_address()},
            {"method", ex.method_string()},
            {"target", ex.target()},
            {"headers", std::move(headers)},
            {"body_bytes", *total},
            {"body_truncated", *total > captured->size()},
            {"status", ex.status_sent()},
            {"duration_ms",
             std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
                 .count()},
        };
        if (!captured->empty()) {
            if (is_text(*captured)) {
                line["body"] = *captured;
            } else {
                line["body"] =
                    maskinporten::jose::base64(std::vector<std::uint8_t>(captured->begin(), captured->end()));
                line["body_encoding"] = "base64";
            }
        }
        if (failure)
            line["handler_failed"] = true;
        append(boost::json::serialize(line) + "\n");
        if (failure)
            std::rethrow_exception(failure);
    };
}

} // namespace kurer::sandbox

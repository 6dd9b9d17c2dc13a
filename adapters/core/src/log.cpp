#include <kurer/core/log.hpp>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace kurer {
namespace {

std::string utc_now() {
    const auto now = std::chrono::system_clock::now();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buf[40];
    const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
    return buf;
}

} // namespace

std::string_view to_string(log_level l) noexcept {
    switch (l) {
    case log_level::debug:
        return "debug";
    case log_level::info:
        return "info";
    case log_level::warning:
        return "warning";
    case log_level::error:
        return "error";
    }
    return "info";
}

std::optional<log_level> parse_log_level(std::string_view text) noexcept {
    for (const auto l : {log_level::debug, log_level::info, log_level::warning, log_level::error})
        if (text == to_string(l))
            return l;
    return std::nullopt;
}

log_sink stderr_sink() {
    return [](log_level, std::string_view line) {
        static std::mutex mutex;
        std::lock_guard lock(mutex);
        std::fwrite(line.data(), 1, line.size(), stderr);
        std::fputc('\n', stderr);
        std::fflush(stderr);
    };
}

logger::logger()
    : logger(log_level::info) {}

logger::logger(log_level minimum, log_sink sink)
    : minimum_(minimum)
    , sink_(std::make_shared<const log_sink>(sink ? std::move(sink) : stderr_sink())) {}

logger::logger(log_level minimum, std::shared_ptr<const log_sink> sink, int)
    : minimum_(minimum)
    , sink_(std::move(sink)) {}

std::shared_ptr<const log_sink> logger::make_sink(log_sink sink) {
    return sink ? std::make_shared<const log_sink>(std::move(sink)) : nullptr;
}

logger logger::silent() {
    return logger(log_level::error, nullptr, 0);
}

logger logger::component(std::string name) const {
    auto copy = *this;
    copy.component_ = std::move(name);
    return copy;
}

logger logger::at(log_level minimum) const {
    auto copy = *this;
    copy.minimum_ = minimum;
    return copy;
}

void logger::operator()(log_level level, std::string_view message, log_fields fields) const {
    if (!enabled(level))
        return;
    boost::json::object line;
    line["time"] = utc_now();
    line["level"] = to_string(level);
    if (!component_.empty())
        line["component"] = component_;
    line["msg"] = message;
    for (const auto& f : fields)
        line[f.key] = f.value;
    (*sink_)(level, boost::json::serialize(line));
}

} // namespace kurer

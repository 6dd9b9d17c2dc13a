// The one logger of every layer (engine, admin, adapters, tools): a value holding a minimum
// level, a component name and a sink. Each line is one JSON object,
//   {"time":"2026-12-02T16:03:31.123Z","level":"info","component":"runner","msg":"...",<fields>}
// with numbers and booleans as JSON numbers and booleans. Lines never hold secrets: callers log
// identifiers and sizes, never tokens, keys or document contents.
#pragma once

#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace kurer {

enum class log_level { debug, info, warning, error };
std::string_view to_string(log_level l) noexcept; // "debug", "info", "warning", "error"
std::optional<log_level> parse_log_level(std::string_view text) noexcept;

// Where finished lines go (one complete JSON object, no newline). Called from any thread.
using log_sink = std::function<void(log_level level, std::string_view json_line)>;

// Whole lines on stderr, one writer at a time.
log_sink stderr_sink();

// One field of a line: {"reference", ref}, {"bytes", n}, {"ok", true}: strings stay strings,
// numbers and booleans become JSON numbers and booleans.
struct log_field {
    template <class T>
    log_field(std::string_view k, T&& v)
        : key(k)
        , value(boost::json::value_from(std::forward<T>(v))) {}
    std::string_view key;
    boost::json::value value;
};
using log_fields = std::initializer_list<log_field>;

class logger {
public:
    // JSON lines on stderr at info and above.
    logger();
    // Lines at `minimum` and above to `sink` (an empty sink: stderr).
    explicit logger(log_level minimum, log_sink sink = {});
    // Every line to `sink`, which filters as it likes (what embedders and tests pass): any
    // callable void(log_level, std::string_view). An empty sink writes nothing.
    template <class F>
    requires(!std::is_same_v<std::decay_t<F>, logger> && std::is_invocable_v<F&, log_level, std::string_view>)
        logger(F sink)
        : logger(log_level::debug, make_sink(log_sink(std::move(sink))), 0) {}
    // Nothing is written.
    static logger silent();

    // The same sink and level, naming `component` in every line.
    logger component(std::string name) const;
    logger at(log_level minimum) const;

    log_level minimum() const noexcept { return minimum_; }
    bool enabled(log_level level) const noexcept { return sink_ != nullptr && level >= minimum_; }

    void operator()(log_level level, std::string_view message, log_fields fields = {}) const;
    void debug(std::string_view message, log_fields fields = {}) const {
        (*this)(log_level::debug, message, fields);
    }
    void info(std::string_view message, log_fields fields = {}) const {
        (*this)(log_level::info, message, fields);
    }
    void warning(std::string_view message, log_fields fields = {}) const {
        (*this)(log_level::warning, message, fields);
    }
    void error(std::string_view message, log_fields fields = {}) const {
        (*this)(log_level::error, message, fields);
    }

private:
    logger(log_level minimum, std::shared_ptr<const log_sink> sink, int);
    static std::shared_ptr<const log_sink> make_sink(log_sink sink);

    log_level minimum_ = log_level::info;
    std::string component_;
    std::shared_ptr<const log_sink> sink_;
};

} // namespace kurer

// kurer.json, strictly: every member known, typed and in range, or an error naming it.
#include <kurer/core/files.hpp>
#include <kurer/engine/daemon_config.hpp>
#include <kurer/engine/polling.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <limits>
#include <set>

namespace kurer::engine {
namespace json = boost::json;
namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "kurer.config"; }
    std::string message(int ev) const override {
        switch (static_cast<config_errc>(ev)) {
        case config_errc::invalid:
            return "invalid configuration";
        case config_errc::unreadable:
            return "configuration file unreadable";
        }
        return "unknown configuration error";
    }
};

// Thrown inside the parser only; parse_config turns it into a result.
struct config_failure {
    config_errc code;
    std::string message;
};

[[noreturn]] void fail(std::string field, std::string_view what, config_errc code = config_errc::invalid) {
    throw config_failure{code, std::move(field) + ": " + std::string(what)};
}

// A file holding a secret (a key, a password, a token) is refused when its group or others may
// read or write it, as ssh refuses such a key. A missing file passes: reading it reports that.
void check_secret_file(const std::string& field, const std::filesystem::path& path) {
    if (auto ok = check_private_file(path); !ok)
        fail(field, ok.error().message);
}

constexpr std::int64_t max_duration_ms = 30ll * 24 * 3600 * 1000; // 30 days: far beyond any sane timeout

bool is_digits(std::string_view s, std::size_t n) {
    return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// One JSON object being read: the members asked for are marked, and finish() refuses the rest.
class object_reader {
public:
    object_reader(const json::object& o, std::string path)
        : object_(o)
        , path_(std::move(path)) {}

    std::string field(std::string_view key) const {
        return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    }

    const json::value* find(std::string_view key) {
        known_.emplace(key);
        const auto* v = object_.if_contains(key);
        return v && !v->is_null() ? v : nullptr; // null counts as absent, as the reference's Jackson reads it
    }
    const json::value& need(std::string_view key) {
        const auto* v = find(key);
        if (!v)
            fail(field(key), "missing (required)");
        return *v;
    }

    std::string string(std::string_view key, const json::value& v) const {
        if (!v.is_string())
            fail(field(key), "expected a string");
        if (v.get_string().empty())
            fail(field(key), "must not be empty");
        return std::string(v.get_string());
    }
    std::string required_string(std::string_view key) { return string(key, need(key)); }
    std::string optional_string(std::string_view key, std::string fallback) {
        const auto* v = find(key);
        return v ? string(key, *v) : std::move(fallback);
    }

    std::int64_t integer(std::string_view key, const json::value& v, std::int64_t min,
                         std::int64_t max) const {
        std::int64_t n = 0;
        if (v.is_int64())
            n = v.get_int64();
        else if (v.is_uint64())
            n = v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
                    ? std::numeric_limits<std::int64_t>::max()
                    : static_cast<std::int64_t>(v.get_uint64());
        else
            fail(field(key), "expected an integer");
        if (n < min || n > max)
            fail(field(key), "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                                 " (got " + std::to_string(n) + ")");
        return n;
    }
    std::int64_t optional_integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                                  std::int64_t max) {
        const auto* v = find(key);
        return v ? integer(key, *v, min, max) : fallback;
    }

    double optional_number(std::string_view key, double fallback, double min, double max) {
        const auto* v = find(key);
        if (!v)
            return fallback;
        if (!v->is_number())
            fail(field(key), "expected a number");
        const double d = v->to_number<double>();
        if (!(d >= min && d <= max))
            fail(field(key), "must be between " + json::serialize(json::value(min)) + " and " +
                                 json::serialize(json::value(max)));
        return d;
    }

    bool optional_bool(std::string_view key, bool fallback) {
        const auto* v = find(key);
        if (!v)
            return fallback;
        if (!v->is_bool())
            fail(field(key), "expected true or false");
        return v->get_bool();
    }

    std::vector<std::string> optional_strings(std::string_view key, std::vector<std::string> fallback) {
        const auto* v = find(key);
        if (!v)
            return fallback;
        if (!v->is_array())
            fail(field(key), "expected an array of strings");
        std::vector<std::string> out;
        std::size_t i = 0;
        for (const auto& item : v->get_array()) {
            const auto where = field(key) + "[" + std::to_string(i++) + "]";
            if (!item.is_string())
                fail(where, "expected a string");
            if (item.get_string().empty())
                fail(where, "must not be empty");
            out.emplace_back(item.get_string());
        }
        return out;
    }

    const json::object* optional_object(std::string_view key) {
        const auto* v = find(key);
        if (!v)
            return nullptr;
        if (!v->is_object())
            fail(field(key), "expected an object");
        return &v->get_object();
    }
    const json::object& required_object(std::string_view key) {
        const auto* o = optional_object(key);
        if (!o)
            fail(field(key), "missing (required)");
        return *o;
    }

    // The first member nobody asked for is an error: a typo must not fall back to a default.
    void finish() const {
        for (const auto& member : object_)
            if (!known_.contains(std::string(member.key())))
                fail(field(member.key()), "unknown member");
    }

private:
    const json::object& object_;
    std::string path_;
    std::set<std::string, std::less<>> known_;
};

std::chrono::milliseconds optional_ms(object_reader& r, std::string_view key,
                                      std::chrono::milliseconds fallback, std::int64_t min = 0) {
    return std::chrono::milliseconds(r.optional_integer(key, fallback.count(), min, max_duration_ms));
}

std::string https_url(object_reader& r, std::string_view key, const json::value& v) {
    auto url = r.string(key, v);
    if (!url.starts_with("https://") || url.size() <= 8)
        fail(r.field(key), "expected an https URL (got '" + url + "')");
    if (url.find_first_of(" \t\r\n") != std::string::npos)
        fail(r.field(key), "the URL contains white space");
    return url;
}
std::string required_url(object_reader& r, std::string_view key) {
    return https_url(r, key, r.need(key));
}

std::filesystem::path resolve(const std::filesystem::path& base, std::string_view text) {
    std::filesystem::path p(text);
    if (p.is_relative())
        p = base / p;
    return p.lexically_normal();
}

std::filesystem::path required_path(object_reader& r, const std::filesystem::path& base,
                                    std::string_view key) {
    return resolve(base, r.required_string(key));
}

void check_org(const std::string& field, const std::string& value) {
    if (!is_digits(value, 9))
        fail(field, "'" + value + "' is not a 9-digit organisation number");
}

maskinporten_settings read_maskinporten(object_reader& r, const std::string& organization,
                                        std::vector<std::string>& scopes) {
    maskinporten_settings m;
    m.token_url = required_url(r, "token_url");
    m.audience = r.required_string("audience");
    m.client_id = r.optional_string("client_id", "MOVE_IP_" + organization);
    scopes = r.optional_strings("scopes", {"eformidling:dpo"});
    if (scopes.empty())
        fail(r.field("scopes"), "needs at least one scope");
    m.grant_lifetime = std::chrono::seconds(r.optional_integer("grant_lifetime_s", 110, 1, 120));
    m.refresh_margin = std::chrono::seconds(r.optional_integer("refresh_margin_s", 20, 0, 3600));
    r.finish();
    return m;
}

service_registry_settings read_service_registry(object_reader& r) {
    service_registry_settings s;
    s.url = required_url(r, "url");
    if (s.url.ends_with('/'))
        fail(r.field("url"), "must not end with '/' (the base URL, e.g. https://host/adressetjeneste)");
    s.signed_responses = r.optional_bool("signed_responses", true);
    s.cache_ttl = std::chrono::seconds(r.optional_integer("cache_ttl_s", 300, 0, 86400));
    r.finish();
    return s;
}

altinn2_settings read_altinn2(object_reader& r, const std::filesystem::path& base) {
    altinn2_settings a;
    a.basic_url = required_url(r, "basic_url");
    a.streamed_url = required_url(r, "streamed_url");
    a.system_user = r.required_string("system_user");
    const auto* password = r.find("system_password");
    const auto* password_file = r.find("system_password_file");
    if (password && password_file)
        fail(r.field("system_password"), "give system_password or system_password_file, not both");
    if (password) {
        a.system_password = r.string("system_password", *password);
    } else if (password_file) {
        const auto path = resolve(base, r.string("system_password_file", *password_file));
        check_secret_file(r.field("system_password_file"), path);
        auto text = read_small_file(path, 4096);
        if (!text)
            fail(r.field("system_password_file"),
                 "cannot read " + path.string() + ": " + text.error().message, config_errc::unreadable);
        auto value = std::move(*text);
        while (!value.empty() && (value.back() == '\n' || value.back() == '\r'))
            value.pop_back();
        if (value.empty())
            fail(r.field("system_password_file"), path.string() + " is empty");
        a.system_password = std::move(value);
    } else {
        fail(r.field("system_password"), "missing (required; or system_password_file)");
    }
    a.service_code = r.optional_string("service_code", a.service_code);
    a.service_edition = r.optional_integer("service_edition", a.service_edition, 1, 999'999'999);
    r.finish();
    return a;
}

altinn3_settings read_altinn3(object_reader& r, const std::string& organization) {
    altinn3_settings a;
    a.base_url = required_url(r, "base_url");
    a.exchange_url = required_url(r, "exchange_url");
    a.resource_id = r.optional_string("resource_id", a.resource_id);
    a.system_user =
        r.optional_string("system_user", organization + "_integrasjonspunkt_systembruker_" + organization);
    r.finish();
    return a;
}

broker_settings read_broker(object_reader& r, const std::filesystem::path& base,
                            const std::string& organization, std::string& message_channel) {
    broker_settings b;
    const auto kind = r.required_string("kind");
    if (kind == "altinn2")
        b.kind = broker_kind::altinn2;
    else if (kind == "altinn3")
        b.kind = broker_kind::altinn3;
    else
        fail(r.field("kind"), "expected \"altinn2\" or \"altinn3\" (got \"" + kind + "\")");
    // Both sections may be present (the sandbox writes both); the chosen one is required.
    if (const auto* o = r.optional_object("altinn2")) {
        object_reader sub(*o, r.field("altinn2"));
        b.altinn2 = read_altinn2(sub, base);
    }
    if (const auto* o = r.optional_object("altinn3")) {
        object_reader sub(*o, r.field("altinn3"));
        b.altinn3 = read_altinn3(sub, organization);
    }
    if (b.kind == broker_kind::altinn2 && !b.altinn2)
        fail(r.field("altinn2"), "missing (required when kind is \"altinn2\")");
    if (b.kind == broker_kind::altinn3 && !b.altinn3)
        fail(r.field("altinn3"), "missing (required when kind is \"altinn3\")");
    if (const auto* v = r.find("message_channel")) {
        message_channel = r.string("message_channel", *v);
        if (!is_channel_name(message_channel))
            fail(r.field("message_channel"),
                 "'" + message_channel + "' is not a channel name (1 to 25 of A-Z a-z 0-9 _ -)");
    }
    b.reportees = r.optional_strings("reportees", {});
    for (std::size_t i = 0; i < b.reportees.size(); ++i) {
        const auto where = r.field("reportees") + "[" + std::to_string(i) + "]";
        check_org(where, b.reportees[i]);
        if (b.reportees[i] == organization)
            fail(where, "is the organisation itself (it is always polled)");
        if (std::find(b.reportees.begin(), b.reportees.begin() + static_cast<std::ptrdiff_t>(i),
                      b.reportees[i]) != b.reportees.begin() + static_cast<std::ptrdiff_t>(i))
            fail(where, "'" + b.reportees[i] + "' is listed twice");
    }
    r.finish();
    return b;
}

// The admin listener's own rule (admin_server), checked at start-up.
constexpr std::size_t min_token_length = 16;

bool is_loopback(std::string_view address) {
    return address == "::1" || address == "localhost" || address.starts_with("127.");
}

admin_tcp_settings read_admin_tcp(object_reader& r, const std::filesystem::path& base) {
    admin_tcp_settings t;
    t.address = r.optional_string("address", t.address);
    if (!is_loopback(t.address))
        fail(r.field("address"), "'" + t.address + "' is not a loopback address (127.x.x.x or ::1)");
    t.port = static_cast<std::uint16_t>(r.integer("port", r.need("port"), 1, 65535));
    t.token_file = required_path(r, base, "token_file");
    t.max_connections = static_cast<std::size_t>(
        r.optional_integer("max_connections", static_cast<std::int64_t>(t.max_connections), 1, 100'000));
    r.finish();
    // Read here as well as by the listener, so that a bad token stops kurer before anything starts.
    check_secret_file(r.field("token_file"), t.token_file);
    auto text = read_small_file(t.token_file, 4096);
    if (!text)
        fail(r.field("token_file"), "cannot read " + t.token_file.string() + ": " + text.error().message,
             config_errc::unreadable);
    auto token = text->substr(0, text->find_first_of("\r\n"));
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
        token.pop_back();
    if (token.size() < min_token_length)
        fail(r.field("token_file"), "the token in " + t.token_file.string() + " is " +
                                        std::to_string(token.size()) + " characters long; at least " +
                                        std::to_string(min_token_length) +
                                        " are needed (for example: openssl rand -hex 32)");
    return t;
}

admin_settings read_admin(object_reader& r) {
    admin_settings a;
    a.max_connections = static_cast<std::size_t>(
        r.optional_integer("max_connections", static_cast<std::int64_t>(a.max_connections), 1, 100'000));
    a.max_event_clients = static_cast<std::size_t>(
        r.optional_integer("max_event_clients", static_cast<std::int64_t>(a.max_event_clients), 1, 100'000));
    a.first_request_timeout = optional_ms(r, "first_request_timeout_ms", a.first_request_timeout);
    a.header_timeout = optional_ms(r, "header_timeout_ms", a.header_timeout);
    a.idle_timeout = optional_ms(r, "idle_timeout_ms", a.idle_timeout);
    r.finish();
    return a;
}

log_level read_level(object_reader& r) {
    const auto* v = r.find("log_level");
    if (!v)
        return log_level::info;
    const auto text = r.string("log_level", *v);
    if (auto level = parse_log_level(text))
        return *level;
    fail("log_level", "expected \"debug\", \"info\", \"warning\" or \"error\" (got \"" + text + "\")");
}

daemon_config read_config(const json::object& root, const std::filesystem::path& base) {
    object_reader r(root, "");
    daemon_config c;
    auto& run = c.runner;

    run.organization = r.required_string("organization");
    check_org("organization", run.organization);
    run.data_dir = required_path(r, base, "data_dir");
    c.admin_socket = required_path(r, base, "admin_socket");
    // sockaddr_un holds 108 bytes with the terminating zero.
    if (c.admin_socket.native().size() > 107)
        fail("admin_socket",
             "the path " + c.admin_socket.string() + " is longer than a Unix socket allows (107 bytes)");
    if (const auto* o = r.optional_object("admin_tcp")) {
        object_reader sub(*o, "admin_tcp");
        c.admin_tcp = read_admin_tcp(sub, base);
    }
    if (const auto* o = r.optional_object("admin")) {
        object_reader sub(*o, "admin");
        c.admin = read_admin(sub);
    }
    c.certificate = required_path(r, base, "certificate");
    c.private_key = required_path(r, base, "private_key");
    check_secret_file("private_key", c.private_key);
    if (const auto* v = r.find("ca_bundle"))
        c.ca_bundle = resolve(base, r.string("ca_bundle", *v));
    if (const auto* v = r.find("enterprise_ca_bundle"))
        c.enterprise_ca_bundle = resolve(base, r.string("enterprise_ca_bundle", *v));
    if (const auto* o = r.optional_object("signing_delegations")) {
        object_reader sub(*o, "signing_delegations");
        for (const auto& member : *o) {
            const std::string signer(member.key());
            check_org(sub.field(signer), signer);
            auto& senders = c.signing_delegations[signer];
            for (const auto& sender : sub.optional_strings(signer, {})) {
                check_org(sub.field(signer), sender);
                senders.insert(sender);
            }
        }
        sub.finish();
    }

    {
        object_reader sub(r.required_object("maskinporten"), "maskinporten");
        c.maskinporten = read_maskinporten(sub, run.organization, run.scopes);
    }
    {
        object_reader sub(r.required_object("service_registry"), "service_registry");
        c.service_registry = read_service_registry(sub);
    }
    {
        object_reader sub(r.required_object("broker"), "broker");
        c.broker = read_broker(sub, base, run.organization, run.message_channel);
    }

    run.polling_interval = optional_ms(r, "polling_interval_ms", run.polling_interval);
    if (run.polling_interval.count() != 0 && c.enterprise_ca_bundle.empty())
        fail("enterprise_ca_bundle",
             "missing (required to receive messages): the CA certificates that issue enterprise "
             "certificates, distinct from the TLS ca_bundle; an incoming package counts only when its signer "
             "chains to one of them");
    run.default_ttl = std::chrono::hours(r.optional_integer("default_ttl_hours", 24, 1, 24 * 365));
    c.default_process = r.optional_string("default_process", c.default_process);
    if (const auto* v = r.find("signature_digest")) {
        const auto d = r.string("signature_digest", *v);
        if (d == "sha256")
            c.digest = signature_digest::sha256;
        else if (d == "sha1")
            c.digest = signature_digest::sha1;
        else
            fail("signature_digest", "expected \"sha256\" or \"sha1\" (got \"" + d + "\")");
    }

    if (const auto* o = r.optional_object("limits")) {
        object_reader sub(*o, "limits");
        run.max_in_flight =
            static_cast<std::size_t>(sub.optional_integer("max_in_flight", 1000, 1, 1'000'000));
        c.max_message_bytes = static_cast<std::uint64_t>(
            sub.optional_integer("max_message_bytes", static_cast<std::int64_t>(c.max_message_bytes), 1,
                                 std::numeric_limits<std::int64_t>::max()));
        sub.finish();
    }
    if (const auto* o = r.optional_object("http")) {
        object_reader sub(*o, "http");
        c.http.connect_timeout = optional_ms(sub, "connect_timeout_ms", c.http.connect_timeout);
        c.http.request_timeout = optional_ms(sub, "request_timeout_ms", c.http.request_timeout);
        c.http.idle_timeout = optional_ms(sub, "idle_timeout_ms", c.http.idle_timeout);
        c.http.max_connections_per_host =
            static_cast<std::size_t>(sub.optional_integer("max_connections_per_host", 8, 1, 1024));
        sub.finish();
    }
    if (const auto* o = r.optional_object("retry")) {
        object_reader sub(*o, "retry");
        run.retry.initial = optional_ms(sub, "initial_backoff_ms", run.retry.initial);
        run.retry.max = optional_ms(sub, "max_backoff_ms", run.retry.max);
        if (run.retry.max < run.retry.initial)
            fail("retry.max_backoff_ms", "must not be smaller than retry.initial_backoff_ms");
        run.retry.multiplier = sub.optional_number("multiplier", run.retry.multiplier, 1.0, 100.0);
        run.retry.jitter = sub.optional_number("jitter", run.retry.jitter, 0.0, 1.0);
        sub.finish();
    }
    c.level = read_level(r);

    run.io_threads = static_cast<unsigned>(r.optional_integer("io_threads", run.io_threads, 1, 256));
    run.worker_threads =
        static_cast<unsigned>(r.optional_integer("worker_threads", run.worker_threads, 1, 256));
    run.lock_timeout = optional_ms(r, "lock_timeout_ms", run.lock_timeout, 1);
    run.shutdown_grace = optional_ms(r, "shutdown_grace_ms", run.shutdown_grace);
    run.remove_finished_files = r.optional_bool("remove_finished_files", run.remove_finished_files);

    r.finish();
    run.log = stderr_log(c.level);
    return c;
}

// "line L, column C" of a byte offset, for JSON syntax errors.
std::string position(std::string_view text, std::size_t offset) {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

} // namespace

const boost::system::error_category& config_category() noexcept {
    static const category instance;
    return instance;
}

boost::system::error_code make_error_code(config_errc e) noexcept {
    return {static_cast<int>(e), config_category()};
}

std::string_view to_string(broker_kind k) noexcept {
    return k == broker_kind::altinn2 ? "altinn2" : "altinn3";
}

result<daemon_config> parse_config(std::string_view text, const std::filesystem::path& base_dir) {
    json::parse_options options;
    options.max_depth = 16;
    json::stream_parser parser({}, options);
    boost::system::error_code ec;
    const auto used = parser.write(text.data(), text.size(), ec);
    if (!ec)
        parser.finish(ec);
    if (ec)
        return make_error(config_errc::invalid,
                          "not valid JSON at " + position(text, used) + ": " + ec.message());
    const json::value root = parser.release();
    if (!root.is_object())
        return make_error(config_errc::invalid, "the configuration must be a JSON object");
    try {
        return read_config(root.get_object(), base_dir);
    } catch (const config_failure& f) {
        return make_error(f.code, f.message);
    }
}

result<daemon_config> load_config(const std::filesystem::path& file) {
    auto text = read_small_file(file, 1024 * 1024);
    if (!text)
        return make_error(config_errc::unreadable, file.string() + ": " + text.error().message);
    const auto absolute = std::filesystem::absolute(file).lexically_normal();
    auto parsed = parse_config(*text, absolute.parent_path());
    if (!parsed)
        return make_error(parsed.error().code, file.string() + ": " + parsed.error().message);
    parsed->file = absolute;
    return parsed;
}

} // namespace kurer::engine

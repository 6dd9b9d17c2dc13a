// The admin server's insides, shared by its route files. Internal to engine/.
#pragma once

#include "drafts.hpp"
#include "events.hpp"

#include <kurer/asio/offload.hpp>
#include <kurer/engine/admin_server.hpp>
#include <kurer/engine/metrics.hpp>
#include <kurer/http/server.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kurer::engine {
// From digest.cpp (the runner's own helpers).
std::string sha256_hex(std::string_view bytes);
result<std::string> sha256_file(const std::filesystem::path& path);
} // namespace kurer::engine

namespace kurer::engine::admin {

namespace asio = boost::asio;
namespace json = boost::json;
namespace sm = statemachine;
using http::exchange;
using http::verb;

// ---------------------------------------------------------------------------------------------
// answers

// An error answer in the reference's shape: {timestamp, status, error, exception, message, path}.
// `exception` names the reference's exception class where one fits, so clients written against
// the reference recognise it (MessageNotFoundException, ...).
struct api_error {
    unsigned status = 400;
    std::string exception;
    std::string message;
};

// What a route answers: JSON (or text) from memory, or nothing when the handler has already
// answered itself (files, streams, 204s with headers).
struct answer {
    unsigned status = 200;
    std::string body;
    std::string content_type = "application/json";
    http::fields headers;
    std::optional<api_error> error;
    bool sent = false;

    static answer json(std::string body, unsigned status = 200) {
        answer a;
        a.status = status;
        a.body = std::move(body);
        return a;
    }
    static answer value(const boost::json::value& v, unsigned status = 200);
    static answer empty(unsigned status = 200) {
        answer a;
        a.status = status;
        a.content_type.clear();
        return a;
    }
    static answer fail(unsigned status, std::string exception, std::string message) {
        answer a;
        a.error = api_error{status, std::move(exception), std::move(message)};
        return a;
    }
    static answer fail(api_error e) {
        answer a;
        a.error = std::move(e);
        return a;
    }
    static answer already_sent() {
        answer a;
        a.sent = true;
        return a;
    }
};

// An engine (or other module) error as an answer: invalid_request 400, conflict 409, not_found
// 404, not_locked 400, not_retryable 409, stopping 503, SBD errors 400; other errors 503 when
// retryable, else 500.
api_error to_api_error(const error& e);

std::string reason_phrase(unsigned status);
std::string error_body(const api_error& e, std::string_view path);

// ---------------------------------------------------------------------------------------------
// times and identifiers as the API writes them

// ISO-8601 with Europe/Oslo's offset, as the reference writes (2026-03-25T11:35:07.123+01:00).
std::string api_time(storage::time_point t);
storage::time_point now_ms();
// Parses an ISO date-time (offset optional: Oslo time) or a date (yyyy-MM-dd, Oslo midnight).
std::optional<storage::time_point> parse_api_time(std::string_view text);

// "0192:<orgnr>" for a 9-digit organisation number.
std::string iso6523(std::string_view organization);
// The 9 digits of "0192:<orgnr>" or of a bare organisation number; nullopt otherwise.
std::optional<std::string> org_number(std::string_view identifier);

// The business message type of a document standard: the part after "::".
std::string type_of_standard(std::string_view standard);

// A JSON value with every object's members sorted by key: equal for equal content, whatever the
// member order and whitespace of the text it came from.
std::string canonical_json(const json::value& v);

// ---------------------------------------------------------------------------------------------
// an asynchronous lock per key (a message id): requests that change one draft take turns

class keyed_lock {
public:
    explicit keyed_lock(asio::any_io_executor executor)
        : executor_(std::move(executor)) {}

    class guard {
    public:
        guard() = default;
        guard(keyed_lock* owner, std::string key)
            : owner_(owner)
            , key_(std::move(key)) {}
        guard(guard&& o) noexcept
            : owner_(std::exchange(o.owner_, nullptr))
            , key_(std::move(o.key_)) {}
        guard& operator=(guard&& o) noexcept {
            if (this != &o) {
                release();
                owner_ = std::exchange(o.owner_, nullptr);
                key_ = std::move(o.key_);
            }
            return *this;
        }
        ~guard() { release(); }
        void release() {
            if (owner_)
                std::exchange(owner_, nullptr)->unlock(key_);
        }

    private:
        keyed_lock* owner_ = nullptr;
        std::string key_;
    };

    asio::awaitable<guard> lock(std::string key);

private:
    using channel = asio::experimental::concurrent_channel<void(boost::system::error_code)>;
    struct entry {
        explicit entry(const asio::any_io_executor& ex)
            : held(ex, 1) {}
        channel held; // one element while someone holds the lock
        std::size_t users = 0;
    };
    void unlock(const std::string& key);
    std::shared_ptr<entry> enter(const std::string& key);
    void leave(const std::string& key);

    asio::any_io_executor executor_;
    std::mutex mutex_;
    std::map<std::string, std::shared_ptr<entry>, std::less<>> entries_;
};

// ---------------------------------------------------------------------------------------------
// the server's shared state

struct state {
    state(admin_context c, admin_config cfg, asio::any_io_executor io);

    admin_context ctx;
    admin_config config;
    asio::any_io_executor io;
    asio::thread_pool pool;
    draft_store drafts;
    keyed_lock locks;
    event_hub events;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

    // One JSON line as component "admin" (kurer::logger).
    void log(log_level level, std::string_view message, log_fields fields = {}) const {
        config.log.component("admin")(level, message, fields);
    }

    // Blocking work (fsync, XML, store scans) on the pool; resumes on the caller's executor.
    template <class F>
    asio::awaitable<std::invoke_result_t<F>> offload(F work) {
        return kurer::offload(pool.get_executor(), std::move(work));
    }
};

// ---------------------------------------------------------------------------------------------
// routes

using api_handler = std::function<asio::awaitable<answer>(exchange)>;

// The router plus a record of every pattern, so that an unknown path or method gets a JSON
// 404 or 405 rather than the toolkit's text.
class route_table {
public:
    explicit route_table(std::shared_ptr<state> st)
        : state_(std::move(st)) {}
    void add(verb method, std::string pattern, api_handler h);
    http::router build();

private:
    std::shared_ptr<state> state_;
    std::vector<std::pair<verb, std::string>> patterns_;
    http::router router_;
};

// Sends an answer (or its error) on the exchange.
asio::awaitable<void> send_answer(exchange ex, answer a);

// The capabilities lookup raced against request_timeout: nullopt when it timed out.
asio::awaitable<std::optional<result<std::vector<capability>>>>
lookup_capabilities(std::shared_ptr<state> st, std::string receiver, std::string process);

void add_outgoing_routes(route_table& routes, std::shared_ptr<state> st);
void add_incoming_routes(route_table& routes, std::shared_ptr<state> st);
void add_status_routes(route_table& routes, std::shared_ptr<state> st);
void add_admin_routes(route_table& routes, std::shared_ptr<state> st);

// ---------------------------------------------------------------------------------------------
// paging (Spring's Pageable and Page)

struct page_request {
    std::size_t page = 0;
    std::size_t size = 10;
    std::string sort_property; // "" = the endpoint's default
    bool descending = false;
    bool sorted = false; // whether ?sort= was given
};

// Reads ?page=&size=&sort=prop[,asc|desc]; the error names the bad parameter. `properties`
// lists what may be sorted by.
std::optional<api_error> read_page_request(const exchange& ex, std::size_t max_size,
                                           const std::vector<std::string_view>& properties,
                                           page_request& out);

// A Spring Page object of `all` (already filtered and sorted): content, pageable, totals.
json::object make_page(json::array all, const page_request& p);

// ---------------------------------------------------------------------------------------------
// SBDs the API shows

// The SBD of an outgoing message as the runner holds it (for messages created before they were
// handed to the engine, the draft's own SBD is used instead).
json::value sbd_of(const storage::outgoing_record& r);
// The SBD an incoming message arrived with; when it is not JSON (a package from the test
// fakes), one built from the record's fields.
json::value sbd_of(const storage::incoming_record& r);

} // namespace kurer::engine::admin

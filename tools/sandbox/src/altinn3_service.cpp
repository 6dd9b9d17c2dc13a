// The Altinn 3 Broker and Altinn's Maskinporten token exchange as the sandbox plays them
// (altinn-broker.md §4 and §5.2): exchanged tokens with scope checks, initialize validation,
// upload rules with an asynchronous move to Published, list filters and the 100 cap, download
// with Range, confirm in the documented order, purge after the grace period or the TTL, and
// problem JSON carrying the broker's BRO codes.
//
// Time-driven moves (UploadProcessing -> Published, AllConfirmedDownloaded -> Purged, TTL) are
// applied when a request looks at the transfers, against the sandbox's (skewable) clock: an
// observer cannot tell that from a timer, and a test can move the clock with `clock_skew_s`.
// Files and their metadata live under DIR/broker/a3/, so a restarted sandbox keeps its transfers.
#include <kurer/asio/offload.hpp>
#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/http/range.hpp>
#include <kurer/sandbox/service.hpp>
#include <kurer/sandbox/token_authority.hpp>

#include <boost/json.hpp>

#include <botan/hash.h>
#include <botan/hex.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>

namespace kurer::sandbox {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using boost::beast::http::verb;
using asio_void = boost::asio::awaitable<void>;
using time_point = std::chrono::system_clock::time_point;

constexpr std::string_view api = "/broker/api/v1";
constexpr std::string_view exchange_path = "/authentication/api/v1/exchange/maskinporten";
constexpr std::string_view scope_read = "altinn:broker.read";
constexpr std::string_view scope_write = "altinn:broker.write";
// Marks tokens made by the exchange: the broker takes no raw Maskinporten tokens here.
constexpr std::string_view exchanged_claim = "urn:altinn:orgNumber";
constexpr std::string_view generation_claim = "kurer_sandbox_token_generation";

// §4.4, with their numeric order.
enum class transfer_status {
    initialized = 0,
    upload_started = 1,
    upload_processing = 2,
    published = 3,
    cancelled = 4,
    all_confirmed_downloaded = 5,
    purged = 6,
    failed = 7
};
enum class recipient_status { initialized, download_started, download_confirmed };

std::string_view name_of(transfer_status s) {
    switch (s) {
    case transfer_status::initialized:
        return "Initialized";
    case transfer_status::upload_started:
        return "UploadStarted";
    case transfer_status::upload_processing:
        return "UploadProcessing";
    case transfer_status::published:
        return "Published";
    case transfer_status::cancelled:
        return "Cancelled";
    case transfer_status::all_confirmed_downloaded:
        return "AllConfirmedDownloaded";
    case transfer_status::purged:
        return "Purged";
    case transfer_status::failed:
        return "Failed";
    }
    return "Failed";
}

std::string_view text_of(transfer_status s) {
    switch (s) {
    case transfer_status::initialized:
        return "Initialized - awaiting upload";
    case transfer_status::upload_started:
        return "Upload started";
    case transfer_status::upload_processing:
        return "Upload is being processed";
    case transfer_status::published:
        return "Ready for download";
    case transfer_status::cancelled:
        return "File transfer cancelled";
    case transfer_status::all_confirmed_downloaded:
        return "All recipients have confirmed the download";
    case transfer_status::purged:
        return "File data has been deleted";
    case transfer_status::failed:
        return "File transfer failed";
    }
    return "";
}

std::string_view name_of(recipient_status s) {
    switch (s) {
    case recipient_status::initialized:
        return "Initialized";
    case recipient_status::download_started:
        return "DownloadStarted";
    case recipient_status::download_confirmed:
        return "DownloadConfirmed";
    }
    return "Initialized";
}

std::string_view text_of(recipient_status s) {
    switch (s) {
    case recipient_status::initialized:
        return "Initialized";
    case recipient_status::download_started:
        return "Started downloading file";
    case recipient_status::download_confirmed:
        return "Confirmed download of file";
    }
    return "";
}

std::optional<transfer_status> transfer_status_named(std::string_view n) {
    for (int i = 0; i <= 7; ++i)
        if (name_of(static_cast<transfer_status>(i)) == n)
            return static_cast<transfer_status>(i);
    return std::nullopt;
}

std::optional<recipient_status> recipient_status_named(std::string_view n) {
    for (auto s : {recipient_status::initialized, recipient_status::download_started,
                   recipient_status::download_confirmed})
        if (name_of(s) == n)
            return s;
    return std::nullopt;
}

std::int64_t to_ms(time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
time_point from_ms(std::int64_t ms) {
    return time_point(std::chrono::milliseconds(ms));
}

// "2026-11-26T19:30:00.123Z"
std::string iso8601(time_point t) {
    const auto ms = to_ms(t);
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char out[64];
    std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
    return out;
}

// Parses what iso8601() writes (and the same without fraction); nullopt otherwise.
std::optional<time_point> parse_iso8601(std::string_view s) {
    int y, mo, d, h, mi, sec;
    char tail[16] = {};
    if (std::sscanf(std::string(s).c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%15s", &y, &mo, &d, &h, &mi, &sec, tail) <
        6)
        return std::nullopt;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    int ms = 0;
    if (tail[0] == '.')
        ms = std::atoi(std::string(tail + 1, std::min<std::size_t>(3, std::strlen(tail + 1))).c_str());
    return std::chrono::system_clock::from_time_t(timegm(&tm)) + std::chrono::milliseconds(ms);
}

struct recipient_entry {
    std::string party; // "0192:<orgnr>"
    recipient_status status = recipient_status::initialized;
    time_point changed{};
};

struct transfer {
    std::string id;
    std::string resource_id;
    std::string file_name;
    std::optional<std::string> senders_reference;
    std::optional<std::string> checksum;
    bool use_virus_scan = true;
    std::string sender; // "0192:<orgnr>"
    std::vector<recipient_entry> recipients;
    json::object property_list;
    time_point created{};
    time_point expires{};
    transfer_status status = transfer_status::initialized;
    time_point status_changed{};
    std::optional<time_point> publish_at; // UploadProcessing ends then
    bool fail_processing = false;         // ... in Failed (the "malware" switch)
    std::optional<time_point> purge_at;   // AllConfirmedDownloaded ends then
    std::uint64_t size = 0;
};

// Runtime switches of this service (POST /sandbox/altinn3).
struct switches {
    std::chrono::milliseconds publish_delay{100};
    std::uint64_t max_file_size = 1ull << 30; // the DPO resource's cap
    std::chrono::seconds purge_grace{24 * 3600};
    std::chrono::seconds time_to_live{30 * 24 * 3600};
    std::chrono::seconds altinn_token_lifetime{1800};
    unsigned fail_next_uploads = 0; // processing ends in Failed (malware found)
    unsigned storage_failures = 0;  // the next uploads fail with BRO-00008
    // Exchanged tokens carry it; raising it revokes every token issued before (a 401 then).
    std::uint64_t token_generation = 0;
};

// The party form of an organisation number.
std::string party(std::string_view org) {
    return "0192:" + std::string(org);
}

std::string trace_id() {
    std::string hex;
    for (char c : random_uuid())
        if (c != '-')
            hex += c;
    return "00-" + hex + "-" + hex.substr(0, 16) + "-00";
}

std::string_view reason_of(unsigned status) {
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 409:
        return "Conflict";
    case 416:
        return "Range Not Satisfiable";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

std::string_view rfc_section(unsigned status) {
    switch (status) {
    case 400:
        return "15.5.1";
    case 401:
        return "15.5.2";
    case 403:
        return "15.5.4";
    case 404:
        return "15.5.5";
    case 409:
        return "15.5.10";
    case 416:
        return "15.5.17";
    case 500:
        return "15.6.1";
    case 503:
        return "15.6.4";
    default:
        return "15";
    }
}

struct problem {
    unsigned status;
    int code; // BRO-000nn
    std::string detail;
};

// The broker's errors (Errors.cs), by code.
problem bro(int code) {
    switch (code) {
    case 1:
        return {404, 1, "The requested file transfer was not found"};
    case 3:
        return {400, 3, "No file has been uploaded for this file transfer"};
    case 4:
        return {409, 4,
                "A file has already been or attempted to be uploaded. Create a new file transfer to resend."};
    case 6:
        return {401, 6,
                "You must use an approved system user or be listed as sender or recipient of the file "
                "transfer to access it"};
    case 7:
        return {403, 7, "The requested file is not ready for download. See file transfer status."};
    case 8:
        return {500, 8,
                "Error occurred while uploading file. See /details for more information about upload. File "
                "transfer status: Failed"};
    case 9:
        return {400, 9,
                "The checksum of uploaded file did not match the checksum specified in initialize call."};
    case 10:
        return {400, 10, "Confirm download is only allowed when file transfer status is Published"};
    case 16:
        return {400, 16, "File size exceeds maximum allowed"};
    case 19:
        return {400, 19, "Cannot confirm before the files have been downloaded"};
    case 29:
        return {416, 29, "The requested range is not satisfiable"};
    default:
        return {400, code, "Broker error"};
    }
}

http::reply problem_reply(const problem& p) {
    char code[16];
    std::snprintf(code, sizeof code, "BRO-%05d", p.code);
    json::object body;
    body["type"] = "https://tools.ietf.org/html/rfc9110#section-" + std::string(rfc_section(p.status));
    body["title"] = std::string(reason_of(p.status));
    body["status"] = p.status;
    body["detail"] = p.detail;
    body["code"] = code;
    body["traceId"] = trace_id();
    return http::reply::text(p.status, json::serialize(body), "application/problem+json; charset=utf-8");
}

// ASP.NET's model-validation answer: 400 with an `errors` map.
http::reply validation_reply(const std::map<std::string, std::vector<std::string>>& errors) {
    json::object map;
    for (const auto& [field, messages] : errors) {
        json::array a;
        for (const auto& m : messages)
            a.emplace_back(m);
        map[field] = std::move(a);
    }
    json::object body;
    body["type"] = "https://tools.ietf.org/html/rfc9110#section-15.5.1";
    body["title"] = "One or more validation errors occurred.";
    body["status"] = 400;
    body["errors"] = std::move(map);
    body["traceId"] = trace_id();
    return http::reply::text(400, json::serialize(body), "application/problem+json; charset=utf-8");
}

// Whether an Accept header admits a JSON answer (absent: yes).
bool accepts_json(std::string_view accept) {
    if (accept.empty())
        return true;
    while (!accept.empty()) {
        const auto comma = accept.find(',');
        auto item = accept.substr(0, comma);
        if (const auto semi = item.find(';'); semi != std::string_view::npos)
            item = item.substr(0, semi);
        while (!item.empty() && item.front() == ' ')
            item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ')
            item.remove_suffix(1);
        if (item == "application/json" || item == "*/*" || item == "application/*" ||
            item == "application/problem+json")
            return true;
        if (comma == std::string_view::npos)
            break;
        accept.remove_prefix(comma + 1);
    }
    return false;
}

const std::regex& party_pattern() {
    static const std::regex re(R"(^(?:\d{4}:\d{9}|urn:altinn:organization:identifier-no:\d{9})$)");
    return re;
}

// "urn:altinn:organization:identifier-no:<n>" and "0192:<n>" both name <n>.
std::string normalize_party(std::string_view p) {
    constexpr std::string_view urn = "urn:altinn:organization:identifier-no:";
    if (p.starts_with(urn))
        return party(p.substr(urn.size()));
    return std::string(p);
}

// A plain function, so no aggregate temporary lives inside a co_await expression (GCC 12).
http::reply bro_reply(int code) {
    return problem_reply(bro(code));
}

class altinn3_service final : public service {
public:
    std::string_view name() const override { return "altinn3"; }

    void register_routes(http::router& r, context& ctx) override {
        ctx_ = &ctx;
        dir_ = ctx.broker_dir() / "a3";
        std::error_code ec;
        fs::create_directories(dir_, ec);
        load();
        r.add(verb::get, std::string(exchange_path),
              [this](http::exchange ex) { return exchange_token(ex); });
        const std::string base(api);
        for (const auto* path : {"/filetransfer", "/filetransfer/"}) {
            r.add(verb::post, base + path, [this](http::exchange ex) { return initialize(ex); });
            r.add(verb::get, base + path, [this](http::exchange ex) { return list(ex); });
        }
        r.add(verb::post, base + "/filetransfer/{id}/upload",
              [this](http::exchange ex) { return upload(ex); });
        r.add(verb::get, base + "/filetransfer/{id}", [this](http::exchange ex) { return overview(ex); });
        r.add(verb::get, base + "/filetransfer/{id}/download",
              [this](http::exchange ex) { return download(ex); });
        r.add(verb::post, base + "/filetransfer/{id}/confirmdownload",
              [this](http::exchange ex) { return confirm(ex); });
        r.add(verb::get, "/sandbox/altinn3", [this](http::exchange ex) -> asio_void {
            auto body = json::serialize(switches_json());
            co_await ex.send(http::reply::json(200, std::move(body)));
        });
        r.add(verb::post, "/sandbox/altinn3", [this](http::exchange ex) { return change_switches(ex); });
    }

private:
    // ---- switches

    json::object switches_json() const {
        json::object o;
        o["publish_delay_ms"] = sw_.publish_delay.count();
        o["max_file_size"] = sw_.max_file_size;
        o["purge_grace_s"] = sw_.purge_grace.count();
        o["time_to_live_s"] = sw_.time_to_live.count();
        o["altinn_token_lifetime_s"] = sw_.altinn_token_lifetime.count();
        o["fail_next_uploads"] = sw_.fail_next_uploads;
        o["storage_failures"] = sw_.storage_failures;
        o["token_generation"] = sw_.token_generation;
        return o;
    }

    // Applies the members present; an unknown or ill-typed member is an error naming it.
    std::optional<std::string> apply_switches(const json::object& o) {
        switches next = sw_;
        for (const auto& kv : o) {
            const auto& v = kv.value();
            if (!v.is_int64() && !v.is_uint64())
                return "altinn3 switch " + std::string(kv.key()) + " must be a non-negative integer";
            const auto n = v.to_number<std::int64_t>();
            if (n < 0)
                return "altinn3 switch " + std::string(kv.key()) + " must be a non-negative integer";
            if (kv.key() == "publish_delay_ms")
                next.publish_delay = std::chrono::milliseconds(n);
            else if (kv.key() == "max_file_size")
                next.max_file_size = static_cast<std::uint64_t>(n);
            else if (kv.key() == "purge_grace_s")
                next.purge_grace = std::chrono::seconds(n);
            else if (kv.key() == "time_to_live_s")
                next.time_to_live = std::chrono::seconds(n);
            else if (kv.key() == "altinn_token_lifetime_s")
                next.altinn_token_lifetime = std::chrono::seconds(n);
            else if (kv.key() == "fail_next_uploads")
                next.fail_next_uploads = static_cast<unsigned>(n);
            else if (kv.key() == "storage_failures")
                next.storage_failures = static_cast<unsigned>(n);
            else if (kv.key() == "token_generation")
                next.token_generation = static_cast<std::uint64_t>(n);
            else
                return "unknown altinn3 switch " + std::string(kv.key());
        }
        sw_ = next;
        return std::nullopt;
    }

    asio_void change_switches(http::exchange ex) {
        auto body = co_await ex.read_body(64 * 1024);
        std::optional<std::string> problem_text;
        if (!body) {
            problem_text = body.error().message;
        } else {
            boost::system::error_code ec;
            auto v = json::parse(*body, ec);
            if (ec || !v.is_object())
                problem_text = "the altinn3 switches must be a JSON object";
            else
                problem_text = apply_switches(v.as_object());
        }
        if (problem_text) {
            auto reply = http::reply::json(400, json::serialize(json::object{{"error", *problem_text}}));
            co_await ex.send(std::move(reply));
            co_return;
        }
        auto reply = http::reply::json(200, json::serialize(switches_json()));
        co_await ex.send(std::move(reply));
    }

    // ---- persistence: one JSON file per transfer, the data beside it

    fs::path data_path(const std::string& id) const { return dir_ / (id + ".bin"); }
    fs::path meta_path(const std::string& id) const { return dir_ / (id + ".json"); }

    static json::object to_json(const transfer& t) {
        json::object o;
        o["id"] = t.id;
        o["resource_id"] = t.resource_id;
        o["file_name"] = t.file_name;
        o["senders_reference"] =
            t.senders_reference ? json::value(*t.senders_reference) : json::value(nullptr);
        o["checksum"] = t.checksum ? json::value(*t.checksum) : json::value(nullptr);
        o["use_virus_scan"] = t.use_virus_scan;
        o["sender"] = t.sender;
        json::array rs;
        for (const auto& r : t.recipients)
            rs.push_back(json::object{
                {"party", r.party}, {"status", name_of(r.status)}, {"changed_ms", to_ms(r.changed)}});
        o["recipients"] = std::move(rs);
        o["property_list"] = t.property_list;
        o["created_ms"] = to_ms(t.created);
        o["expires_ms"] = to_ms(t.expires);
        o["status"] = name_of(t.status);
        o["status_changed_ms"] = to_ms(t.status_changed);
        o["publish_at_ms"] = t.publish_at ? json::value(to_ms(*t.publish_at)) : json::value(nullptr);
        o["fail_processing"] = t.fail_processing;
        o["purge_at_ms"] = t.purge_at ? json::value(to_ms(*t.purge_at)) : json::value(nullptr);
        o["size"] = t.size;
        return o;
    }

    static std::optional<transfer> from_json(const json::object& o) {
        try {
            transfer t;
            t.id = o.at("id").as_string();
            t.resource_id = o.at("resource_id").as_string();
            t.file_name = o.at("file_name").as_string();
            if (o.at("senders_reference").is_string())
                t.senders_reference = std::string(o.at("senders_reference").as_string());
            if (o.at("checksum").is_string())
                t.checksum = std::string(o.at("checksum").as_string());
            t.use_virus_scan = o.at("use_virus_scan").as_bool();
            t.sender = o.at("sender").as_string();
            for (const auto& rv : o.at("recipients").as_array()) {
                const auto& r = rv.as_object();
                t.recipients.push_back({std::string(r.at("party").as_string()),
                                        recipient_status_named(r.at("status").as_string()).value(),
                                        from_ms(r.at("changed_ms").to_number<std::int64_t>())});
            }
            t.property_list = o.at("property_list").as_object();
            t.created = from_ms(o.at("created_ms").to_number<std::int64_t>());
            t.expires = from_ms(o.at("expires_ms").to_number<std::int64_t>());
            t.status = transfer_status_named(o.at("status").as_string()).value();
            t.status_changed = from_ms(o.at("status_changed_ms").to_number<std::int64_t>());
            if (!o.at("publish_at_ms").is_null())
                t.publish_at = from_ms(o.at("publish_at_ms").to_number<std::int64_t>());
            t.fail_processing = o.at("fail_processing").as_bool();
            if (!o.at("purge_at_ms").is_null())
                t.purge_at = from_ms(o.at("purge_at_ms").to_number<std::int64_t>());
            t.size = o.at("size").to_number<std::uint64_t>();
            return t;
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }

    void load() {
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(dir_, ec)) {
            if (entry.path().extension() != ".json")
                continue;
            auto text = read_small_file(entry.path(), 1 << 20);
            if (!text)
                continue;
            boost::system::error_code jec;
            auto v = json::parse(*text, jec);
            std::optional<transfer> t;
            if (!jec && v.is_object())
                t = from_json(v.as_object());
            if (!t) {
                ctx_->log(log_level::warning, "altinn3: ignoring unreadable " + entry.path().string());
                continue;
            }
            transfers_[t->id] = std::move(*t);
        }
    }

    void save(const transfer& t) {
        if (auto r = write_file_durably(meta_path(t.id), json::serialize(to_json(t))); !r)
            ctx_->log(log_level::error, "altinn3: cannot save transfer " + t.id + ": " + r.error().message);
    }

    void set_status(transfer& t, transfer_status s, time_point now) {
        t.status = s;
        t.status_changed = now;
    }

    // Applies the moves that are due: processing done, grace period or TTL over.
    void advance(transfer& t, time_point now) {
        bool changed = false;
        if (t.status == transfer_status::upload_processing && t.publish_at && now >= *t.publish_at) {
            set_status(t, t.fail_processing ? transfer_status::failed : transfer_status::published,
                       *t.publish_at);
            t.publish_at.reset();
            changed = true;
        }
        const bool gone = t.status == transfer_status::purged;
        if (!gone && ((t.purge_at && now >= *t.purge_at) || now >= t.expires)) {
            set_status(t, transfer_status::purged, now);
            t.purge_at.reset();
            std::error_code ec;
            fs::remove(data_path(t.id), ec);
            changed = true;
        }
        if (changed)
            save(t);
    }

    // ---- authentication

    struct caller {
        std::string org; // 9 digits
        std::vector<std::string> scopes;
    };

    // The caller of a broker endpoint, or the reply that refuses it: 401 for a missing, invalid
    // or unexchanged token, 403 (empty, as ASP.NET's policy check) for a missing scope.
    std::variant<caller, http::reply> authenticate(const http::exchange& ex,
                                                   std::initializer_list<std::string_view> any_scope) {
        auto claims = ctx_->authority().verify_bearer(ex.header("Authorization"), ctx_->now());
        const auto* generation = claims ? claims->if_contains(generation_claim) : nullptr;
        const bool current = generation && generation->is_number() &&
                             generation->to_number<std::uint64_t>() == sw_.token_generation;
        if (!claims || !claims->contains(exchanged_claim) || !current) {
            auto r = http::reply::empty(401);
            r.headers.set(boost::beast::http::field::www_authenticate, "Bearer error=\"invalid_token\"");
            return r;
        }
        auto org = token_system_user_org(*claims);
        if (!org) {
            auto r = http::reply::empty(401);
            r.headers.set(boost::beast::http::field::www_authenticate, "Bearer error=\"invalid_token\"");
            return r;
        }
        caller c{*org, token_scopes(*claims)};
        const bool allowed = std::any_of(any_scope.begin(), any_scope.end(), [&](std::string_view s) {
            return std::find(c.scopes.begin(), c.scopes.end(), s) != c.scopes.end();
        });
        if (!allowed)
            return http::reply::empty(403);
        return c;
    }

    // The checks every JSON endpoint makes first: Accept, then the token.
    std::variant<caller, http::reply>
    admit(const http::exchange& ex, std::initializer_list<std::string_view> scopes, bool json_answer = true) {
        if (json_answer && !accepts_json(ex.header("Accept")))
            return http::reply::empty(406);
        return authenticate(ex, scopes);
    }

    // GET exchange/maskinporten: a Maskinporten token of this sandbox in, an Altinn token out.
    asio_void exchange_token(http::exchange ex) {
        auto claims = ctx_->authority().verify_bearer(ex.header("Authorization"), ctx_->now());
        std::optional<std::string> org;
        if (claims && !claims->contains(exchanged_claim))
            org = token_system_user_org(*claims);
        if (!org) {
            auto r = http::reply::empty(401);
            r.headers.set(boost::beast::http::field::www_authenticate, "Bearer error=\"invalid_token\"");
            co_await ex.send(std::move(r));
            co_return;
        }
        json::object altinn;
        for (const char* keep : {"scope", "client_id", "consumer", "authorization_details", "client_amr"})
            if (const auto* v = claims->if_contains(keep))
                altinn[keep] = *v;
        altinn[exchanged_claim] = *org;
        altinn["urn:altinn:authenticatemethod"] = "maskinporten";
        altinn["urn:altinn:authlevel"] = 3;
        altinn[generation_claim] = sw_.token_generation;
        const auto now = ctx_->now();
        const auto lifetime = sw_.altinn_token_lifetime;
        auto* authority = &ctx_->authority();
        auto work = [authority, altinn = std::move(altinn), now, lifetime] {
            return authority->issue(altinn, now, lifetime);
        };
        auto token = co_await kurer::offload(ctx_->blocking(), std::move(work));
        co_await ex.send(http::reply::text(200, std::move(token), "text/plain; charset=utf-8"));
    }

    // ---- POST /filetransfer

    // §4.3's field rules; the errors name the fields as ASP.NET does.
    std::variant<transfer, http::reply> validate_initialize(const std::string& body, const caller& c) {
        std::map<std::string, std::vector<std::string>> errors;
        boost::system::error_code ec;
        auto v = json::parse(body, ec);
        if (ec || !v.is_object()) {
            errors["$"].push_back("The request body is not a JSON object.");
            return validation_reply(errors);
        }
        const auto& o = v.as_object();
        static const std::vector<std::string> known{
            "fileName", "resourceId",      "sendersFileTransferReference",
            "sender",   "recipients",      "propertyList",
            "checksum", "disableVirusScan"};
        for (const auto& kv : o)
            if (std::find(known.begin(), known.end(), kv.key()) == known.end())
                errors[std::string(kv.key())].push_back("Unknown property.");
        const auto string_field = [&](const char* name, std::size_t min, std::size_t max,
                                      bool required) -> std::optional<std::string> {
            const auto* f = o.if_contains(name);
            if (!f || f->is_null()) {
                if (required)
                    errors[name].push_back(std::string("The ") + name + " field is required.");
                return std::nullopt;
            }
            if (!f->is_string()) {
                errors[name].push_back(std::string("The ") + name + " field must be a string.");
                return std::nullopt;
            }
            std::string s(f->as_string());
            if (s.size() < min || s.size() > max)
                errors[name].push_back(std::string("The ") + name + " field must be " + std::to_string(min) +
                                       ".." + std::to_string(max) + " characters long.");
            return s;
        };
        transfer t;
        t.file_name = string_field("fileName", 1, 255, true).value_or("");
        t.resource_id = string_field("resourceId", 1, 255, true).value_or("");
        t.senders_reference = string_field("sendersFileTransferReference", 1, 4096, false);
        auto sender = string_field("sender", 1, 1000, true);
        if (sender && !std::regex_match(*sender, party_pattern()))
            errors["sender"].push_back(
                "Value needs to be an organization number in the form 0192:<9 digits>.");
        const auto* rs = o.if_contains("recipients");
        if (!rs || !rs->is_array() || rs->as_array().empty()) {
            errors["recipients"].push_back("The recipients field needs at least one recipient.");
        } else {
            for (const auto& r : rs->as_array()) {
                if (!r.is_string() || !std::regex_match(std::string(r.as_string()), party_pattern())) {
                    errors["recipients"].push_back("Each recipient must be an organization number.");
                    continue;
                }
                t.recipients.push_back({normalize_party(r.as_string()), recipient_status::initialized, {}});
            }
        }
        if (const auto* pl = o.if_contains("propertyList"); pl && !pl->is_null()) {
            if (!pl->is_object()) {
                errors["propertyList"].push_back("The propertyList must be an object.");
            } else {
                if (pl->as_object().size() > 10)
                    errors["propertyList"].push_back("The propertyList may hold at most 10 properties.");
                for (const auto& kv : pl->as_object())
                    if (kv.key().empty() || kv.key().size() > 50 || !kv.value().is_string() ||
                        kv.value().as_string().size() > 300)
                        errors["propertyList"].push_back(
                            "Keys must be 1..50 characters, values strings of at most 300.");
                t.property_list = pl->as_object();
            }
        }
        if (const auto* cs = o.if_contains("checksum"); cs && !cs->is_null()) {
            if (!cs->is_string())
                errors["checksum"].push_back("The checksum must be a string.");
            else
                t.checksum = std::string(cs->as_string());
        }
        if (const auto* dv = o.if_contains("disableVirusScan"); dv && !dv->is_null()) {
            if (!dv->is_bool())
                errors["disableVirusScan"].push_back("disableVirusScan must be a boolean.");
            else
                t.use_virus_scan = !dv->as_bool();
        }
        if (!errors.empty())
            return validation_reply(errors);
        // Access: the sender must be the caller's organisation, and the resource known.
        t.sender = normalize_party(*sender);
        if (t.sender != party(c.org) || t.resource_id != ctx_->current_state().dpo_resource)
            return bro_reply(6);
        return t;
    }

    asio_void initialize(http::exchange ex) {
        auto admitted = admit(ex, {scope_write});
        if (auto* refusal = std::get_if<http::reply>(&admitted)) {
            co_await ex.send(std::move(*refusal));
            co_return;
        }
        const auto c = std::get<caller>(admitted);
        auto body = co_await ex.read_body(1 << 20);
        if (!body) {
            std::map<std::string, std::vector<std::string>> errors{{"$", {body.error().message}}};
            co_await ex.send(validation_reply(errors));
            co_return;
        }
        auto checked = validate_initialize(*body, c);
        if (auto* refusal = std::get_if<http::reply>(&checked)) {
            co_await ex.send(std::move(*refusal));
            co_return;
        }
        auto t = std::move(std::get<transfer>(checked));
        const auto now = ctx_->now();
        t.id = random_uuid();
        t.created = now;
        t.status_changed = now;
        t.expires = now + sw_.time_to_live;
        for (auto& r : t.recipients)
            r.changed = now;
        save(t);
        const auto id = t.id;
        transfers_[id] = std::move(t);
        auto answer = json::serialize(json::object{{"fileTransferId", id}});
        co_await ex.send(http::reply::json(200, std::move(answer)));
    }

    // ---- POST /filetransfer/{id}/upload

    static result<std::string> md5_of(const fs::path& path) {
        auto hash = Botan::HashFunction::create_or_throw("MD5");
        std::ifstream in(path, std::ios::binary);
        if (!in)
            return make_error(std::make_error_code(std::errc::io_error), "cannot read " + path.string());
        std::vector<char> buffer(64 * 1024);
        while (in) {
            in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
            hash->update(reinterpret_cast<const std::uint8_t*>(buffer.data()),
                         static_cast<std::size_t>(in.gcount()));
        }
        return Botan::hex_encode(hash->final(), false);
    }

    transfer* find(const std::string& id) {
        auto it = transfers_.find(id);
        if (it == transfers_.end())
            return nullptr;
        advance(it->second, ctx_->now());
        return &it->second;
    }

    static bool is_recipient(const transfer& t, const std::string& org) {
        const auto p = party(org);
        return std::any_of(t.recipients.begin(), t.recipients.end(),
                           [&](const auto& r) { return r.party == p; });
    }

    asio_void upload(http::exchange ex) {
        // [Consumes("application/octet-stream")] answers before anything else.
        auto type = ex.header("Content-Type");
        if (const auto semi = type.find(';'); semi != std::string::npos)
            type.resize(semi);
        if (type != "application/octet-stream") {
            co_await ex.send(http::reply::empty(415));
            co_return;
        }
        auto admitted = admit(ex, {scope_write});
        if (auto* refusal = std::get_if<http::reply>(&admitted)) {
            co_await ex.send(std::move(*refusal));
            co_return;
        }
        const auto c = std::get<caller>(admitted);
        const auto id = ex.param("id");
        auto* t = find(id);
        if (!t) {
            co_await ex.send(bro_reply(1));
            co_return;
        }
        if (t->sender != party(c.org)) {
            co_await ex.send(bro_reply(6));
            co_return;
        }
        if (t->status > transfer_status::upload_started) {
            co_await ex.send(bro_reply(4));
            co_return;
        }
        const auto cap = sw_.max_file_size;
        if (const auto length = ex.header("Content-Length"); !length.empty()) {
            std::uint64_t declared = 0;
            if (std::sscanf(length.c_str(), "%lu", &declared) == 1 && declared > cap) {
                co_await ex.send(bro_reply(16));
                co_return;
            }
        }
        set_status(*t, transfer_status::upload_started, ctx_->now());
        save(*t);
        const auto path = data_path(id);
        auto size = co_await ex.read_body_to_file(path, cap);
        t = find(id);
        std::optional<problem> failure;
        if (!size) {
            failure = size.error().code == http::errc::message_too_large ? bro(16) : bro(8);
        } else if (sw_.storage_failures > 0) {
            --sw_.storage_failures;
            failure = bro(8);
        } else if (t->checksum) {
            auto work = [path] {
                return md5_of(path);
            };
            auto md5 = co_await kurer::offload(ctx_->blocking(), std::move(work));
            t = find(id);
            std::string expected = *t->checksum;
            std::transform(expected.begin(), expected.end(), expected.begin(),
                           [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
            if (!md5 || *md5 != expected)
                failure = bro(9);
        }
        if (failure) {
            std::error_code ec;
            fs::remove(path, ec);
            set_status(*t, transfer_status::failed, ctx_->now());
            save(*t);
            co_await ex.send(problem_reply(*failure));
            co_return;
        }
        t->size = *size;
        const auto now = ctx_->now();
        set_status(*t, transfer_status::upload_processing, now);
        t->publish_at = now + sw_.publish_delay;
        if (sw_.fail_next_uploads > 0) {
            --sw_.fail_next_uploads;
            t->fail_processing = true;
        }
        save(*t);
        advance(*t, now); // a zero delay publishes at once
        auto answer = json::serialize(json::object{{"fileTransferId", id}});
        co_await ex.send(http::reply::json(200, std::move(answer)));
    }

    // ---- GET /filetransfer

    asio_void list(http::exchange ex) {
        auto admitted = admit(ex, {scope_read, scope_write});
        if (auto* refusal = std::get_if<http::reply>(&admitted)) {
            co_await ex.send(std::move(*refusal));
            co_return;
        }
        const auto c = std::get<caller>(admitted);
        std::map<std::string, std::vector<std::string>> errors;
        const auto resource = ex.query("resourceId");
        if (!resource || resource->empty())
            errors["resourceId"].push_back("The resourceId field is required.");
        std::optional<transfer_status> status;
        if (auto s = ex.query("status"); s && !(status = transfer_status_named(*s)))
            errors["status"].push_back("The value '" + *s + "' is not valid.");
        std::optional<recipient_status> rstatus;
        if (auto s = ex.query("recipientStatus"); s && !(rstatus = recipient_status_named(*s)))
            errors["recipientStatus"].push_back("The value '" + *s + "' is not valid.");
        std::optional<time_point> from, to;
        if (auto s = ex.query("from"); s && !(from = parse_iso8601(*s)))
            errors["from"].push_back("The value '" + *s + "' is not valid.");
        if (auto s = ex.query("to"); s && !(to = parse_iso8601(*s)))
            errors["to"].push_back("The value '" + *s + "' is not valid.");
        const bool ascending = ex.query("orderAscending").value_or("false") == "true";
        const auto role = ex.query("role").value_or("Recipient");
        if (role != "Recipient" && role != "Sender" && role != "Both")
            errors["role"].push_back("The value '" + role + "' is not valid.");
        if (!errors.empty()) {
            co_await ex.send(validation_reply(errors));
            co_return;
        }
        const auto me = party(c.org);
        const auto now = ctx_->now();
        std::vector<const transfer*> hits;
        for (auto& [id, t] : transfers_) {
            advance(t, now);
            if (t.resource_id != *resource)
                continue;
            const auto rec = std::find_if(t.recipients.begin(), t.recipients.end(),
                                          [&](const auto& r) { return r.party == me; });
            const bool as_recipient = rec != t.recipients.end();
            const bool as_sender = t.sender == me;
            if (!(role == "Recipient" ? as_recipient
                  : role == "Sender"  ? as_sender
                                      : as_recipient || as_sender))
                continue;
            if (status && t.status != *status)
                continue;
            if (rstatus && (!as_recipient || rec->status != *rstatus))
                continue;
            if ((from && t.created < *from) || (to && t.created > *to))
                continue;
            hits.push_back(&t);
        }
        std::sort(hits.begin(), hits.end(), [ascending](const transfer* a, const transfer* b) {
            return ascending ? a->created < b->created : a->created > b->created;
        });
        json::array ids;
        for (std::size_t i = 0; i < hits.size() && i < 100; ++i)
            ids.emplace_back(hits[i]->id);
        auto answer = json::serialize(ids);
        co_await ex.send(http::reply::json(200, std::move(answer)));
    }

    // ---- GET /filetransfer/{id}

    static std::string overview_json(const transfer& t) {
        json::object o;
        o["fileTransferId"] = t.id;
        o["resourceId"] = t.resource_id;
        o["fileName"] = t.file_name;
        o["sendersFileTransferReference"] =
            t.senders_reference ? json::value(*t.senders_reference) : json::value(nullptr);
        o["checksum"] = t.checksum ? json::value(*t.checksum) : json::value(nullptr);
        o["useVirusScan"] = t.use_virus_scan;
        o["fileTransferSize"] = t.size;
        o["fileTransferStatus"] = name_of(t.status);
        o["fileTransferStatusText"] = text_of(t.status);
        o["fileTransferStatusChanged"] = iso8601(t.status_changed);
        o["created"] = iso8601(t.created);
        o["expirationTime"] = iso8601(t.expires);
        o["sender"] = t.sender;
        json::array rs;
        for (const auto& r : t.recipients)
            rs.push_back(json::object{{"recipient", r.party},
                                      {"currentRecipientFileTransferStatusCode", name_of(r.status)},
                                      {"currentRecipientFileTransferStatusText", text_of(r.status)},
                                      {"currentRecipientFileTransferStatusChanged", iso8601(r.changed)}});
        o["recipients"] = std::move(rs);
        o["propertyList"] = t.property_list;
        return json::serialize(o);
    }

    asio_void overview(http::exchange ex) {
        auto admitted = admit(ex, {scope_read, scope_write});
        if (auto* refusal = std::get_if<http::reply>(&admitted)) {
            co_await ex.send(std::move(*refusal));
            co_return;
        }
        const auto c = std::get<caller>(admitted);
        const auto* t = find(ex.param("id"));
        if (!t) {
            co_await ex.send(bro_reply(1));
            co_return;
        }
        if (t->sender != party(c.org) && !is_recipient(*t, c.org)) {
            co_await ex.send(bro_reply(6));
            co_return;
        }
        auto answer = overview_json(*t);
        co_await ex.send(http::reply::json(200, std::move(answer)));
    }

    // ---- GET /filetransfer/{id}/download

    asio_void download(http::exchange ex) {
        auto admitted = admit(ex, {scope_read}, false);
        if (auto* refusal = std::get_if<http::reply>(&admitted)) {
            co_await ex.send(std::move(*refusal));
            co_return;
        }
        const auto c = std::get<caller>(admitted);
        const auto id = ex.param("id");
        auto* t = find(id);
        std::optional<problem> refused;
        if (!t)
            refused = bro(1);
        else if (!is_recipient(*t, c.org))
            refused = bro(6);
        else if (t->status != transfer_status::published &&
                 t->status != transfer_status::all_confirmed_downloaded)
            refused = bro(7);
        else if (std::error_code ec; !fs::exists(data_path(id), ec))
            refused = bro(3);
        if (refused) {
            co_await ex.send(problem_reply(*refused));
            co_return;
        }
        const auto range_header = ex.header("Range");
        const auto range = http::parse_range(range_header, t->size);
        if (range.kind == http::range_kind::unsatisfiable) {
            auto reply = bro_reply(29);
            reply.headers.set(boost::beast::http::field::content_range, "bytes */" + std::to_string(t->size));
            co_await ex.send(std::move(reply));
            co_return;
        }
        // Every download without a Range marks the start (the list then hides the transfer).
        if (range_header.empty()) {
            const auto me = party(c.org);
            for (auto& r : t->recipients)
                if (r.party == me && r.status == recipient_status::initialized) {
                    r.status = recipient_status::download_started;
                    r.changed = ctx_->now();
                }
            save(*t);
        }
        http::fields extra;
        extra.set(boost::beast::http::field::content_disposition,
                  "attachment; filename=" + t->file_name + "; filename*=UTF-8''" + t->file_name);
        co_await ex.send_file(data_path(id), "application/octet-stream", std::move(extra));
    }

    // ---- POST /filetransfer/{id}/confirmdownload

    asio_void confirm(http::exchange ex) {
        auto admitted = admit(ex, {scope_read});
        if (auto* refusal = std::get_if<http::reply>(&admitted)) {
            co_await ex.send(std::move(*refusal));
            co_return;
        }
        const auto c = std::get<caller>(admitted);
        auto* t = find(ex.param("id"));
        std::optional<problem> refused;
        recipient_entry* mine = nullptr;
        if (t)
            for (auto& r : t->recipients)
                if (r.party == party(c.org))
                    mine = &r;
        if (!t)
            refused = bro(1);
        else if (!mine)
            refused = bro(6);
        else if (t->status < transfer_status::upload_processing)
            refused = bro(3);
        else if (t->status != transfer_status::published)
            refused = bro(10);
        else if (mine->status == recipient_status::download_confirmed)
            refused.reset(); // a repeat while others have not confirmed: nothing to do
        else if (mine->status != recipient_status::download_started)
            refused = bro(19);
        if (refused) {
            co_await ex.send(problem_reply(*refused));
            co_return;
        }
        const auto now = ctx_->now();
        if (mine->status != recipient_status::download_confirmed) {
            mine->status = recipient_status::download_confirmed;
            mine->changed = now;
            const bool all = std::all_of(t->recipients.begin(), t->recipients.end(), [](const auto& r) {
                return r.status == recipient_status::download_confirmed;
            });
            if (all) {
                set_status(*t, transfer_status::all_confirmed_downloaded, now);
                t->purge_at = now + sw_.purge_grace;
            }
            save(*t);
            advance(*t, now); // a zero grace period purges at once
        }
        co_await ex.send(http::reply::empty(204));
    }

    context* ctx_ = nullptr;
    fs::path dir_;
    switches sw_;
    std::map<std::string, transfer> transfers_;
};

} // namespace

std::unique_ptr<service> make_altinn3_service() {
    return std::make_unique<altinn3_service>();
}

} // namespace kurer::sandbox

// The Altinn 2 broker as the sandbox plays it (altinn-broker.md §5.1): BrokerServiceExternalBasic
// and BrokerServiceExternalBasicStreamed under /ServiceEngineExternal/, SOAP 1.1 dispatched on
// SOAPAction, MTOM in and out, the documented ErrorIDs as AltinnFaults with every member.
//
// Who may do what: an organisation's system user (sandbox.json) acts for its own organisation and
// for the organisations delegated to it (settings below). Every organisation of the sandbox may
// send and read on the configured service code/edition unless the settings take that right away.
//
// Files live as plain files: DIR/broker/a2/<reference>/transfer.json (who, what, per-recipient
// status) and DIR/broker/a2/<reference>/sbd.zip (the upload, byte for byte). They are read back
// when the sandbox starts, so a restart loses nothing. Uploads arrive in DIR/broker/a2/incoming/.
//
// Settings (GET/POST /sandbox/altinn2, kept in DIR/broker/a2/settings.json):
//   {"wsdl_dir": "/path/with/the/wsdls",     serve BrokerServiceExternalBasic[Streamed].wsdl on GET ?wsdl
//    "max_file_bytes": 1073741824,           larger uploads get 40204
//    "delegations": {"100001": ["910075918"]}, further reportees a system user may act for
//    "deny_send": ["910077473"],             40201 for these senders
//    "deny_read": ["910075918"],             40202 as a recipient at initiate, 40215 at download/confirm
//    "low_security": ["910077473"]}          40216 for these reportees
#include <kurer/altinn2/codec.hpp>
#include <kurer/altinn2/operations.hpp>
#include <kurer/altinn2/streamed.hpp>
#include <kurer/asio/offload.hpp>
#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/sandbox/service.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <map>
#include <set>
#include <system_error>
#include <unistd.h>

namespace kurer::sandbox {
namespace {

namespace json = boost::json;
namespace a2 = kurer::altinn2;
namespace mtom = kurer::altinn2::mtom;
using boost::beast::http::verb;
using asio_void = boost::asio::awaitable<void>;
using clock = std::chrono::system_clock;

constexpr std::string_view basic_path = "/ServiceEngineExternal/BrokerServiceExternalBasic.svc";
constexpr std::string_view streamed_path = "/ServiceEngineExternal/BrokerServiceExternalBasicStreamed.svc";

// ---- time -------------------------------------------------------------------------------

// Microseconds since the epoch as xs:dateTime in UTC, e.g. 2024-05-07T07:22:52.800185Z.
std::string format_time(std::int64_t micros) {
    const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(micros % 1'000'000));
    return buffer;
}

// An xs:dateTime (YYYY-MM-DDThh:mm:ss[.f][Z|±hh:mm]; no zone = UTC) as microseconds.
std::optional<std::int64_t> parse_time(std::string_view s) {
    int y, mo, d, h, mi, sec;
    int consumed = 0;
    const std::string text(s);
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &consumed) != 6)
        return std::nullopt;
    std::string_view rest = s.substr(static_cast<std::size_t>(consumed));
    std::int64_t fraction = 0;
    if (!rest.empty() && rest.front() == '.') {
        rest.remove_prefix(1);
        int digits = 0;
        while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
            if (digits < 6) {
                fraction = fraction * 10 + (rest.front() - '0');
                ++digits;
            }
            rest.remove_prefix(1);
        }
        for (; digits < 6; ++digits)
            fraction *= 10;
    }
    int offset_minutes = 0;
    if (rest == "Z" || rest.empty()) {
    } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
        const int oh = (rest[1] - '0') * 10 + (rest[2] - '0');
        const int om = (rest[4] - '0') * 10 + (rest[5] - '0');
        offset_minutes = (rest[0] == '-' ? -1 : 1) * (oh * 60 + om);
    } else {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    const std::time_t t = timegm(&tm);
    return (static_cast<std::int64_t>(t) - offset_minutes * 60LL) * 1'000'000 + fraction;
}

// ---- the broker's records ---------------------------------------------------------------

struct transfer {
    std::string reference;
    std::string sender;
    std::vector<std::string> recipients;
    std::string service_code;
    std::int32_t service_edition = 0;
    std::string senders_reference;
    std::string file_name = "sbd.zip";
    std::int64_t initiated = 0; // microseconds since the epoch
    bool uploaded = false;
    std::uint64_t size = 0;
    std::int64_t sent = 0;
    std::int32_t receipt_id = 0;
    std::map<std::string, std::string> status; // recipient -> Uploaded | Downloaded

    json::object to_json() const {
        json::object o;
        o["reference"] = reference;
        o["sender"] = sender;
        json::array r;
        for (const auto& x : recipients)
            r.emplace_back(x);
        o["recipients"] = std::move(r);
        o["service_code"] = service_code;
        o["service_edition"] = service_edition;
        o["senders_reference"] = senders_reference;
        o["file_name"] = file_name;
        o["initiated"] = format_time(initiated);
        o["uploaded"] = uploaded;
        o["size"] = size;
        o["sent"] = uploaded ? json::value(format_time(sent)) : json::value(nullptr);
        o["receipt_id"] = receipt_id;
        json::object st;
        for (const auto& [k, v] : status)
            st[k] = v;
        o["status"] = std::move(st);
        return o;
    }

    static std::optional<transfer> from_json(const json::value& v) {
        try {
            const auto& o = v.as_object();
            transfer t;
            t.reference = o.at("reference").as_string();
            t.sender = o.at("sender").as_string();
            for (const auto& x : o.at("recipients").as_array())
                t.recipients.emplace_back(x.as_string());
            t.service_code = o.at("service_code").as_string();
            t.service_edition = static_cast<std::int32_t>(o.at("service_edition").as_int64());
            t.senders_reference = o.at("senders_reference").as_string();
            t.file_name = o.at("file_name").as_string();
            t.initiated = parse_time(o.at("initiated").as_string()).value_or(0);
            t.uploaded = o.at("uploaded").as_bool();
            t.size = static_cast<std::uint64_t>(o.at("size").to_number<std::int64_t>());
            if (o.at("sent").is_string())
                t.sent = parse_time(o.at("sent").as_string()).value_or(0);
            t.receipt_id = static_cast<std::int32_t>(o.at("receipt_id").as_int64());
            for (const auto& [k, s] : o.at("status").as_object())
                t.status[std::string(k)] = std::string(s.as_string());
            return t;
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }
};

struct a2_settings {
    std::string wsdl_dir;
    std::uint64_t max_file_bytes = 1ull << 30;
    std::map<std::string, std::set<std::string>> delegations;
    std::set<std::string> deny_send, deny_read, low_security;

    json::object to_json() const {
        const auto list = [](const std::set<std::string>& s) {
            json::array a;
            for (const auto& x : s)
                a.emplace_back(x);
            return a;
        };
        json::object d;
        for (const auto& [user, orgs] : delegations)
            d[user] = list(orgs);
        json::object o;
        o["wsdl_dir"] = wsdl_dir;
        o["max_file_bytes"] = max_file_bytes;
        o["delegations"] = std::move(d);
        o["deny_send"] = list(deny_send);
        o["deny_read"] = list(deny_read);
        o["low_security"] = list(low_security);
        return o;
    }

    // Applies the members present; an unknown member or a wrong type is an error naming it.
    result<void> apply(const json::object& o) {
        a2_settings next = *this;
        const auto bad = [](std::string what) {
            return make_error(a2::errc::invalid_value, "altinn2 settings: " + what);
        };
        const auto string_set = [](const json::value& v, std::set<std::string>& out) {
            if (!v.is_array())
                return false;
            std::set<std::string> s;
            for (const auto& x : v.as_array()) {
                if (!x.is_string())
                    return false;
                s.emplace(x.as_string());
            }
            out = std::move(s);
            return true;
        };
        for (const auto& [key, v] : o) {
            if (key == "wsdl_dir") {
                if (!v.is_string())
                    return bad("wsdl_dir must be a string");
                next.wsdl_dir = v.as_string();
            } else if (key == "max_file_bytes") {
                if (!v.is_int64() && !v.is_uint64())
                    return bad("max_file_bytes must be an integer");
                next.max_file_bytes = v.to_number<std::uint64_t>();
            } else if (key == "delegations") {
                if (!v.is_object())
                    return bad("delegations must be an object of arrays");
                next.delegations.clear();
                for (const auto& [user, orgs] : v.as_object())
                    if (!string_set(orgs, next.delegations[std::string(user)]))
                        return bad("delegations." + std::string(user) + " must be an array of strings");
            } else if (key == "deny_send" || key == "deny_read" || key == "low_security") {
                auto& target = key == "deny_send"   ? next.deny_send
                               : key == "deny_read" ? next.deny_read
                                                    : next.low_security;
                if (!string_set(v, target))
                    return bad(std::string(key) + " must be an array of strings");
            } else {
                return bad("unknown member '" + std::string(key) + "'");
            }
        }
        *this = std::move(next);
        return {};
    }
};

bool digits_only(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A fault, or nothing: what every check returns.
using verdict = std::optional<a2::soap_fault>;

verdict fault(int id, std::string message) {
    return a2::make_fault(id, std::move(message));
}

class altinn2_service final : public service {
public:
    std::string_view name() const override { return "altinn2"; }

    void register_routes(http::router& r, context& ctx) override {
        ctx_ = &ctx;
        root_ = ctx.broker_dir() / "a2";
        std::error_code ec;
        std::filesystem::create_directories(root_ / "incoming", ec);
        load();

        r.add(verb::post, std::string(basic_path), [this](http::exchange ex) { return basic(ex); });
        r.add(verb::post, std::string(streamed_path), [this](http::exchange ex) { return streamed(ex); });
        r.add(verb::get, std::string(basic_path),
              [this](http::exchange ex) { return wsdl(ex, "BrokerServiceExternalBasic.wsdl"); });
        r.add(verb::get, std::string(streamed_path),
              [this](http::exchange ex) { return wsdl(ex, "BrokerServiceExternalBasicStreamed.wsdl"); });
        r.add(verb::get, "/sandbox/altinn2", [this](http::exchange ex) -> asio_void {
            auto body = json::serialize(settings_.to_json());
            co_await ex.send(http::reply::json(200, std::move(body)));
        });
        r.add(verb::post, "/sandbox/altinn2", [this](http::exchange ex) { return change_settings(ex); });
    }

private:
    // ---- state ---------------------------------------------------------------------------

    void load() {
        if (auto text = read_small_file(root_ / "settings.json", 1 << 20)) {
            boost::system::error_code ec;
            auto v = json::parse(*text, ec);
            if (ec || !v.is_object() || !settings_.apply(v.as_object()))
                ctx_->log(log_level::warning,
                          "altinn2: ignoring an unreadable " + (root_ / "settings.json").string());
        }
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(root_, ec)) {
            if (!entry.is_directory() || entry.path().filename() == "incoming")
                continue;
            auto text = read_small_file(entry.path() / "transfer.json", 1 << 20);
            if (!text)
                continue;
            boost::system::error_code pec;
            auto v = json::parse(*text, pec);
            auto t = pec ? std::nullopt : transfer::from_json(v);
            if (!t) {
                ctx_->log(log_level::warning,
                          "altinn2: ignoring an unreadable " + (entry.path() / "transfer.json").string());
                continue;
            }
            next_receipt_ = std::max(next_receipt_, t->receipt_id + 1);
            transfers_[t->reference] = std::move(*t);
        }
        // Uploads cut off by a stop: nothing refers to them.
        for (const auto& entry : std::filesystem::directory_iterator(root_ / "incoming", ec))
            std::filesystem::remove(entry.path(), ec);
    }

    // Small JSON records written on the I/O thread: this is a test double, and the order of writes
    // to one record must be kept.
    result<void> save(const transfer& t) {
        std::error_code ec;
        std::filesystem::create_directories(root_ / t.reference, ec);
        return write_file_durably(root_ / t.reference / "transfer.json", json::serialize(t.to_json()));
    }

    asio_void change_settings(http::exchange ex) {
        auto body = co_await ex.read_body(1 << 20);
        boost::system::error_code ec;
        json::value v;
        if (body)
            v = json::parse(*body, ec);
        if (!body || ec || !v.is_object()) {
            co_await ex.send(http::reply::json(400, R"({"error":"expected a JSON object"})"));
            co_return;
        }
        if (auto applied = settings_.apply(v.as_object()); !applied) {
            json::object e;
            e["error"] = applied.error().message;
            auto text = json::serialize(e);
            co_await ex.send(http::reply::json(400, std::move(text)));
            co_return;
        }
        auto text = json::serialize(settings_.to_json());
        (void)write_file_durably(root_ / "settings.json", text);
        co_await ex.send(http::reply::json(200, std::move(text)));
    }

    asio_void wsdl(http::exchange ex, std::string file) {
        const bool asked = ex.query("wsdl").has_value() || ex.query("singleWsdl").has_value();
        if (!asked) {
            co_await ex.send(http::reply::text(400, "GET is only served with ?wsdl\n"));
            co_return;
        }
        if (settings_.wsdl_dir.empty()) {
            co_await ex.send(http::reply::text(
                404, "this sandbox has no WSDL to serve: POST /sandbox/altinn2 {\"wsdl_dir\": ...}\n"));
            co_return;
        }
        co_await ex.send_file(std::filesystem::path(settings_.wsdl_dir) / file, "text/xml; charset=utf-8");
    }

    // ---- checks --------------------------------------------------------------------------

    // Authentication of the system user: 0 for empty credentials, 5 for unknown or wrong ones.
    verdict authenticate(const a2::credentials& c, const organization** who) const {
        if (c.system_user.empty() || c.system_password.empty())
            return fault(0, "Authentication failed: the system user name and password must be given.");
        if (!digits_only(c.system_user))
            return fault(5, "InvalidSystemName/Id. Must be a number or valid username");
        for (const auto& o : ctx_->current_state().organizations) {
            if (o.altinn2_system_user != c.system_user)
                continue;
            if (o.altinn2_system_password != c.system_password)
                break;
            *who = &o;
            return std::nullopt;
        }
        return fault(5, "Incorrect username/password for the end user system " + c.system_user + ".");
    }

    // Whether the system user may act for `reportee` (40211), at a sufficient level (40216).
    verdict acts_for(const organization& system, const std::string& reportee) const {
        bool allowed = system.number == reportee;
        if (auto d = settings_.delegations.find(system.altinn2_system_user); d != settings_.delegations.end())
            allowed = allowed || d->second.contains(reportee);
        if (!allowed)
            return fault(40211, "The end user system " + system.altinn2_system_user +
                                    " is not authorized to perform this action for the reportee " + reportee +
                                    ".");
        if (settings_.low_security.contains(reportee))
            return fault(40216, "The security level of the authenticated user is too low for this service.");
        return std::nullopt;
    }

    bool known_org(const std::string& number) const { return ctx_->current_state().find(number) != nullptr; }

    verdict service_is_broker(const std::string& code, std::int32_t edition) const {
        const auto& st = ctx_->current_state();
        if (code.empty() || edition == 0)
            return fault(40210,
                         "ExternalServiceCode and ExternalServiceEditionCode must be given and not 0.");
        if (code != st.altinn2_service_code || edition != st.altinn2_service_edition)
            return fault(40210,
                         "The service " + code + "/" + std::to_string(edition) + " is not a broker service.");
        return std::nullopt;
    }

    // Download and confirm: the file exists (40212), the reportee is one of its recipients
    // (40213) with read right (40215).
    verdict recipient_of(const std::string& reference, const std::string& reportee, transfer** out) {
        auto it = transfers_.find(reference);
        if (it == transfers_.end())
            return fault(40212, "The reference " + reference + " is not a broker service file.");
        if (std::find(it->second.recipients.begin(), it->second.recipients.end(), reportee) ==
            it->second.recipients.end())
            return fault(40213, "The reportee " + reportee + " does not match the data for the file " +
                                    reference + ".");
        if (settings_.deny_read.contains(reportee))
            return fault(40215,
                         "The recipient " + reportee + " does not have the rights to download the file.");
        *out = &it->second;
        return std::nullopt;
    }

    // ---- the Basic service ---------------------------------------------------------------

    asio_void send_basic_fault(http::exchange ex, a2::soap_fault f) {
        auto envelope = a2::write_fault(f);
        auto r =
            http::reply::text(500, envelope ? std::move(*envelope) : std::string(), a2::soap_content_type);
        co_await ex.send(std::move(r));
    }

    asio_void basic(http::exchange ex) {
        const auto op = a2::operation_from_soap_action(ex.header("SOAPAction"));
        auto body = co_await ex.read_body(4 << 20);
        if (!body) {
            co_await send_basic_fault(
                ex, a2::make_fault(0, "The request could not be read: " + body.error().message));
            co_return;
        }
        if (!op || a2::is_streamed(*op)) {
            a2::soap_fault f{"Client",
                             "The message with Action '" + ex.header("SOAPAction") +
                                 "' cannot be processed at the receiver (ActionNotSupported).",
                             std::nullopt};
            co_await send_basic_fault(ex, f);
            co_return;
        }
        // Parse off the I/O thread; decide on it.
        std::string envelope = std::move(*body);
        verdict v;
        std::string answer;
        switch (*op) {
        case a2::operation::initiate_broker_service: {
            auto parse = [envelope] {
                return a2::read_initiate_request(envelope);
            };
            auto req = co_await kurer::offload(ctx_->blocking(), std::move(parse));
            v = req ? initiate(*req, &answer) : fault(0, req.error().message);
            break;
        }
        case a2::operation::check_if_available_files: {
            auto parse = [envelope] {
                return a2::read_check_request(envelope);
            };
            auto req = co_await kurer::offload(ctx_->blocking(), std::move(parse));
            v = req ? check(*req, &answer) : fault(0, req.error().message);
            break;
        }
        case a2::operation::get_available_files: {
            auto parse = [envelope] {
                return a2::read_list_request(envelope);
            };
            auto req = co_await kurer::offload(ctx_->blocking(), std::move(parse));
            v = req ? list(*req, &answer) : fault(0, req.error().message);
            break;
        }
        case a2::operation::confirm_downloaded: {
            auto parse = [envelope] {
                return a2::read_confirm_request(envelope);
            };
            auto req = co_await kurer::offload(ctx_->blocking(), std::move(parse));
            v = req ? confirm(*req, &answer) : fault(0, req.error().message);
            break;
        }
        default:
            break;
        }
        if (v) {
            co_await send_basic_fault(ex, *v);
            co_return;
        }
        auto r = http::reply::text(200, std::move(answer), a2::soap_content_type);
        co_await ex.send(std::move(r));
    }

    verdict initiate(const a2::initiate_request& req, std::string* answer) {
        const organization* system = nullptr;
        if (auto f = authenticate(req.account, &system))
            return f;
        if (auto f = service_is_broker(req.service.code, req.service.edition))
            return f;
        if (req.reportee.empty() || req.senders_reference.empty() || req.recipients.empty())
            return fault(
                0, "Manifest/Reportee, Manifest/SendersReference and at least one Recipient are required.");
        if (auto f = acts_for(*system, req.reportee))
            return f;
        if (!known_org(req.reportee) || settings_.deny_send.contains(req.reportee))
            return fault(40201, "The reportee " + req.reportee +
                                    " is not authorized to send files on this service.");
        std::vector<std::string> bad;
        for (const auto& r : req.recipients)
            if (!known_org(r) || settings_.deny_read.contains(r))
                bad.push_back(r);
        if (!bad.empty()) {
            std::string list;
            for (const auto& b : bad)
                list += (list.empty() ? "" : ", ") + b;
            return fault(40202,
                         "There was errors in the list of recipients: The following recipients is not in SRR "
                         "with appropriate rights: " +
                             list);
        }
        transfer t;
        t.reference = random_uuid();
        t.sender = req.reportee;
        t.recipients = req.recipients;
        t.service_code = req.service.code;
        t.service_edition = req.service.edition;
        t.senders_reference = req.senders_reference;
        if (!req.file_names.empty())
            t.file_name = req.file_names.front();
        t.initiated = micros_now();
        if (auto saved = save(t); !saved)
            return fault(6, "The broker could not store the transfer: " + saved.error().message);
        auto response = a2::write_initiate_response(t.reference);
        *answer = response ? std::move(*response) : std::string();
        transfers_[t.reference] = std::move(t);
        return std::nullopt;
    }

    verdict check(const a2::check_request& req, std::string* answer) {
        const organization* system = nullptr;
        if (auto f = authenticate(req.account, &system))
            return f;
        if (req.service)
            if (auto f = service_is_broker(req.service->code, req.service->edition))
                return f;
        bool any = false;
        for (const auto& r : req.recipients) {
            if (auto f = acts_for(*system, r))
                return f;
            for (const auto& [ref, t] : transfers_) {
                (void)ref;
                if (!t.uploaded || (req.service && (t.service_code != req.service->code ||
                                                    t.service_edition != req.service->edition)))
                    continue;
                auto s = t.status.find(r);
                any = any || (s != t.status.end() && s->second == "Uploaded");
            }
        }
        *answer = a2::write_check_response(any);
        return std::nullopt;
    }

    verdict list(const a2::list_request& req, std::string* answer) {
        const organization* system = nullptr;
        if (auto f = authenticate(req.account, &system))
            return f;
        if (req.service)
            if (auto f = service_is_broker(req.service->code, req.service->edition))
                return f;
        if (!(req.reportee.size() == 9 || req.reportee.size() == 11) || !digits_only(req.reportee))
            return fault(40214, "The reportee '" + req.reportee.substr(0, 40) +
                                    "' is not a valid organisation number or social security number.");
        if (auto f = acts_for(*system, req.reportee))
            return f;
        std::optional<std::int64_t> min_sent, max_sent;
        if (req.min_sent)
            min_sent = parse_time(*req.min_sent);
        if (req.max_sent)
            max_sent = parse_time(*req.max_sent);
        const std::string wanted = req.status == a2::file_status::uploaded ? "Uploaded" : "Downloaded";
        std::vector<const transfer*> found;
        for (const auto& [ref, t] : transfers_) {
            (void)ref;
            auto s = t.status.find(req.reportee);
            if (!t.uploaded || s == t.status.end() || s->second != wanted)
                continue;
            if (req.service &&
                (t.service_code != req.service->code || t.service_edition != req.service->edition))
                continue;
            if ((min_sent && t.sent < *min_sent) || (max_sent && t.sent > *max_sent))
                continue;
            found.push_back(&t);
        }
        std::sort(found.begin(), found.end(),
                  [](const transfer* a, const transfer* b) { return a->sent < b->sent; });
        std::vector<a2::available_file> files;
        for (const auto* t : found) {
            a2::available_file f;
            f.service_code = t->service_code;
            f.service_edition = t->service_edition;
            f.file_name = t->file_name;
            f.file_reference = t->reference;
            f.file_size = static_cast<std::int64_t>(t->size);
            f.status = wanted == "Uploaded" ? a2::file_status::uploaded : a2::file_status::downloaded;
            f.sftp_download_only = false;
            f.receipt_id = t->receipt_id;
            f.reportee = t->sender;
            f.senders_reference = t->senders_reference;
            f.sent_date = format_time(t->sent);
            files.push_back(std::move(f));
        }
        auto response = a2::write_list_response(files);
        if (!response)
            return fault(0, response.error().message);
        *answer = std::move(*response);
        return std::nullopt;
    }

    verdict confirm(const a2::confirm_request& req, std::string* answer) {
        const organization* system = nullptr;
        if (auto f = authenticate(req.account, &system))
            return f;
        transfer* t = nullptr;
        if (auto f = recipient_of(req.file_reference, req.reportee, &t))
            return f;
        if (auto f = acts_for(*system, req.reportee))
            return f;
        if (t->uploaded && t->status[req.reportee] != "Downloaded") {
            t->status[req.reportee] = "Downloaded";
            if (auto saved = save(*t); !saved)
                return fault(6, "The broker could not store the confirmation: " + saved.error().message);
        }
        *answer = a2::write_confirm_response();
        return std::nullopt;
    }

    // ---- the Streamed service ------------------------------------------------------------

    asio_void send_streamed_fault(http::exchange ex, a2::soap_fault f) {
        auto message = a2::write_fault_message(f);
        if (!message) {
            co_await ex.send(http::reply::text(500, message.error().message));
            co_return;
        }
        auto r = reply_of(*message, 500);
        co_await ex.send(std::move(r));
    }

    static http::reply reply_of(const mtom::message& m, unsigned status) {
        http::reply r;
        r.status = status;
        r.headers.set("Content-Type", m.content_type);
        for (const auto& piece : m.pieces) {
            if (const auto* bytes = std::get_if<std::string>(&piece))
                r.body.append(*bytes);
            else {
                const auto& range = std::get<mtom::file_range>(piece);
                r.body.append_file(range.path, range.offset, range.length);
            }
        }
        r.body.chunked(); // as WCF sends it
        return r;
    }

    asio_void streamed(http::exchange ex) {
        const auto op = a2::operation_from_soap_action(ex.header("SOAPAction"));
        if (op == a2::operation::upload_file_streamed) {
            co_await upload(ex);
            co_return;
        }
        if (op == a2::operation::download_file_streamed) {
            co_await download(ex);
            co_return;
        }
        (void)co_await ex.read_body(4 << 20);
        a2::soap_fault f{"Client",
                         "The message with Action '" + ex.header("SOAPAction") +
                             "' cannot be processed at the receiver (ActionNotSupported).",
                         std::nullopt};
        co_await send_streamed_fault(ex, f);
    }

    asio_void upload(http::exchange ex) {
        const auto incoming = root_ / "incoming" / (random_uuid() + ".part");
        mtom::file_sink sink(incoming, false);
        mtom::limits lim;
        lim.max_attachment_bytes = settings_.max_file_bytes;
        auto parser = mtom::parser::create(ex.header("Content-Type"), &sink, lim);
        if (!parser) {
            (void)co_await ex.read_body(4 << 20);
            co_await send_streamed_fault(
                ex, a2::make_fault(0, "The request could not be read: " + parser.error().message));
            co_return;
        }
        // The body is parsed as it arrives; the attachment goes straight to the file. File writes
        // run here on the I/O thread: a test double, and the writes are the network's pace.
        auto* p = &*parser;
        std::function<result<void>(std::string_view)> on_chunk = [p](std::string_view bytes) {
            return p->feed(bytes);
        };
        auto read = co_await ex.read_body_chunks(std::move(on_chunk), settings_.max_file_bytes + (1 << 20));
        result<void> parsed = read ? p->finish() : result<void>(read.error());
        const auto cleanup = [&] {
            std::error_code ec;
            std::filesystem::remove(incoming, ec);
        };
        if (!parsed) {
            cleanup();
            // With the root complete, the limit reached can only be the attachment's.
            const bool too_large =
                parsed.error().code == make_error_code(a2::errc::limit_exceeded) && p->root_complete();
            if (too_large)
                co_await send_streamed_fault(
                    ex, fault(40204, "The file is too large to be sent through the web "
                                     "service (at most " +
                                         std::to_string(settings_.max_file_bytes) + " bytes).")
                            .value());
            else
                co_await send_streamed_fault(
                    ex, a2::make_fault(0, "The request could not be read: " + parsed.error().message));
            co_return;
        }
        auto received = a2::read_upload_request_message(*p);
        if (!received) {
            cleanup();
            co_await send_streamed_fault(ex, a2::make_fault(0, received.error().message));
            co_return;
        }
        auto v = accept_upload(*received, incoming);
        if (v) {
            cleanup();
            co_await send_streamed_fault(ex, *v);
            co_return;
        }
        auto& t = transfers_[received->headers.reference];
        a2::upload_receipt receipt;
        receipt.last_changed = format_time(t.sent);
        receipt.parent_receipt_id = 0;
        receipt.receipt_id = t.receipt_id;
        receipt.status_code = "OK";
        receipt.text =
            "Upload of file " + t.file_name + " was successful. Recipients can now download the file.";
        receipt.type_name = "BrokerService";
        auto message = a2::write_upload_response_message(receipt);
        if (!message) {
            co_await ex.send(http::reply::text(500, message.error().message));
            co_return;
        }
        auto r = reply_of(*message, 200);
        co_await ex.send(std::move(r));
    }

    // The checks of an upload, in Altinn's order, and on success the file in its place.
    verdict accept_upload(const a2::received_upload& up, const std::filesystem::path& incoming) {
        const organization* system = nullptr;
        if (auto f = authenticate(up.headers.account, &system))
            return f;
        auto it = transfers_.find(up.headers.reference);
        if (it == transfers_.end())
            return fault(40212,
                         "The reference " + up.headers.reference.substr(0, 60) + " is not a broker service.");
        transfer& t = it->second;
        if (up.headers.reportee != t.sender)
            return fault(40213, "The reportee " + up.headers.reportee.substr(0, 20) +
                                    " does not match the data for the reference " + t.reference + ".");
        if (auto f = acts_for(*system, up.headers.reportee))
            return f;
        if (settings_.deny_send.contains(t.sender))
            return fault(40201,
                         "The reportee " + t.sender + " is not authorized to send files on this service.");
        if (t.uploaded)
            return fault(40208, "A file has already been uploaded for the reference " + t.reference + ".");
        if (!up.data || up.data->size == 0)
            return fault(40205, "No file data was received.");
        if (up.data->size > settings_.max_file_bytes)
            return fault(40204, "The file is too large to be sent through the web service.");
        if (!starts_with_pk(incoming))
            return fault(40206, "The uploaded file is not a ZIP file.");
        const auto dir = root_ / t.reference;
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        std::filesystem::rename(incoming, dir / "sbd.zip", ec);
        if (ec)
            return fault(6, "The broker could not store the file: " + ec.message());
        if (auto synced = sync_file_and_directory(dir / "sbd.zip"); !synced)
            return fault(6, "The broker could not store the file: " + synced.error().message);
        t.uploaded = true;
        t.size = up.data->size;
        t.sent = micros_now();
        t.receipt_id = next_receipt_++;
        for (const auto& r : t.recipients)
            t.status[r] = "Uploaded";
        if (auto saved = save(t); !saved)
            return fault(6, "The broker could not store the transfer: " + saved.error().message);
        return std::nullopt;
    }

    static bool starts_with_pk(const std::filesystem::path& file) {
        const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return false;
        char head[2] = {};
        const bool ok = ::read(fd, head, 2) == 2 && head[0] == 'P' && head[1] == 'K';
        ::close(fd);
        return ok;
    }

    asio_void download(http::exchange ex) {
        auto body = co_await ex.read_body(4 << 20);
        if (!body) {
            co_await send_streamed_fault(
                ex, a2::make_fault(0, "The request could not be read: " + body.error().message));
            co_return;
        }
        auto parse = [content_type = ex.header("Content-Type"),
                      text = std::move(*body)]() -> result<a2::download_request> {
            auto p = mtom::parser::create(content_type, nullptr);
            if (!p)
                return p.error();
            if (auto fed = p->feed(text); !fed)
                return fed.error();
            if (auto done = p->finish(); !done)
                return done.error();
            return a2::read_download_request_message(*p);
        };
        auto req = co_await kurer::offload(ctx_->blocking(), std::move(parse));
        if (!req) {
            co_await send_streamed_fault(ex, a2::make_fault(0, req.error().message));
            co_return;
        }
        const organization* system = nullptr;
        verdict v = authenticate(req->account, &system);
        transfer* t = nullptr;
        if (!v)
            v = recipient_of(req->file_reference, req->reportee, &t);
        if (!v)
            v = acts_for(*system, req->reportee);
        if (!v && !t->uploaded)
            v = fault(40207, "No file is ready for download for the reference " + t->reference + ".");
        if (!v && t->size > settings_.max_file_bytes)
            v = fault(40204, "The file is too large to be downloaded through the web service.");
        if (v) {
            co_await send_streamed_fault(ex, *v);
            co_return;
        }
        auto message = a2::write_download_message(root_ / t->reference / "sbd.zip");
        if (!message) {
            co_await send_streamed_fault(ex, a2::make_fault(6, message.error().message));
            co_return;
        }
        auto r = reply_of(*message, 200);
        co_await ex.send(std::move(r));
    }

    std::int64_t micros_now() const {
        return std::chrono::duration_cast<std::chrono::microseconds>(ctx_->now().time_since_epoch()).count();
    }

    context* ctx_ = nullptr;
    std::filesystem::path root_;
    a2_settings settings_;
    std::map<std::string, transfer> transfers_;
    std::int32_t next_receipt_ = 1000;
};

} // namespace

std::unique_ptr<service> make_altinn2_service() {
    return std::make_unique<altinn2_service>();
}

} // namespace kurer::sandbox

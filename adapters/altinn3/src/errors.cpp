#include <kurer/altinn3/errors.hpp>
#include <kurer/http/error.hpp>

#include <boost/json.hpp>

#include <array>
#include <cstdio>

namespace kurer::altinn3 {
namespace {

namespace json = boost::json;

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "altinn3"; }
    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::file_transfer_not_found:
            return "file transfer not found (BRO-00001)";
        case errc::service_owner_not_configured:
            return "service owner not configured (BRO-00002)";
        case errc::no_file_uploaded:
            return "no file uploaded yet (BRO-00003)";
        case errc::already_uploaded:
            return "file already uploaded (BRO-00004)";
        case errc::not_an_altinn3_resource:
            return "not an Altinn 3 resource (BRO-00005)";
        case errc::no_access:
            return "no access to the file transfer or resource (BRO-00006)";
        case errc::not_ready_for_download:
            return "file not ready for download (BRO-00007)";
        case errc::upload_failed:
            return "upload failed in the broker (BRO-00008)";
        case errc::checksum_mismatch:
            return "checksum mismatch (BRO-00009)";
        case errc::confirm_only_when_published:
            return "confirm only allowed while Published (BRO-00010)";
        case errc::file_too_large:
            return "file too large (BRO-00016)";
        case errc::confirm_before_download:
            return "confirm before the download started (BRO-00019)";
        case errc::storage_not_ready:
            return "broker storage not ready (BRO-00021)";
        case errc::resource_not_configured:
            return "resource not configured (BRO-00025)";
        case errc::recipient_not_in_access_list:
            return "recipient not in the resource's access list (BRO-00028)";
        case errc::unsatisfiable_range:
            return "range not satisfiable (BRO-00029)";
        case errc::unauthorized:
            return "unauthorized (token missing, invalid or expired)";
        case errc::forbidden:
            return "forbidden (the token lacks the scope)";
        case errc::not_acceptable:
            return "not acceptable (Accept excludes JSON)";
        case errc::unsupported_media_type:
            return "unsupported media type";
        case errc::validation_failed:
            return "request validation failed";
        case errc::unknown_problem_code:
            return "unknown broker problem code";
        case errc::http_error:
            return "unexpected HTTP status";
        case errc::token_exchange_failed:
            return "Altinn token exchange failed";
        case errc::bad_response:
            return "malformed broker response";
        case errc::file_error:
            return "file error";
        case errc::invalid_argument:
            return "invalid argument";
        }
        return "altinn3 error " + std::to_string(value);
    }
};

constexpr std::array problem_codes{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 19, 21, 25, 28, 29};

std::string string_member(const json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

} // namespace

const boost::system::error_category& altinn3_category() noexcept {
    static const category c;
    return c;
}

boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), altinn3_category()};
}

std::optional<errc> parse_problem_code(std::string_view code) noexcept {
    constexpr std::string_view prefix = "BRO-";
    if (!code.starts_with(prefix) || code.size() != prefix.size() + 5)
        return std::nullopt;
    int value = 0;
    for (const char c : code.substr(prefix.size())) {
        if (c < '0' || c > '9')
            return std::nullopt;
        value = value * 10 + (c - '0');
    }
    for (const int k : problem_codes)
        if (k == value)
            return static_cast<errc>(value);
    return std::nullopt;
}

std::string problem_code_text(errc e) {
    const int v = static_cast<int>(e);
    for (const int k : problem_codes)
        if (k == v) {
            char out[16];
            std::snprintf(out, sizeof out, "BRO-%05d", v);
            return out;
        }
    return {};
}

bool is_retryable(errc e) noexcept {
    switch (e) {
    case errc::not_ready_for_download:
    case errc::upload_failed:
    case errc::storage_not_ready:
        return true;
    default:
        return false;
    }
}

std::optional<problem> parse_problem(std::string_view body) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec || !v.is_object())
        return std::nullopt;
    const auto& o = v.as_object();
    problem p;
    if (const auto* s = o.if_contains("status"); s && s->is_number())
        p.status = static_cast<unsigned>(s->to_number<std::int64_t>());
    p.type = string_member(o, "type");
    p.title = string_member(o, "title");
    p.detail = string_member(o, "detail");
    p.code = string_member(o, "code");
    p.trace_id = string_member(o, "traceId");
    if (const auto* errors = o.if_contains("errors"); errors && errors->is_object())
        for (const auto& kv : errors->as_object()) {
            std::string messages;
            if (kv.value().is_array())
                for (const auto& m : kv.value().as_array())
                    if (m.is_string())
                        messages += (messages.empty() ? "" : " ") + std::string(m.as_string());
            p.validation_errors +=
                (p.validation_errors.empty() ? "" : "; ") + std::string(kv.key()) + ": " + messages;
        }
    return p;
}

error error_from_response(unsigned status, std::string_view body, std::string_view what) {
    const auto p = parse_problem(body);
    std::string message = std::string(what) + ": HTTP " + std::to_string(status);
    if (p && !p->code.empty())
        message += " " + p->code;
    if (p && !p->detail.empty())
        message += ": " + p->detail;
    else if (p && !p->validation_errors.empty())
        message += ": " + p->validation_errors;
    else if (p && !p->title.empty())
        message += ": " + p->title;
    if (p && !p->trace_id.empty())
        message += " (traceId " + p->trace_id + ")";

    if (p && !p->code.empty()) {
        if (const auto e = parse_problem_code(p->code))
            return make_error(*e, std::move(message), is_retryable(*e) ? retry::yes : retry::no);
        return make_error(errc::unknown_problem_code, std::move(message),
                          http::is_retryable_status(status) ? retry::yes : retry::no);
    }
    switch (status) {
    case 401:
        return make_error(errc::unauthorized, std::move(message));
    case 403:
        return make_error(errc::forbidden, std::move(message));
    case 406:
        return make_error(errc::not_acceptable, std::move(message));
    case 415:
        return make_error(errc::unsupported_media_type, std::move(message));
    default:
        break;
    }
    if (status == 400 && p && !p->validation_errors.empty())
        return make_error(errc::validation_failed, std::move(message));
    return make_error(errc::http_error, std::move(message),
                      http::is_retryable_status(status) ? retry::yes : retry::no);
}

} // namespace kurer::altinn3

#include <kurer/altinn3/client.hpp>
#include <kurer/asio/offload.hpp>
#include <kurer/http/client.hpp>
#include <kurer/http/percent.hpp>
#include <kurer/http/range.hpp>
#include <kurer/http/single_flight.hpp>
#include <kurer/maskinporten/grant.hpp>
#include <kurer/maskinporten/token_provider.hpp>

#include <boost/json.hpp>

#include <botan/hash.h>
#include <botan/hex.h>

#include <atomic>
#include <fstream>

namespace kurer::altinn3 {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using boost::asio::awaitable;
using http::verb;

class provider_tokens final : public maskinporten_tokens {
public:
    provider_tokens(maskinporten::token_provider& provider, maskinporten::altinn_system_user user)
        : provider_(&provider)
        , user_(std::move(user)) {}

    awaitable<result<std::string>> get(std::string scope) override {
        maskinporten::token_request request{.scopes = {std::move(scope)}, .system_user = user_};
        auto token = co_await provider_->get(std::move(request));
        if (!token)
            co_return token.error();
        co_return token->value;
    }

    void invalidate(std::string scope) override {
        maskinporten::token_request request{.scopes = {std::move(scope)}, .system_user = user_};
        provider_->invalidate(request);
    }

    std::string system_user() const override { return user_.organization + "/" + user_.external_ref; }

private:
    maskinporten::token_provider* provider_;
    maskinporten::altinn_system_user user_;
};

error invalid(std::string message) {
    return make_error(errc::invalid_argument, std::move(message));
}

error bad_response(std::string message) {
    return make_error(errc::bad_response, std::move(message));
}

// Ids go into URL paths: only what a UUID is made of.
bool safe_id(std::string_view id) {
    return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) || c == '-';
    });
}

std::string string_or_empty(const json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::optional<std::string> optional_string(const json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    if (v && v->is_string())
        return std::string(v->as_string());
    return std::nullopt;
}

http::request make_request(verb method, std::string url) {
    http::request req;
    req.method = method;
    req.url = std::move(url);
    return req;
}

std::uint64_t file_size_or_zero(const fs::path& p) {
    std::error_code ec;
    const auto n = fs::file_size(p, ec);
    return ec ? 0 : n;
}

} // namespace

std::shared_ptr<maskinporten_tokens> system_user_tokens(maskinporten::token_provider& provider,
                                                        maskinporten::altinn_system_user user) {
    return std::make_shared<provider_tokens>(provider, std::move(user));
}

std::string party(std::string_view organization) {
    if (organization.find(':') != std::string_view::npos)
        return std::string(organization);
    return "0192:" + std::string(organization);
}

std::string initialize_body(const initialize_request& r, std::string_view resource_id) {
    // Member order as the reference writes it (Jackson, declaration order).
    json::object o;
    o["fileName"] = r.file_name;
    o["resourceId"] = resource_id;
    o["sendersFileTransferReference"] =
        r.senders_reference ? json::value(*r.senders_reference) : json::value(nullptr);
    o["sender"] = party(r.sender);
    json::array recipients;
    for (const auto& x : r.recipients)
        recipients.emplace_back(party(x));
    o["recipients"] = std::move(recipients);
    json::object properties;
    for (const auto& [k, v] : r.properties)
        properties[k] = v;
    o["propertyList"] = std::move(properties);
    o["checksum"] = r.checksum ? json::value(*r.checksum) : json::value(nullptr);
    o["disableVirusScan"] = r.disable_virus_scan ? json::value(*r.disable_virus_scan) : json::value(nullptr);
    return json::serialize(o);
}

result<std::string> md5_file_hex(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return make_error(errc::file_error, "cannot read " + file.string() + " to compute its MD5");
    auto hash = Botan::HashFunction::create_or_throw("MD5");
    std::vector<char> buffer(64 * 1024);
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        hash->update(reinterpret_cast<const std::uint8_t*>(buffer.data()),
                     static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad())
        return make_error(errc::file_error, "reading " + file.string() + " failed while computing its MD5");
    return Botan::hex_encode(hash->final(), false);
}

const recipient_state* file_transfer_overview::recipient(std::string_view organization) const {
    const auto p = party(organization);
    for (const auto& r : recipients)
        if (r.recipient == p)
            return &r;
    return nullptr;
}

result<file_transfer_overview> parse_overview(std::string_view body) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec || !v.is_object())
        return bad_response("file transfer overview: not a JSON object");
    const auto& o = v.as_object();
    file_transfer_overview out;
    out.id = string_or_empty(o, "fileTransferId");
    if (out.id.empty())
        return bad_response("file transfer overview: no fileTransferId");
    out.resource_id = string_or_empty(o, "resourceId");
    out.file_name = string_or_empty(o, "fileName");
    out.senders_reference = optional_string(o, "sendersFileTransferReference");
    out.checksum = optional_string(o, "checksum");
    if (const auto* s = o.if_contains("fileTransferSize"); s && s->is_number()) {
        const auto n = s->to_number<std::int64_t>(ec);
        if (ec || n < 0)
            return bad_response("file transfer overview: fileTransferSize is not a size");
        out.size = static_cast<std::uint64_t>(n);
    }
    out.status = string_or_empty(o, "fileTransferStatus");
    out.status_text = string_or_empty(o, "fileTransferStatusText");
    out.status_changed = string_or_empty(o, "fileTransferStatusChanged");
    out.created = string_or_empty(o, "created");
    out.expiration_time = string_or_empty(o, "expirationTime");
    out.sender = string_or_empty(o, "sender");
    if (const auto* rs = o.if_contains("recipients"); rs && rs->is_array())
        for (const auto& rv : rs->as_array()) {
            if (!rv.is_object())
                return bad_response("file transfer overview: a recipient is not an object");
            const auto& r = rv.as_object();
            out.recipients.push_back({string_or_empty(r, "recipient"),
                                      string_or_empty(r, "currentRecipientFileTransferStatusCode"),
                                      string_or_empty(r, "currentRecipientFileTransferStatusText"),
                                      string_or_empty(r, "currentRecipientFileTransferStatusChanged")});
        }
    return out;
}

struct client::impl : std::enable_shared_from_this<impl> {
    impl(http::client& h, config c, std::shared_ptr<maskinporten_tokens> t, boost::asio::any_io_executor b)
        : http(&h)
        , cfg(std::move(c))
        , tokens(std::move(t))
        , blocking(std::move(b))
        , cache(h.executor()) {}

    http::client* http;
    config cfg;
    std::shared_ptr<maskinporten_tokens> tokens;
    boost::asio::any_io_executor blocking;
    http::single_flight_cache<std::string> cache;
    std::atomic<std::uint64_t> exchanges{0};

    std::string cache_key(std::string_view scope) const {
        return tokens->system_user() + "|" + std::string(scope);
    }

    // Maskinporten token in, Altinn token out (§4.2 step 3).
    awaitable<result<std::string>> exchange(std::string scope) {
        auto self = shared_from_this();
        auto mp = co_await tokens->get(scope);
        if (!mp)
            co_return mp.error();
        auto req = make_request(verb::get, cfg.exchange_url);
        req.headers.set("Authorization", "Bearer " + *mp);
        ++exchanges;
        auto r = co_await http->send(std::move(req));
        if (!r)
            co_return r.error();
        if (!r->ok()) {
            if (r->status == 401 || r->status == 403)
                tokens->invalidate(scope);
            const bool retryable = http::is_retryable_status(r->status);
            co_return make_error(errc::token_exchange_failed,
                                 "Altinn token exchange for " + scope + ": HTTP " +
                                     std::to_string(r->status) + " " + r->reason,
                                 retryable ? retry::yes : retry::no);
        }
        // The body is the token itself; tolerate a JSON string and surrounding white space.
        std::string token = r->body;
        while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())))
            token.pop_back();
        std::size_t start = 0;
        while (start < token.size() && std::isspace(static_cast<unsigned char>(token[start])))
            ++start;
        token.erase(0, start);
        if (token.size() >= 2 && token.front() == '"' && token.back() == '"')
            token = token.substr(1, token.size() - 2);
        if (token.empty() || std::count(token.begin(), token.end(), '.') != 2)
            co_return bad_response("Altinn token exchange for " + scope + ": the answer is not a JWT");
        co_return token;
    }

    awaitable<result<std::string>> altinn_token(std::string scope) {
        auto self = shared_from_this();
        auto fetch = [self, scope]() {
            return self->exchange(scope);
        };
        const auto ttl_value = cfg.token_cache_ttl;
        auto ttl =
            [ttl_value](const std::string&) -> http::single_flight_cache<std::string>::clock::duration {
            return ttl_value;
        };
        auto key = cache_key(scope);
        co_return co_await cache.get(std::move(key), std::move(fetch), std::move(ttl));
    }

    void forget_tokens(const std::string& scope) {
        cache.invalidate(cache_key(scope));
        tokens->invalidate(scope);
    }

    // Sends `req` with an Altinn token for `scope`; after a 401 without a problem code (an
    // expired or revoked token) the tokens are dropped and the request is made once more.
    awaitable<result<http::response>> send(http::request req, std::string scope) {
        auto self = shared_from_this();
        for (int attempt = 0;; ++attempt) {
            auto token = co_await altinn_token(scope);
            if (!token)
                co_return token.error();
            http::request copy = req;
            copy.headers.set("Authorization", "Bearer " + *token);
            auto r = co_await http->send(std::move(copy));
            if (!r)
                co_return r.error();
            const bool token_refused =
                r->status == 401 && !(parse_problem(r->body) && !parse_problem(r->body)->code.empty());
            if (token_refused && attempt == 0 && req.body.replayable()) {
                forget_tokens(scope);
                continue;
            }
            co_return std::move(*r);
        }
    }

    std::string url(std::string_view path) const { return cfg.base_url + std::string(path); }

    static http::request json_request(verb method, std::string url) {
        auto req = make_request(method, std::move(url));
        req.headers.set("Accept", "application/json");
        return req;
    }

    awaitable<result<std::string>> initialize(initialize_request request) {
        auto self = shared_from_this();
        if (request.recipients.empty())
            co_return invalid("initialize: no recipients");
        auto req = json_request(verb::post, url("/filetransfer"));
        req.headers.set("Content-Type", "application/json");
        req.body = http::body_source::from_string(initialize_body(request, cfg.resource_id));
        auto r = co_await send(std::move(req), std::string(scope_write));
        if (!r)
            co_return r.error();
        if (!r->ok())
            co_return error_from_response(r->status, r->body, "initialize");
        boost::system::error_code ec;
        auto v = json::parse(r->body, ec);
        if (ec || !v.is_object())
            co_return bad_response("initialize: the answer is not a JSON object");
        auto id = string_or_empty(v.as_object(), "fileTransferId");
        if (!safe_id(id))
            co_return bad_response("initialize: the answer has no usable fileTransferId");
        co_return id;
    }

    awaitable<result<void>> upload(std::string id, fs::path file) {
        auto self = shared_from_this();
        if (!safe_id(id))
            co_return invalid("upload: not a file transfer id: " + id);
        std::error_code fec;
        if (!fs::is_regular_file(file, fec))
            co_return make_error(errc::file_error, "upload: " + file.string() + " is not a readable file");
        auto req = json_request(verb::post, url("/filetransfer/" + id + "/upload"));
        req.headers.set("Content-Type", "application/octet-stream");
        req.body = http::body_source::from_file(file);
        auto r = co_await send(std::move(req), std::string(scope_write));
        if (!r)
            co_return r.error();
        if (!r->ok())
            co_return error_from_response(r->status, r->body, "upload of " + id);
        co_return result<void>{};
    }

    awaitable<result<std::vector<std::string>>> list(std::string status, std::string recipient_status) {
        auto self = shared_from_this();
        std::string target = "/filetransfer?resourceId=" + http::percent_encode(cfg.resource_id);
        if (!status.empty())
            target += "&status=" + http::percent_encode(status);
        if (!recipient_status.empty())
            target += "&recipientStatus=" + http::percent_encode(recipient_status);
        auto req = json_request(verb::get, url(target));
        auto r = co_await send(std::move(req), std::string(scope_read));
        if (!r)
            co_return r.error();
        if (!r->ok())
            co_return error_from_response(r->status, r->body, "list");
        boost::system::error_code ec;
        auto v = json::parse(r->body, ec);
        if (ec || !v.is_array())
            co_return bad_response("list: the answer is not a JSON array");
        std::vector<std::string> ids;
        for (const auto& e : v.as_array()) {
            if (!e.is_string() || !safe_id(e.as_string()))
                co_return bad_response("list: an entry is not a file transfer id");
            ids.emplace_back(e.as_string());
        }
        co_return ids;
    }

    awaitable<result<file_transfer_overview>> overview(std::string id) {
        auto self = shared_from_this();
        if (!safe_id(id))
            co_return invalid("overview: not a file transfer id: " + id);
        auto req = json_request(verb::get, url("/filetransfer/" + id));
        auto r = co_await send(std::move(req), std::string(scope_read));
        if (!r)
            co_return r.error();
        if (!r->ok())
            co_return error_from_response(r->status, r->body, "overview of " + id);
        co_return parse_overview(r->body);
    }

    // One GET of the file: whole (offset 0, replacing `to`) or from `offset` (appending).
    awaitable<result<std::uint64_t>> fetch(std::string id, fs::path to, std::uint64_t offset) {
        auto self = shared_from_this();
        auto req = make_request(verb::get, url("/filetransfer/" + id + "/download"));
        if (offset > 0)
            req.headers.set("Range", http::range_from(offset));
        req.sink = http::file_sink{.path = to, .append = offset > 0};
        auto r = co_await send(std::move(req), std::string(scope_read));
        if (!r)
            co_return r.error();
        if (offset > 0 && r->status == 416) {
            // Everything was there already: the broker's size says so.
            const auto cr = http::parse_content_range(r->header("Content-Range"));
            if (cr && cr->size && *cr->size == offset)
                co_return offset;
        }
        if (!r->ok())
            co_return error_from_response(r->status, r->body, "download of " + id);
        if (offset > 0 && r->status != 206) {
            // The whole file came instead of the rest: it now follows the partial one. Start over.
            std::error_code ec;
            fs::resize_file(to, 0, ec);
            co_return make_error(errc::bad_response, "download of " + id + ": the broker ignored the Range",
                                 retry::yes);
        }
        if (offset > 0) {
            const auto cr = http::parse_content_range(r->header("Content-Range"));
            if (!cr || cr->range.first != offset)
                co_return bad_response("download of " + id + ": a 206 for another range");
        }
        co_return file_size_or_zero(to);
    }

    awaitable<result<std::uint64_t>> download(std::string id, fs::path to) {
        auto self = shared_from_this();
        if (!safe_id(id))
            co_return invalid("download: not a file transfer id: " + id);
        auto r = co_await fetch(id, to, 0);
        for (unsigned resumes = 0; !r && r.error().retryable && resumes < cfg.download_resumes; ++resumes) {
            const auto have = file_size_or_zero(to);
            r = co_await fetch(id, to, have);
        }
        co_return r;
    }

    awaitable<result<std::uint64_t>> download_from(std::string id, fs::path to, std::uint64_t offset) {
        auto self = shared_from_this();
        if (!safe_id(id))
            co_return invalid("download: not a file transfer id: " + id);
        co_return co_await fetch(std::move(id), std::move(to), offset);
    }

    awaitable<result<void>> confirm(std::string id) {
        auto self = shared_from_this();
        if (!safe_id(id))
            co_return invalid("confirm: not a file transfer id: " + id);
        auto req = json_request(verb::post, url("/filetransfer/" + id + "/confirmdownload"));
        auto r = co_await send(std::move(req), std::string(scope_read));
        if (!r)
            co_return r.error();
        if (!r->ok())
            co_return error_from_response(r->status, r->body, "confirm of " + id);
        co_return result<void>{};
    }
};

client::client(http::client& h, config cfg, std::shared_ptr<maskinporten_tokens> tokens,
               boost::asio::any_io_executor blocking)
    : impl_(std::make_shared<impl>(h, std::move(cfg), std::move(tokens), std::move(blocking))) {}
client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;
client::~client() = default;

awaitable<result<std::string>> client::altinn_token(std::string scope) {
    return impl_->altinn_token(std::move(scope));
}
awaitable<result<std::string>> client::initialize(initialize_request request) {
    return impl_->initialize(std::move(request));
}
awaitable<result<void>> client::upload(std::string id, fs::path file) {
    return impl_->upload(std::move(id), std::move(file));
}
awaitable<result<std::vector<std::string>>> client::list(std::string status, std::string recipient_status) {
    return impl_->list(std::move(status), std::move(recipient_status));
}
awaitable<result<file_transfer_overview>> client::overview(std::string id) {
    return impl_->overview(std::move(id));
}
awaitable<result<std::uint64_t>> client::download(std::string id, fs::path to) {
    return impl_->download(std::move(id), std::move(to));
}
awaitable<result<std::uint64_t>> client::download_from(std::string id, fs::path to, std::uint64_t offset) {
    return impl_->download_from(std::move(id), std::move(to), offset);
}
awaitable<result<void>> client::confirm(std::string id) {
    return impl_->confirm(std::move(id));
}
const config& client::settings() const noexcept {
    return impl_->cfg;
}
std::uint64_t client::exchanges() const {
    return impl_->exchanges.load();
}

} // namespace kurer::altinn3

#include <kurer/altinn2/addressing.hpp>
#include <kurer/altinn2/client.hpp>
#include <kurer/altinn2/codec.hpp>
#include <kurer/altinn2/operations.hpp>
#include <kurer/altinn2/streamed.hpp>
#include <kurer/asio/offload.hpp>
#include <kurer/core/files.hpp>
#include <kurer/http/url.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <system_error>
#include <unistd.h>

namespace kurer::altinn2 {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
template <class T>
using awaitable = asio::awaitable<T>;
using std::chrono::milliseconds;

namespace {

bool is_already_uploaded(const error& e) {
    return e.code == make_error_code(errc::already_uploaded);
}

// The answer to a request that did not come back 2xx: the SOAP fault it carries (plain or MTOM),
// else the HTTP status as an error (retryable for 5xx).
error failure_from(const http::response& r, operation op) {
    std::string root = r.body;
    if (auto p = mtom::parser::create(r.header("Content-Type"), nullptr); p && p->is_multipart()) {
        if (p->feed(r.body) && p->finish())
            root = p->root();
    }
    if (auto fault = parse_fault(root))
        return fault_error(*fault);
    return http::status_error(r, operation_name(op));
}

// The root part of a 2xx answer from the streamed service (MTOM or plain text/xml), small parts only.
result<std::string> root_of(const http::response& r) {
    auto p = mtom::parser::create(r.header("Content-Type"), nullptr);
    if (!p)
        return p.error();
    if (auto fed = p->feed(r.body); !fed)
        return fed.error();
    if (auto done = p->finish(); !done)
        return done.error();
    return p->root();
}

http::body_source body_of(const mtom::message& m) {
    http::body_source body;
    for (const auto& piece : m.pieces) {
        if (const auto* bytes = std::get_if<std::string>(&piece))
            body.append(*bytes);
        else {
            const auto& range = std::get<mtom::file_range>(piece);
            body.append_file(range.path, range.offset, range.length);
        }
    }
    return body;
}

result<void> check_url(std::string_view what, const std::string& url) {
    auto u = http::parse_url(url);
    if (!u || u->scheme != "https")
        return make_error(errc::invalid_value, std::string(what) + " must be an https URL: '" + url + "'");
    return {};
}

// Reads a received MTOM body from `raw`, streaming its attachment to `to`. Blocking.
result<std::uint64_t> unpack_download(const std::filesystem::path& raw, const std::string& content_type,
                                      const std::filesystem::path& to, bool sync, std::uint64_t max_bytes) {
    mtom::file_sink sink(to, false);
    mtom::limits lim;
    lim.max_attachment_bytes = max_bytes;
    auto parser = mtom::parser::create(content_type, &sink, lim);
    if (!parser)
        return parser.error();
    const int fd = ::open(raw.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return make_error(errc::file_error,
                          "cannot open the received download " + raw.string() + ": " + std::strerror(errno),
                          retry::yes);
    std::string buffer(64 * 1024, '\0');
    result<void> fed;
    for (;;) {
        const ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fed =
                make_error(errc::file_error,
                           "cannot read the received download " + raw.string() + ": " + std::strerror(errno),
                           retry::yes);
            break;
        }
        if (n == 0) {
            fed = parser->finish();
            break;
        }
        fed = parser->feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
        if (!fed)
            break;
    }
    ::close(fd);
    if (!fed)
        return fed.error();
    auto file = read_download_message(*parser);
    if (!file)
        return file.error();
    if (sync)
        if (auto s = sync_file_and_directory(to); !s)
            return make_error(errc::file_error, s.error().message, retry::yes);
    return file->size;
}

} // namespace

struct broker_client::impl {
    std::shared_ptr<http::client> http;
    client_config cfg;

    // One exchange, limited to `timeout` as a whole (0: no limit of its own).
    awaitable<result<http::response>> send_once(http::request req, milliseconds timeout) {
        if (timeout.count() == 0)
            co_return co_await http->send(std::move(req));
        asio::steady_timer timer(co_await asio::this_coro::executor);
        timer.expires_after(timeout);
        auto sent = http->send(std::move(req));
        auto waited = timer.async_wait(asio::as_tuple(asio::use_awaitable));
        auto outcome = co_await (std::move(sent) || std::move(waited));
        if (outcome.index() == 0)
            co_return std::move(std::get<0>(outcome));
        co_return make_http_error(http::errc::timeout, "the broker did not finish answering within " +
                                                           std::to_string(timeout.count()) + " ms");
    }

    // Runs `once` until it succeeds, fails for good, or the attempts are used up.
    template <class T>
    awaitable<result<T>> retrying(std::function<awaitable<result<T>>()> once) {
        milliseconds delay = cfg.backoff;
        for (unsigned attempt = 1;; ++attempt) {
            auto r = co_await once();
            if (r || !r.error().retryable || attempt >= std::max(1u, cfg.attempts))
                co_return r;
            asio::steady_timer timer(co_await asio::this_coro::executor);
            timer.expires_after(delay);
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            delay *= 2;
        }
    }

    http::request basic_request(operation op, std::string envelope) const {
        http::request req;
        req.method = http::verb::post;
        req.url = cfg.broker.basic_url;
        req.headers.set("Content-Type", soap_content_type);
        req.headers.set("SOAPAction", soap_action_header(op));
        req.body = http::body_source::from_string(std::move(envelope));
        return req;
    }

    // A Basic-service call: POST the envelope, read the answer with `read` (off the I/O thread).
    template <class T>
    awaitable<result<T>> call_basic(operation op, std::string envelope,
                                    std::function<result<T>(std::string_view)> read) {
        std::function<awaitable<result<T>>()> once = [this, op, envelope, read]() -> awaitable<result<T>> {
            auto req = basic_request(op, envelope);
            auto r = co_await send_once(std::move(req), cfg.metadata_timeout);
            if (!r)
                co_return r.error();
            if (r->status != 200) {
                auto failure = failure_from(*r, op);
                co_return failure;
            }
            auto parse = [read, body = std::move(r->body)]() {
                return read(body);
            };
            co_return co_await kurer::offload(cfg.blocking, std::move(parse));
        };
        co_return co_await retrying<T>(std::move(once));
    }

    awaitable<result<upload_outcome>> upload_once(upload_request request, std::filesystem::path file) {
        auto message = write_upload_message(request, file);
        if (!message)
            co_return message.error();
        http::request req;
        req.method = http::verb::post;
        req.url = cfg.broker.streamed_url;
        req.headers.set("Content-Type", message->content_type);
        req.headers.set("SOAPAction", soap_action_header(operation::upload_file_streamed));
        req.body = body_of(*message);
        auto r = co_await send_once(std::move(req), cfg.upload_timeout);
        if (!r)
            co_return r.error();
        if (r->status != 200) {
            auto failure = failure_from(*r, operation::upload_file_streamed);
            if (is_already_uploaded(failure))
                co_return upload_outcome{upload_status::already_uploaded, std::nullopt};
            co_return failure;
        }
        auto parse = [body = std::move(*r)]() -> result<upload_receipt> {
            auto root = root_of(body);
            if (!root)
                return root.error();
            return read_upload_response(*root);
        };
        auto receipt = co_await kurer::offload(cfg.blocking, std::move(parse));
        if (!receipt) {
            if (is_already_uploaded(receipt.error()))
                co_return upload_outcome{upload_status::already_uploaded, std::nullopt};
            co_return receipt.error();
        }
        co_return upload_outcome{upload_status::uploaded, std::move(*receipt)};
    }

    awaitable<result<std::uint64_t>> download_once(download_request request, std::filesystem::path to) {
        auto message = write_download_request_message(request);
        if (!message)
            co_return message.error();
        const std::filesystem::path raw = to.parent_path() / (to.filename().string() + ".mtom");
        http::request req;
        req.method = http::verb::post;
        req.url = cfg.broker.streamed_url;
        req.headers.set("Content-Type", message->content_type);
        req.headers.set("SOAPAction", soap_action_header(operation::download_file_streamed));
        req.body = body_of(*message);
        http::file_sink sink;
        sink.path = raw;
        // The multipart framing adds a few hundred bytes to the attachment.
        sink.max_bytes = cfg.max_download_bytes == 0 ? 0 : cfg.max_download_bytes + 64 * 1024;
        req.sink = sink;
        auto r = co_await send_once(std::move(req), cfg.download_timeout);
        if (!r) {
            std::error_code ignored;
            std::filesystem::remove(raw, ignored);
            co_return r.error();
        }
        if (r->status != 200) {
            auto failure = failure_from(*r, operation::download_file_streamed);
            co_return failure;
        }
        auto unpack = [raw, to, content_type = r->header("Content-Type"), sync = cfg.sync_downloads,
                       max = cfg.max_download_bytes]() {
            auto size = unpack_download(raw, content_type, to, sync, max);
            std::error_code ignored;
            std::filesystem::remove(raw, ignored);
            return size;
        };
        co_return co_await kurer::offload(cfg.blocking, std::move(unpack));
    }
};

result<broker_client> broker_client::create(std::shared_ptr<http::client> http, client_config config) {
    if (!http)
        return make_error(errc::invalid_value, "broker client: no http client");
    if (auto ok = check_url("broker.altinn2.basic_url", config.broker.basic_url); !ok)
        return ok.error();
    if (auto ok = check_url("broker.altinn2.streamed_url", config.broker.streamed_url); !ok)
        return ok.error();
    if (config.broker.account.system_user.empty() || config.broker.account.system_password.empty())
        return make_error(errc::invalid_value, "broker.altinn2.system_user and system_password must be set");
    if (config.organization.empty())
        return make_error(errc::invalid_value, "broker client: the organisation number is missing");
    auto p = std::make_shared<impl>();
    p->http = std::move(http);
    p->cfg = std::move(config);
    return broker_client(std::move(p));
}

broker_client::broker_client(std::shared_ptr<impl> p)
    : impl_(std::move(p)) {}
broker_client::broker_client(broker_client&&) noexcept = default;
broker_client& broker_client::operator=(broker_client&&) noexcept = default;
broker_client::~broker_client() = default;

const client_config& broker_client::config() const noexcept {
    return impl_->cfg;
}

awaitable<result<std::string>> broker_client::initiate(std::string sender, std::string senders_reference,
                                                       std::string recipient, std::string file_name) {
    auto p = impl_;
    auto request = initiate_for(p->cfg.broker, std::move(sender), std::move(senders_reference),
                                std::move(recipient), std::move(file_name));
    auto envelope = write_initiate_request(request);
    if (!envelope)
        co_return envelope.error();
    std::function<result<std::string>(std::string_view)> read = read_initiate_response;
    co_return co_await p->call_basic<std::string>(operation::initiate_broker_service, std::move(*envelope),
                                                  std::move(read));
}

awaitable<result<upload_outcome>> broker_client::upload(std::string reference, std::string sender,
                                                        std::filesystem::path file, std::string file_name) {
    auto p = impl_;
    auto request = upload_for(p->cfg.broker, std::move(reference), std::move(sender), std::move(file_name));
    std::function<awaitable<result<upload_outcome>>()> once = [p, request,
                                                               file]() -> awaitable<result<upload_outcome>> {
        co_return co_await p->upload_once(request, file);
    };
    co_return co_await p->retrying<upload_outcome>(std::move(once));
}

awaitable<result<bool>> broker_client::check(std::string recipient) {
    auto p = impl_;
    auto envelope = write_check_request(check_for(p->cfg.broker, std::move(recipient)));
    if (!envelope)
        co_return envelope.error();
    std::function<result<bool>(std::string_view)> read = read_check_response;
    co_return co_await p->call_basic<bool>(operation::check_if_available_files, std::move(*envelope),
                                           std::move(read));
}

awaitable<result<std::vector<available_file>>> broker_client::list(std::string recipient) {
    auto p = impl_;
    auto envelope = write_list_request(list_for(p->cfg.broker, std::move(recipient)));
    if (!envelope)
        co_return envelope.error();
    std::function<result<std::vector<available_file>>(std::string_view)> read = read_list_response;
    co_return co_await p->call_basic<std::vector<available_file>>(operation::get_available_files,
                                                                  std::move(*envelope), std::move(read));
}

awaitable<result<std::uint64_t>> broker_client::download(std::string reference, std::string recipient,
                                                         std::filesystem::path to) {
    auto p = impl_;
    auto request = file_request_for(p->cfg.broker, std::move(reference), std::move(recipient));
    std::function<awaitable<result<std::uint64_t>>()> once = [p, request,
                                                              to]() -> awaitable<result<std::uint64_t>> {
        co_return co_await p->download_once(request, to);
    };
    co_return co_await p->retrying<std::uint64_t>(std::move(once));
}

awaitable<result<void>> broker_client::confirm(std::string reference, std::string recipient) {
    auto p = impl_;
    auto envelope =
        write_confirm_request(file_request_for(p->cfg.broker, std::move(reference), std::move(recipient)));
    if (!envelope)
        co_return envelope.error();
    // result<void> cannot travel through call_basic's value path: carry a bool.
    std::function<result<bool>(std::string_view)> read = [](std::string_view body) -> result<bool> {
        auto r = read_confirm_response(body);
        if (!r)
            return r.error();
        return true;
    };
    auto r =
        co_await p->call_basic<bool>(operation::confirm_downloaded, std::move(*envelope), std::move(read));
    if (!r)
        co_return r.error();
    co_return result<void>{};
}

awaitable<result<std::vector<incoming_file>>> broker_client::poll() {
    auto p = impl_;
    std::vector<std::string> organizations{p->cfg.organization};
    for (const auto& r : p->cfg.reportees)
        if (std::find(organizations.begin(), organizations.end(), r) == organizations.end())
            organizations.push_back(r);
    std::optional<std::string_view> channel;
    if (p->cfg.message_channel)
        channel = *p->cfg.message_channel;

    std::vector<incoming_file> out;
    for (const auto& org : organizations) {
        auto any = co_await check(org);
        if (!any)
            co_return any.error();
        if (!*any)
            continue;
        auto files = co_await list(org);
        if (!files)
            co_return files.error();
        for (auto& f : *files) {
            if (!f.file_reference || !accepts_incoming(f.senders_reference, channel))
                continue;
            incoming_file in;
            in.reference = *f.file_reference;
            in.reportee = org;
            in.sender = f.reportee.value_or("");
            in.senders_reference = f.senders_reference;
            in.file_name = f.file_name.value_or("");
            in.size = f.file_size ? static_cast<std::uint64_t>(std::max<std::int64_t>(0, *f.file_size)) : 0;
            in.sent_date = f.sent_date.value_or("");
            out.push_back(std::move(in));
        }
    }
    co_return out;
}

} // namespace kurer::altinn2

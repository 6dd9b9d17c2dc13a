#include <kurer/http/error.hpp>

namespace kurer::http {
namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "kurer.http"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::invalid_request:
            return "invalid request";
        case errc::resolve_failed:
            return "host name did not resolve";
        case errc::connect_failed:
            return "connect failed";
        case errc::tls_failed:
            return "TLS handshake failed";
        case errc::certificate_rejected:
            return "peer certificate rejected";
        case errc::timeout:
            return "timed out";
        case errc::connection_lost:
            return "connection lost";
        case errc::bad_message:
            return "malformed HTTP message";
        case errc::message_too_large:
            return "message too large";
        case errc::body_source_failed:
            return "request body could not be read";
        case errc::body_sink_failed:
            return "response body could not be written";
        case errc::server_error:
            return "server error";
        case errc::too_many_requests:
            return "too many requests";
        case errc::client_error:
            return "request refused";
        case errc::unexpected_status:
            return "unexpected status";
        case errc::cancelled:
            return "cancelled";
        case errc::shut_down:
            return "shut down";
        }
        return "unknown HTTP error";
    }
};

} // namespace

const boost::system::error_category& http_category() noexcept {
    static const category instance;
    return instance;
}

boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), http_category()};
}

bool is_retryable(errc e) noexcept {
    switch (e) {
    case errc::resolve_failed:
    case errc::connect_failed:
    case errc::tls_failed:
    case errc::timeout:
    case errc::connection_lost:
    case errc::bad_message: // most often a connection cut mid-message by a proxy or a restart
    case errc::server_error:
    case errc::too_many_requests:
        return true;
    default:
        return false;
    }
}

bool is_retryable_status(unsigned status) noexcept {
    return status >= 500 || status == 429 || status == 408;
}

errc status_errc(unsigned status) noexcept {
    if (status >= 500)
        return errc::server_error;
    if (status == 429)
        return errc::too_many_requests;
    if (status == 408)
        return errc::timeout;
    if (status >= 400)
        return errc::client_error;
    return errc::unexpected_status;
}

error make_http_error(errc e, std::string message) {
    return make_error(make_error_code(e), std::move(message), is_retryable(e) ? retry::yes : retry::no);
}

} // namespace kurer::http

// The HTTP module's error codes and which of them are worth trying again.
//
// Transport failures (connect, reset, timeout) and overload answers (5xx, 429) are retryable:
// the same request may well succeed later. A certificate the server cannot prove, a request the
// server refuses (4xx) or a response over our limits will fail the same way every time.
#pragma once

#include <kurer/core/error.hpp>

#include <boost/system/error_category.hpp>

#include <string_view>

namespace kurer::http {

enum class errc {
    invalid_request = 1,  // the request cannot be sent as given (URL, scheme, header value)
    resolve_failed,       // the host name did not resolve
    connect_failed,       // TCP connect refused or unreachable
    tls_failed,           // the TLS handshake broke off for a transport reason
    certificate_rejected, // the peer's certificate failed verification (chain, validity or host name)
    timeout,              // a configured timeout passed (connect, request, idle)
    connection_lost,      // the peer reset or closed the connection mid-exchange
    bad_message,          // the peer sent something that is not valid HTTP/1.1
    message_too_large,    // a header or body exceeded a configured limit
    body_source_failed,   // a request body file could not be read
    body_sink_failed,     // a response body file could not be written
    server_error,         // the peer answered 5xx
    too_many_requests,    // the peer answered 429
    client_error,         // the peer answered another 4xx
    unexpected_status,    // 1xx or 3xx where a final answer was expected
    cancelled,            // the caller cancelled the operation
    shut_down,            // the client or server is shutting down
};

const boost::system::error_category& http_category() noexcept;
boost::system::error_code make_error_code(errc e) noexcept;

// Whether an error of this kind may go away if the same request is made again later.
bool is_retryable(errc e) noexcept;
// 5xx, 429 and 408 are worth retrying; other statuses are final.
bool is_retryable_status(unsigned status) noexcept;
// The errc a non-2xx status maps to (server_error, too_many_requests, client_error, unexpected_status).
errc status_errc(unsigned status) noexcept;

// make_error with the retry flag taken from is_retryable(e).
error make_http_error(errc e, std::string message);

} // namespace kurer::http

template <>
struct boost::system::is_error_code_enum<kurer::http::errc> : std::true_type {};

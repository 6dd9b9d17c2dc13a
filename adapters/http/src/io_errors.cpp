#include "detail/io_errors.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

namespace kurer::http::detail {

errc classify_io(const boost::system::error_code& ec) noexcept {
    namespace bhttp = boost::beast::http;
    if (ec.category() == http_category())
        return static_cast<errc>(ec.value());
    if (ec == boost::beast::error::timeout || ec == boost::asio::error::timed_out)
        return errc::timeout;
    if (ec == boost::asio::error::operation_aborted || ec == boost::system::errc::operation_canceled)
        return errc::cancelled;
    if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit ||
        ec == bhttp::error::buffer_overflow)
        return errc::message_too_large;
    if (ec.category() == make_error_code(bhttp::error::end_of_stream).category())
        return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message
                   ? errc::connection_lost
                   : errc::bad_message;
    return errc::connection_lost; // eof, reset, broken pipe, truncated TLS stream, ...
}

error io_error(const boost::system::error_code& ec, const std::string& what) {
    const errc e = classify_io(ec);
    std::string text = what + ": " + make_error_code(e).message();
    if (ec.category() != http_category())
        text += " (" + ec.message() + ")";
    return make_http_error(e, std::move(text));
}

} // namespace kurer::http::detail

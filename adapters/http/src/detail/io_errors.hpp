// Turning Asio/Beast/OpenSSL error codes into kurer::http errors (internal).
#pragma once

#include <kurer/http/error.hpp>

#include <boost/system/error_code.hpp>

#include <string>

namespace kurer::http::detail {

// The errc an I/O failure on an established connection means.
errc classify_io(const boost::system::error_code& ec) noexcept;

// "<what>: <errc text> (<system text>)".
error io_error(const boost::system::error_code& ec, const std::string& what);

} // namespace kurer::http::detail

// Boost.Asio compiled once for the whole project (BOOST_ASIO_SEPARATE_COMPILATION, see
// adapters/core/asio/CMakeLists.txt). Its TLS part and Boost.Beast are compiled in kurer::http
// (adapters/http/src/beast_impl.cpp), which alone needs OpenSSL.
#include <boost/asio/impl/src.hpp>

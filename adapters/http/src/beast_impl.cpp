// Boost.Asio's TLS support and Boost.Beast compiled once for the whole project
// (BOOST_ASIO_SEPARATE_COMPILATION, BOOST_BEAST_SEPARATE_COMPILATION); Asio itself is compiled
// in kurer::asio (adapters/core/asio).
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>

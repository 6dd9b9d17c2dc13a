// Errors as values at every adapter boundary.
//
// An operation that can fail for expected reasons returns kurer::result<T>: either the value
// or a kurer::error carrying a machine-readable code, a message that says what is wrong for the
// person reading the log, and whether trying again later can help. Exceptions are kept for bugs.
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <string>

namespace kurer {

enum class retry { no, yes };

struct error {
    boost::system::error_code code;
    std::string message; // never holds secrets: tokens, passwords and keys stay out of it
    bool retryable = false;

    // "<message> (<category>:<value>)", for logs and HTTP error bodies.
    std::string describe() const;
};

template <class T>
using result = boost::system::result<T, error>;

error make_error(boost::system::error_code code, std::string message, retry r = retry::no);

// Lets result<T>::value() throw for a kurer::error (found by argument-dependent lookup).
[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location& loc);

// The exception thrown by result<T>::value() on an error.
class error_exception : public boost::system::system_error {
public:
    explicit error_exception(const error& e);
    const kurer::error& err() const noexcept { return error_; }

private:
    kurer::error error_;
};

} // namespace kurer

#include <kurer/core/error.hpp>

#include <boost/throw_exception.hpp>

namespace kurer {

std::string error::describe() const {
    std::string out = message.empty() ? code.message() : message;
    out += " (";
    out += code.category().name();
    out += ':';
    out += std::to_string(code.value());
    out += ')';
    return out;
}

error make_error(boost::system::error_code code, std::string message, retry r) {
    return error{code, std::move(message), r == retry::yes};
}

error_exception::error_exception(const error& e)
    : boost::system::system_error(e.code, e.message)
    , error_(e) {}

void throw_exception_from_error(const error& e, const boost::source_location& loc) {
    boost::throw_exception(error_exception(e), loc);
}

} // namespace kurer

// Shared by the dpo tests: printing error codes in BOOST_TEST messages.
#pragma once

#include <kurer/dpo/errors.hpp>

#include <ostream>

namespace kurer::dpo {

inline std::ostream& operator<<(std::ostream& os, errc e) {
    return os << "kurer.dpo:" << static_cast<int>(e) << " (" << make_error_code(e).message() << ")";
}

} // namespace kurer::dpo

// Runtime switches of a running sandbox, changed with POST /sandbox/settings (JSON) or on the
// command line of `serve`; read by the services on every request.
#pragma once

#include <kurer/core/error.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <string_view>

namespace kurer::sandbox {

class settings {
public:
    // Maskinporten: expires_in of issued access tokens.
    std::chrono::seconds token_lifetime{120};
    // Offset of the sandbox's clock from the real one (tests of the ±10 s and 120 s rules).
    std::chrono::seconds clock_skew{0};
    // Service Registry: corrupt the signature of signed answers.
    bool sr_corrupt_signature = false;
    // Service Registry: answer application/jose requests with JSON (a broken SR).
    bool sr_unsigned = false;
    // Bumped by {"sr_rotate_key": true}: the SR service makes a new signing key.
    unsigned sr_key_generation = 0;

    // Applies the members present in `o`; unknown members are an error naming them.
    result<void> apply(const boost::json::object& o);
    boost::json::object to_json() const;
};

} // namespace kurer::sandbox

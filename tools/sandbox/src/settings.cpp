#include <kurer/sandbox/settings.hpp>

namespace kurer::sandbox {
namespace {

error invalid(std::string what) {
    return make_error(make_error_code(boost::system::errc::invalid_argument), std::move(what));
}

} // namespace

result<void> settings::apply(const boost::json::object& o) {
    for (const auto& [key, value] : o) {
        if (key == "token_lifetime_s") {
            if (!value.is_int64() || value.as_int64() < 1)
                return invalid("token_lifetime_s: expected a positive integer");
            token_lifetime = std::chrono::seconds(value.as_int64());
        } else if (key == "clock_skew_s") {
            if (!value.is_int64())
                return invalid("clock_skew_s: expected an integer");
            clock_skew = std::chrono::seconds(value.as_int64());
        } else if (key == "sr_corrupt_signature") {
            if (!value.is_bool())
                return invalid("sr_corrupt_signature: expected true or false");
            sr_corrupt_signature = value.as_bool();
        } else if (key == "sr_unsigned") {
            if (!value.is_bool())
                return invalid("sr_unsigned: expected true or false");
            sr_unsigned = value.as_bool();
        } else if (key == "sr_rotate_key") {
            if (!value.is_bool())
                return invalid("sr_rotate_key: expected true");
            if (value.as_bool())
                ++sr_key_generation;
        } else {
            return invalid("unknown setting '" + std::string(key) + "'");
        }
    }
    return {};
}

boost::json::object settings::to_json() const {
    return {{"token_lifetime_s", token_lifetime.count()},
            {"clock_skew_s", clock_skew.count()},
            {"sr_corrupt_signature", sr_corrupt_signature},
            {"sr_unsigned", sr_unsigned},
            {"sr_key_generation", sr_key_generation}};
}

} // namespace kurer::sandbox

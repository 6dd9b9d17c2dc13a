#include <kurer/altinn2/addressing.hpp>
#include <kurer/core/uuid.hpp>

namespace kurer::altinn2 {

std::string_view reportee_from_identifier(std::string_view identifier) noexcept {
    // "0192:910077473" names the organisation by its ISO 6523 scheme; "0192:A:B" is A acting
    // on behalf of B, and the broker wants B.
    const auto last = identifier.rfind(':');
    return last == std::string_view::npos ? identifier : identifier.substr(last + 1);
}

bool is_channel_shaped(std::string_view reference) noexcept {
    if (reference.size() > 25)
        return false;
    for (const char c : reference) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                        c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

std::string outgoing_senders_reference(bool is_status_or_receipt, std::optional<std::string_view> sbd_channel,
                                       std::optional<std::string_view> own_channel) {
    if (is_status_or_receipt && sbd_channel && !sbd_channel->empty() && sbd_channel != own_channel)
        return std::string(*sbd_channel);
    return random_uuid();
}

bool accepts_incoming(const std::optional<std::string>& senders_reference,
                      std::optional<std::string_view> own_channel) noexcept {
    if (own_channel)
        return senders_reference && *senders_reference == *own_channel;
    return !senders_reference || !is_channel_shaped(*senders_reference);
}

} // namespace kurer::altinn2

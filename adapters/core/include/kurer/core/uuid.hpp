// Random (version 4) UUIDs: messageIds, conversationIds, broker references, JWT ids.
#pragma once

#include <string>
#include <string_view>

namespace kurer {

// A fresh lower-case RFC 4122 version 4 UUID from the operating system's CSPRNG.
std::string random_uuid();

// True for the 8-4-4-4-12 hexadecimal form (either case); the reference discards messages
// whose messageId or conversationId is not a UUID.
bool is_uuid(std::string_view text) noexcept;

} // namespace kurer

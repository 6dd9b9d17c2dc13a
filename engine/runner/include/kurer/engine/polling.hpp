// Which broker files this installation takes (the reference's message-channel rule, see
// altinn-broker.md §3.5): with a channel, only files whose sendersReference equals it; without
// one, files with no sendersReference or one that is not a channel name (UUIDs pass).
#pragma once

#include <string_view>

namespace kurer::engine {

bool accepts_transfer(std::string_view own_channel, std::string_view senders_reference) noexcept;

// ^[A-Za-z0-9_-]{0,25}$
bool is_channel_name(std::string_view text) noexcept;

} // namespace kurer::engine

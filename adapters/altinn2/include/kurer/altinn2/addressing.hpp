// Who a broker file is from and for: the Reportee form of an organisation identifier, and the
// SendersReference rules that let several end systems share one broker account ("message
// channels", dossier §3.5).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kurer::altinn2 {

// The broker's Reportee for an SBD identifier: "0192:910077473" -> "910077473"; an
// on-behalf-of identifier "0192:A:B" -> "B"; a bare number stays as it is.
std::string_view reportee_from_identifier(std::string_view identifier) noexcept;

// ^[A-Za-z0-9_-]{0,25}$: the shape of a message channel name. A UUID (36 characters) never has
// it, which is how channel references and ordinary references are told apart.
bool is_channel_shaped(std::string_view reference) noexcept;

// The SendersReference for an outgoing file. Normally a fresh UUID. A status or receipt whose
// SBD carries a MessageChannel scope naming a channel other than this installation's own (or
// when this installation has none) is sent with that channel name, so that it reaches the end
// system that sent the original message.
std::string outgoing_senders_reference(bool is_status_or_receipt, std::optional<std::string_view> sbd_channel,
                                       std::optional<std::string_view> own_channel);

// Whether this installation takes an incoming file. With an own channel: only files whose
// SendersReference equals it. Without: files with no SendersReference, or one that is not
// channel-shaped (so another installation's channel traffic is left alone).
bool accepts_incoming(const std::optional<std::string>& senders_reference,
                      std::optional<std::string_view> own_channel) noexcept;

} // namespace kurer::altinn2

// Whether an opened incoming package may count as coming from the sender its SBD names. The
// packer has verified the signature and bound the signer to the SBD's sender (ports.hpp); these
// are the checks only the engine can make, with what the broker said and what we sent.
#pragma once

#include <kurer/engine/ports.hpp>
#include <kurer/storage/records.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace kurer::engine {

struct refusal {
    std::string_view reason; // a rejection:: code
    std::string why;
};

// The broker's word against the SBD: the organisation that uploaded the file must be the SBD's
// sender, the one it is addressed to the SBD's receiver; a package without a signature (no
// ASiC-E: status SBDs, kvitteringer) is accepted only when the broker names its uploader.
std::optional<refusal> check_parties(const storage::incoming_record& listed, const opened_package& p);

// A receipt (status SBD or kvittering) about one of our messages counts only from the
// organisation that message went to.
std::optional<refusal> check_receipt_origin(const opened_package& p, std::string_view what,
                                            const storage::outgoing_record& original);

} // namespace kurer::engine

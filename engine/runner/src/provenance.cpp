#include "provenance.hpp"

namespace kurer::engine {

std::optional<refusal> check_parties(const storage::incoming_record& listed, const opened_package& p) {
    if (p.sender.empty())
        return refusal{rejection::malformed, "the SBD names no sender"};
    if (!listed.listed_sender.empty() && listed.listed_sender != p.sender)
        return refusal{rejection::wrong_sender, "uploaded to the broker by " + listed.listed_sender +
                                                    ", but its SBD names " + p.sender + " as the sender"};
    if (!listed.listed_recipient.empty() && listed.listed_recipient != p.receiver)
        return refusal{rejection::not_for_us, "addressed to " + listed.listed_recipient +
                                                  " at the broker, but its SBD names " + p.receiver +
                                                  " as the receiver"};
    if (!p.has_payload && listed.listed_sender.empty())
        return refusal{rejection::wrong_sender, "it carries no signature and the broker did not say who "
                                                "uploaded it, so nothing vouches for its sender " +
                                                    p.sender};
    if (p.has_payload && p.signer_organization.empty())
        return refusal{rejection::untrusted_signer, "the packer returned no verified signer"};
    return std::nullopt;
}

std::optional<refusal> check_receipt_origin(const opened_package& p, std::string_view what,
                                            const storage::outgoing_record& original) {
    if (original.receiver == p.sender)
        return std::nullopt;
    return refusal{rejection::wrong_sender, std::string(what) + " for message " + original.id +
                                                " comes from " + p.sender + ", but that message went to " +
                                                original.receiver};
}

} // namespace kurer::engine

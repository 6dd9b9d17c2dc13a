// Who sent an incoming package, and whether to believe it.
//
// The SBD (sbd.json) travels in clear and unsigned; what binds a package to its sender is the CMS
// signature over the ASiC manifest inside the encrypted ASiC-E. A package is therefore believed
// only when all of this holds (the reference integrasjonspunkt checks none of it):
//
//   * the ASiC-E verifies: every document is listed in the ASiC manifest with a matching SHA-256,
//     nothing else is in the container, the signature covers the manifest (verify_asic);
//   * the signer's certificate chains, through the certificates the signature carries, to a CA
//     the operator trusts for enterprise certificates (a bundle of its own, not the TLS one), is
//     valid at the time given (the broker's upload time), is an end-entity certificate allowed to
//     sign (keyUsage digitalSignature or nonRepudiation), and names one organisation number
//     (serialNumber or organizationIdentifier NTRNO-, keys.hpp);
//   * that organisation is the sender the SBD names, or one the operator lets it sign for;
//   * the signed eFormidling manifest names the SBD's sender and receiver.
//
//   auto anchors = dpo::trust_anchors::load("/etc/kurer/enterprise-ca.pem").value();
//   auto signer = dpo::verify_received(opened.document, decrypted_asic, anchors, uploaded_at);
//   if (!signer) reject(signer.error());       // signer->organization_number is the sender
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/dpo/cms.hpp>
#include <kurer/dpo/date_time.hpp>
#include <kurer/dpo/keys.hpp>
#include <kurer/dpo/limits.hpp>
#include <kurer/dpo/sbd.hpp>

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace kurer::dpo {

// The CAs whose enterprise certificates are believed. Cheap to copy, safe to share.
class trust_anchors {
public:
    // Every certificate of a PEM bundle; a bundle without one is an error.
    static result<trust_anchors> load(const std::filesystem::path& pem_bundle);
    static result<trust_anchors> from(const std::vector<certificate>& certificates);

    std::size_t size() const noexcept;

    struct impl;
    const impl& internals() const noexcept { return *impl_; }

private:
    explicit trust_anchors(std::shared_ptr<const impl> p);
    std::shared_ptr<const impl> impl_;
};

// Organisations that may sign for others, as the operator configures it: signer -> the senders
// it may sign for (9-digit organisation numbers). Empty: everyone signs for itself only.
using signing_delegations = std::map<std::string, std::set<std::string>, std::less<>>;

struct signer_identity {
    std::string organization_number;
    std::string subject;
    std::string issuer;
    std::string serial; // upper-case hexadecimal
    // "<subject> (serial <serial>, issued by <issuer>)": for records and logs.
    std::string describe() const;
};

// The checks on the signer's certificate alone (chain, validity at `at`, end entity, key usage,
// one organisation number). signer_untrusted names what failed.
result<signer_identity> check_signer(const signature_info& signature, const trust_anchors& anchors,
                                     instant at);

// Everything above, for a decrypted ASiC-E and the SBD it came with. Errors: the first problem
// of verify_asic with its code and every problem in the message; signer_untrusted;
// signer_not_sender; parties_mismatch; io_failure when the file cannot be read.
result<signer_identity> verify_received(const sbd& document, const std::filesystem::path& decrypted_asic,
                                        const trust_anchors& anchors, instant at,
                                        const signing_delegations& delegations = {}, const limits& lim = {});

} // namespace kurer::dpo

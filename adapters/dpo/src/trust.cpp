#include "keys_impl.hpp"

#include <kurer/dpo/asic.hpp>
#include <kurer/dpo/errors.hpp>
#include <kurer/dpo/trust.hpp>

#include <botan/certstor.h>
#include <botan/x509path.h>

#include <algorithm>

namespace kurer::dpo {

struct trust_anchors::impl {
    // x509_path_validate takes non-const stores; lookups do not change this one.
    mutable Botan::Certificate_Store_In_Memory store;
    std::size_t count = 0;
};

trust_anchors::trust_anchors(std::shared_ptr<const impl> p)
    : impl_(std::move(p)) {}

result<trust_anchors> trust_anchors::from(const std::vector<certificate>& certificates) {
    if (certificates.empty())
        return make_dpo_error(errc::certificate_invalid, "the CA bundle holds no certificate");
    auto p = std::make_shared<impl>();
    for (const auto& c : certificates)
        p->store.add_certificate(botan_cert(c));
    p->count = certificates.size();
    return trust_anchors(std::move(p));
}

result<trust_anchors> trust_anchors::load(const std::filesystem::path& pem_bundle) {
    auto chain = certificate::load_chain(pem_bundle);
    if (!chain)
        return chain.error();
    return from(*chain);
}

std::size_t trust_anchors::size() const noexcept {
    return impl_->count;
}

std::string signer_identity::describe() const {
    return subject + " (serial " + serial + ", issued by " + issuer + ")";
}

namespace {

error untrusted(const std::string& subject, std::string why) {
    return make_dpo_error(errc::signer_untrusted,
                          "the signer's certificate " + subject + " " + std::move(why));
}

// "0192:910077473" -> "910077473"; anything else (another scheme, a part identifier) -> empty.
std::string organization_of(std::string_view identifier) {
    if (identifier.size() != 14 || !identifier.starts_with("0192:"))
        return {};
    const auto digits = identifier.substr(5);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return {};
    return std::string(digits);
}

} // namespace

result<signer_identity> check_signer(const signature_info& signature, const trust_anchors& anchors,
                                     instant at) {
    if (!signature.signer)
        return make_dpo_error(errc::signer_untrusted, "the signature names no signer certificate");
    const auto& cert = botan_cert(*signature.signer);
    const auto subject = signature.signer->subject();

    // The signer first, then whatever else the signature carries as candidate intermediates.
    std::vector<Botan::X509_Certificate> path{cert};
    for (const auto& c : signature.certificates)
        if (!(botan_cert(c) == cert))
            path.push_back(botan_cert(c));
    const Botan::Path_Validation_Restrictions restrictions(false, 110);
    const std::vector<Botan::Certificate_Store*> roots{&anchors.internals().store};
    const std::chrono::system_clock::time_point when =
        std::chrono::time_point_cast<std::chrono::system_clock::duration>(at);
    const auto validated =
        Botan::x509_path_validate(path, restrictions, roots, "", Botan::Usage_Type::UNSPECIFIED, when);
    if (!validated.successful_validation())
        return untrusted(subject, "does not chain to a trusted enterprise CA at " +
                                      format_date_time(date_time::in_oslo(at)) + ": " +
                                      validated.result_string());
    if (cert.is_CA_cert())
        return untrusted(
            subject, "is a CA certificate; packages are signed with enterprise (end-entity) certificates");
    const auto usage = cert.constraints();
    if (usage != Botan::NO_CONSTRAINTS && (usage & (Botan::DIGITAL_SIGNATURE | Botan::NON_REPUDIATION)) == 0)
        return untrusted(subject,
                         "does not allow signing (keyUsage has neither digitalSignature nor nonRepudiation)");
    auto organization = signature.signer->organization_number();
    if (!organization)
        return untrusted(subject,
                         "names no single organisation number (serialNumber or organizationIdentifier)");

    signer_identity id;
    id.organization_number = *organization;
    id.subject = subject;
    id.issuer = signature.signer->issuer();
    id.serial = signature.signer->serial_hex();
    return id;
}

result<signer_identity> verify_received(const sbd& document, const std::filesystem::path& decrypted_asic,
                                        const trust_anchors& anchors, instant at,
                                        const signing_delegations& delegations, const limits& lim) {
    auto report = verify_asic(decrypted_asic, lim);
    if (!report)
        return report.error();
    if (!report->ok()) {
        auto problems = report->describe_problems();
        while (!problems.empty() && problems.back() == '\n')
            problems.pop_back();
        std::replace(problems.begin(), problems.end(), '\n', ';');
        return make_error(report->problems.front().code, "the ASiC-E does not verify: " + problems);
    }
    if (!report->signature)
        return make_dpo_error(errc::asic_signature_missing, "the ASiC-E carries no verified signature");
    auto signer = check_signer(*report->signature, anchors, at);
    if (!signer)
        return signer.error();

    const auto sender_id = document.sender_identifier().value_or("");
    const auto receiver_id = document.receiver_identifier().value_or("");
    const auto sender = organization_of(sender_id);
    if (sender.empty())
        return make_dpo_error(
            errc::signer_not_sender,
            "the SBD's sender \"" + sender_id.substr(0, 64) +
                "\" is not an organisation identifier 0192:<9 digits>, so no signature can vouch "
                "for it");
    if (signer->organization_number != sender) {
        const auto it = delegations.find(signer->organization_number);
        if (it == delegations.end() || !it->second.contains(sender))
            return make_dpo_error(errc::signer_not_sender,
                                  "the SBD names " + sender + " as its sender, but " +
                                      signer->organization_number + " signed it (" + signer->subject + ")");
    }
    // The SBD travels unsigned; the eFormidling manifest inside the signed container names the
    // parties too, and must agree.
    if (report->sender != sender_id || report->receiver != receiver_id)
        return make_dpo_error(errc::parties_mismatch,
                              "the signed manifest.xml names sender \"" + report->sender.substr(0, 64) +
                                  "\" and receiver \"" + report->receiver.substr(0, 64) + "\", the SBD \"" +
                                  sender_id.substr(0, 64) + "\" and \"" + receiver_id.substr(0, 64) + "\"");
    return std::move(*signer);
}

} // namespace kurer::dpo

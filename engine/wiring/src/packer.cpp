// packer_port over kurer::dpo: the real sbd.zip with the organisation's certificate and key.
#include "internal.hpp"

#include <kurer/dpo/package.hpp>
#include <kurer/dpo/trust.hpp>
#include <kurer/engine/runner.hpp>

#include <boost/json/parse.hpp>

#include <botan/hash.h>
#include <botan/hex.h>

#include <fstream>

namespace kurer::engine::wiring_detail {
namespace {

namespace json = boost::json;

error invalid_message(std::string message) {
    return make_error(make_error_code(errc::invalid_request), std::move(message), retry::no);
}

// The business message's name: the document type's last "::" part
// ("urn:no:difi:arkivmelding:xsd::arkivmelding" -> "arkivmelding").
std::string type_of(std::string_view document_type) {
    const auto at = document_type.rfind("::");
    return std::string(at == std::string_view::npos ? document_type : document_type.substr(at + 2));
}

result<std::string> sha256_of_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return make_error(make_error_code(std::errc::io_error), "cannot read " + path.string(), retry::yes);
    auto hash = Botan::HashFunction::create_or_throw("SHA-256");
    std::vector<char> buffer(64 * 1024);
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        hash->update(reinterpret_cast<const std::uint8_t*>(buffer.data()),
                     static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad())
        return make_error(make_error_code(std::errc::io_error), "cannot read " + path.string(), retry::yes);
    return Botan::hex_encode(hash->final(), false);
}

std::optional<time_point> to_time_point(const std::optional<dpo::date_time>& t) {
    if (!t)
        return std::nullopt;
    return std::chrono::floor<std::chrono::milliseconds>(t->utc);
}

class dpo_packer final : public packer_port {
public:
    explicit dpo_packer(packer_settings s)
        : s_(std::move(s)) {}

    result<package_info> pack(const outgoing_message& m, const std::vector<document>& documents,
                              std::string_view receiver_certificate_pem,
                              const std::filesystem::path& out) override {
        const auto began = std::chrono::steady_clock::now();
        auto r = pack_message(m, documents, receiver_certificate_pem, out);
        observe("pack", began, r ? r->size : 0, r.has_value());
        return r;
    }

    result<package_info> pack_status(std::string_view original_sbd, statemachine::eformidling_status status,
                                     const std::filesystem::path& out) override {
        const auto began = std::chrono::steady_clock::now();
        auto r = pack_status_message(original_sbd, status, out);
        observe("pack_status", began, r ? r->size : 0, r.has_value());
        return r;
    }

    result<opened_package> open(const std::filesystem::path& package,
                                const std::filesystem::path& payload_out, time_point uploaded) override {
        const auto began = std::chrono::steady_clock::now();
        auto r = open_package(package, payload_out, uploaded);
        if (!r && !r.error().retryable) {
            std::error_code ignored;
            std::filesystem::remove(payload_out, ignored);
        }
        std::error_code ec;
        const auto size = std::filesystem::file_size(package, ec);
        observe("open", began, ec ? 0 : size, r.has_value());
        return r;
    }

    std::string_view rejection_of(const error& e) const override {
        if (e.code.category() != dpo::dpo_category())
            return rejection::malformed;
        switch (static_cast<dpo::errc>(e.code.value())) {
        case dpo::errc::signer_untrusted:
            return rejection::untrusted_signer;
        case dpo::errc::signer_not_sender:
        case dpo::errc::parties_mismatch:
            return rejection::wrong_sender;
        case dpo::errc::cms_not_for_this_certificate:
        case dpo::errc::cms_key_decryption_failed:
            return rejection::not_for_us;
        case dpo::errc::asic_first_block_corrupt:
        case dpo::errc::asic_digest_mismatch:
        case dpo::errc::asic_entry_not_in_manifest:
        case dpo::errc::asic_listed_entry_missing:
        case dpo::errc::asic_signature_missing:
        case dpo::errc::asic_signature_invalid:
        case dpo::errc::cms_bad_padding:
            return rejection::tampered;
        default:
            return rejection::malformed;
        }
    }

private:
    void observe(std::string_view operation, std::chrono::steady_clock::time_point began, std::uint64_t bytes,
                 bool ok) const {
        if (s_.observer)
            s_.observer({"dpo", operation, std::chrono::steady_clock::now() - began, bytes, ok});
    }

    dpo::pack_options options(std::string senders_reference) const {
        dpo::pack_options o;
        o.asic.signature_digest =
            s_.digest == signature_digest::sha1 ? dpo::digest_algorithm::sha1 : dpo::digest_algorithm::sha256;
        if (s_.altinn2_manifest) {
            dpo::altinn2_manifest manifest;
            manifest.senders_reference = std::move(senders_reference);
            o.altinn2 = std::move(manifest);
        }
        return o;
    }

    static result<package_info> finish(const std::filesystem::path& out, const dpo::pack_result& packed) {
        auto digest = sha256_of_file(out);
        if (!digest)
            return digest.error();
        return package_info{packed.bytes, std::move(*digest)};
    }

    result<package_info> pack_message(const outgoing_message& m, const std::vector<document>& documents,
                                      std::string_view receiver_certificate_pem,
                                      const std::filesystem::path& out) const {
        dpo::message_params p;
        p.sender = m.sender;
        p.receiver = m.receiver;
        p.standard = m.document_type;
        p.type = type_of(m.document_type);
        p.process = m.process;
        p.message_id = m.message_id;
        p.conversation_id = m.conversation_id;
        p.expected_response = dpo::date_time::in_oslo(dpo::instant(m.deadline));
        if (!m.message_channel.empty())
            p.message_channel = m.message_channel;
        if (!m.business_message.empty()) {
            boost::system::error_code ec;
            auto parsed = json::parse(m.business_message, ec);
            if (ec || !parsed.is_object())
                return invalid_message("businessMessage: not a JSON object");
            p.business_message = std::move(parsed.get_object());
        }
        const auto document = dpo::make_message(p, std::chrono::system_clock::now());
        if (auto valid = dpo::validate(document); !valid)
            return valid.error();

        // The primary document first; dpo::pack then moves the one hoveddokument names to the front.
        std::vector<dpo::pack_document> files;
        for (const bool primary : {true, false})
            for (const auto& d : documents)
                if (d.primary == primary)
                    files.push_back({d.path, d.name, d.mime_type});

        const auto senders_reference = m.senders_reference.empty() ? m.message_id : m.senders_reference;
        if (files.empty()) {
            // An SBD alone (an arkivmelding_kvittering, say): nothing to encrypt.
            if (document.type() == "arkivmelding")
                return invalid_message("documents: an arkivmelding needs at least arkivmelding.xml");
            auto packed = dpo::pack_receipt(document, out, options(senders_reference));
            if (!packed)
                return packed.error();
            return finish(out, *packed);
        }
        auto receiver = dpo::certificate::from_pem(receiver_certificate_pem);
        if (!receiver)
            return receiver.error();
        auto packed = dpo::pack(document, files, s_.identity, *receiver, out, options(senders_reference));
        if (!packed)
            return packed.error();
        return finish(out, *packed);
    }

    result<package_info> pack_status_message(std::string_view original_sbd,
                                             statemachine::eformidling_status status,
                                             const std::filesystem::path& out) const {
        auto original = dpo::parse_sbd(original_sbd);
        if (!original)
            return original.error();
        dpo::receipt_status which;
        if (status == statemachine::eformidling_status::mottatt)
            which = dpo::receipt_status::mottatt;
        else if (status == statemachine::eformidling_status::levert)
            which = dpo::receipt_status::levert;
        else
            return invalid_message("a status SBD can say MOTTATT or LEVERT, not " +
                                   std::string(statemachine::to_string(status)));
        const auto document = dpo::make_status(*original, which, std::chrono::system_clock::now());
        // A reply travels on the sender's channel when it named one (altinn-broker.md §3.5); the
        // runner uses the same value as the transfer's sendersReference.
        const auto senders_reference = original->message_channel().value_or(original->message_id());
        auto packed = dpo::pack_receipt(document, out, options(senders_reference));
        if (!packed)
            return packed.error();
        return finish(out, *packed);
    }

    result<opened_package> open_package(const std::filesystem::path& package,
                                        const std::filesystem::path& payload_out, time_point uploaded) const {
        auto opened = dpo::open_package(package);
        if (!opened)
            return opened.error();
        const auto& d = opened->document;
        opened_package p;
        const auto type = d.type();
        if (type == "status") {
            p.kind = storage::package_kind::status;
            p.status = d.business_string("status").value_or("");
        } else if (type == "arkivmelding_kvittering") {
            p.kind = storage::package_kind::kvittering;
            p.related_message_id = d.business_string("relatedToMessageId").value_or("");
            p.receipt_type = d.business_string("receiptType").value_or("");
        }
        p.sbd = opened->sbd_json;
        p.message_id = d.message_id();
        p.conversation_id = d.conversation_id().value_or("");
        p.sender = dpo::organization_number(d.sender_identifier().value_or(""));
        p.receiver = dpo::organization_number(d.receiver_identifier().value_or(""));
        p.process = d.process().value_or("");
        p.document_type = d.header.document.standard;
        p.message_channel = d.message_channel().value_or("");
        p.deadline = to_time_point(d.expected_response());
        if (opened->asic) {
            // What the end system gets (NextMove pop): the decrypted ASiC-E, fsynced before the
            // transition that names it.
            auto decrypted = dpo::decrypt_asic(*opened->asic, s_.identity, payload_out, {}, true);
            if (!decrypted)
                return decrypted.error();
            // Believed only once verified and bound to the SBD's sender (dpo/trust.hpp).
            if (!s_.anchors)
                return make_error(make_error_code(dpo::errc::signer_untrusted),
                                  "no enterprise_ca_bundle is configured, so no signer can be trusted");
            auto signer =
                dpo::verify_received(d, payload_out, *s_.anchors, dpo::instant(uploaded), s_.delegations);
            if (!signer)
                return signer.error();
            p.signer = signer->describe();
            p.signer_organization = signer->organization_number;
            p.has_payload = true;
        }
        return p;
    }

    packer_settings s_;
};

} // namespace

std::shared_ptr<packer_port> make_packer_port(packer_settings settings) {
    return std::make_shared<dpo_packer>(std::move(settings));
}

} // namespace kurer::engine::wiring_detail

#include "text_util.hpp"
#include "zip_writer.hpp"

#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/core/xml.hpp>
#include <kurer/dpo/errors.hpp>
#include <kurer/dpo/io.hpp>
#include <kurer/dpo/mime.hpp>
#include <kurer/dpo/package.hpp>
#include <kurer/dpo/zip.hpp>

#include <cerrno>
#include <cstdio>
#include <sys/stat.h>

namespace kurer::dpo {

using detail::shown;

namespace {

constexpr std::string_view broker_ns = "http://schema.altinn.no/services/ServiceEngine/Broker/2015/06";

// A private directory for intermediate plaintext, removed with everything in it.
class work_directory {
public:
    static result<work_directory> create(const std::filesystem::path& parent) {
        auto dir = parent / (".kurer-pack-" + random_uuid());
        if (::mkdir(dir.c_str(), 0700) != 0)
            return io_error(errno, "cannot create", dir);
        return work_directory(std::move(dir));
    }
    work_directory(work_directory&& o) noexcept
        : dir_(std::move(o.dir_)) {
        o.dir_.clear();
    }
    work_directory& operator=(work_directory&&) = delete;
    ~work_directory() {
        if (!dir_.empty()) {
            std::error_code ignored;
            std::filesystem::remove_all(dir_, ignored);
        }
    }
    const std::filesystem::path& path() const noexcept { return dir_; }

private:
    explicit work_directory(std::filesystem::path d)
        : dir_(std::move(d)) {}
    std::filesystem::path dir_;
};

// Produces the CMS blob while libzip stores it: the ASiC-E file is read once, encrypted and
// framed on the way into sbd.zip, so the ciphertext never exists as a file of its own.
class encrypting_provider final : public detail::entry_provider {
public:
    encrypting_provider(std::filesystem::path plaintext, certificate recipient, encrypt_options options,
                        envelope_encoder first)
        : plaintext_(std::move(plaintext))
        , recipient_(std::move(recipient))
        , options_(options)
        , fresh_(std::move(first)) {}

    result<void> open() override {
        auto src = file_source::open(plaintext_);
        if (!src)
            return src.error();
        source_.emplace(std::move(*src));
        if (fresh_) {
            encoder_.emplace(std::move(*fresh_)); // the one whose size was announced
            fresh_.reset();
        } else {
            auto enc = envelope_encoder::create(recipient_, options_); // libzip reopened the entry
            if (!enc)
                return enc.error();
            encoder_.emplace(std::move(*enc));
        }
        pending_.clear();
        pos_ = 0;
        finished_ = false;
        encoder_->begin(pending_);
        return {};
    }

    result<std::size_t> read(std::span<std::uint8_t> buf) override {
        while (pos_ == pending_.size()) {
            if (finished_)
                return std::size_t{0};
            pending_.clear();
            pos_ = 0;
            auto n = source_->read(in_);
            if (!n)
                return n.error();
            if (*n == 0) {
                encoder_->finish(pending_);
                finished_ = true;
            } else {
                encoder_->update(std::span<const std::uint8_t>(in_.data(), *n), pending_);
            }
        }
        const std::size_t k = std::min(buf.size(), pending_.size() - pos_);
        std::copy_n(pending_.data() + pos_, k, buf.data());
        pos_ += k;
        return k;
    }

    void close() override { source_.reset(); }

private:
    std::filesystem::path plaintext_;
    certificate recipient_;
    encrypt_options options_;
    std::optional<envelope_encoder> fresh_;
    std::optional<file_source> source_;
    std::optional<envelope_encoder> encoder_;
    std::vector<std::uint8_t> in_ = std::vector<std::uint8_t>(64 * 1024);
    std::vector<std::uint8_t> pending_;
    std::size_t pos_ = 0;
    bool finished_ = false;
};

result<void> add_broker_files(detail::zip_writer& w, const sbd& document, const pack_options& options) {
    if (!options.altinn2)
        return {};
    if (options.altinn2->senders_reference.empty())
        return make_dpo_error(errc::document_invalid,
                              "Altinn 2 mode needs the SendersReference of the upload");
    const auto sender = organization_number(document.sender_identifier().value_or(""));
    const auto receiver = organization_number(document.receiver_identifier().value_or(""));
    if (auto ok = w.add_buffer("manifest.xml", broker_manifest_xml(*options.altinn2, sender),
                               detail::compression::deflated);
        !ok)
        return ok.error();
    if (auto ok =
            w.add_buffer("recipients.xml", broker_recipients_xml(receiver), detail::compression::deflated);
        !ok)
        return ok.error();
    return {};
}

// Writes the archive inside the work directory, then moves it into place: after a crash the
// only leftovers are work directories, which remove_pack_leftovers() finds by name.
result<std::uint64_t> finish_package(detail::zip_writer& w, const std::filesystem::path& staged,
                                     const std::filesystem::path& out, bool durable) {
    if (auto ok = w.close(); !ok)
        return ok.error();
    std::error_code ec;
    const auto size = std::filesystem::file_size(staged, ec);
    if (ec)
        return make_dpo_error(errc::io_failure, "cannot stat " + staged.string() + ": " + ec.message());
    if (durable)
        if (auto ok = sync_file_and_directory(staged); !ok)
            return ok.error();
    if (::rename(staged.c_str(), out.c_str()) != 0) {
        if (errno == EXDEV)
            return make_dpo_error(errc::io_failure,
                                  "the work directory must be on the same file system as " + out.string());
        return io_error(errno, "cannot rename into", out);
    }
    if (durable)
        if (auto ok = sync_file_and_directory(out); !ok)
            return ok.error();
    return size;
}

std::filesystem::path work_parent(const std::filesystem::path& out, const pack_options& options) {
    if (!options.work_dir.empty())
        return options.work_dir;
    return out.has_parent_path() ? out.parent_path() : std::filesystem::path(".");
}

} // namespace

std::string broker_manifest_xml(const altinn2_manifest& m, std::string_view sender_org_number) {
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BrokerServiceManifest xmlns=\"" +
                      std::string(broker_ns) + "\">\n";
    out += "   <ExternalServiceCode>" + xml::escape_text(m.service_code) + "</ExternalServiceCode>\n";
    out += "   <ExternalServiceEditionCode>" + xml::escape_text(m.service_edition) +
           "</ExternalServiceEditionCode>\n";
    out += "   <SendersReference>" + xml::escape_text(m.senders_reference) + "</SendersReference>\n";
    out += "   <Reportee>" + xml::escape_text(sender_org_number) + "</Reportee>\n";
    out += "   <FileList>\n      <File>\n         <FileName>sbd.json</FileName>\n      </File>\n   "
           "</FileList>\n";
    out += "</BrokerServiceManifest>\n";
    return out;
}

std::string broker_recipients_xml(std::string_view receiver_org_number) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BrokerServiceRecipientList xmlns=\"" +
           std::string(broker_ns) + "\">\n   <Recipient>\n      <PartyNumber>" +
           xml::escape_text(receiver_org_number) +
           "</PartyNumber>\n   </Recipient>\n</BrokerServiceRecipientList>\n";
}

result<pack_result> pack(const sbd& document, const std::vector<pack_document>& documents,
                         const identity& sender, const certificate& receiver,
                         const std::filesystem::path& out, const pack_options& options) {
    if (auto ok = validate(document); !ok)
        return ok.error();
    if (documents.empty())
        return make_dpo_error(errc::document_invalid,
                              "a message with no documents is packed with pack_receipt");
    if (!receiver.has_rsa_key())
        return make_dpo_error(errc::certificate_invalid, "the receiver's certificate " + receiver.subject() +
                                                             " has no RSA key to encrypt to");

    // Container order: the primary document first, then the rest as uploaded.
    std::vector<asic_document> ordered;
    const auto primary = document.business_string("hoveddokument");
    for (const auto& d : documents) {
        asic_document a{d.file, d.name, d.mime_type.empty() ? document_mime_type(d.name) : d.mime_type};
        if (primary && d.name == *primary)
            ordered.insert(ordered.begin(), std::move(a));
        else
            ordered.push_back(std::move(a));
    }
    if (primary && ordered.front().name != *primary)
        return make_dpo_error(errc::document_invalid, "the business message names hoveddokument " +
                                                          shown(*primary) +
                                                          ", which is not among "
                                                          "the documents");
    if (document.type() == "arkivmelding" && std::none_of(ordered.begin(), ordered.end(), [](const auto& d) {
            return d.name == "arkivmelding.xml";
        }))
        return make_dpo_error(errc::document_invalid,
                              "an arkivmelding message must contain arkivmelding.xml");

    auto work = work_directory::create(work_parent(out, options));
    if (!work)
        return work.error();
    const auto asic_path = work->path() / "asic.zip";
    auto asic = write_asic(asic_path, ordered, document.sender_identifier().value_or(""),
                           document.receiver_identifier().value_or(""), sender, options.asic);
    if (!asic)
        return asic.error();

    auto sizing = envelope_encoder::create(receiver, options.cms);
    if (!sizing)
        return sizing.error();
    pack_result result;
    result.asic = *asic;
    result.asic_bytes = asic->bytes;
    result.encrypted_bytes = sizing->encoded_size(asic->bytes);

    const auto staged = work->path() / "sbd.zip";
    auto writer = detail::zip_writer::create(staged);
    if (!writer)
        return writer.error();
    if (auto ok = add_broker_files(*writer, document, options); !ok)
        return ok.error();
    if (auto ok = writer->add_buffer("sbd.json", to_json(document), detail::compression::deflated); !ok)
        return ok.error();
    // Stored: ciphertext does not compress, and deflating it would only cost time.
    if (auto ok = writer->add_provider(
            "asic.zip",
            std::make_unique<encrypting_provider>(asic_path, receiver, options.cms, std::move(*sizing)),
            result.encrypted_bytes, detail::compression::stored);
        !ok)
        return ok.error();
    auto size = finish_package(*writer, staged, out, options.durable);
    if (!size)
        return size.error();
    result.bytes = *size;
    return result;
}

result<pack_result> pack_receipt(const sbd& document, const std::filesystem::path& out,
                                 const pack_options& options) {
    if (auto ok = validate(document); !ok)
        return ok.error();
    auto work = work_directory::create(work_parent(out, options));
    if (!work)
        return work.error();
    const auto staged = work->path() / "sbd.zip";
    auto writer = detail::zip_writer::create(staged);
    if (!writer)
        return writer.error();
    if (auto ok = add_broker_files(*writer, document, options); !ok)
        return ok.error();
    if (auto ok = writer->add_buffer("sbd.json", to_json(document), detail::compression::deflated); !ok)
        return ok.error();
    auto size = finish_package(*writer, staged, out, options.durable);
    if (!size)
        return size.error();
    pack_result result;
    result.bytes = *size;
    return result;
}

result<std::size_t> remove_pack_leftovers(const std::filesystem::path& dir) {
    std::size_t removed = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const auto name = entry.path().filename().string();
        if (!name.starts_with(".kurer-pack-") || !entry.is_directory())
            continue;
        std::filesystem::remove_all(entry.path(), ec);
        if (ec)
            return make_dpo_error(errc::io_failure,
                                  "cannot remove " + entry.path().string() + ": " + ec.message());
        ++removed;
    }
    if (ec)
        return make_dpo_error(errc::io_failure, "cannot list " + dir.string() + ": " + ec.message());
    return removed;
}

result<opened_package> open_package(const std::filesystem::path& sbd_zip, const limits& lim) {
    auto zip = zip_reader::open(sbd_zip, lim);
    if (!zip)
        return zip.error();
    opened_package out;
    bool have_sbd = false, legacy = false;
    for (const auto& e : zip->entries()) {
        if (e.name == "sbd.json") {
            auto text = zip->read_entry(e, lim.max_sbd_bytes);
            if (!text) {
                auto err = text.error();
                if (err.code == errc::zip_entry_too_large)
                    err.code = make_error_code(errc::sbd_too_large);
                return err;
            }
            auto parsed = parse_sbd(*text, lim);
            if (!parsed)
                return parsed.error();
            if (auto ok = validate_for_receipt(*parsed); !ok)
                return ok.error();
            out.document = std::move(*parsed);
            out.sbd_json = std::move(*text);
            have_sbd = true;
        } else if (e.name == "asic.zip") {
            out.asic = asic_blob{sbd_zip, e.index, e.uncompressed_size};
        } else if (e.name == "manifest.xml") {
            out.has_broker_manifest = true;
        } else if (e.name == "recipients.xml") {
            out.has_recipients = true;
        } else {
            legacy = legacy || e.name == "content.xml";
            out.skipped.push_back(e.name);
        }
    }
    if (!have_sbd)
        return make_dpo_error(
            errc::sbd_missing,
            sbd_zip.filename().string() + " has no sbd.json" +
                (legacy ? " (only a legacy content.xml SBD, which DPO has not used since 2019)" : ""));
    return out;
}

result<decrypt_info> decrypt_asic(const asic_blob& blob, const identity& receiver, byte_sink& out,
                                  const limits& lim) {
    auto zip = zip_reader::open(blob.package, lim);
    if (!zip)
        return zip.error();
    if (blob.entry_index >= zip->entries().size() || zip->entries()[blob.entry_index].name != "asic.zip")
        return make_dpo_error(errc::zip_malformed,
                              blob.package.string() + " has no asic.zip where it had one");
    auto stream = zip->open_entry(zip->entries()[blob.entry_index]);
    if (!stream)
        return stream.error();
    return decrypt(**stream, out, receiver, lim);
}

result<decrypt_info> decrypt_asic(const asic_blob& blob, const identity& receiver,
                                  const std::filesystem::path& out, const limits& lim, bool durable) {
    auto sink = file_sink::create(out);
    if (!sink)
        return sink.error();
    auto info = decrypt_asic(blob, receiver, *sink, lim);
    if (!info)
        return info.error();
    if (auto ok = sink->commit(durable); !ok)
        return ok.error();
    return info;
}

} // namespace kurer::dpo

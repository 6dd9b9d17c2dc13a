#include "text_util.hpp"
#include "zip_writer.hpp"

#include <kurer/core/uuid.hpp>
#include <kurer/core/xml.hpp>
#include <kurer/dpo/asic.hpp>
#include <kurer/dpo/errors.hpp>
#include <kurer/dpo/io.hpp>
#include <kurer/dpo/zip.hpp>

#include <botan/base64.h>
#include <botan/compression.h>
#include <botan/hash.h>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <functional>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

namespace kurer::dpo {

using detail::shown;

namespace {

constexpr std::string_view efm_authority = "iso6523-actorid-upis";
constexpr std::string_view asic_ns = "http://uri.etsi.org/02918/v1.2.1#";
constexpr std::string_view dsig_ns = "http://www.w3.org/2000/09/xmldsig#";
constexpr std::string_view odf_ns = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0";
constexpr std::string_view sha256_uri = "http://www.w3.org/2001/04/xmlenc#sha256";
constexpr std::string_view mimetype_comment = "mimetype=application/vnd.etsi.asic-e+zip";
constexpr std::string_view efm_manifest_name = "manifest.xml";
constexpr std::string_view efm_manifest_mime = "application/xml";

std::string base64(const std::vector<std::uint8_t>& bytes) {
    return Botan::base64_encode(bytes);
}

std::string sha256_base64(std::string_view bytes) {
    auto h = Botan::HashFunction::create_or_throw("SHA-256");
    h->update(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    return base64(h->final_stdvec());
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size())
        return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[i])) !=
            std::tolower(static_cast<unsigned char>(prefix[i])))
            return false;
    return true;
}

bool iequals_suffix(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && iequals_prefix(s.substr(s.size() - suffix.size()), suffix);
}

} // namespace

// ---------------------------------------------------------------------------------------------
// The manifests.

std::string efm_manifest_xml(std::string_view receiver, std::string_view sender,
                             std::string_view primary_name, std::string_view primary_mime) {
    // EclipseLink MOXy's layout: no namespace, three-space indent.
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<manifest>\n";
    out += "   <mottaker>\n      <organisasjon authority=\"" + std::string(efm_authority) + "\">" +
           xml::escape_text(receiver) + "</organisasjon>\n   </mottaker>\n";
    out += "   <avsender>\n      <organisasjon authority=\"" + std::string(efm_authority) + "\">" +
           xml::escape_text(sender) + "</organisasjon>\n   </avsender>\n";
    out += "   <hoveddokument href=\"" + xml::escape_attribute(primary_name) + "\" mime=\"" +
           xml::escape_attribute(primary_mime) +
           "\">\n      <tittel lang=\"no\">Hoveddokument</tittel>\n"
           "   </hoveddokument>\n";
    out += "</manifest>\n";
    return out;
}

std::string asic_manifest_xml(std::string_view signature_entry, const std::vector<manifest_reference>& refs) {
    // JAXB's layout: four-space indent, the xmldsig namespace as ns2.
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
                      "<ASiCManifest xmlns=\"" +
                      std::string(asic_ns) + "\" xmlns:ns2=\"" + std::string(dsig_ns) + "\">\n";
    out += "    <SigReference URI=\"" + xml::escape_attribute(signature_entry) +
           "\" MimeType=\"application/x-pkcs7-signature\"/>\n";
    for (const auto& r : refs) {
        out += "    <DataObjectReference URI=\"" + xml::escape_attribute(r.name) + "\" MimeType=\"" +
               xml::escape_attribute(r.mime_type) + "\">\n";
        out += "        <ns2:DigestMethod Algorithm=\"" + std::string(sha256_uri) + "\"/>\n";
        out += "        <ns2:DigestValue>" + r.sha256 + "</ns2:DigestValue>\n";
        out += "    </DataObjectReference>\n";
    }
    out += "</ASiCManifest>\n";
    return out;
}

std::string odf_manifest_xml(const std::vector<manifest_reference>& refs) {
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
                      "<ns1:manifest xmlns:ns1=\"" +
                      std::string(odf_ns) + "\">\n";
    out +=
        "    <ns1:file-entry ns1:full-path=\"/\" ns1:media-type=\"" + std::string(asic_mimetype) + "\"/>\n";
    for (const auto& r : refs)
        out += "    <ns1:file-entry ns1:full-path=\"" + xml::escape_attribute(r.name) +
               "\" ns1:media-type=\"" + xml::escape_attribute(r.mime_type) + "\"/>\n";
    out += "</ns1:manifest>\n";
    return out;
}

std::string asic_report::describe_problems() const {
    std::string out;
    for (const auto& p : problems)
        out += (p.entry.empty() ? std::string() : p.entry + ": ") + p.message + "\n";
    return out;
}

// ---------------------------------------------------------------------------------------------
// Writing.

namespace {

// What the lazily produced entries share: the documents' digests as libzip reads them, then
// the manifest that lists them, then the signature over that manifest.
struct asic_state {
    std::vector<manifest_reference> references; // manifest.xml first, then the documents
    std::vector<bool> hashed;
    std::string signature_entry;
    std::string manifest; // filled when its entry is written
    const identity* signer = nullptr;
    asic_options options;
};

class document_provider final : public detail::entry_provider {
public:
    document_provider(std::filesystem::path file, asic_state& state, std::size_t index)
        : file_(std::move(file))
        , state_(state)
        , index_(index) {}

    result<void> open() override {
        auto f = file_source::open(file_);
        if (!f)
            return f.error();
        source_.emplace(std::move(*f));
        hash_ = Botan::HashFunction::create_or_throw("SHA-256");
        return {};
    }
    result<std::size_t> read(std::span<std::uint8_t> buf) override {
        auto n = source_->read(buf);
        if (!n)
            return n.error();
        if (*n == 0) {
            state_.references[index_].sha256 = base64(hash_->final_stdvec());
            state_.hashed[index_] = true;
        } else {
            hash_->update(buf.data(), *n);
        }
        return n;
    }
    void close() override { source_.reset(); }

private:
    std::filesystem::path file_;
    asic_state& state_;
    std::size_t index_;
    std::optional<file_source> source_;
    std::unique_ptr<Botan::HashFunction> hash_;
};

// Serves bytes produced when libzip opens the entry (after the entries before it were read).
class late_provider final : public detail::entry_provider {
public:
    using produce_fn = std::function<result<std::string>()>;
    explicit late_provider(produce_fn produce)
        : produce_(std::move(produce)) {}

    result<void> open() override {
        auto bytes = produce_();
        if (!bytes)
            return bytes.error();
        bytes_ = std::move(*bytes);
        pos_ = 0;
        return {};
    }
    result<std::size_t> read(std::span<std::uint8_t> buf) override {
        const std::size_t n = std::min(buf.size(), bytes_.size() - pos_);
        std::copy_n(bytes_.data() + pos_, n, buf.data());
        pos_ += n;
        return n;
    }

private:
    produce_fn produce_;
    std::string bytes_;
    std::size_t pos_ = 0;
};

// Whether deflate gains anything on this document, judged from its beginning.
bool worth_deflating(const std::filesystem::path& file, std::uint64_t size) {
    constexpr std::size_t sample = 128 * 1024;
    if (size < 1024 * 1024)
        return true; // deflating it costs about as much as probing it
    auto src = file_source::open(file);
    if (!src)
        return true;
    Botan::secure_vector<std::uint8_t> buf(sample);
    std::size_t got = 0;
    while (got < buf.size()) {
        auto n = src->read(std::span(buf.data() + got, buf.size() - got));
        if (!n || *n == 0)
            break;
        got += *n;
    }
    buf.resize(got);
    auto deflate = Botan::Compression_Algorithm::create("Deflate");
    if (!deflate)
        return true;
    try {
        deflate->start(1);
        deflate->finish(buf);
    } catch (const std::exception&) {
        return true;
    }
    return buf.size() < got - got * 3 / 100;
}

result<void> check_document_names(const std::vector<asic_document>& documents) {
    if (documents.empty())
        return make_dpo_error(errc::document_invalid, "an ASiC-E needs at least one document");
    std::vector<std::string> seen;
    for (const auto& d : documents) {
        if (auto ok = check_entry_name(d.name, limits{}); !ok)
            return make_dpo_error(errc::document_invalid, "document " + ok.error().message);
        if (d.name.find('/') != std::string::npos)
            return make_dpo_error(errc::document_invalid,
                                  "document " + shown(d.name) + ": names are plain file names, without '/'");
        if (d.name == "mimetype" || d.name == efm_manifest_name || iequals_prefix(d.name, "META-INF"))
            return make_dpo_error(errc::document_invalid,
                                  "document " + shown(d.name) +
                                      ": the name is reserved for the container itself");
        if (std::find(seen.begin(), seen.end(), d.name) != seen.end())
            return make_dpo_error(errc::document_invalid, "document " + shown(d.name) + " appears twice");
        if (d.mime_type.empty())
            return make_dpo_error(errc::document_invalid, "document " + shown(d.name) + " has no MIME type");
        seen.push_back(d.name);
    }
    return {};
}

} // namespace

result<asic_summary> write_asic(const std::filesystem::path& out, const std::vector<asic_document>& documents,
                                std::string_view sender, std::string_view receiver, const identity& signer,
                                const asic_options& options) {
    if (auto ok = check_document_names(documents); !ok)
        return ok.error();
    std::vector<std::uint64_t> sizes;
    for (const auto& d : documents) {
        std::error_code ec;
        const auto size = std::filesystem::file_size(d.file, ec);
        if (ec)
            return make_dpo_error(errc::document_invalid, "document " + shown(d.name) + ": cannot read " +
                                                              d.file.string() + ": " + ec.message());
        sizes.push_back(size);
    }

    auto state = std::make_shared<asic_state>();
    state->signer = &signer;
    state->options = options;
    state->signature_entry = "META-INF/signature-" + random_uuid() + ".p7s";
    const std::string efm =
        efm_manifest_xml(receiver, sender, documents.front().name, documents.front().mime_type);
    state->references.push_back(
        {std::string(efm_manifest_name), std::string(efm_manifest_mime), sha256_base64(efm)});
    state->hashed.push_back(true);
    for (const auto& d : documents) {
        state->references.push_back(
            {d.name, d.mime_type, std::string(44, 'A')}); // the size of a SHA-256 in base64
        state->hashed.push_back(false);
    }
    const std::size_t manifest_size = asic_manifest_xml(state->signature_entry, state->references).size();
    auto signature_size = detached_signature_size(signer, options.signature_digest);
    if (!signature_size)
        return signature_size.error();

    auto writer = detail::zip_writer::create(out);
    if (!writer)
        return writer.error();
    auto& w = *writer;
    auto first = w.add_buffer("mimetype", std::string(asic_mimetype), detail::compression::stored);
    if (!first)
        return first.error();
    if (auto ok = w.set_entry_comment(*first, mimetype_comment); !ok)
        return ok.error();
    if (auto ok = w.add_buffer(std::string(efm_manifest_name), efm, detail::compression::deflated,
                               options.compression_level);
        !ok)
        return ok.error();
    for (std::size_t i = 0; i < documents.size(); ++i) {
        const bool deflate = !options.store_incompressible || worth_deflating(documents[i].file, sizes[i]);
        auto ok = w.add_provider(
            documents[i].name, std::make_unique<document_provider>(documents[i].file, *state, i + 1),
            sizes[i], deflate ? detail::compression::deflated : detail::compression::stored,
            options.compression_level);
        if (!ok)
            return ok.error();
    }
    auto produce_manifest = [state]() -> result<std::string> {
        for (std::size_t i = 0; i < state->hashed.size(); ++i)
            if (!state->hashed[i])
                return make_dpo_error(errc::io_failure, "document " + state->references[i].name +
                                                            " was not read before the manifest");
        state->manifest = asic_manifest_xml(state->signature_entry, state->references);
        return state->manifest;
    };
    if (auto ok =
            w.add_provider("META-INF/ASiCManifest.xml", std::make_unique<late_provider>(produce_manifest),
                           manifest_size, detail::compression::deflated, options.compression_level);
        !ok)
        return ok.error();
    auto produce_signature = [state, expected = *signature_size]() -> result<std::string> {
        if (state->manifest.empty())
            return make_dpo_error(errc::io_failure, "the manifest was not written before its signature");
        const auto now = state->options.now.value_or(
            std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now()));
        auto sig = sign_detached(
            std::span(reinterpret_cast<const std::uint8_t*>(state->manifest.data()), state->manifest.size()),
            *state->signer, state->options.signature_digest, now);
        if (!sig)
            return sig.error();
        if (sig->size() != expected)
            return make_dpo_error(errc::io_failure, "the signature came out " + std::to_string(sig->size()) +
                                                        " bytes instead of the predicted " +
                                                        std::to_string(expected));
        return std::string(sig->begin(), sig->end());
    };
    if (auto ok = w.add_provider(state->signature_entry, std::make_unique<late_provider>(produce_signature),
                                 *signature_size, detail::compression::deflated, options.compression_level);
        !ok)
        return ok.error();
    std::vector<manifest_reference> odf_refs(state->references.begin(), state->references.end());
    if (auto ok = w.add_buffer("META-INF/manifest.xml", odf_manifest_xml(odf_refs),
                               detail::compression::deflated, options.compression_level);
        !ok)
        return ok.error();
    if (auto ok = w.set_archive_comment(mimetype_comment); !ok)
        return ok.error();
    if (auto ok = w.close(); !ok)
        return ok.error();
    ::chmod(out.c_str(), 0600); // libzip applies the umask; the plaintext stays private

    asic_summary summary;
    std::error_code ec;
    summary.bytes = std::filesystem::file_size(out, ec);
    summary.signature_entry = state->signature_entry;
    for (const auto& r : state->references)
        summary.digests.emplace_back(r.name, r.sha256);
    return summary;
}

// ---------------------------------------------------------------------------------------------
// Verifying.

namespace {

class report_builder {
public:
    explicit report_builder(asic_report& r)
        : r_(r) {}
    void add(boost::system::error_code code, std::string entry, std::string message) {
        r_.problems.push_back(problem{code, std::move(entry), std::move(message)});
    }
    void add(const error& e, std::string entry) { add(e.code, std::move(entry), e.message); }

private:
    asic_report& r_;
};

result<std::string> sha256_of_entry(const zip_reader& zip, const zip_entry& e, std::string* keep,
                                    std::size_t keep_max) {
    auto stream = zip.open_entry(e);
    if (!stream)
        return stream.error();
    auto h = Botan::HashFunction::create_or_throw("SHA-256");
    std::vector<std::uint8_t> buf(64 * 1024);
    while (true) {
        auto n = (*stream)->read(buf);
        if (!n)
            return n.error();
        if (*n == 0)
            break;
        h->update(buf.data(), *n);
        if (keep != nullptr && keep->size() < keep_max + 1)
            keep->append(reinterpret_cast<const char*>(buf.data()),
                         std::min(*n, keep_max + 1 - keep->size()));
    }
    return base64(h->final_stdvec());
}

// The MOVE-610 symptom: the central directory says entry 0 starts at offset 0, the bytes
// there are not a local header, but from byte 16 on they are exactly what the local header
// should hold (the tail of the CRC, both sizes, the name lengths and the name): only the first
// AES block is garbage, the signature of a wrong IV when the CMS was decrypted.
bool first_block_garbage(const std::filesystem::path& path, const zip_entry& e) {
    if (e.local_header_offset != 0)
        return false;
    auto src = file_source::open(path);
    if (!src)
        return false;
    std::vector<std::uint8_t> head(30 + e.name.size());
    std::size_t got = 0;
    while (got < head.size()) {
        auto n = src->read(std::span(head.data() + got, head.size() - got));
        if (!n || *n == 0)
            return false;
        got += *n;
    }
    auto le32 = [&](std::size_t at) {
        return static_cast<std::uint32_t>(head[at] | (head[at + 1] << 8) | (head[at + 2] << 16) |
                                          (static_cast<std::uint32_t>(head[at + 3]) << 24));
    };
    const bool tail_matches = head[16] == ((e.crc32 >> 16) & 0xFF) && head[17] == ((e.crc32 >> 24) & 0xFF) &&
                              le32(18) == e.compressed_size && le32(22) == e.uncompressed_size &&
                              head[26] == (e.name.size() & 0xFF) && head[27] == (e.name.size() >> 8) &&
                              std::equal(e.name.begin(), e.name.end(), head.begin() + 30);
    const bool start_broken = !(head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4);
    return tail_matches && start_broken;
}

// The bytes of a stored entry straight from the file (when libzip cannot read its header).
std::optional<std::string> raw_stored_bytes(const std::filesystem::path& path, std::uint64_t offset,
                                            std::size_t n) {
    auto src = file_source::open(path);
    if (!src || offset + n > src->size())
        return std::nullopt;
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(offset) + n);
    std::size_t got = 0;
    while (got < buf.size()) {
        auto r = src->read(std::span(buf.data() + got, buf.size() - got));
        if (!r || *r == 0)
            return std::nullopt;
        got += *r;
    }
    return std::string(reinterpret_cast<const char*>(buf.data()) + offset, n);
}

void check_mimetype(const zip_reader& zip, const std::filesystem::path& path, report_builder& report) {
    const auto& entries = zip.entries();
    const zip_entry* m = zip.find("mimetype");
    if (m == nullptr) {
        report.add(make_error_code(errc::asic_missing_mimetype), "mimetype",
                   "the container has no mimetype entry (it must be the first, holding " +
                       std::string(asic_mimetype) + ")");
        return;
    }
    if (m != &entries.front() || m->local_header_offset != 0)
        report.add(make_error_code(errc::asic_mimetype_not_first), "mimetype",
                   "mimetype is entry " + std::to_string(m->index) + "; it must be the first in the file");
    if (m->method != 0)
        report.add(make_error_code(errc::asic_mimetype_compressed), "mimetype",
                   "mimetype is compressed; it must be stored so that its text sits at byte 38");
    std::optional<std::string> content;
    if (m->local_header_error) {
        if (first_block_garbage(path, *m)) {
            report.add(make_error_code(errc::asic_first_block_corrupt), "mimetype",
                       "the first 16 bytes of the container are garbage while the rest is intact: the first "
                       "cipher block was decrypted with a wrong IV (MOVE-610)");
            if (m->method == 0)
                content =
                    raw_stored_bytes(path, 30 + m->name.size(), static_cast<std::size_t>(m->compressed_size));
        } else {
            report.add(make_error_code(errc::zip_malformed), "mimetype", *m->local_header_error);
        }
    } else {
        if (m->local_extra_length != 0)
            report.add(make_error_code(errc::asic_mimetype_extra_field), "mimetype",
                       "mimetype's local header has an extra field; its text must start at byte 38");
        if (!m->sizes_in_local_header)
            report.add(make_error_code(errc::asic_mimetype_no_sizes), "mimetype",
                       "mimetype's sizes follow its data instead of being in its local header");
        auto bytes = zip.read_entry(*m, 1024);
        if (bytes)
            content = std::move(*bytes);
        else
            report.add(bytes.error(), "mimetype");
    }
    if (content && *content != asic_mimetype)
        report.add(make_error_code(errc::asic_wrong_mimetype), "mimetype",
                   "mimetype holds " + shown(*content) + ", not " + std::string(asic_mimetype));
}

struct manifest_entry_ref {
    std::string uri;
    std::string mime;
    std::string algorithm;
    std::string digest;
};

void check_efm_manifest(const std::string& text, const std::vector<asic_entry_report>& docs,
                        const limits& lim, asic_report& r, report_builder& report) {
    auto doc = xml::parse(text, lim.xml);
    if (!doc) {
        report.add(doc.error(), std::string(efm_manifest_name));
        return;
    }
    if (!doc->ns.empty() || doc->local != "manifest") {
        report.add(make_error_code(errc::asic_efm_manifest_invalid), std::string(efm_manifest_name),
                   "the root element is " + shown(doc->local) + ", not eFormidling's <manifest>");
        return;
    }
    auto org = [&](std::string_view role) -> std::string {
        if (const auto* p = doc->child("", role))
            if (const auto* o = p->child("", "organisasjon"))
                return o->text;
        return {};
    };
    r.receiver = org("mottaker");
    r.sender = org("avsender");
    if (const auto* h = doc->child("", "hoveddokument"))
        r.primary_document = std::string(h->attr("href").value_or(""));
    if (r.primary_document.empty())
        report.add(make_error_code(errc::asic_efm_manifest_invalid), std::string(efm_manifest_name),
                   "it names no hoveddokument");
    else if (std::none_of(docs.begin(), docs.end(),
                          [&](const auto& d) { return d.name == r.primary_document; }))
        report.add(make_error_code(errc::asic_efm_manifest_invalid), std::string(efm_manifest_name),
                   "its hoveddokument " + shown(r.primary_document) + " is not in the container");
}

} // namespace

result<asic_report> verify_asic(const std::filesystem::path& path, const limits& lim) {
    asic_report r;
    report_builder report(r);
    auto opened = zip_reader::open(path, lim, true);
    if (!opened) {
        if (opened.error().code == errc::io_failure)
            return opened.error();
        report.add(opened.error(), "");
        return r;
    }
    const zip_reader& zip = *opened;
    check_mimetype(zip, path, report);

    std::vector<const zip_entry*> manifests, data;
    const zip_entry* odf = nullptr;
    std::map<std::string, const zip_entry*> signatures;
    for (const auto& e : zip.entries()) {
        if (e.name == "mimetype")
            continue;
        if (e.local_header_error) {
            report.add(make_error_code(errc::zip_malformed), e.name, *e.local_header_error);
            continue;
        }
        if (iequals_prefix(e.name, "META-INF/")) {
            const std::string_view rest = std::string_view(e.name).substr(9);
            if (rest.find('/') != std::string_view::npos)
                report.add(make_error_code(errc::asic_unexpected_meta_inf_entry), e.name,
                           "META-INF holds no folders in an ASiC-E");
            else if (iequals_prefix(rest, "ASiCManifest") && iequals_suffix(rest, ".xml"))
                manifests.push_back(&e);
            else if (iequals_prefix(rest, "signature") && iequals_suffix(rest, ".p7s"))
                signatures[e.name] = &e;
            else if (iequals_prefix(rest, "signatures") && iequals_suffix(rest, ".xml"))
                continue; // XAdES: allowed by the reader, not used by DPO, not verified here
            else if (rest == "manifest.xml")
                odf = &e;
            else
                report.add(
                    make_error_code(errc::asic_unexpected_meta_inf_entry), e.name,
                    "only ASiCManifest*.xml, signature*.p7s, signatures*.xml and manifest.xml may be in "
                    "META-INF");
            continue;
        }
        if (e.name.find('/') != std::string::npos) {
            report.add(make_error_code(errc::asic_entry_not_flat), e.name,
                       "documents are plain file names; paths are not used in DPO containers");
            continue;
        }
        data.push_back(&e);
    }

    // Every document, hashed as it streams; eFormidling's manifest kept for reading.
    std::string efm_text;
    for (const auto* e : data) {
        const bool is_efm = e->name == efm_manifest_name;
        auto digest = sha256_of_entry(zip, *e, is_efm ? &efm_text : nullptr, lim.xml.max_bytes);
        if (!digest) {
            report.add(digest.error(), e->name);
            continue;
        }
        r.documents.push_back(asic_entry_report{e->name, "", e->uncompressed_size, *digest, false});
    }
    const zip_entry* efm = zip.find(efm_manifest_name);
    if (efm == nullptr)
        report.add(make_error_code(errc::asic_efm_manifest_invalid), std::string(efm_manifest_name),
                   "the container has no eFormidling manifest.xml");
    else if (!efm->local_header_error && !efm_text.empty())
        check_efm_manifest(efm_text, r.documents, lim, r, report);

    // The ASiC manifest: each document listed with a matching SHA-256.
    std::string manifest_bytes;
    std::vector<std::string> sig_refs;
    if (manifests.empty()) {
        report.add(make_error_code(errc::asic_manifest_missing), "META-INF/ASiCManifest.xml",
                   "the container has no ASiC manifest, so nothing vouches for its documents");
    } else {
        if (manifests.size() > 1)
            report.add(make_error_code(errc::asic_manifest_invalid), manifests[1]->name,
                       "more than one ASiC manifest; DPO containers have exactly one");
        const auto& me = *manifests.front();
        r.manifest_entry = me.name;
        auto text = zip.read_entry(me, lim.xml.max_bytes);
        if (!text) {
            report.add(text.error(), me.name);
        } else {
            manifest_bytes = *text;
            auto doc = xml::parse(*text, lim.xml);
            if (!doc) {
                report.add(doc.error(), me.name);
            } else if (doc->ns != asic_ns || doc->local != "ASiCManifest") {
                report.add(make_error_code(errc::asic_manifest_invalid), me.name,
                           "the root element is not {" + std::string(asic_ns) + "}ASiCManifest");
            } else {
                for (const auto* s : doc->children_named(asic_ns, "SigReference"))
                    sig_refs.emplace_back(s->attr("URI").value_or(""));
                std::map<std::string, manifest_entry_ref> listed;
                for (const auto* d : doc->children_named(asic_ns, "DataObjectReference")) {
                    manifest_entry_ref ref;
                    ref.uri = std::string(d->attr("URI").value_or(""));
                    ref.mime = std::string(d->attr("MimeType").value_or(""));
                    if (const auto* m = d->child(dsig_ns, "DigestMethod"))
                        ref.algorithm = std::string(m->attr("Algorithm").value_or(""));
                    if (const auto* v = d->child(dsig_ns, "DigestValue"))
                        ref.digest = v->text;
                    if (!listed.emplace(ref.uri, ref).second)
                        report.add(make_error_code(errc::asic_manifest_invalid), me.name,
                                   "it lists " + shown(ref.uri) + " twice");
                }
                for (auto& doc_report : r.documents) {
                    const auto it = listed.find(doc_report.name);
                    if (it == listed.end()) {
                        report.add(
                            make_error_code(errc::asic_entry_not_in_manifest), doc_report.name,
                            "the ASiC manifest does not cover this document, so it could have been added "
                            "by anyone");
                        continue;
                    }
                    const auto& ref = it->second;
                    doc_report.mime_type = ref.mime;
                    if (ref.algorithm != sha256_uri) {
                        report.add(make_error_code(errc::asic_digest_algorithm_unsupported), doc_report.name,
                                   "digest method " + shown(ref.algorithm) + "; readers require " +
                                       std::string(sha256_uri));
                        continue;
                    }
                    std::string listed_digest = ref.digest;
                    listed_digest.erase(std::remove_if(listed_digest.begin(), listed_digest.end(),
                                                       [](char c) {
                                                           return c == ' ' || c == '\n' || c == '\r' ||
                                                                  c == '\t';
                                                       }),
                                        listed_digest.end());
                    doc_report.digest_matches = listed_digest == doc_report.sha256;
                    if (!doc_report.digest_matches)
                        report.add(make_error_code(errc::asic_digest_mismatch), doc_report.name,
                                   "its SHA-256 is " + doc_report.sha256 + " but the manifest says " +
                                       shown(listed_digest) + ": the document was changed");
                }
                for (const auto& [uri, ref] : listed)
                    if (zip.find(uri) == nullptr)
                        report.add(make_error_code(errc::asic_listed_entry_missing), uri,
                                   "the ASiC manifest lists it but the container does not hold it");
            }
        }
    }

    // The signature over the manifest's exact bytes.
    if (!manifests.empty() && !manifest_bytes.empty()) {
        if (sig_refs.empty() || sig_refs.front().empty()) {
            report.add(make_error_code(errc::asic_signature_missing), r.manifest_entry,
                       "the ASiC manifest references no signature");
        } else {
            r.signature_entry = sig_refs.front();
            const zip_entry* se = zip.find(r.signature_entry);
            if (se == nullptr) {
                report.add(make_error_code(errc::asic_signature_missing), r.signature_entry,
                           "the signature the ASiC manifest references is not in the container");
            } else {
                auto sig = zip.read_entry(*se, lim.max_signature_bytes);
                if (!sig) {
                    report.add(sig.error(), se->name);
                } else {
                    auto info = verify_detached(
                        std::span(reinterpret_cast<const std::uint8_t*>(sig->data()), sig->size()),
                        std::span(reinterpret_cast<const std::uint8_t*>(manifest_bytes.data()),
                                  manifest_bytes.size()),
                        lim);
                    if (info)
                        r.signature = std::move(*info);
                    else
                        report.add(info.error(), se->name);
                }
            }
        }
    }

    if (odf != nullptr) {
        auto text = zip.read_entry(*odf, lim.xml.max_bytes);
        if (!text) {
            report.add(text.error(), odf->name);
        } else {
            auto doc = xml::parse(*text, lim.xml);
            if (!doc)
                report.add(doc.error(), odf->name);
            else if (doc->ns != odf_ns || doc->local != "manifest")
                report.add(make_error_code(errc::asic_odf_manifest_invalid), odf->name,
                           "the root element is not the ODF {" + std::string(odf_ns) + "}manifest");
        }
    }
    return r;
}

result<std::vector<std::filesystem::path>>
extract_documents(const std::filesystem::path& asic, const std::filesystem::path& dir, const limits& lim) {
    auto zip = zip_reader::open(asic, lim);
    if (!zip)
        return zip.error();
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
        return make_dpo_error(errc::io_failure, "cannot create " + dir.string() + ": " + ec.message());
    std::vector<std::filesystem::path> out;
    std::vector<std::uint8_t> buf(64 * 1024);
    for (const auto& e : zip->entries()) {
        if (e.name == "mimetype" || iequals_prefix(e.name, "META-INF/"))
            continue;
        if (e.name.find('/') != std::string::npos)
            return make_dpo_error(errc::asic_entry_not_flat, "entry " + shown(e.name) + " has a path");
        const auto target = dir / e.name;
        const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
            return io_error(errno, "cannot create", target);
        auto stream = zip->open_entry(e);
        result<void> status;
        if (!stream)
            status = stream.error();
        while (status) {
            auto n = (*stream)->read(buf);
            if (!n) {
                status = n.error();
                break;
            }
            if (*n == 0)
                break;
            std::size_t done = 0;
            while (done < *n) {
                const ssize_t w = ::write(fd, buf.data() + done, *n - done);
                if (w < 0) {
                    if (errno == EINTR)
                        continue;
                    status = io_error(errno, "cannot write", target);
                    break;
                }
                done += static_cast<std::size_t>(w);
            }
        }
        ::close(fd);
        if (!status) {
            ::unlink(target.c_str());
            return status.error();
        }
        out.push_back(target);
    }
    return out;
}

} // namespace kurer::dpo

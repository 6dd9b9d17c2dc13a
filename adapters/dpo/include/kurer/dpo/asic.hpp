// The ASiC-E container ("dokumentpakke") that DPO encrypts (message-package.md §2).
//
// write_asic builds it exactly as the reference does: `mimetype` first (stored, no extra field,
// sizes in the local header, the mimetype comments), eFormidling's manifest.xml, the documents
// (the primary one first), META-INF/ASiCManifest.xml with SHA-256 digests,
// META-INF/signature-<uuid>.p7s (a detached CMS signature over the manifest by the sender) and
// the ODF META-INF/manifest.xml. Each document is read once: hashed while libzip compresses it.
//
// verify_asic checks a container the way commons-asic's reader does, and more, and reports
// every problem it finds rather than stopping at the first.
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/dpo/cms.hpp>
#include <kurer/dpo/errors.hpp>
#include <kurer/dpo/keys.hpp>
#include <kurer/dpo/limits.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kurer::dpo {

inline constexpr std::string_view asic_mimetype = "application/vnd.etsi.asic-e+zip";

struct asic_document {
    std::filesystem::path file;
    std::string name;      // the entry name: a plain file name, no '/'
    std::string mime_type; // see document_mime_type()
};

struct asic_options {
    digest_algorithm signature_digest = digest_algorithm::sha256; // sha1 mirrors the reference
    int compression_level = 6;                                    // zlib level of deflated entries
    std::optional<instant> now;                                   // signing time; the clock if unset
    // Store, rather than deflate, a document of 1 MiB or more whose first 128 KiB do not shrink
    // by 3% at deflate level 1 (scanned PDFs, images, zips): deflating those costs most of the
    // packing time and saves nothing. Readers accept either method; the reference deflates all.
    bool store_incompressible = true;
};

struct asic_summary {
    std::uint64_t bytes = 0; // size of the container file
    std::string signature_entry;
    std::vector<std::pair<std::string, std::string>> digests; // entry name, base64 SHA-256
};

// Writes the container to `out` (created 0600 through a temporary; not fsynced: it is an
// intermediate). `documents` are in container order, the primary document first; `sender` and
// `receiver` are the SBD's 0192: identifiers for eFormidling's manifest.xml.
result<asic_summary> write_asic(const std::filesystem::path& out, const std::vector<asic_document>& documents,
                                std::string_view sender, std::string_view receiver, const identity& signer,
                                const asic_options& options = {});

struct asic_entry_report {
    std::string name;
    std::string mime_type;       // as the ASiC manifest lists it (empty if unlisted)
    std::uint64_t bytes = 0;     // uncompressed
    std::string sha256;          // base64, computed
    bool digest_matches = false; // against the ASiC manifest
};

struct asic_report {
    std::vector<asic_entry_report> documents; // non-META-INF entries, container order
    std::string manifest_entry;               // META-INF/ASiCManifest.xml (or its 2018 spelling)
    std::string signature_entry;
    std::optional<signature_info> signature; // when it verified
    // From eFormidling's manifest.xml.
    std::string sender;
    std::string receiver;
    std::string primary_document;
    std::vector<problem> problems;

    bool ok() const noexcept { return problems.empty(); }
    // "<entry>: <message>" per problem, one per line.
    std::string describe_problems() const;
};

// Checks a container (§2.7 and the limits): the zip rules, the mimetype entry, allowed META-INF
// entries, every document listed in the ASiC manifest with a matching SHA-256, the detached
// signature over the manifest, the eFormidling and ODF manifests well-formed (no DTDs). The
// MOVE-610 damage (garbage instead of the first 16 bytes) is recognised and named. An error is
// returned only when the file cannot be read at all; everything else is in the report.
result<asic_report> verify_asic(const std::filesystem::path& asic, const limits& lim = {});

// Copies the documents (not META-INF, not mimetype) of a container into `dir`, refusing to
// overwrite anything; returns the files written. Verify first: this only re-checks names.
result<std::vector<std::filesystem::path>> extract_documents(const std::filesystem::path& asic,
                                                             const std::filesystem::path& dir,
                                                             const limits& lim = {});

// The three XML manifests as write_asic writes them, for tests and tools.
struct manifest_reference {
    std::string name;
    std::string mime_type;
    std::string sha256; // base64
};
std::string efm_manifest_xml(std::string_view receiver, std::string_view sender,
                             std::string_view primary_name, std::string_view primary_mime);
std::string asic_manifest_xml(std::string_view signature_entry,
                              const std::vector<manifest_reference>& references);
std::string odf_manifest_xml(const std::vector<manifest_reference>& references);

} // namespace kurer::dpo

// The DPO package as a whole: sbd.zip, what is uploaded to the broker and downloaded from it.
//
//   pack           documents + the SBD + sender identity + receiver certificate -> sbd.zip
//                  (sbd.json, and asic.zip = the CMS-encrypted, signed ASiC-E; in Altinn 2 mode
//                  the broker's manifest.xml and recipients.xml first)
//   pack_receipt   an SBD alone (status, arkivmelding_kvittering) -> sbd.zip with sbd.json only
//   open_package   sbd.zip -> the SBD and where the encrypted ASiC-E is, by the reference's rules
//   decrypt_asic   that blob -> the decrypted ASiC-E (what /api/messages/in/pop serves)
//   verify_asic    (asic.hpp) the decrypted ASiC-E -> a report of every problem
//
// Every function blocks (disk, zip, RSA, AES): the engine runs them on its worker pool. All of
// them stream through files; memory does not grow with document size.
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/dpo/asic.hpp>
#include <kurer/dpo/cms.hpp>
#include <kurer/dpo/keys.hpp>
#include <kurer/dpo/limits.hpp>
#include <kurer/dpo/sbd.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kurer::dpo {

struct pack_document {
    std::filesystem::path file;
    std::string name;      // the entry name in the ASiC-E (the uploaded file name)
    std::string mime_type; // empty: derived from the name (document_mime_type)
};

// The Altinn 2 broker's manifest.xml / recipients.xml (altinn-broker.md §2.2, §2.3).
struct altinn2_manifest {
    std::string senders_reference;     // the value given to InitiateBrokerServiceBasic
    std::string service_code{"v3888"}; // what the reference hard-codes
    std::string service_edition{"70515"};
};

struct pack_options {
    asic_options asic;   // signature digest, compression level, signing time
    encrypt_options cms; // key transport, chunk size
    std::optional<altinn2_manifest> altinn2;
    std::filesystem::path work_dir; // where the plaintext ASiC-E is built; empty: beside `out`
    bool durable = true;            // fsync sbd.zip and its directory before returning
};

struct pack_result {
    std::uint64_t bytes = 0;           // sbd.zip
    std::uint64_t asic_bytes = 0;      // the plaintext ASiC-E
    std::uint64_t encrypted_bytes = 0; // asic.zip, the CMS blob
    asic_summary asic;
};

// Packs a message. The SBD must pass validate(); documents are in upload order and the one
// named by the business message's hoveddokument moves first (without hoveddokument the first
// document is the primary one). An arkivmelding must include arkivmelding.xml.
result<pack_result> pack(const sbd& document, const std::vector<pack_document>& documents,
                         const identity& sender, const certificate& receiver,
                         const std::filesystem::path& out, const pack_options& options = {});

// Packs an SBD with no documents (status, arkivmelding_kvittering).
//
// Both pack functions build everything inside a private directory `.kurer-pack-<uuid>` (0700)
// in options.work_dir (default: beside `out`, which must be on the same file system) and
// rename the finished sbd.zip into place, so `out` is either absent or complete, also after
// kill -9. The directory is removed when the call returns.
result<pack_result> pack_receipt(const sbd& document, const std::filesystem::path& out,
                                 const pack_options& options = {});

// Removes the work directories a killed pack left in `dir`; returns how many. Call it at start-up,
// before any pack runs in that directory.
result<std::size_t> remove_pack_leftovers(const std::filesystem::path& dir);

// Where the encrypted ASiC-E of a package is: the asic.zip entry of sbd.zip.
struct asic_blob {
    std::filesystem::path package;
    std::size_t entry_index = 0;
    std::uint64_t bytes = 0; // uncompressed size of the entry
};

struct opened_package {
    sbd document;
    std::string sbd_json;             // as received
    std::optional<asic_blob> asic;    // absent for receipts
    bool has_broker_manifest = false; // Altinn 2's manifest.xml (never needed)
    bool has_recipients = false;      // Altinn 2's recipients.xml (never needed)
    std::vector<std::string> skipped; // other entries, ignored like the reference does
};

// Reads sbd.zip like the reference's AltinnPackage: the central directory, exact root-level
// names, unknown entries skipped, no sbd.json -> sbd_missing. Bounded by `lim`; the SBD is read
// leniently and must carry UUID messageId and conversationId (what a receiver insists on).
result<opened_package> open_package(const std::filesystem::path& sbd_zip, const limits& lim = {});

// Decrypts the package's asic.zip for `receiver`, streaming, into `out` (created through a
// temporary and renamed into place; fsynced when durable) or into any sink.
result<decrypt_info> decrypt_asic(const asic_blob& blob, const identity& receiver,
                                  const std::filesystem::path& out, const limits& lim = {},
                                  bool durable = false);
result<decrypt_info> decrypt_asic(const asic_blob& blob, const identity& receiver, byte_sink& out,
                                  const limits& lim = {});

// The broker's manifest.xml and recipients.xml as the reference writes them (pretty-printed
// with three spaces, UTF-8, no standalone attribute).
std::string broker_manifest_xml(const altinn2_manifest& m, std::string_view sender_org_number);
std::string broker_recipients_xml(std::string_view receiver_org_number);

} // namespace kurer::dpo

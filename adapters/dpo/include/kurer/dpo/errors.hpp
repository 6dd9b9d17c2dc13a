// What can be wrong with a DPO package, one code per kind of problem.
//
// Every reader in kurer::dpo rejects bad input with one of these codes and a message that names
// the zip entry, the JSON field or the ASN.1 element at fault. Codes are grouped by layer: the
// zip container, the SBD, the ASiC-E, the CMS structures, keys and certificates, and local I/O.
// Only io_failure is retryable: everything else is a property of the bytes and will not change.
#pragma once

#include <kurer/core/error.hpp>

#include <boost/system/error_category.hpp>

#include <string>

namespace kurer::dpo {

enum class errc {
    // zip containers (sbd.zip and the ASiC-E)
    zip_malformed = 1,    // not a ZIP, or its records contradict each other
    zip_too_many_entries, // more entries than limits::max_entries
    zip_entry_too_large,  // an entry's uncompressed size exceeds limits::max_entry_bytes
    zip_total_too_large,  // the entries together exceed limits::max_total_bytes
    zip_ratio_exceeded,   // an entry expands more than limits::max_ratio times
    zip_name_absolute,    // an entry name starts with '/' or a drive letter
    zip_name_traversal,   // an entry name has a ".." segment
    zip_name_nul,         // an entry name contains a NUL byte
    zip_name_invalid,     // empty, too long, backslash, control characters, empty segment
    zip_duplicate_entry,  // two entries with the same name
    zip_encrypted_entry,  // ZIP-level encryption is not used by DPO
    zip_unsupported_method,
    zip_data_corrupt,  // CRC mismatch or a broken deflate stream
    zip_trailing_data, // bytes before the first entry or after the end record

    // the Standard Business Document (sbd.json)
    sbd_missing, // the package has no sbd.json
    sbd_malformed_json,
    sbd_too_large,     // sbd.json larger than limits::max_sbd_bytes
    sbd_too_deep,      // JSON nested deeper than limits::max_json_depth
    sbd_duplicate_key, // a JSON object names the same member twice
    sbd_top_level,     // not exactly the header and one business message
    sbd_missing_field,
    sbd_invalid_field, // present, but of the wrong type or value
    sbd_not_uuid,      // messageId, conversationId or another id that must be a UUID
    sbd_unknown_type,  // documentIdentification.type names no known business message

    // the ASiC-E container
    asic_missing_mimetype,
    asic_wrong_mimetype,
    asic_mimetype_not_first,
    asic_mimetype_compressed,
    asic_mimetype_extra_field,
    asic_mimetype_no_sizes,   // its sizes follow the data instead of the local header
    asic_first_block_corrupt, // the MOVE-610 symptom: the first 16 bytes are garbage
    asic_unexpected_meta_inf_entry,
    asic_entry_not_flat,   // a document name with a path outside META-INF/
    asic_manifest_missing, // no META-INF/ASiCManifest*.xml
    asic_manifest_invalid, // the ASiC manifest is not what TS 102 918 describes
    asic_digest_algorithm_unsupported,
    asic_digest_mismatch,       // an entry's SHA-256 differs from the manifest's
    asic_entry_not_in_manifest, // a document the manifest does not cover
    asic_listed_entry_missing,  // the manifest lists an entry the container lacks
    asic_signature_missing,
    asic_signature_invalid,    // the CMS signature does not verify
    asic_efm_manifest_invalid, // eFormidling's manifest.xml is missing or malformed
    asic_odf_manifest_invalid, // META-INF/manifest.xml is malformed

    // CMS (EnvelopedData, SignedData)
    cms_malformed,
    cms_truncated,
    cms_trailing_data,
    cms_wrong_content_type, // not the CMS type expected here
    cms_unsupported_algorithm,
    cms_not_for_this_certificate, // no RecipientInfo names our certificate
    cms_key_decryption_failed,    // the content-encryption key does not decrypt with our key
    cms_bad_padding,              // the content does not end in valid PKCS#7 padding
    cms_content_too_large,        // the decrypted content exceeds limits::max_total_bytes

    // keys and certificates
    certificate_invalid,
    private_key_invalid,
    key_mismatch, // the private key does not belong to the certificate

    // who sent an incoming package (trust.hpp)
    signer_untrusted,  // the signer's certificate does not chain to a trusted enterprise CA, is not
                       // valid at the time, may not sign, or names no organisation
    signer_not_sender, // the signer's organisation is not the sender the SBD names
    parties_mismatch,  // the signed eFormidling manifest names other parties than the SBD

    // building packages
    document_invalid, // a document's name or file cannot go into a package

    // local files (disk full, permissions): worth trying again
    io_failure,

    // the system's time-zone database (package tzdata) has no readable Europe/Oslo
    time_zone_unavailable,
};

const boost::system::error_category& dpo_category() noexcept;
boost::system::error_code make_error_code(errc e) noexcept;

// A dpo error that is not worth retrying (everything except io_failure).
error make_dpo_error(errc e, std::string message);

// One problem found while verifying something that is reported rather than rejected at the
// first fault (the ASiC-E): the code, the entry it concerns (empty when none) and what is wrong.
struct problem {
    boost::system::error_code code;
    std::string entry;
    std::string message;
};

} // namespace kurer::dpo

template <>
struct boost::system::is_error_code_enum<kurer::dpo::errc> : std::true_type {};

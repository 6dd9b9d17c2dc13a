// The bounds every DPO reader enforces. Defaults fit the reference's 1 GB per message
// (difi.move.dpo.upload-size-limit) with room for what the container and the encryption add
// (deflate of incompressible data, CMS framing, manifests); a 0 switches that check off.
#pragma once

#include <kurer/core/xml.hpp>

#include <cstddef>
#include <cstdint>

namespace kurer::dpo {

struct limits {
    // Zip containers (sbd.zip and the ASiC-E).
    std::uint64_t max_total_bytes = 1100ull * 1024 * 1024; // uncompressed, all entries together;
                                                           // also bounds the decrypted ASiC
    std::uint64_t max_entry_bytes = 1100ull * 1024 * 1024; // uncompressed, one entry
    std::uint64_t max_entries = 1000;
    // Largest expansion (uncompressed / compressed) of one entry. Checked only for entries of
    // at least ratio_threshold_bytes uncompressed: a small XML file may compress 200:1 harmlessly.
    std::uint64_t max_ratio = 200;
    std::uint64_t ratio_threshold_bytes = 1024 * 1024;
    std::size_t max_name_bytes = 255; // an entry name, in bytes of UTF-8

    // The SBD.
    std::size_t max_sbd_bytes = 1024 * 1024;
    std::size_t max_json_depth = 32;

    // XML entries (ASiC manifest, eFormidling manifest, ODF manifest).
    xml::limits xml{4 * 1024 * 1024, 32, 100'000};

    // CMS: the signature file, and the small parts of an EnvelopedData read whole (recipient
    // infos, algorithm parameters, originator info).
    std::size_t max_signature_bytes = 1024 * 1024;
    std::size_t max_cms_header_bytes = 256 * 1024;
    std::size_t max_ber_depth = 16; // nesting of constructed OCTET STRINGs
};

} // namespace kurer::dpo

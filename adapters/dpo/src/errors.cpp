#include <kurer/dpo/errors.hpp>

namespace kurer::dpo {
namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "kurer.dpo"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::zip_malformed:
            return "malformed ZIP container";
        case errc::zip_too_many_entries:
            return "ZIP container has too many entries";
        case errc::zip_entry_too_large:
            return "ZIP entry too large";
        case errc::zip_total_too_large:
            return "ZIP container too large when uncompressed";
        case errc::zip_ratio_exceeded:
            return "ZIP entry compression ratio too high";
        case errc::zip_name_absolute:
            return "ZIP entry name is an absolute path";
        case errc::zip_name_traversal:
            return "ZIP entry name climbs out with '..'";
        case errc::zip_name_nul:
            return "ZIP entry name contains NUL";
        case errc::zip_name_invalid:
            return "invalid ZIP entry name";
        case errc::zip_duplicate_entry:
            return "duplicate ZIP entry";
        case errc::zip_encrypted_entry:
            return "encrypted ZIP entry";
        case errc::zip_unsupported_method:
            return "unsupported ZIP compression method";
        case errc::zip_data_corrupt:
            return "corrupt ZIP entry data";
        case errc::zip_trailing_data:
            return "unexpected bytes around the ZIP records";
        case errc::sbd_missing:
            return "package has no SBD";
        case errc::sbd_malformed_json:
            return "SBD is not well-formed JSON";
        case errc::sbd_too_large:
            return "SBD too large";
        case errc::sbd_too_deep:
            return "SBD JSON nested too deeply";
        case errc::sbd_duplicate_key:
            return "SBD JSON repeats a member";
        case errc::sbd_top_level:
            return "SBD must have exactly a header and one business message";
        case errc::sbd_missing_field:
            return "SBD field missing";
        case errc::sbd_invalid_field:
            return "SBD field invalid";
        case errc::sbd_not_uuid:
            return "SBD identifier is not a UUID";
        case errc::sbd_unknown_type:
            return "unknown SBD document type";
        case errc::asic_missing_mimetype:
            return "ASiC-E has no mimetype entry";
        case errc::asic_wrong_mimetype:
            return "ASiC-E mimetype is wrong";
        case errc::asic_mimetype_not_first:
            return "ASiC-E mimetype is not the first entry";
        case errc::asic_mimetype_compressed:
            return "ASiC-E mimetype is compressed";
        case errc::asic_mimetype_extra_field:
            return "ASiC-E mimetype has an extra field";
        case errc::asic_mimetype_no_sizes:
            return "ASiC-E mimetype sizes are not in its local header";
        case errc::asic_first_block_corrupt:
            return "ASiC-E first cipher block corrupt (MOVE-610)";
        case errc::asic_unexpected_meta_inf_entry:
            return "unexpected META-INF entry";
        case errc::asic_entry_not_flat:
            return "ASiC-E document name has a path";
        case errc::asic_manifest_missing:
            return "ASiC-E has no ASiCManifest";
        case errc::asic_manifest_invalid:
            return "invalid ASiCManifest";
        case errc::asic_digest_algorithm_unsupported:
            return "unsupported digest algorithm";
        case errc::asic_digest_mismatch:
            return "entry digest does not match the manifest";
        case errc::asic_entry_not_in_manifest:
            return "entry not covered by the manifest";
        case errc::asic_listed_entry_missing:
            return "manifest lists a missing entry";
        case errc::asic_signature_missing:
            return "ASiC-E signature missing";
        case errc::asic_signature_invalid:
            return "ASiC-E signature does not verify";
        case errc::asic_efm_manifest_invalid:
            return "invalid eFormidling manifest.xml";
        case errc::asic_odf_manifest_invalid:
            return "invalid META-INF/manifest.xml";
        case errc::cms_malformed:
            return "malformed CMS structure";
        case errc::cms_truncated:
            return "CMS structure truncated";
        case errc::cms_trailing_data:
            return "bytes after the CMS structure";
        case errc::cms_wrong_content_type:
            return "unexpected CMS content type";
        case errc::cms_unsupported_algorithm:
            return "unsupported CMS algorithm";
        case errc::cms_not_for_this_certificate:
            return "CMS is not encrypted for this certificate";
        case errc::cms_key_decryption_failed:
            return "CMS content-encryption key does not decrypt";
        case errc::cms_bad_padding:
            return "CMS content has bad padding";
        case errc::cms_content_too_large:
            return "CMS content too large";
        case errc::certificate_invalid:
            return "invalid certificate";
        case errc::private_key_invalid:
            return "invalid private key";
        case errc::key_mismatch:
            return "private key does not match the certificate";
        case errc::signer_untrusted:
            return "the signer's certificate is not trusted";
        case errc::signer_not_sender:
            return "the package is not signed by its sender";
        case errc::parties_mismatch:
            return "the signed manifest and the SBD name different parties";
        case errc::document_invalid:
            return "document cannot be packed";
        case errc::io_failure:
            return "file I/O failed";
        case errc::time_zone_unavailable:
            return "time zone Europe/Oslo not available";
        }
        return "unknown DPO package error";
    }
};

} // namespace

const boost::system::error_category& dpo_category() noexcept {
    static const category instance;
    return instance;
}

boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), dpo_category()};
}

error make_dpo_error(errc e, std::string message) {
    return make_error(e, std::move(message), e == errc::io_failure ? retry::yes : retry::no);
}

} // namespace kurer::dpo

#include <kurer/altinn2/errors.hpp>

#include <array>

namespace kurer::altinn2 {
namespace {

// One row per documented ErrorID. The retry column is argued in docs/protocols/altinn2.md:
// a fault caused by what was sent (credentials, rights, the file, the reference) gets the same
// answer when sent again; one caused by the server's state or a passing failure may not.
struct fault_row {
    int error_id;
    errc code;
    retry r;
    std::string_view meaning;
};

constexpr std::array<fault_row, 19> fault_table{{
    {0, errc::authentication_failed, retry::no, "authentication failed or the request could not be read"},
    {5, errc::not_authorized, retry::no, "the system could not be authenticated or authorised"},
    {6, errc::authentication_exception, retry::yes, "an exception happened while authenticating the system"},
    {989, errc::end_user_authentication_failed, retry::no, "end-user authentication failed"},
    {40201, errc::reportee_may_not_send, retry::no, "the reportee has no right to send on this service"},
    {40202, errc::recipient_invalid, retry::no, "a recipient does not exist or lacks the right to read"},
    {40204, errc::file_too_large, retry::no, "the file is too large for the web-service channel"},
    {40205, errc::no_file_data, retry::yes, "no file data was received"},
    {40206, errc::not_a_zip, retry::no, "the uploaded data is not a ZIP file"},
    {40207, errc::no_file_ready, retry::yes, "no file is ready for download for this reference"},
    {40208, errc::already_uploaded, retry::no, "a file has already been uploaded for this reference"},
    {40209, errc::virus_scan_rejected, retry::no, "the file was rejected by the virus scan"},
    {40210, errc::not_a_broker_service, retry::no,
     "the service code or edition is missing, 0, or not a broker service"},
    {40211, errc::action_not_authorized, retry::no, "the caller is not authorised for this action"},
    {40212, errc::unknown_reference, retry::no, "the reference is not a broker service file"},
    {40213, errc::reportee_mismatch, retry::no, "the reportee does not match Altinn's data for the file"},
    {40214, errc::invalid_reportee, retry::no, "the reportee is not a valid organisation or person number"},
    {40215, errc::recipient_lacks_rights, retry::no, "the recipient lacks the right to download"},
    {40216, errc::security_level_too_low, retry::no, "the security level is too low"},
}};

const fault_row* row_for(int error_id) noexcept {
    for (const auto& r : fault_table)
        if (r.error_id == error_id)
            return &r;
    return nullptr;
}

const fault_row* row_for(errc e) noexcept {
    for (const auto& r : fault_table)
        if (r.code == e)
            return &r;
    return nullptr;
}

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "kurer.altinn2"; }
    std::string message(int ev) const override {
        const auto e = static_cast<errc>(ev);
        if (const auto* r = row_for(e))
            return "Altinn fault " + std::to_string(r->error_id) + ": " + std::string(r->meaning);
        switch (e) {
        case errc::undocumented_fault:
            return "Altinn fault with an undocumented ErrorID";
        case errc::soap_fault:
            return "SOAP fault";
        case errc::malformed_envelope:
            return "malformed SOAP envelope";
        case errc::receipt_not_ok:
            return "the upload receipt is not OK";
        case errc::bad_content_type:
            return "unreadable Content-Type";
        case errc::malformed_multipart:
            return "malformed multipart body";
        case errc::truncated_multipart:
            return "truncated multipart body";
        case errc::limit_exceeded:
            return "multipart body beyond the configured limits";
        case errc::attachment_missing:
            return "the attachment the envelope refers to is missing";
        case errc::invalid_value:
            return "a value XML cannot carry";
        case errc::file_error:
            return "file error";
        default:
            return "unknown Altinn 2 error";
        }
    }
};

// Server texts go into log lines; keep one runaway message from flooding them.
std::string clipped(std::string_view text) {
    constexpr std::size_t max = 500;
    if (text.size() <= max)
        return std::string(text);
    return std::string(text.substr(0, max)) + "...";
}

} // namespace

const boost::system::error_category& altinn2_category() noexcept {
    static const category instance;
    return instance;
}

boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), altinn2_category()};
}

std::optional<errc> errc_for_error_id(int error_id) noexcept {
    if (const auto* r = row_for(error_id))
        return r->code;
    return std::nullopt;
}

std::optional<int> fault_error_id(errc e) noexcept {
    if (const auto* r = row_for(e))
        return r->error_id;
    return std::nullopt;
}

bool is_retryable_error_id(int error_id) noexcept {
    if (const auto* r = row_for(error_id))
        return r->r == retry::yes;
    // An ErrorID nobody documented: assume the server's trouble. Retrying costs a little; a
    // permanent verdict would fail a message that might have gone through.
    return true;
}

kurer::error fault_error(const soap_fault& fault) {
    if (!fault.detail || !fault.detail->error_id) {
        // Without an ErrorID only the faultcode tells whose fault it was: WCF answers requests it
        // cannot read with Client (or a:DeserializationFailed), its own failures with Server
        // (or a:InternalServiceFault).
        const bool sender_fault = fault.code == "Client" || fault.code == "DeserializationFailed";
        std::string message =
            "SOAP fault " + (fault.code.empty() ? std::string("(no faultcode)") : fault.code);
        if (!fault.text.empty())
            message += ": " + clipped(fault.text);
        if (fault.detail && fault.detail->error_message)
            message += "; AltinnErrorMessage: " + clipped(*fault.detail->error_message);
        return make_error(errc::soap_fault, std::move(message), sender_fault ? retry::no : retry::yes);
    }
    const altinn_fault& d = *fault.detail;
    const int id = *d.error_id;
    const auto* row = row_for(id);
    std::string message = "Altinn fault ErrorID " + std::to_string(id) + " (" +
                          (row ? std::string(row->meaning) : std::string("undocumented ErrorID")) + ")";
    auto add = [&message](std::string_view name, const std::optional<std::string>& value) {
        if (value && !value->empty())
            message += "; " + std::string(name) + ": " + clipped(*value);
    };
    add("AltinnErrorMessage", d.error_message);
    if (d.localized_error_message != d.error_message)
        add("AltinnLocalizedErrorMessage", d.localized_error_message);
    add("ErrorGuid", d.error_guid);
    add("UserId", d.user_id);
    return make_error(row ? row->code : errc::undocumented_fault, std::move(message),
                      is_retryable_error_id(id) ? retry::yes : retry::no);
}

} // namespace kurer::altinn2

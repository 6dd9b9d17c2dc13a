// The Altinn 2 broker messages DPO exchanges, as plain values: what a request carries and
// what a response returns. codec.hpp turns them into SOAP 1.1 envelopes and back, for the
// client (build requests, read responses) and for the sandbox (read requests, build responses).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kurer::altinn2 {

// DPO's broker service: code 4192, edition 270815 in Altinn's test environments, 170101 in
// production.
inline constexpr std::int32_t test_service_edition = 270815;
inline constexpr std::int32_t production_service_edition = 170101;

struct service_id {
    service_id() = default;
    service_id(std::string code_, std::int32_t edition_)
        : code(std::move(code_))
        , edition(edition_) {}

    std::string code = "4192";
    std::int32_t edition = test_service_edition;

    bool operator==(const service_id&) const = default;
};

// The end-user system's credentials ("Basic": carried inside every message). The password is
// a secret: nothing in this module puts it in an error message.
struct credentials {
    std::string system_user;
    std::string system_password;

    bool operator==(const credentials&) const = default;
};

// What the adapter needs from kurer.json's broker.altinn2 section.
struct config {
    std::string basic_url;    // .../BrokerServiceExternalBasic.svc
    std::string streamed_url; // .../BrokerServiceExternalBasicStreamed.svc
    credentials account;
    service_id service;
};

// InitiateBrokerServiceBasic (sender, step 1).
struct initiate_request {
    credentials account;
    service_id service;
    std::string reportee;                // the sender's organisation number, no "0192:" prefix
    std::string senders_reference;       // see addressing.hpp
    std::vector<std::string> recipients; // DPO: exactly one organisation number
    std::vector<std::string> file_names; // Manifest/FileList; empty = no FileList element

    bool operator==(const initiate_request&) const = default;
};

// The SOAP headers of UploadFileStreamedBasic; the file travels as the MTOM attachment.
struct upload_request {
    credentials account;
    std::string file_name = "sbd.zip";
    std::string reference; // the GUID InitiateBrokerServiceBasic returned
    std::string reportee;  // the sender

    bool operator==(const upload_request&) const = default;
};

// ReceiptExternalStreamedBE, the answer to an upload (every member optional in the WSDL).
struct upload_receipt {
    std::optional<std::string> last_changed; // "08.05.2024 13:29:28": not an xs:dateTime
    std::optional<std::int32_t> parent_receipt_id;
    std::optional<std::string> receipt_history;
    std::optional<std::int32_t> receipt_id;
    std::optional<std::string> status_code; // OK, UnExpectedError, ValidationFailed, Rejected
    std::optional<std::string> text;
    std::optional<std::string> type_name; // BrokerService

    bool operator==(const upload_receipt&) const = default;
};

// CheckIfAvailableFilesBasic (recipient, cheap poll).
struct check_request {
    credentials account;
    std::optional<service_id> service; // always sent by kurer; absent = Altinn 2 files only
    std::vector<std::string> recipients;

    bool operator==(const check_request&) const = default;
};

enum class file_status { uploaded, downloaded };

// GetAvailableFilesBasic (recipient, list).
struct list_request {
    credentials account;
    std::optional<service_id> service;
    file_status status = file_status::uploaded;
    std::optional<std::string> max_sent; // xs:dateTime
    std::optional<std::string> min_sent; // xs:dateTime
    std::string reportee;                // the recipient to list for

    bool operator==(const list_request&) const = default;
};

// One BrokerServiceAvailableFile. Every member is optional in the WSDL; a nil one reads as
// absent (for SendersReference both mean "no reference", as in the reference client).
struct available_file {
    std::optional<std::string> service_code;
    std::optional<std::int32_t> service_edition;
    std::optional<std::string> file_name;
    std::optional<std::string> file_reference; // a GUID: the handle for download and confirm
    std::optional<std::int64_t> file_size;
    std::optional<file_status> status; // this recipient's status
    std::optional<bool> sftp_download_only;
    std::optional<std::int32_t> receipt_id;
    std::optional<std::string> reportee; // the sender
    std::optional<std::string> senders_reference;
    std::optional<std::string> sent_date; // xs:dateTime as sent, e.g. 2024-05-07T09:22:52.800185+02:00

    bool operator==(const available_file&) const = default;
};

// DownloadFileStreamedBasic and ConfirmDownloadedBasic take the same members.
struct file_request {
    credentials account;
    std::string file_reference;
    std::string reportee; // the recipient

    bool operator==(const file_request&) const = default;
};
using download_request = file_request;
using confirm_request = file_request;

// Requests filled from the configuration: credentials, service code and edition.
initiate_request initiate_for(const config& c, std::string reportee, std::string senders_reference,
                              std::string recipient, std::string file_name = "sbd.zip");
upload_request upload_for(const config& c, std::string reference, std::string reportee,
                          std::string file_name = "sbd.zip");
check_request check_for(const config& c, std::string recipient);
// FileStatus Uploaded: what is waiting for `recipient`.
list_request list_for(const config& c, std::string recipient);
file_request file_request_for(const config& c, std::string file_reference, std::string recipient);

} // namespace kurer::altinn2

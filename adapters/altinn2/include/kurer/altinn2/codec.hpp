// SOAP 1.1 envelopes of the Altinn 2 broker services, both ways round.
//
// Client side: write_*_request builds the exact envelope to POST (with the SOAPAction from
// operations.hpp and Content-Type soap_content_type); read_*_response reads the answer and turns
// a SOAP fault into the typed error of errors.hpp. Server side (the sandbox): read_*_request and
// write_*_response / write_fault. Nothing here moves bytes: the streamed operations' MTOM framing
// lives in mtom.hpp and streamed.hpp.
//
// Writing is byte-stable: the same values always give the same bytes (no whitespace, fixed
// prefixes). A value XML cannot carry (a control character, invalid UTF-8) is refused with
// errc::invalid_value naming the field, never the value.
//
// Reading follows WCF: namespaces are exact, unknown elements are skipped, xsi:nil reads as
// absent. Requests (read by the sandbox) are read with WCF's DataContractSerializer order rule:
// members in the WSDL sequence order, an out-of-order member counts as absent. Responses (read by
// the client) are found by name in any order, so a server that reorders cannot make the client
// miss a member. SOAP headers are order-free on both sides.
#pragma once

#include <kurer/altinn2/errors.hpp>
#include <kurer/altinn2/messages.hpp>
#include <kurer/core/error.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kurer::altinn2 {

// Content-Type of the Basic service's requests and plain (non-MTOM) responses.
inline constexpr std::string_view soap_content_type = "text/xml; charset=utf-8";

// ---- client: requests -------------------------------------------------------------------

result<std::string> write_initiate_request(const initiate_request& r);
result<std::string> write_check_request(const check_request& r);
result<std::string> write_list_request(const list_request& r);
result<std::string> write_download_request(const download_request& r);
result<std::string> write_confirm_request(const confirm_request& r);
// The root part of an upload: the five SOAP headers and a body whose DataStream is an
// xop:Include of the attachment with this Content-ID (given without angle brackets).
result<std::string> write_upload_envelope(const upload_request& r, std::string_view attachment_content_id);

// ---- client: responses ------------------------------------------------------------------

// The reference GUID to upload with.
result<std::string> read_initiate_response(std::string_view envelope);
result<bool> read_check_response(std::string_view envelope);
result<std::vector<available_file>> read_list_response(std::string_view envelope);
// A receipt whose ReceiptStatusCode is not OK is errc::receipt_not_ok (retryable only for
// UnExpectedError); a receipt without ReceiptStatusCode is malformed.
result<upload_receipt> read_upload_response(std::string_view envelope);
// The Content-ID (decoded, no "cid:", no angle brackets) the DownloadFileStreamedBasicResult's
// xop:Include points at.
result<std::string> read_download_response(std::string_view envelope);
result<void> read_confirm_response(std::string_view envelope);

// The fault an envelope carries, if it is a SOAP 1.1 fault.
std::optional<soap_fault> parse_fault(std::string_view envelope);

// ---- server: requests -------------------------------------------------------------------

// What the sandbox learns from an upload's root part.
struct upload_envelope {
    upload_request headers;
    // The Content-ID the DataStream's xop:Include names; absent when DataStream carries no
    // xop:Include (e.g. inline base64, which the streamed service does not take).
    std::optional<std::string> attachment_content_id;

    bool operator==(const upload_envelope&) const = default;
};

result<initiate_request> read_initiate_request(std::string_view envelope);
result<check_request> read_check_request(std::string_view envelope);
result<list_request> read_list_request(std::string_view envelope);
result<download_request> read_download_request(std::string_view envelope);
result<confirm_request> read_confirm_request(std::string_view envelope);
result<upload_envelope> read_upload_envelope(std::string_view envelope);

// ---- server: responses ------------------------------------------------------------------

result<std::string> write_initiate_response(std::string_view reference);
std::string write_check_response(bool available);
// Every member of every file is written, absent nillable ones as xsi:nil (as WCF does).
result<std::string> write_list_response(const std::vector<available_file>& files);
result<std::string> write_upload_response(const upload_receipt& receipt);
result<std::string> write_download_response(std::string_view attachment_content_id);
std::string write_confirm_response();
// A fault envelope (sent with HTTP 500). Every AltinnFault member is written: absent string
// members as xsi:nil, ErrorID only when known.
result<std::string> write_fault(const soap_fault& fault);

// A fault as Altinn raises it, with every member the reference client dereferences present:
// faultcode Client, the message as faultstring, AltinnErrorMessage and
// AltinnLocalizedErrorMessage, a fresh ErrorGuid, UserId "0".
soap_fault make_fault(int error_id, std::string message);

} // namespace kurer::altinn2

// Errors of the Altinn 3 broker client: one code per BRO- problem code the broker documents
// (altinn-broker.md §4.5), the HTTP answers that carry none (401, 403, 406, 415, validation
// 400s, other 4xx and 5xx), and what can go wrong on our side.
//
// Every broker answer that is not 2xx becomes a kurer::error whose code says what happened, whose
// message quotes the problem's code, detail and traceId (never a token), and whose retryable flag
// says whether the same request may succeed later: "not ready yet" and the broker's own failures
// are retryable, a wrong request or missing rights are not.
#pragma once

#include <kurer/core/error.hpp>

#include <boost/system/error_category.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace kurer::altinn3 {

enum class errc {
    // Problem codes: the value is the number of "BRO-000nn".
    file_transfer_not_found = 1,       // 404: unknown id (checked before access)
    service_owner_not_configured = 2,  // 400
    no_file_uploaded = 3,              // 400: confirm (or download) before an upload
    already_uploaded = 4,              // 409: a second upload; after a crash the file is there
    not_an_altinn3_resource = 5,       // 403
    no_access = 6,                     // 401: wrong party, not sender/recipient, unknown resource
    not_ready_for_download = 7,        // 403: still processing (retryable), failed or purged
    upload_failed = 8,                 // 500: the broker's storage failed (retryable)
    checksum_mismatch = 9,             // 400: the upload does not match the initialize checksum
    confirm_only_when_published = 10,  // 400: already all confirmed, or purged
    file_too_large = 16,               // 400: over the resource's maximum size
    confirm_before_download = 19,      // 400: confirm without a download having started
    storage_not_ready = 21,            // 503 (retryable)
    resource_not_configured = 25,      // 400
    recipient_not_in_access_list = 28, // 400
    unsatisfiable_range = 29,          // 416

    // Answers without a BRO code.
    unauthorized = 100,     // 401: token missing, invalid or expired
    forbidden,              // 403: the token lacks the operation's scope
    not_acceptable,         // 406: our Accept header excludes JSON
    unsupported_media_type, // 415: the upload's Content-Type
    validation_failed,      // 400 with an `errors` map (the request body broke a field rule)
    unknown_problem_code,   // a BRO code this client does not know
    http_error,             // another non-2xx answer (5xx and 429 retryable)

    // Our side and the exchange.
    token_exchange_failed, // the Altinn token exchange refused the Maskinporten token
    bad_response,          // a 2xx answer whose body is not what the API promises
    file_error,            // reading the file to upload or writing the download failed
    invalid_argument,      // a request this client will not send (bad id, empty recipients)
};

const boost::system::error_category& altinn3_category() noexcept;
boost::system::error_code make_error_code(errc e) noexcept;

// The errc for "BRO-000nn"; nullopt for anything else.
std::optional<errc> parse_problem_code(std::string_view code) noexcept;
// "BRO-000nn" for a problem-code errc, empty for the others.
std::string problem_code_text(errc e);
// Whether the same request may succeed later without anything else changing.
bool is_retryable(errc e) noexcept;

// A problem+json answer's members (absent ones empty / 0).
struct problem {
    unsigned status = 0;
    std::string type;
    std::string title;
    std::string detail;
    std::string code; // "BRO-00007"
    std::string trace_id;
    std::string validation_errors; // "field: message; ..." of a validation problem
};

// Parses a problem JSON body; nullopt when the body is not a JSON object.
std::optional<problem> parse_problem(std::string_view body);

// A non-2xx broker answer as an error: "<what>: HTTP <status> <code>: <detail> (traceId <id>)".
error error_from_response(unsigned status, std::string_view body, std::string_view what);

} // namespace kurer::altinn3

template <>
struct boost::system::is_error_code_enum<kurer::altinn3::errc> : std::true_type {};

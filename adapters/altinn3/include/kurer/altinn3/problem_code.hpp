// The Altinn 3 Broker's problem codes ("BRO-00001" ...) and what a client should do about each.
#pragma once

#include <optional>
#include <string_view>

namespace kurer::altinn3 {

enum class problem_code {
    file_transfer_not_found = 1,     // BRO-00001, 404
    service_owner_not_configured = 2,
    no_file_uploaded = 3,            // BRO-00003
    already_uploaded = 4,            // BRO-00004, 409
    not_an_altinn3_resource = 5,
    no_access = 6,                   // BRO-00006, 401
    not_ready_for_download = 7,      // BRO-00007, 403
    upload_failed = 8,               // BRO-00008, 500
    checksum_mismatch = 9,           // BRO-00009
    confirm_only_when_published = 10,
    file_too_large = 16,
    confirm_before_download = 19,
    storage_not_ready = 21,          // BRO-00021, 503
    resource_not_configured = 25,
    recipient_not_in_access_list = 28,
    unsatisfiable_range = 29,        // BRO-00029, 416
};

// Parses "BRO-00007"; nullopt for codes this client does not know.
std::optional<problem_code> parse_problem_code(std::string_view code) noexcept;

// Whether the same request may succeed later without anything else changing: the broker's
// own failures and "not ready yet" are, a wrong request or missing rights are not.
bool is_retryable(problem_code code) noexcept;

} // namespace kurer::altinn3

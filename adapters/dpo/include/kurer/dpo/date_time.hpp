// Date-times as the SBD carries them: an instant plus the UTC offset it was written with.
//
// Output follows the reference's Jackson (ISO-8601 with offset, seconds always present, a
// fraction only when non-zero, `Z` for UTC). Input accepts any ISO-8601 date-time; one without
// an offset is local time in Europe/Oslo. Oslo's offsets come from the system's time-zone
// database (package tzdata, /usr/share/zoneinfo, read through date::date-tz), so history and
// future changes are whatever tzdata says: no summer time in 1966-1979, 1980's from 6 April to
// 28 September, the EU rule since 1996.
#pragma once

#include <kurer/core/error.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace kurer::dpo {

using instant = std::chrono::sys_time<std::chrono::nanoseconds>;

struct date_time {
    instant utc;
    std::chrono::minutes offset{0}; // local time = utc + offset

    // `t` with Europe/Oslo's offset at that instant (what the reference writes).
    static date_time in_oslo(instant t);

    friend bool operator==(const date_time&, const date_time&) = default;
};

// Reads Europe/Oslo from the system's time-zone database, once. Programs call it at start, so
// that a missing tzdata is a clear error (errc::time_zone_unavailable) before any message
// moves; the functions below throw error_exception with that error when it fails.
result<void> load_oslo_time_zone();

// Europe/Oslo's UTC offset at an instant, as tzdata has it (today +01:00, or +02:00 from the
// last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC).
std::chrono::minutes oslo_offset(instant t);

// The instant of a wall-clock time in Oslo, resolved like java.time: in the spring gap the time
// moves forward by the gap's length; in the autumn overlap the earlier (summer) offset wins.
instant oslo_local_to_utc(std::chrono::local_time<std::chrono::nanoseconds> local);

// "2019-03-25T11:35:00+01:00", "2019-03-25T10:35:00.5Z".
std::string format_date_time(const date_time& t);

// YYYY-MM-DDTHH:MM[:SS[.fraction]] followed by Z, ±HH:MM, ±HHMM, ±HH, or nothing (Oslo time).
// The error names what is wrong; callers prefix the field.
result<date_time> parse_date_time(std::string_view text);

} // namespace kurer::dpo

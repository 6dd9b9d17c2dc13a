#include <kurer/dpo/date_time.hpp>
#include <kurer/dpo/errors.hpp>

#include <date/tz.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>

// date::date-tz must read the compiled zone files the tzdata package installs, never a copy of
// its own or one it downloads: Debian builds it so (USE_SYSTEM_TZ_DB), and its CMake target
// date::date-tz sets USE_OS_TZDB=1 for us. Compiled otherwise, tz.h would not match the library.
#if !USE_OS_TZDB
#error "kurer::dpo needs date::date-tz with USE_OS_TZDB=1 (the system's time-zone database)"
#endif

namespace kurer::dpo {
namespace {

using namespace std::chrono;

constexpr const char* zone_name = "Europe/Oslo";
// Where date::date-tz reads compiled zones from (USE_OS_TZDB; not configurable in 3.0).
constexpr const char* zoneinfo_dir = "/usr/share/zoneinfo";

// The footer of a compiled zone file (TZif version 2 or later, RFC 8536 section 3.3): a POSIX
// TZ string for the times after the last transition the file lists, such as
// "CET-1CEST,M3.5.0,M10.5.0/3". Empty for a version 1 file or one without a footer.
std::string tz_footer(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (bytes.size() < 6 || bytes.compare(0, 4, "TZif") != 0 || bytes[4] < '2' || bytes.back() != '\n')
        return {};
    const auto start = bytes.rfind('\n', bytes.size() - 2);
    return start == std::string::npos ? std::string() : bytes.substr(start + 1, bytes.size() - start - 2);
}

// Europe/Oslo as the system's time-zone database (package tzdata) has it, loaded once.
//
// A compiled zone file lists transitions up to some year (2037 in Debian's) and says in its
// footer which yearly rule continues after them. date::date-tz 3.0 does not apply that rule:
// past the last listed transition it keeps the last offset (winter time forever), and its
// ptz.h, which reads such rules, does not compile as C++20. So an instant past the listed
// transitions is looked up, when the footer has a yearly rule, in the listed year with the
// same calendar (leap or not, same weekday on 1 January): a yearly rule is a function of the
// calendar, and such a year is found among any 28 consecutive years without a skipped leap day.
class oslo_zone {
public:
    static result<oslo_zone> load() {
        oslo_zone z;
        sys_seconds last; // the start of the open-ended last period: the last listed transition
        try {
            z.zone_ = date::locate_zone(zone_name);
            last = z.zone_->get_info(sys_days{year{9999} / January / 1}).begin;
        } catch (const std::exception& e) {
            return make_dpo_error(errc::time_zone_unavailable,
                                  std::string("cannot read time zone ") + zone_name +
                                      " from the system's time-zone database (" + zoneinfo_dir +
                                      ", package tzdata): " + e.what());
        }
        if (tz_footer(std::string(zoneinfo_dir) + "/" + zone_name).find(',') != std::string::npos) {
            // A yearly rule with summer time continues; the year before the last transition's
            // is the last one listed whole.
            z.listed_until_ = last;
            z.last_listed_ = year_month_day{floor<days>(last)}.year() - years{1};
        }
        return z;
    }

    minutes offset(instant t) const {
        if (listed_until_ && t >= *listed_until_)
            if (const auto shift = to_listed_year(year_month_day{floor<days>(t)}.year()))
                t += *shift;
        return floor<minutes>(zone_->get_info(t).offset);
    }

    // The offset in force just before a wall-clock time: the only one when the time is unique;
    // in the autumn overlap the earlier (summer) offset; in the spring gap the winter offset.
    minutes offset_before(local_time<nanoseconds> local) const {
        const auto info = zone_->get_info(date::local_time<nanoseconds>{local.time_since_epoch()}).first;
        if (listed_until_ && instant{local.time_since_epoch()} - info.offset >= *listed_until_) {
            if (const auto shift = to_listed_year(year_month_day{floor<days>(local)}.year())) {
                const auto shifted = date::local_time<nanoseconds>{(local + *shift).time_since_epoch()};
                return floor<minutes>(zone_->get_info(shifted).first.offset);
            }
        }
        return floor<minutes>(info.offset);
    }

private:
    // How far to move a date in year `y` to the same date in a listed year with y's calendar.
    std::optional<days> to_listed_year(year y) const {
        const auto first = sys_days{y / January / 1};
        for (auto candidate = last_listed_; candidate > last_listed_ - years{28}; --candidate) {
            const auto other = sys_days{candidate / January / 1};
            if (candidate.is_leap() == y.is_leap() && weekday{other} == weekday{first})
                return other - first;
        }
        return std::nullopt;
    }

    const date::time_zone* zone_ = nullptr;
    std::optional<sys_seconds> listed_until_; // set when a yearly rule continues after it
    year last_listed_{};
};

const result<oslo_zone>& oslo() {
    static const result<oslo_zone> zone = oslo_zone::load();
    return zone;
}

const oslo_zone& oslo_or_throw() {
    const auto& z = oslo();
    if (!z)
        throw error_exception(z.error());
    return *z;
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size())
        return false;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

error bad(std::string_view text, std::string why) {
    return make_dpo_error(errc::sbd_invalid_field,
                          "\"" + std::string(text.substr(0, 64)) + "\" is not an ISO-8601 date-time: " + why);
}

} // namespace

result<void> load_oslo_time_zone() {
    if (const auto& z = oslo(); !z)
        return z.error();
    return {};
}

minutes oslo_offset(instant t) {
    return oslo_or_throw().offset(t);
}

date_time date_time::in_oslo(instant t) {
    return date_time{t, oslo_offset(t)};
}

instant oslo_local_to_utc(local_time<nanoseconds> local) {
    // In the autumn overlap the earlier offset (summer time) wins. In the spring gap (02:00-03:00
    // local does not exist) java.time moves the wall-clock time forward by the gap, which is the
    // same instant as reading it with the offset before the gap (winter time).
    return instant{local.time_since_epoch() - oslo_or_throw().offset_before(local)};
}

std::string format_date_time(const date_time& t) {
    const auto local = t.utc + t.offset;
    const auto day = floor<days>(local);
    const year_month_day ymd{day};
    const hh_mm_ss<nanoseconds> tod{local - day};
    char buf[64];
    int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                          static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                          static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                          static_cast<int>(tod.seconds().count()));
    std::string out(buf, static_cast<std::size_t>(n));
    if (const auto ns = tod.subseconds().count(); ns != 0) {
        // As many digits as needed, like java.time's ISO formatter.
        char frac[16];
        std::snprintf(frac, sizeof frac, "%09lld", static_cast<long long>(ns));
        std::string f(frac);
        while (!f.empty() && f.back() == '0')
            f.pop_back();
        out += '.' + f;
    }
    if (t.offset == minutes{0}) {
        out += 'Z';
    } else {
        const auto total = t.offset.count();
        const auto abs = total < 0 ? -total : total;
        n = std::snprintf(buf, sizeof buf, "%c%02d:%02d", total < 0 ? '-' : '+', static_cast<int>(abs / 60),
                          static_cast<int>(abs % 60));
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

result<date_time> parse_date_time(std::string_view text) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    if (!digits(text, 0, 4, y) || text.size() < 16 || text[4] != '-' || !digits(text, 5, 2, mo) ||
        text[7] != '-' || !digits(text, 8, 2, d) || (text[10] != 'T' && text[10] != 't') ||
        !digits(text, 11, 2, h) || text[13] != ':' || !digits(text, 14, 2, mi))
        return bad(text, "expected YYYY-MM-DDTHH:MM");
    std::size_t pos = 16;
    nanoseconds fraction{0};
    if (pos < text.size() && text[pos] == ':') {
        if (!digits(text, pos + 1, 2, s))
            return bad(text, "expected two digits of seconds");
        pos += 3;
        if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
            ++pos;
            long long ns = 0;
            std::size_t count = 0;
            while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
                if (count < 9)
                    ns = ns * 10 + (text[pos] - '0');
                ++count;
                ++pos;
            }
            if (count == 0)
                return bad(text, "expected digits after the decimal point");
            for (std::size_t i = count; i < 9; ++i)
                ns *= 10;
            fraction = nanoseconds{ns};
        }
    }
    // An instant is nanoseconds since 1970 in 64 bits: 1677-09-21 to 2262-04-11.
    if (y < 1678 || y > 2261)
        return bad(text, "the year must be between 1678 and 2261");
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok())
        return bad(text, "no such date");
    if (h > 23 || mi > 59 || s > 59)
        return bad(text, "no such time of day");
    const auto local = sys_days{ymd}.time_since_epoch() + hours{h} + minutes{mi} + seconds{s} + fraction;

    if (pos == text.size()) {
        if (auto zone = load_oslo_time_zone(); !zone)
            return zone.error();
        const instant utc = oslo_local_to_utc(local_time<nanoseconds>{local});
        return date_time{utc, oslo_offset(utc)};
    }
    minutes offset{0};
    const char sign = text[pos];
    if (sign == 'Z' || sign == 'z') {
        ++pos;
    } else if (sign == '+' || sign == '-') {
        int oh = 0, om = 0;
        if (!digits(text, pos + 1, 2, oh))
            return bad(text, "expected an offset like +01:00");
        pos += 3;
        if (pos < text.size() && text[pos] == ':') {
            if (!digits(text, pos + 1, 2, om))
                return bad(text, "expected an offset like +01:00");
            pos += 3;
        } else if (pos < text.size()) {
            if (!digits(text, pos, 2, om))
                return bad(text, "expected an offset like +01:00");
            pos += 2;
        }
        if (oh > 18 || om > 59)
            return bad(text, "offset out of range");
        offset = minutes{(sign == '-' ? -1 : 1) * (oh * 60 + om)};
    } else {
        return bad(text, "unexpected '" + std::string(1, sign) + "' after the time");
    }
    if (pos != text.size())
        return bad(text, "unexpected text after the offset");
    return date_time{instant{local - offset}, offset};
}

} // namespace kurer::dpo

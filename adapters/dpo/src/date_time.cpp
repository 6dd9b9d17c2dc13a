#include <kurer/dpo/date_time.hpp>
#include <kurer/dpo/errors.hpp>

#include <cstdio>

namespace kurer::dpo {
namespace {

using namespace std::chrono;

// 01:00 UTC on the last Sunday of `m` in year `y`: when EU summer time starts (March) or ends
// (October).
sys_seconds eu_transition(year y, month m) {
    const sys_days day{year_month_weekday_last{y, m, weekday_last{Sunday}}};
    return day + hours{1};
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

minutes oslo_offset(instant t) {
    const auto day = floor<days>(t);
    const year y = year_month_day{day}.year();
    const auto start = eu_transition(y, March);
    const auto end = eu_transition(y, October);
    return (t >= start && t < end) ? minutes{120} : minutes{60};
}

date_time date_time::in_oslo(instant t) {
    return date_time{t, oslo_offset(t)};
}

instant oslo_local_to_utc(local_time<nanoseconds> local) {
    const instant as_cest{local.time_since_epoch() - hours{2}};
    const instant as_cet{local.time_since_epoch() - hours{1}};
    const bool cest_ok = oslo_offset(as_cest) == hours{2};
    const bool cet_ok = oslo_offset(as_cet) == hours{1};
    if (cest_ok) // valid in summer time; in the autumn overlap the earlier offset (summer) wins
        return as_cest;
    if (cet_ok)
        return as_cet;
    // The spring gap (02:00-03:00 local does not exist): java.time moves the wall-clock time
    // forward by the gap, which is the same instant as reading it with the winter offset.
    return as_cet;
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

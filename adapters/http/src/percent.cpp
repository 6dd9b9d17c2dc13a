#include <kurer/http/error.hpp>
#include <kurer/http/percent.hpp>

#include <boost/url/encode.hpp>
#include <boost/url/encoding_opts.hpp>
#include <boost/url/error.hpp>
#include <boost/url/parse_query.hpp>
#include <boost/url/pct_string_view.hpp>

namespace kurer::http {
namespace {

namespace urls = boost::urls;

// Boost.URL's reasons, said for a person reading an error.
std::string reason(const boost::system::error_code& ec) {
    if (ec == urls::error::bad_pct_hexdig)
        return "invalid %-escape (a '%' must be followed by two hex digits)";
    if (ec == urls::error::incomplete_encoding || ec == urls::error::missing_pct_hexdig)
        return "truncated %-escape (a '%' must be followed by two hex digits)";
    return "a character that must be percent-encoded";
}

} // namespace

std::string percent_encode(std::string_view s, const char_set& keep) {
    return urls::encode(s, keep);
}

result<std::string> percent_decode(std::string_view s) {
    const auto pct = urls::make_pct_string_view(s);
    if (!pct)
        return make_error(errc::bad_message, reason(pct.error()), retry::no);
    return pct->decode();
}

std::string form_encode(const form_fields& fields) {
    const urls::encoding_opts form{/*space_as_plus=*/true};
    std::string out;
    for (const auto& [name, value] : fields) {
        if (!out.empty())
            out += '&';
        out += urls::encode(name, unreserved_chars, form);
        out += '=';
        out += urls::encode(value, unreserved_chars, form);
    }
    return out;
}

result<form_fields> form_decode(std::string_view body) {
    const auto params = urls::parse_query(body);
    if (!params)
        return make_error(errc::bad_message, "form body: " + reason(params.error()), retry::no);
    const urls::encoding_opts form{/*space_as_plus=*/true};
    form_fields out;
    for (const auto p : *params) {
        if (p.key.empty() && !p.has_value)
            continue; // "a=1&&b=2", a trailing '&'
        out.emplace_back(p.key.decode(form), p.value.decode(form));
    }
    return out;
}

} // namespace kurer::http

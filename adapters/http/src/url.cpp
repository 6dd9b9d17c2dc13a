#include <kurer/http/url.hpp>

#include <boost/system/errc.hpp>
#include <boost/url/parse.hpp>

namespace kurer::http {

std::string url::origin() const {
    std::string out = scheme + "://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host);
    const bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
    if (!default_port)
        out += ":" + std::to_string(port);
    return out;
}

url url::with_path(std::string_view path) const {
    url out = *this;
    const auto query = out.target.find('?');
    std::string base = out.target.substr(0, query);
    if (!base.empty() && base.back() == '/' && !path.empty() && path.front() == '/')
        base.pop_back();
    out.target = base + std::string(path);
    return out;
}

result<url> parse_url(std::string_view text) {
    const auto invalid = [&](std::string why) {
        return make_error(make_error_code(boost::system::errc::invalid_argument),
                          "invalid URL '" + std::string(text) + "': " + why);
    };
    auto parsed = boost::urls::parse_absolute_uri(text);
    if (!parsed)
        return invalid(parsed.error().message());
    url out;
    out.scheme = parsed->scheme();
    if (out.scheme != "https" && out.scheme != "http")
        return invalid("scheme must be https or http");
    if (!parsed->has_authority() || parsed->encoded_host().empty())
        return invalid("no host");
    out.host = parsed->host_type() == boost::urls::host_type::ipv6
                   ? std::string(parsed->host_ipv6_address().to_string())
                   : std::string(parsed->encoded_host());
    if (parsed->has_port()) {
        if (parsed->port_number() == 0)
            return invalid("port must be 1-65535");
        out.port = parsed->port_number();
    } else {
        out.port = out.scheme == "https" ? 443 : 80;
    }
    out.target = std::string(parsed->encoded_path());
    if (out.target.empty())
        out.target = "/";
    if (parsed->has_query())
        out.target += "?" + std::string(parsed->encoded_query());
    return out;
}

} // namespace kurer::http

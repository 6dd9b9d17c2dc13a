#include <kurer/http/error.hpp>
#include <kurer/http/percent.hpp>

#include <boost/test/unit_test.hpp>

namespace http = kurer::http;

BOOST_AUTO_TEST_SUITE(percent)

BOOST_AUTO_TEST_CASE(encodes_every_byte_outside_the_set_with_upper_case_hex) {
    // Unreserved characters stay; reserved ones and the rest become %XX.
    BOOST_TEST(http::percent_encode("AZaz09-._~") == "AZaz09-._~");
    BOOST_TEST(http::percent_encode(":/?#[]@!$&'()*+,;=") ==
               "%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D");
    BOOST_TEST(http::percent_encode("a b%c") == "a%20b%25c");
    // UTF-8 is encoded byte by byte; control bytes and NUL too.
    BOOST_TEST(http::percent_encode("w\xc3\xb8rld \xe2\x82\xac") == "w%C3%B8rld%20%E2%82%AC");
    BOOST_TEST(http::percent_encode(std::string_view("\0\x7f\xff", 3)) == "%00%7F%FF");
    BOOST_TEST(http::percent_encode("").empty());
}

BOOST_AUTO_TEST_CASE(the_sets_keep_what_their_url_part_allows) {
    // A path segment keeps sub-delims, ':' and '@', but not '/', '?', '#' or '%'.
    BOOST_TEST(http::percent_encode("0192:910075918", http::segment_chars) == "0192:910075918");
    BOOST_TEST(http::percent_encode("a/b?c#d%e f@g!$&'()*+,;=", http::segment_chars) ==
               "a%2Fb%3Fc%23d%25e%20f@g!$&'()*+,;=");
    // A query value also escapes the separators '&' and '=' and the form space '+'.
    BOOST_TEST(http::percent_encode("a&b=c+d e:f@g/h", http::query_value_chars) ==
               "a%26b%3Dc%2Bd%20e:f@g%2Fh");
    // Sets combine.
    BOOST_TEST(http::percent_encode("0192:9/1", http::unreserved_chars + ':') == "0192:9%2F1");
}

BOOST_AUTO_TEST_CASE(decodes_escapes_in_either_case_and_leaves_plus_alone) {
    BOOST_TEST(http::percent_decode("w%C3%B8rld%e2%82%ac").value() == "w\xc3\xb8rld\xe2\x82\xac");
    BOOST_TEST(http::percent_decode("a+b%20c%2B").value() == "a+b c+");
    BOOST_TEST(http::percent_decode("%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D").value() ==
               ":/?#[]@!$&'()*+,;=");
    BOOST_TEST(http::percent_decode("%00").value() == std::string(1, '\0'));
    BOOST_TEST(http::percent_decode("").value().empty());
    BOOST_TEST(http::percent_decode("plain text").value() == "plain text");
    for (const std::string& s : {std::string("a b/c?d"), std::string("w\xc3\xb8rld"), std::string("%"),
                                 std::string("100%"), std::string("+&="), std::string("\0\xff", 2)})
        BOOST_TEST(http::percent_decode(http::percent_encode(s)).value() == s);
}

BOOST_AUTO_TEST_CASE(bad_escapes_are_errors_that_say_which) {
    for (const char* bad : {"%G1", "a%zzb", "%1G", "%%41", "%-1"}) {
        auto r = http::percent_decode(bad);
        BOOST_TEST_REQUIRE(r.has_error(), bad);
        BOOST_TEST((r.error().code == http::errc::bad_message));
        BOOST_TEST(r.error().message.find("invalid %-escape") != std::string::npos, r.error().message);
        BOOST_TEST(!r.error().retryable);
    }
    for (const char* cut : {"%4", "%", "abc%2", "%41%4"}) {
        auto r = http::percent_decode(cut);
        BOOST_TEST_REQUIRE(r.has_error(), cut);
        BOOST_TEST((r.error().code == http::errc::bad_message));
        BOOST_TEST(r.error().message.find("truncated %-escape") != std::string::npos, r.error().message);
    }
}

BOOST_AUTO_TEST_CASE(forms_write_space_as_plus_and_escape_a_literal_plus) {
    BOOST_TEST(http::form_encode({{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                                  {"assertion", "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln-_"}}) ==
               "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
               "&assertion=eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln-_");
    BOOST_TEST(http::form_encode({{"a b", "c d+e"}, {"f", ""}, {"\xc3\xb8", "&="}}) ==
               "a+b=c+d%2Be&f=&%C3%B8=%26%3D");
    BOOST_TEST(http::form_encode({}).empty());
}

BOOST_AUTO_TEST_CASE(forms_read_plus_as_space_and_percent_20_as_space_too) {
    const auto f = http::form_decode("a+b=c+d%2Be&f=&%C3%B8=%26%3D&flag&&x=1%202&x=3&");
    BOOST_TEST_REQUIRE(f.has_value(), f.error().message);
    const http::form_fields expected{{"a b", "c d+e"}, {"f", ""},    {"\xc3\xb8", "&="},
                                     {"flag", ""},     {"x", "1 2"}, {"x", "3"}};
    BOOST_TEST((*f == expected));
    BOOST_TEST(http::form_decode("").value().empty());
    BOOST_TEST(http::form_decode("k=v=w").value() == (http::form_fields{{"k", "v=w"}}));
    const http::form_fields round{{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                                  {"text", "1 + 1 = 2 & 100% \xc3\xa6\xc3\xb8\xc3\xa5"}};
    BOOST_TEST((http::form_decode(http::form_encode(round)).value() == round));
}

BOOST_AUTO_TEST_CASE(forms_with_bad_escapes_or_raw_specials_are_errors) {
    const auto invalid = http::form_decode("grant_type=%G1&assertion=x");
    BOOST_TEST_REQUIRE(invalid.has_error());
    BOOST_TEST((invalid.error().code == http::errc::bad_message));
    BOOST_TEST(invalid.error().message.find("invalid %-escape") != std::string::npos,
               invalid.error().message);
    const auto cut = http::form_decode("grant_type=x&assertion=%4");
    BOOST_TEST_REQUIRE(cut.has_error());
    BOOST_TEST(cut.error().message.find("truncated %-escape") != std::string::npos, cut.error().message);
    for (const char* raw : {"a=b c", "a=\"x\"", "a=[x]", "a=\xc3\xb8"}) {
        const auto r = http::form_decode(raw);
        BOOST_TEST_REQUIRE(r.has_error(), raw);
        BOOST_TEST(r.error().message.find("form body") == 0u, r.error().message);
    }
}

BOOST_AUTO_TEST_SUITE_END()

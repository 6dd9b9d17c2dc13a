#include <kurer/altinn2/mtom.hpp>
#include <kurer/altinn2/streamed.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <random>

namespace altinn2 = kurer::altinn2;
namespace mtom = kurer::altinn2::mtom;
using altinn2::errc;

namespace {

template <class T>
std::string describe(const kurer::result<T>& r) {
    return r ? std::string("(value)") : r.error().describe();
}

// The whole body of a message, pulled through body_reader in small buffers.
std::string drain(const mtom::message& m, std::size_t buffer = 1000) {
    mtom::body_reader reader(m);
    std::string out;
    std::string chunk(buffer, '\0');
    for (;;) {
        auto n = reader.read(chunk);
        BOOST_TEST_REQUIRE(n.has_value(), describe(n));
        if (*n == 0)
            break;
        out.append(chunk.data(), *n);
    }
    BOOST_TEST(reader.bytes_read() == m.content_length);
    return out;
}

// Reads until the reader fails; the test fails if it reaches the end instead.
kurer::error read_until_error(mtom::body_reader& reader) {
    std::vector<char> buffer(4096);
    for (;;) {
        auto n = reader.read(buffer);
        if (!n)
            return n.error();
        BOOST_TEST_REQUIRE(*n > 0u);
    }
}

void write_file(const std::filesystem::path& p, std::string_view bytes) {
    std::ofstream(p, std::ios::binary) << bytes;
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// Bytes that try to confuse a boundary search: prefixes of the delimiter, lone CR and LF,
// dashes, NULs.
std::string awkward_payload(const std::string& boundary) {
    std::string p = "PK\x03\x04";
    p += std::string("\0\r\n\r", 4);
    p += "\r\n--" + boundary.substr(0, boundary.size() - 1) + "X";
    p += "\r\n-";
    p += "--" + boundary; // not preceded by CRLF: not a delimiter
    p += "\n--" + boundary + "\r";
    for (int i = 0; i < 64; ++i)
        p += static_cast<char>(i * 37);
    p += "\r\n";
    return p;
}

struct parsed {
    std::string root;
    std::vector<mtom::memory_sink::part> parts;
};

kurer::result<parsed> parse_split(const std::string& content_type, std::string_view body,
                                  std::initializer_list<std::size_t> cuts, const mtom::limits& lim = {}) {
    mtom::memory_sink sink;
    auto p = mtom::parser::create(content_type, &sink, lim);
    if (!p)
        return p.error();
    std::size_t from = 0;
    for (const std::size_t cut : cuts) {
        if (auto ok = p->feed(body.substr(from, cut - from)); !ok)
            return ok.error();
        from = cut;
    }
    if (auto ok = p->feed(body.substr(from)); !ok)
        return ok.error();
    if (auto ok = p->finish(); !ok)
        return ok.error();
    return parsed{p->root(), sink.parts()};
}

const std::string soap_root =
    "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body/></s:Envelope>";

} // namespace

BOOST_AUTO_TEST_SUITE(mime_basics)

BOOST_AUTO_TEST_CASE(parses_content_type_parameters) {
    auto mt =
        mtom::parse_media_type("Multipart/Related; type=\"application/xop+xml\";boundary=\"uuid:0a5b+id=1\"; "
                               "START=\"<http://tempuri.org/0>\"; "
                               "start-info=\"text/xml\"; odd=\"a\\\"b\";");
    BOOST_TEST_REQUIRE(mt.has_value(), describe(mt));
    BOOST_TEST(mt->type == "multipart/related");
    BOOST_TEST(mt->parameter("boundary").value() == "uuid:0a5b+id=1");
    BOOST_TEST(mt->parameter("Start").value() == "<http://tempuri.org/0>");
    BOOST_TEST(mt->parameter("odd").value() == "a\"b");
    BOOST_TEST(!mt->parameter("charset").has_value());
    auto plain = mtom::parse_media_type("text/xml;charset=utf-8");
    BOOST_TEST(plain->parameter("charset").value() == "utf-8");

    for (const char* bad :
         {"", "text", "text/", "text/xml; charset", "text/xml; a=\"unterminated", "text/xml x"}) {
        auto r = mtom::parse_media_type(bad);
        BOOST_TEST_REQUIRE(r.has_error(), bad);
        BOOST_TEST((r.error().code == errc::bad_content_type));
    }
}

BOOST_AUTO_TEST_CASE(cid_urls_are_percent_encoded_and_decoded) {
    BOOST_TEST(mtom::cid_href("http://tempuri.org/1/636854854482615129") ==
               "cid:http://tempuri.org/1/636854854482615129");
    BOOST_TEST(mtom::cid_href("a b%<c>@x") == "cid:a%20b%25%3Cc%3E@x");
    for (const std::string id : {"http://tempuri.org/1/6368", "a b%<c>@x", "4f6c@kurer"})
        BOOST_TEST(mtom::content_id_from_href(mtom::cid_href(id)).value() == id);
    BOOST_TEST(mtom::content_id_from_href("CID:http%3A%2F%2Ftempuri.org%2F1%2F42").value() ==
               "http://tempuri.org/1/42");
    for (const char* bad : {"http://x/y", "cid:", "cid:abc%2", "cid:abc%zz", "cid"}) {
        auto r = mtom::content_id_from_href(bad);
        BOOST_TEST(r.has_error(), bad);
    }
    BOOST_TEST(mtom::bare_content_id(" <rootpart@x> ") == "rootpart@x");
    BOOST_TEST(mtom::bare_content_id("plain@x") == "plain@x");
}

BOOST_AUTO_TEST_CASE(writer_frames_the_root_and_attachments) {
    std::vector<mtom::attachment> atts;
    atts.push_back({"att1@x", "application/octet-stream", std::string("PK\x03\x04zip")});
    auto m = mtom::write(soap_root, std::move(atts), {"uuid:B", "rootpart@x"});
    BOOST_TEST_REQUIRE(m.has_value(), describe(m));
    BOOST_TEST(m->content_type == "multipart/related; type=\"application/xop+xml\"; boundary=\"uuid:B\"; "
                                  "start=\"<rootpart@x>\"; start-info=\"text/xml\"");
    const std::string expected =
        "--uuid:B\r\nContent-ID: <rootpart@x>\r\n"
        "Content-Type: application/xop+xml; charset=utf-8; type=\"text/xml\"\r\n"
        "Content-Transfer-Encoding: binary\r\n\r\n" +
        soap_root +
        "\r\n--uuid:B\r\nContent-ID: <att1@x>\r\nContent-Type: application/octet-stream\r\n"
        "Content-Transfer-Encoding: binary\r\n\r\nPK\x03\x04zip\r\n--uuid:B--\r\n";
    BOOST_TEST(drain(*m, 7) == expected);
    BOOST_TEST(m->content_length == expected.size());
    BOOST_TEST(m->pieces.size() == 1u); // memory only: one piece

    auto generated = mtom::write(soap_root, {});
    BOOST_TEST_REQUIRE(generated.has_value());
    BOOST_TEST(generated->content_type.find("boundary=\"uuid:") != std::string::npos);
    BOOST_TEST(generated->root_content_id.ends_with("@kurer"));
}

BOOST_AUTO_TEST_CASE(writer_refuses_what_it_cannot_frame) {
    BOOST_TEST((mtom::write(soap_root, {}, {"bad\"boundary", ""}).error().code == errc::invalid_value));
    BOOST_TEST((mtom::write(soap_root, {}, {std::string(71, 'b'), ""}).error().code == errc::invalid_value));
    BOOST_TEST(
        (mtom::write(soap_root, {}, {"B", "root\r\nX-Injected: 1"}).error().code == errc::invalid_value));
    std::vector<mtom::attachment> injected{{"a\r\nb", "application/octet-stream", std::string("x")}};
    BOOST_TEST((mtom::write(soap_root, injected, {"B", "r"}).error().code == errc::invalid_value));
    std::vector<mtom::attachment> clash{{"a", "application/octet-stream", std::string("x\r\n--B\r\ny")}};
    BOOST_TEST((mtom::write(soap_root, clash, {"B", "r"}).error().code == errc::invalid_value));
    std::vector<mtom::attachment> missing{
        {"a", "application/octet-stream", std::filesystem::path("/nonexistent/kurer/sbd.zip")}};
    auto r = mtom::write(soap_root, missing);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == errc::file_error));
    BOOST_TEST(r.error().message.find("/nonexistent/kurer/sbd.zip") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(mtom_round_trip)

BOOST_AUTO_TEST_CASE(parser_reads_the_writer_split_at_every_byte_position) {
    const std::string boundary = "uuid:0a5b";
    kurer::testing::scratch_dir dir;
    const std::string payload = awkward_payload(boundary);
    write_file(dir / "sbd.zip", payload);
    std::vector<mtom::attachment> atts;
    atts.push_back({"att1@x", "application/octet-stream", dir / "sbd.zip"});
    atts.push_back({"http://tempuri.org/2", "text/plain", std::string("second\r\n")});
    auto m = mtom::write(soap_root, std::move(atts), {boundary, "rootpart@x"});
    BOOST_TEST_REQUIRE(m.has_value(), describe(m));
    const std::string body = drain(*m);

    auto check = [&](const kurer::result<parsed>& r, const std::string& where) {
        BOOST_TEST_REQUIRE(r.has_value(), where << ": " << describe(r));
        BOOST_TEST(r->root == soap_root, where);
        BOOST_TEST_REQUIRE(r->parts.size() == 2u, where);
        BOOST_TEST(r->parts[0].headers.content_id == "att1@x", where);
        BOOST_TEST(r->parts[0].body == payload, where);
        BOOST_TEST(r->parts[0].closed, where);
        BOOST_TEST(r->parts[1].headers.content_id == "http://tempuri.org/2", where);
        BOOST_TEST(r->parts[1].headers.content_type == "text/plain", where);
        BOOST_TEST(r->parts[1].body == "second\r\n", where);
    };
    check(parse_split(m->content_type, body, {}), "whole");
    for (std::size_t i = 0; i <= body.size(); ++i)
        check(parse_split(m->content_type, body, {i}), "split at " + std::to_string(i));
    // Three pieces: every first cut, second cuts a prime stride apart.
    for (std::size_t i = 0; i <= body.size(); ++i)
        for (std::size_t j = i; j <= body.size(); j += 7)
            check(parse_split(m->content_type, body, {i, j}),
                  "split at " + std::to_string(i) + "," + std::to_string(j));
}

BOOST_AUTO_TEST_CASE(one_byte_at_a_time_with_empty_feeds_between) {
    std::vector<mtom::attachment> atts{{"a@x", "application/octet-stream", awkward_payload("B")}};
    auto m = mtom::write(soap_root, atts, {"B", "r@x"});
    BOOST_TEST_REQUIRE(m.has_value(), describe(m));
    const std::string body = drain(*m);
    mtom::memory_sink sink;
    auto p = mtom::parser::create(m->content_type, &sink);
    BOOST_TEST_REQUIRE(p.has_value());
    for (const char c : body) {
        BOOST_TEST_REQUIRE(p->feed(std::string_view(&c, 1)).has_value());
        BOOST_TEST_REQUIRE(p->feed({}).has_value());
    }
    BOOST_TEST_REQUIRE(p->finish().has_value());
    BOOST_TEST(p->root() == soap_root);
    BOOST_TEST(p->root_complete());
    BOOST_TEST(sink.parts().at(0).body == awkward_payload("B"));
    BOOST_TEST(p->attachments().at(0).size == awkward_payload("B").size());
}

// Fails its n-th call (open, write or close), like Beast's fail_count.
class failing_sink final : public mtom::part_sink {
public:
    explicit failing_sink(int fail_at)
        : fail_at_(fail_at) {}
    kurer::result<void> open(const mtom::part_headers&) override { return step(); }
    kurer::result<void> write(std::string_view bytes) override {
        auto ok = step();
        if (ok)
            received += bytes;
        return ok;
    }
    kurer::result<void> close() override { return step(); }
    int calls = 0;
    bool called_after_failure = false;
    std::string received;

private:
    kurer::result<void> step() {
        if (calls > fail_at_)
            called_after_failure = true;
        if (calls++ == fail_at_)
            return kurer::make_error(errc::file_error, "disk full (injected)", kurer::retry::yes);
        return {};
    }
    int fail_at_;
};

BOOST_AUTO_TEST_CASE(a_sink_failure_at_every_step_stops_the_parse) {
    std::vector<mtom::attachment> atts{{"a@x", "application/octet-stream", awkward_payload("B")}};
    auto m = mtom::write(soap_root, atts, {"B", "r@x"});
    const std::string body = drain(*m);
    int fail_at = 0;
    bool succeeded = false;
    for (; fail_at < 1000 && !succeeded; ++fail_at) {
        failing_sink sink(fail_at);
        auto p = mtom::parser::create(m->content_type, &sink);
        BOOST_TEST_REQUIRE(p.has_value());
        std::optional<kurer::error> failure;
        for (std::size_t i = 0; i < body.size() && !failure; i += 5)
            if (auto ok = p->feed(std::string_view(body).substr(i, 5)); !ok)
                failure = ok.error();
        if (!failure)
            if (auto ok = p->finish(); !ok)
                failure = ok.error();
        BOOST_TEST(!sink.called_after_failure, fail_at);
        if (!failure) {
            BOOST_TEST(sink.received == awkward_payload("B"));
            succeeded = true;
            continue;
        }
        BOOST_TEST((failure->code == errc::file_error), fail_at);
        BOOST_TEST(failure->message == "disk full (injected)");
        // The error sticks.
        BOOST_TEST((p->feed("more").error().code == errc::file_error));
        BOOST_TEST((p->finish().error().code == errc::file_error));
    }
    BOOST_TEST_REQUIRE(succeeded);
    BOOST_TEST(fail_at > 4); // open, several writes, close were all failed once
}

BOOST_AUTO_TEST_CASE(streams_a_multi_megabyte_file_through_bounded_buffers) {
    kurer::testing::scratch_dir dir;
    constexpr std::size_t size = 24 * 1024 * 1024 + 123;
    {
        std::mt19937_64 rng(42);
        std::ofstream out(dir / "big.zip", std::ios::binary);
        std::string block(1 << 16, '\0');
        for (std::size_t written = 0; written < size;) {
            for (auto& c : block)
                c = static_cast<char>(rng());
            const auto n = std::min(block.size(), size - written);
            out.write(block.data(), static_cast<std::streamsize>(n));
            written += n;
        }
    }
    altinn2::upload_request headers{
        {"100001", "pw"}, "sbd.zip", "af303bd0-3333-4ec9-af6a-31dd05569011", "910077473"};
    auto m = altinn2::write_upload_message(headers, dir / "big.zip");
    BOOST_TEST_REQUIRE(m.has_value(), describe(m));
    BOOST_TEST(m->content_length > size);

    // Sender and receiver joined by one 64 KiB buffer, as an HTTP layer would be.
    mtom::file_sink sink(dir / "received.zip", true);
    auto p = mtom::parser::create(m->content_type, &sink, {.max_attachment_bytes = 1ull << 30});
    BOOST_TEST_REQUIRE(p.has_value());
    mtom::body_reader reader(*m);
    std::vector<char> buffer(64 * 1024);
    for (;;) {
        auto n = reader.read(buffer);
        BOOST_TEST_REQUIRE(n.has_value(), describe(n));
        if (*n == 0)
            break;
        BOOST_TEST_REQUIRE(p->feed(std::string_view(buffer.data(), *n)).has_value());
    }
    BOOST_TEST_REQUIRE(p->finish().has_value());
    BOOST_TEST(reader.bytes_read() == m->content_length);
    BOOST_TEST(p->buffer_high_water() <= buffer.size() + 64);
    BOOST_TEST(sink.bytes_written() == size);

    auto upload = altinn2::read_upload_request_message(*p);
    BOOST_TEST_REQUIRE(upload.has_value(), describe(upload));
    BOOST_TEST((upload->headers == headers));
    BOOST_TEST(upload->data.value().size == size);

    std::ifstream a(dir / "big.zip", std::ios::binary), b(dir / "received.zip", std::ios::binary);
    std::vector<char> ba(1 << 20), bb(1 << 20);
    std::size_t compared = 0;
    while (a && b) {
        a.read(ba.data(), static_cast<std::streamsize>(ba.size()));
        b.read(bb.data(), static_cast<std::streamsize>(bb.size()));
        BOOST_TEST_REQUIRE(a.gcount() == b.gcount());
        BOOST_TEST_REQUIRE(std::equal(ba.begin(), ba.begin() + a.gcount(), bb.begin()));
        compared += static_cast<std::size_t>(a.gcount());
    }
    BOOST_TEST(compared == size);
}

BOOST_AUTO_TEST_CASE(reader_reports_a_file_that_shrank_while_sending) {
    kurer::testing::scratch_dir dir;
    write_file(dir / "sbd.zip", std::string(10000, 'z'));
    auto m = altinn2::write_upload_message({{"u", "p"}, "sbd.zip", "ref", "910077473"}, dir / "sbd.zip");
    BOOST_TEST_REQUIRE(m.has_value());
    std::filesystem::resize_file(dir / "sbd.zip", 100);
    mtom::body_reader reader(*m);
    const auto shrank = read_until_error(reader);
    BOOST_TEST((shrank.code == errc::file_error));
    BOOST_TEST(shrank.message.find("became shorter") != std::string::npos, shrank.message);

    std::filesystem::remove(dir / "sbd.zip");
    mtom::body_reader gone(*m);
    const auto missing = read_until_error(gone);
    BOOST_TEST(missing.message.find("cannot open") != std::string::npos, missing.message);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(streamed_messages)

// A download response as IIS/WCF sends it (dossier §1.6): URI Content-IDs, 8bit root, a
// preamble and an epilogue, the href percent-encoded.
std::string wcf_download_body(const std::string& href, const std::string& zip) {
    return "This is a preamble that readers ignore.\r\n"
           "--uuid:5b0a7d6e-7e0f-4b11-8a1e-3b7a9a3c1f00+id=1\r\n"
           "Content-ID: <http://tempuri.org/0>\r\n"
           "Content-Transfer-Encoding: 8bit\r\n"
           "Content-Type: application/xop+xml;charset=utf-8;type=\"text/xml\"\r\n\r\n"
           "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
           "<DownloadFileStreamedBasicResponse "
           "xmlns=\"http://www.altinn.no/services/ServiceEngine/Broker/2015/06\">"
           "<DownloadFileStreamedBasicResult><xop:Include href=\"" +
           href +
           "\" xmlns:xop=\"http://www.w3.org/2004/08/xop/include\"/></DownloadFileStreamedBasicResult>"
           "</DownloadFileStreamedBasicResponse></s:Body></s:Envelope>\r\n"
           "--uuid:5b0a7d6e-7e0f-4b11-8a1e-3b7a9a3c1f00+id=1\r\n"
           "Content-Id: <http://tempuri.org/1/636854854482615129>\r\n"
           "Content-Transfer-Encoding: binary\r\n"
           "Content-Type: application/octet-stream\r\n\r\n" +
           zip +
           "\r\n--uuid:5b0a7d6e-7e0f-4b11-8a1e-3b7a9a3c1f00+id=1--\r\n"
           "and an epilogue\r\n";
}

const std::string wcf_content_type =
    "multipart/related; type=\"application/xop+xml\";start=\"<http://tempuri.org/0>\";"
    "boundary=\"uuid:5b0a7d6e-7e0f-4b11-8a1e-3b7a9a3c1f00+id=1\";start-info=\"text/xml\"";

BOOST_AUTO_TEST_CASE(reads_a_wcf_download_response_into_a_file) {
    kurer::testing::scratch_dir dir;
    const std::string zip = awkward_payload("uuid:5b0a7d6e-7e0f-4b11-8a1e-3b7a9a3c1f00+id=1");
    for (const std::string href : {"cid:http://tempuri.org/1/636854854482615129",
                                   "cid:http%3A%2F%2Ftempuri.org%2F1%2F636854854482615129"}) {
        mtom::file_sink sink(dir / "download.zip");
        auto p = mtom::parser::create(wcf_content_type, &sink);
        BOOST_TEST_REQUIRE(p.has_value(), describe(p));
        BOOST_TEST_REQUIRE(p->feed(wcf_download_body(href, zip)).has_value());
        BOOST_TEST_REQUIRE(p->finish().has_value());
        BOOST_TEST(p->root_headers().content_id == "http://tempuri.org/0");
        BOOST_TEST(p->root_headers().transfer_encoding == "8bit");
        auto file = altinn2::read_download_message(*p);
        BOOST_TEST_REQUIRE(file.has_value(), describe(file));
        BOOST_TEST(file->content_id == "http://tempuri.org/1/636854854482615129");
        BOOST_TEST(file->size == zip.size());
        BOOST_TEST(read_file(dir / "download.zip") == zip);
    }
}

BOOST_AUTO_TEST_CASE(download_round_trip_from_the_sandbox_writer) {
    kurer::testing::scratch_dir dir;
    write_file(dir / "stored.zip", "PK\x03\x04 stored package");
    auto m = altinn2::write_download_message(dir / "stored.zip");
    BOOST_TEST_REQUIRE(m.has_value(), describe(m));
    mtom::file_sink sink(dir / "out.zip");
    auto p = mtom::parser::create(m->content_type, &sink);
    BOOST_TEST_REQUIRE(p->feed(drain(*m, 3)).has_value());
    BOOST_TEST_REQUIRE(p->finish().has_value());
    auto file = altinn2::read_download_message(*p);
    BOOST_TEST_REQUIRE(file.has_value(), describe(file));
    BOOST_TEST(read_file(dir / "out.zip") == "PK\x03\x04 stored package");

    // An empty file is still one (empty) attachment.
    write_file(dir / "empty.zip", "");
    auto empty = altinn2::write_download_message(dir / "empty.zip");
    mtom::memory_sink memory;
    auto q = mtom::parser::create(empty->content_type, &memory);
    BOOST_TEST_REQUIRE(q->feed(drain(*empty)).has_value());
    BOOST_TEST_REQUIRE(q->finish().has_value());
    BOOST_TEST(altinn2::read_download_message(*q)->size == 0u);
}

BOOST_AUTO_TEST_CASE(download_requests_travel_as_mtom_or_plain) {
    const altinn2::download_request request{
        {"100001", "pw"}, "af303bd0-3333-4ec9-af6a-31dd05569011", "910075918"};
    auto m = altinn2::write_download_request_message(request);
    BOOST_TEST_REQUIRE(m.has_value(), describe(m));
    BOOST_TEST(m->content_type.starts_with("multipart/related; type=\"application/xop+xml\""));
    auto p = mtom::parser::create(m->content_type, nullptr);
    BOOST_TEST_REQUIRE(p->feed(drain(*m)).has_value());
    BOOST_TEST_REQUIRE(p->finish().has_value());
    BOOST_TEST(p->attachments().empty());
    BOOST_TEST((altinn2::read_download_request_message(*p).value() == request));

    auto plain = mtom::parser::create(altinn2::soap_content_type, nullptr);
    BOOST_TEST_REQUIRE(plain->feed(*altinn2::write_download_request(request)).has_value());
    BOOST_TEST_REQUIRE(plain->finish().has_value());
    BOOST_TEST((altinn2::read_download_request_message(*plain).value() == request));
}

BOOST_AUTO_TEST_CASE(faults_arrive_as_mtom_or_as_plain_text_xml) {
    const auto fault = altinn2::make_fault(40207, "No file ready for download");
    auto wrapped = altinn2::write_fault_message(fault);
    BOOST_TEST_REQUIRE(wrapped.has_value());
    auto p = mtom::parser::create(wrapped->content_type, nullptr);
    BOOST_TEST_REQUIRE(p->feed(drain(*wrapped)).has_value());
    BOOST_TEST_REQUIRE(p->finish().has_value());
    auto r = altinn2::read_download_message(*p);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == errc::no_file_ready));
    BOOST_TEST(r.error().retryable);

    auto plain = mtom::parser::create("text/xml; charset=utf-8", nullptr);
    BOOST_TEST_REQUIRE(plain.has_value());
    const std::string xml = *altinn2::write_fault(altinn2::make_fault(40213, "Reportee mismatch"));
    BOOST_TEST_REQUIRE(plain->feed(xml.substr(0, 10)).has_value());
    BOOST_TEST_REQUIRE(plain->feed(xml.substr(10)).has_value());
    BOOST_TEST_REQUIRE(plain->finish().has_value());
    BOOST_TEST(!plain->is_multipart());
    auto upload = altinn2::read_upload_message(*plain);
    BOOST_TEST_REQUIRE(upload.has_error());
    BOOST_TEST((upload.error().code == errc::reportee_mismatch));

    altinn2::upload_receipt ok{"08.05.2024 13:29:28", 0, std::nullopt, 0, "OK", "done", "BrokerService"};
    auto receipt_message = altinn2::write_upload_response_message(ok);
    auto rp = mtom::parser::create(receipt_message->content_type, nullptr);
    BOOST_TEST_REQUIRE(rp->feed(drain(*receipt_message)).has_value());
    BOOST_TEST_REQUIRE(rp->finish().has_value());
    BOOST_TEST((altinn2::read_upload_message(*rp).value() == ok));
}

BOOST_AUTO_TEST_CASE(upload_without_data_or_with_a_dangling_href) {
    const std::string root =
        *altinn2::write_upload_envelope({{"u", "p"}, "sbd.zip", "ref", "910077473"}, "data@x");
    auto only_root = mtom::write(root, {}, {"B", "r@x"});
    auto p = mtom::parser::create(only_root->content_type, nullptr);
    BOOST_TEST_REQUIRE(p->feed(drain(*only_root)).has_value());
    BOOST_TEST_REQUIRE(p->finish().has_value());
    auto r = altinn2::read_upload_request_message(*p);
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST((r.error().code == errc::attachment_missing));
    BOOST_TEST(r.error().message.find("cid:data@x") != std::string::npos, r.error().message);

    auto download = altinn2::read_download_message(*p);
    BOOST_TEST(download.has_error()); // the root is not a download response at all
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(malformed_multipart)

const std::string ct = "multipart/related; type=\"application/xop+xml\"; boundary=\"B\"; start=\"<r@x>\"; "
                       "start-info=\"text/xml\"";
const std::string root_part =
    "--B\r\nContent-ID: <r@x>\r\nContent-Type: application/xop+xml; type=\"text/xml\"\r\n\r\n" + soap_root;
const std::string att_head = "\r\n--B\r\nContent-ID: <a@x>\r\nContent-Type: application/octet-stream\r\n\r\n";

struct bad_body {
    std::string name;
    std::string content_type;
    std::string body;
    errc code;
    std::string text;
    mtom::limits limits{};
};

BOOST_AUTO_TEST_CASE(each_malformed_body_gets_a_clear_error) {
    const std::vector<bad_body> cases{
        {"no boundary parameter", "multipart/related; type=\"application/xop+xml\"", "",
         errc::bad_content_type, "boundary"},
        {"json", "application/json", "{}", errc::bad_content_type, "neither multipart/related"},
        {"SOAP 1.2 content type", "application/soap+xml; charset=utf-8", "", errc::bad_content_type,
         "SOAP 1.2"},
        {"SOAP 1.2 start-info", "multipart/related; boundary=B; start-info=\"application/soap+xml\"", "",
         errc::bad_content_type, "SOAP 1.2"},
        {"no boundary in the body", ct, "just some text", errc::truncated_multipart, "no boundary line --B"},
        {"empty body", ct, "", errc::truncated_multipart, "no boundary line"},
        {"ends inside the attachment", ct, root_part + att_head + "PK\x03\x04 and then nothing",
         errc::truncated_multipart, "ended inside part 2"},
        {"no closing boundary", ct, root_part + att_head + "PK\r\n--B\r\n", errc::truncated_multipart,
         "before the closing boundary --B--"},
        {"ends inside headers", ct, root_part + "\r\n--B\r\nContent-ID: <a@", errc::truncated_multipart,
         "ended inside part 2"},
        {"ends inside the root", ct, root_part.substr(0, root_part.size() - 5), errc::truncated_multipart,
         "ended inside part 1"},
        {"junk after a boundary", ct, root_part + "\r\n--Bjunk\r\n\r\nx\r\n--B--", errc::malformed_multipart,
         "followed by other characters"},
        {"LF line ends", ct, "--B\nContent-ID: <r@x>\n\n" + soap_root + "\n--B--\n",
         errc::malformed_multipart, "without CR"},
        {"header without colon", ct, root_part + "\r\n--B\r\nContent-ID <a@x>\r\n\r\nx\r\n--B--\r\n",
         errc::malformed_multipart, "without a name and colon"},
        {"continuation first", ct, "--B\r\n folded\r\n\r\nx\r\n--B--\r\n", errc::malformed_multipart,
         "continuation line"},
        {"base64 part", ct,
         root_part +
             "\r\n--B\r\nContent-ID: <a@x>\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsD\r\n--B--\r\n",
         errc::malformed_multipart, "Content-Transfer-Encoding base64"},
        {"duplicate Content-ID", ct, root_part + att_head + "one" + att_head + "two\r\n--B--\r\n",
         errc::malformed_multipart, "two parts have the Content-ID a@x"},
        {"start names no part", ct, "--B\r\nContent-ID: <other@x>\r\n\r\n" + soap_root + "\r\n--B--\r\n",
         errc::malformed_multipart, "no part has the root's Content-ID r@x"},
        {"root is not XML", ct, "--B\r\nContent-ID: <r@x>\r\nContent-Type: image/png\r\n\r\nx\r\n--B--\r\n",
         errc::malformed_multipart, "expected application/xop+xml"},
        {"SOAP 1.2 root", ct,
         "--B\r\nContent-ID: <r@x>\r\nContent-Type: application/xop+xml; "
         "type=\"application/soap+xml\"\r\n\r\nx\r\n"
         "--B--\r\n",
         errc::malformed_multipart, "SOAP 1.2"},
        {"too many parts",
         ct,
         root_part + att_head + "1" + "\r\n--B\r\n\r\n2\r\n--B\r\n\r\n3\r\n--B--\r\n",
         errc::limit_exceeded,
         "more than 2 parts",
         {.max_parts = 2}},
        {"huge header block",
         ct,
         "--B\r\nX-Padding: " + std::string(2000, 'p') + "\r\n\r\nx\r\n--B--\r\n",
         errc::limit_exceeded,
         "headers of part 1 exceed 1000 bytes",
         {.max_header_bytes = 1000}},
        {"huge root",
         ct,
         root_part + "\r\n--B--\r\n",
         errc::limit_exceeded,
         "root part is larger than 16 bytes",
         {.max_root_bytes = 16}},
        {"huge attachment",
         ct,
         root_part + att_head + std::string(100, 'z') + "\r\n--B--\r\n",
         errc::limit_exceeded,
         "attachment a@x is larger than 99 bytes",
         {.max_attachment_bytes = 99}},
        {"huge plain message",
         "text/xml",
         soap_root,
         errc::limit_exceeded,
         "larger than 10 bytes",
         {.max_root_bytes = 10}},
        {"empty plain message", "text/xml", "  \r\n", errc::malformed_envelope, "empty"},
    };
    for (const auto& c : cases) {
        mtom::memory_sink sink;
        auto r = [&]() -> kurer::result<void> {
            auto p = mtom::parser::create(c.content_type, &sink, c.limits);
            if (!p)
                return p.error();
            // Fed in two pieces so a case cannot pass only because it came whole.
            const auto half = c.body.size() / 2;
            if (auto ok = p->feed(std::string_view(c.body).substr(0, half)); !ok)
                return ok;
            if (auto ok = p->feed(std::string_view(c.body).substr(half)); !ok)
                return ok;
            return p->finish();
        }();
        BOOST_TEST_REQUIRE(r.has_error(), c.name);
        BOOST_TEST((r.error().code == c.code), c.name << ": " << r.error().describe());
        BOOST_TEST(r.error().message.find(c.text) != std::string::npos, c.name << ": " << r.error().message);
    }
}

BOOST_AUTO_TEST_CASE(a_file_sink_takes_one_attachment) {
    kurer::testing::scratch_dir dir;
    mtom::file_sink sink(dir / "one.zip");
    auto p = mtom::parser::create(ct, &sink);
    auto r = p->feed(root_part + att_head + "one" + "\r\n--B\r\nContent-ID: <b@x>\r\n\r\ntwo\r\n--B--\r\n");
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().message.find("second attachment") != std::string::npos, r.error().message);
    BOOST_TEST(read_file(dir / "one.zip") == "one");

    mtom::file_sink nowhere(dir / "missing-dir" / "x.zip");
    auto q = mtom::parser::create(ct, &nowhere);
    auto e = q->feed(root_part + att_head + "data");
    BOOST_TEST_REQUIRE(e.has_error());
    BOOST_TEST((e.error().code == errc::file_error));
    BOOST_TEST(e.error().message.find("missing-dir") != std::string::npos, e.error().message);
}

BOOST_AUTO_TEST_CASE(preamble_epilogue_padding_and_no_sink) {
    // Transport padding after a boundary, a part without headers, a dropped attachment.
    const std::string body = "preamble --B not at line start\r\n--B  \t\r\nContent-ID: <r@x>\r\n\r\n" +
                             soap_root +
                             "\r\n--B\r\n\r\nheaderless part\r\n--B-- trailing\r\nepilogue --B\r\n";
    auto p = mtom::parser::create(ct, nullptr);
    BOOST_TEST_REQUIRE(p->feed(body).has_value());
    BOOST_TEST_REQUIRE(p->finish().has_value());
    BOOST_TEST(p->root() == soap_root);
    BOOST_TEST_REQUIRE(p->attachments().size() == 1u);
    BOOST_TEST(p->attachments()[0].size == std::string("headerless part").size());
    BOOST_TEST(p->attachments()[0].headers.content_id.empty());

    // Without a start parameter the first part is the root.
    auto q = mtom::parser::create("multipart/related; boundary=B", nullptr);
    BOOST_TEST_REQUIRE(q->feed("--B\r\n\r\n" + soap_root + "\r\n--B--").has_value());
    BOOST_TEST_REQUIRE(q->finish().has_value());
    BOOST_TEST(q->root() == soap_root);
}

BOOST_AUTO_TEST_SUITE_END()

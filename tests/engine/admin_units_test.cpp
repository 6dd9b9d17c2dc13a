// The admin server's parts on their own: the multipart parser fed in every split, header
// parsing, document names, the metrics registry's Prometheus text, the drafts store's cleanup,
// and the event client's bound.
#include "drafts.hpp"
#include "events.hpp"
#include "internal.hpp"
#include "multipart.hpp"

#include <kurer/core/uuid.hpp>
#include <kurer/engine/metrics.hpp>
#include <kurer/engine/testing/fakes.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>

namespace kurer::engine::admin {
namespace {

struct collected_part {
    std::string name;
    std::string filename;
    std::string type;
    std::string data;
};

multipart_parser::handlers collect(std::vector<collected_part>& parts) {
    multipart_parser::handlers h;
    h.begin = [&](const multipart_parser::part_head& head) -> result<void> {
        parts.push_back({head.disposition.name.value_or(""),
                         head.disposition.filename.value_or(""),
                         head.content_type,
                         {}});
        return {};
    };
    h.data = [&](std::string_view d) -> result<void> {
        parts.back().data.append(d);
        return {};
    };
    h.end = []() -> result<void> {
        return {};
    };
    return h;
}

const std::string body = "preamble to ignore\r\n"
                         "--XyZ\r\n"
                         "Content-Disposition: form-data; name=\"sbd\"\r\n"
                         "Content-Type: application/json\r\n"
                         "\r\n"
                         "{\"a\":1}\r\n"
                         "--XyZ  \r\n"
                         "content-disposition: form-data; name=\"Brev\"; filename=\"brev.pdf\"\r\n"
                         "\r\n"
                         "%PDF\r\n--XyNot a boundary\r\n--X\r\n"
                         "--XyZ--\r\n"
                         "epilogue";

} // namespace

BOOST_AUTO_TEST_SUITE(multipart)

BOOST_AUTO_TEST_CASE(parts_come_out_the_same_however_the_body_is_split) {
    for (std::size_t step :
         {body.size(), std::size_t(1), std::size_t(2), std::size_t(3), std::size_t(7), std::size_t(11)}) {
        std::vector<collected_part> parts;
        multipart_parser p("XyZ", collect(parts));
        for (std::size_t i = 0; i < body.size(); i += step)
            BOOST_TEST_REQUIRE(p.feed(std::string_view(body).substr(i, step)).has_value());
        BOOST_TEST_REQUIRE(p.finish().has_value(), "step " << step);
        BOOST_TEST_REQUIRE(parts.size() == 2u);
        BOOST_TEST(parts[0].name == "sbd");
        BOOST_TEST(parts[0].type == "application/json");
        BOOST_TEST(parts[0].data == "{\"a\":1}");
        BOOST_TEST(parts[1].filename == "brev.pdf");
        BOOST_TEST(parts[1].data == "%PDF\r\n--XyNot a boundary\r\n--X", "boundary look-alikes are data");
    }
}

BOOST_AUTO_TEST_CASE(broken_bodies_are_refused_with_a_reason) {
    std::vector<collected_part> parts;
    multipart_parser truncated("XyZ", collect(parts));
    BOOST_TEST(truncated.feed(body.substr(0, body.size() / 2)).has_value());
    BOOST_TEST(truncated.finish().error().message.find("closing boundary") != std::string::npos);

    multipart_parser no_disposition("b", collect(parts));
    auto r = no_disposition.feed("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--");
    BOOST_TEST(r.error().message.find("no Content-Disposition") != std::string::npos);

    multipart_parser huge_header("b", collect(parts), {.max_header_bytes = 64, .max_parts = 10});
    r = huge_header.feed("--b\r\nContent-Disposition: form-data; name=\"" + std::string(100, 'n') +
                         "\"\r\n\r\n");
    BOOST_TEST(r.error().message.find("larger than 64") != std::string::npos);

    multipart_parser refusing("b", [] {
        multipart_parser::handlers h;
        h.begin = [](const multipart_parser::part_head&) -> result<void> {
            return make_error(make_error_code(boost::system::errc::permission_denied), "no thanks");
        };
        h.data = [](std::string_view) -> result<void> {
            return {};
        };
        h.end = []() -> result<void> {
            return {};
        };
        return h;
    }());
    BOOST_TEST(refusing.feed("--b\r\nContent-Disposition: form-data; name=x\r\n\r\n").error().message ==
               "no thanks");
}

BOOST_AUTO_TEST_CASE(content_disposition_and_boundaries_are_read_as_rfc_6266_and_7578_say) {
    auto d = parse_content_disposition(R"(attachment; name="Brev \"A\""; FILENAME=brev.pdf)");
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(d->type == "attachment");
    BOOST_TEST(*d->name == "Brev \"A\"");
    BOOST_TEST(*d->filename == "brev.pdf");
    d = parse_content_disposition("attachment; filename=\"plain.pdf\"; filename*=UTF-8''s%C3%B8knad.pdf");
    BOOST_TEST(*d->filename == "s\xC3\xB8knad.pdf", "filename* wins");
    d = parse_content_disposition("attachment; filename*=ISO-8859-1''s%F8knad.pdf");
    BOOST_TEST(*d->filename == "s\xC3\xB8knad.pdf");
    BOOST_TEST(parse_content_disposition("").has_error());
    BOOST_TEST(parse_content_disposition("attachment; filename=\"open").has_error());
    BOOST_TEST(parse_content_disposition("attachment; filename").has_error());
    BOOST_TEST(parse_content_disposition("attachment; filename*=UTF-8''%G1").has_error());

    BOOST_TEST(multipart_boundary("multipart/form-data; boundary=abc").value() == "abc");
    BOOST_TEST(multipart_boundary("Multipart/Form-Data; charset=x; boundary=\"a b\"").value() == "a b");
    BOOST_TEST(!multipart_boundary("application/json; boundary=abc"));
    BOOST_TEST(!multipart_boundary("multipart/form-data"));
}

// filename* values are percent-decoded strictly: a bad or cut-off escape is a 400, not a name.
BOOST_AUTO_TEST_CASE(filename_star_escapes_must_be_whole) {
    BOOST_TEST(*parse_content_disposition("attachment; filename*=UTF-8''a+b%20c%2B.pdf").value().filename ==
               "a+b c+.pdf");
    for (const char* bad : {"attachment; filename*=UTF-8''%G1", "attachment; filename*=UTF-8''brev%4",
                            "attachment; filename*=UTF-8''brev%"}) {
        const auto d = parse_content_disposition(bad);
        BOOST_TEST_REQUIRE(d.has_error(), bad);
        BOOST_TEST(d.error().message.find("filename*: bad percent-encoding") == 0u, d.error().message);
    }
}

BOOST_AUTO_TEST_CASE(document_names_are_plain_file_names) {
    BOOST_TEST(!bad_document_name("brev.pdf"));
    BOOST_TEST(!bad_document_name("s\xC3\xB8knad med mellomrom.pdf"));
    for (const auto* bad : {"", "a/b.pdf", "..\\x.pdf", "..", ".", ".hidden", "META-INF/x", "meta-inf.xml",
                            "mimetype", "manifest.xml", "tab\there", "bad\xC3"})
        BOOST_TEST(bad_document_name(bad).has_value(), "'" << bad << "' is refused");
    BOOST_TEST(bad_document_name(std::string(256, 'a')).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(registry)

BOOST_AUTO_TEST_CASE(renders_prometheus_text_with_sorted_families_escaped_labels_and_cumulative_buckets) {
    metrics m;
    m.counter("b_total", "Bees.", {{"kind", "a\"b\\c\nd"}}).inc(2);
    m.counter("b_total", "ignored", {{"kind", "x"}}).inc();
    m.gauge("a_gauge", "A gauge.\nSecond line.").set(1.5);
    auto& h = m.histogram("c_seconds", "Time.", {{"op", "up"}}, std::vector<double>{0.1, 1});
    h.observe(0.05);
    h.observe(0.5);
    h.observe(5);
    const auto text = m.render();
    const std::string expected = "# HELP a_gauge A gauge.\\nSecond line.\n"
                                 "# TYPE a_gauge gauge\n"
                                 "a_gauge 1.5\n"
                                 "# HELP b_total Bees.\n"
                                 "# TYPE b_total counter\n"
                                 "b_total{kind=\"a\\\"b\\\\c\\nd\"} 2\n"
                                 "b_total{kind=\"x\"} 1\n"
                                 "# HELP c_seconds Time.\n"
                                 "# TYPE c_seconds histogram\n"
                                 "c_seconds_bucket{op=\"up\",le=\"0.1\"} 1\n"
                                 "c_seconds_bucket{op=\"up\",le=\"1\"} 2\n"
                                 "c_seconds_bucket{op=\"up\",le=\"+Inf\"} 3\n"
                                 "c_seconds_sum{op=\"up\"} 5.55\n"
                                 "c_seconds_count{op=\"up\"} 3\n";
    BOOST_TEST(text == expected);
}

BOOST_AUTO_TEST_CASE(series_are_found_again_and_misuse_is_refused) {
    metrics m;
    auto& c = m.counter("x_total", "X.", {{"a", "1"}, {"b", "2"}});
    BOOST_TEST(&m.counter("x_total", "X.", {{"b", "2"}, {"a", "1"}}) == &c, "label order does not matter");
    c.advance_to(10);
    c.advance_to(4);
    BOOST_TEST(c.value() == 10.0, "a mirrored counter never goes back");
    BOOST_CHECK_THROW(m.gauge("x_total", "X."), std::invalid_argument);
    BOOST_CHECK_THROW(m.counter("bad-name", "X."), std::invalid_argument);
    BOOST_CHECK_THROW(m.counter("ok_total", "X.", {{"__reserved", "1"}}), std::invalid_argument);
    BOOST_CHECK_THROW(m.counter("ok_total", "X.", {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
    int runs = 0;
    const auto id = m.add_collector([&](metrics& r) {
        ++runs;
        r.gauge("collected", "From a collector.").set(42);
    });
    BOOST_TEST(m.render().find("collected 42") != std::string::npos);
    m.remove_collector(id);
    (void)m.render();
    BOOST_TEST(runs == 1);
}

BOOST_AUTO_TEST_CASE(measured_ports_count_outcomes_and_bytes) {
    kurer::testing::scratch_dir dir;
    metrics m;
    auto p = instrument(testing::make_fake_ports(dir / "broker", "910077473"), m);
    std::ofstream(dir / "sbd.zip") << std::string(1000, 'z');
    boost::asio::io_context io;
    auto work = [&]() -> boost::asio::awaitable<void> {
        // A named request: GCC 12 destroys a braced temporary inside co_await twice.
        transfer_request request{"910077473", "910075918", random_uuid(), "sbd.zip", 1000, ""};
        auto ref = co_await p.broker->initiate(std::move(request));
        BOOST_TEST_REQUIRE(ref.has_value());
        auto up = co_await p.broker->upload(*ref, dir / "sbd.zip");
        BOOST_TEST(up.has_value());
        auto bad = co_await p.broker->upload("no-such-reference", dir / "sbd.zip");
        BOOST_TEST(bad.has_error());
    };
    boost::asio::co_spawn(io, work(), boost::asio::detached);
    io.run();
    const auto text = m.render();
    BOOST_TEST(text.find("kurer_adapter_bytes_total{adapter=\"broker\",operation=\"upload\"} 1000") !=
                   std::string::npos,
               text);
    BOOST_TEST(text.find("kurer_adapter_duration_seconds_count{adapter=\"broker\",operation=\"upload\","
                         "outcome=\"ok\"} 1") != std::string::npos);
    const bool failure_counted =
        text.find("operation=\"upload\",outcome=\"permanent\"} 1") != std::string::npos ||
        text.find("operation=\"upload\",outcome=\"retryable\"} 1") != std::string::npos;
    BOOST_TEST(failure_counted);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(drafts)

BOOST_AUTO_TEST_CASE(open_keeps_recorded_drafts_and_clears_what_interrupted_requests_left) {
    kurer::testing::scratch_dir dir;
    draft_store store(dir / "drafts");
    BOOST_TEST_REQUIRE(store.open([](const std::string&) { return false; }).value() == 0u);
    draft d;
    d.message_id = random_uuid();
    d.sbd = "{}";
    d.request_digest = "digest";
    d.created = storage::time_point(std::chrono::milliseconds(1000));
    BOOST_TEST_REQUIRE(store.save(d).has_value());
    const auto upload = store.upload_path(d.message_id);
    std::ofstream(upload) << "document";
    BOOST_TEST_REQUIRE(store.adopt(d, upload, {"brev.pdf", "application/pdf", "Brev", {}, 8}).has_value());
    BOOST_TEST(d.files.at(0).stored == "f0");
    BOOST_TEST(!std::filesystem::exists(upload));

    draft sent = d;
    sent.message_id = random_uuid();
    sent.files.clear();
    BOOST_TEST_REQUIRE(store.save(sent).has_value());
    std::ofstream(store.upload_path(d.message_id)) << "interrupted";
    std::ofstream(dir / "drafts" / storage::safe_file_name(d.message_id) / "f7") << "unrecorded";
    std::filesystem::create_directories(dir / "drafts" / "never-recorded");
    std::filesystem::create_directories(dir / "drafts" / ".trash-1");
    auto kept = store.open([&](const std::string& id) { return id == sent.message_id; });
    BOOST_TEST_REQUIRE(kept.has_value());
    BOOST_TEST(*kept == 1u);
    const auto all = store.list().value();
    BOOST_TEST_REQUIRE(all.size() == 1u);
    BOOST_TEST(all[0].message_id == d.message_id);
    BOOST_TEST(all[0].files.size() == 1u);
    std::size_t files = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir / "drafts"))
        files += e.is_regular_file() ? 1 : 0;
    BOOST_TEST(files == 2u, "draft.json and f0");
    BOOST_TEST(!store.find(sent.message_id).value().has_value());
    BOOST_TEST_REQUIRE(store.remove(d.message_id).has_value());
    BOOST_TEST(std::filesystem::is_empty(dir / "drafts"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(events)

BOOST_AUTO_TEST_CASE(a_client_that_falls_behind_is_dropped_once_and_a_filter_keeps_others_out) {
    boost::asio::io_context io;
    event_client c(io.get_executor(), 1000, "m1");
    transition_event e;
    e.kind = storage::record_kind::outgoing;
    e.id = "m1";
    e.message_id = "m1";
    e.event = "packed";
    const auto line = event_line(e);
    BOOST_TEST(line.back() == '\n');
    BOOST_TEST(line.find("\"to\":\"Created\"") != std::string::npos);
    transition_event other = e;
    other.id = other.message_id = "m2";
    BOOST_TEST(!c.offer(other, line));
    BOOST_TEST(c.take().bytes.empty(), "another message's event is filtered out");
    bool dropped = false;
    int drops = 0;
    for (int i = 0; i < 100; ++i)
        if (c.offer(e, line)) {
            dropped = true;
            ++drops;
        }
    BOOST_TEST(dropped);
    BOOST_TEST(drops == 1);
    auto b = c.take();
    BOOST_TEST(b.dropped);
    BOOST_TEST(b.bytes.empty(), "a dropped client's backlog is freed");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(paging)

BOOST_AUTO_TEST_CASE(pages_carry_springs_totals) {
    json::array all;
    for (int i = 0; i < 25; ++i)
        all.push_back(i);
    page_request p;
    p.page = 2;
    p.size = 10;
    const auto page = make_page(all, p);
    BOOST_TEST(page.at("content").as_array().size() == 5u);
    BOOST_TEST(page.at("totalElements").to_number<int>() == 25);
    BOOST_TEST(page.at("totalPages").to_number<int>() == 3);
    BOOST_TEST(page.at("last").as_bool());
    BOOST_TEST(!page.at("first").as_bool());
    BOOST_TEST(page.at("numberOfElements").to_number<int>() == 5);
    BOOST_TEST(page.at("pageable").at("offset").to_number<int>() == 20);
    p.page = 9;
    const auto beyond = make_page(all, p);
    BOOST_TEST(beyond.at("empty").as_bool());
    BOOST_TEST(canonical_json(json::parse(R"({"b":[1,{"d":1,"c":2}],"a":null})")) ==
               R"({"a":null,"b":[1,{"c":2,"d":1}]})");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kurer::engine::admin

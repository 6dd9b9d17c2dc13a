// `kurer run` as a process: a configuration mistake (secret files others can read and a short
// token included) exits 2 before anything starts, with the field named in a JSON log line on
// stderr, nothing on stdout, no data directory created and no secret in the log; a run keeps
// every file it writes to itself and sweeps what a killed submit left.
#include "wiring_fixture.hpp"

#include <kurer/core/uuid.hpp>
#include <kurer/engine/admin_client.hpp>
#include <kurer/testing/paths.hpp>
#include <kurer/testing/process.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

namespace fs = std::filesystem;
namespace json = boost::json;
using kurer::testing::org_a;
using kurer::testing::org_b;
using kurer::testing::spit;

namespace {

fs::path kurer_exe() {
    return kurer::testing::executable("kurer");
}

kurer::testing::finished_process run(std::vector<std::string> args) {
    auto r = kurer::testing::run_to_end(kurer_exe(), args, std::chrono::seconds(30));
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().message));
    return *r;
}

// A config for org A in the fixture's directory, with `change` applied to its JSON.
fs::path write_config(const kurer::testing::two_orgs& t, const std::function<void(json::object&)>& change,
                      const std::string& certificate_of = org_a) {
    json::object o{
        {"organization", org_a},
        {"data_dir", "data"},
        {"admin_socket", "kurer.sock"},
        {"certificate", "../" + certificate_of + "/cert.pem"},
        {"private_key", "../" + certificate_of + "/key.pem"},
        {"enterprise_ca_bundle", "../ca.pem"},
        {"maskinporten", {{"token_url", "https://127.0.0.1:1/token"}, {"audience", "https://127.0.0.1:1/"}}},
        {"service_registry", {{"url", "https://127.0.0.1:1/adressetjeneste"}}},
        {"broker",
         {{"kind", "altinn2"},
          {"altinn2",
           {{"basic_url", "https://127.0.0.1:1/b"},
            {"streamed_url", "https://127.0.0.1:1/s"},
            {"system_user", "100001"},
            {"system_password", "very-secret-password"}}}}}};
    change(o);
    const auto dir = t.dir / "config";
    fs::create_directories(dir);
    const auto file = dir / "kurer.json";
    spit(file, json::serialize(o));
    return file;
}

// Every stderr line is a JSON object with time, level and msg; returns them.
std::vector<json::object> log_lines(const std::string& err) {
    std::vector<json::object> lines;
    std::size_t at = 0;
    while (at < err.size()) {
        const auto end = err.find('\n', at);
        const auto line = err.substr(at, end == std::string::npos ? std::string::npos : end - at);
        at = end == std::string::npos ? err.size() : end + 1;
        if (line.empty())
            continue;
        boost::system::error_code ec;
        auto v = json::parse(line, ec);
        BOOST_TEST_REQUIRE((!ec && v.is_object()), "not a JSON log line: " << line);
        const auto& o = v.as_object();
        BOOST_TEST((o.contains("time") && o.contains("level") && o.contains("msg")), line);
        lines.push_back(o);
    }
    return lines;
}

void expect_config_error(const kurer::testing::finished_process& p, std::string_view names) {
    BOOST_TEST(p.exit_code == 2);
    BOOST_TEST(p.out.empty(), "stdout holds only the readiness line, and there is none: " << p.out);
    const auto lines = log_lines(p.err);
    BOOST_TEST_REQUIRE(!lines.empty());
    const auto& last = lines.back();
    BOOST_TEST(last.at("level").as_string() == "error");
    BOOST_TEST(last.at("msg").as_string() == "configuration error");
    const std::string error(last.at("error").as_string());
    BOOST_TEST(error.find(names) != std::string::npos, error << " should name " << names);
    BOOST_TEST(p.err.find("very-secret-password") == std::string::npos, "the password never reaches the log");
}

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    BOOST_TEST_REQUIRE(::lstat(p.c_str(), &st) == 0, p);
    return st.st_mode & 07777;
}

std::string octal(unsigned mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", mode);
    return buf;
}

// A file holding a secret, with the mode given.
void secret(const fs::path& p, std::string_view bytes, unsigned mode) {
    spit(p, bytes);
    BOOST_TEST_REQUIRE(::chmod(p.c_str(), mode) == 0);
}

// Nothing of a config refused at start-up was created: no data directory, no socket.
void nothing_started(const fs::path& config) {
    BOOST_TEST(!fs::exists(config.parent_path() / "data"), "the store is not created");
    BOOST_TEST(!fs::exists(config.parent_path() / "kurer.sock"), "the admin socket is not created");
}

kurer::engine::admin_response call(const kurer::engine::admin_client& c, boost::beast::http::verb method,
                                   std::string target, std::string body = {}, std::string content_type = {},
                                   std::string disposition = {}) {
    kurer::engine::admin_request r;
    r.method = method;
    r.target = std::move(target);
    r.body = std::move(body);
    if (!content_type.empty())
        r.headers.set(boost::beast::http::field::content_type, content_type);
    if (!disposition.empty())
        r.headers.set(boost::beast::http::field::content_disposition, disposition);
    auto answer = c.send(std::move(r));
    BOOST_TEST_REQUIRE(answer.has_value(), (answer ? "" : answer.error().message));
    return std::move(*answer);
}

// An arkivmelding draft for org B through the admin socket, with arkivmelding.xml uploaded.
std::string draft_with_a_document(const kurer::engine::admin_client& c) {
    const auto id = kurer::random_uuid();
    const json::object sbd{
        {"standardBusinessDocumentHeader",
         {{"headerVersion", "1.0"},
          {"receiver", json::array{json::object{{"identifier",
                                                 {{"value", std::string("0192:") + org_b},
                                                  {"authority", "iso6523-actorid-upis"}}}}}},
          {"documentIdentification",
           {{"standard", "urn:no:difi:arkivmelding:xsd::arkivmelding"},
            {"typeVersion", "2.0"},
            {"type", "arkivmelding"},
            {"instanceIdentifier", id}}},
          {"businessScope",
           {{"scope", json::array{json::object{
                          {"type", "ConversationId"},
                          {"identifier", "urn:no:difi:profile:arkivmelding:administrasjon:ver1.0"}}}}}}}},
        {"arkivmelding", {{"hoveddokument", "arkivmelding.xml"}, {"sikkerhetsnivaa", 3}, {"tittel", "Hei"}}}};
    const auto created = call(c, boost::beast::http::verb::post, "/api/messages/out", json::serialize(sbd),
                              "application/json");
    BOOST_TEST_REQUIRE(created.status == 200u, created.body);
    const auto uploaded =
        call(c, boost::beast::http::verb::put, "/api/messages/out/" + id,
             "<arkivmelding xmlns=\"http://www.arkivverket.no/standarder/noark5/arkivmelding\"/>",
             "application/xml", "attachment; name=\"arkivmelding\"; filename=\"arkivmelding.xml\"");
    BOOST_TEST_REQUIRE(uploaded.status == 200u, uploaded.body);
    return id;
}

} // namespace

BOOST_AUTO_TEST_SUITE(daemon_process)

BOOST_AUTO_TEST_CASE(usage_mistakes_exit_2) {
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"run"}, {"run", "--config"}, {"start"}, {"run", "x.json"}}) {
        const auto p = run(args);
        BOOST_TEST(p.exit_code == 2);
        BOOST_TEST(p.err.find("usage: kurer run --config FILE") != std::string::npos, p.err);
        BOOST_TEST(p.out.empty());
    }
}

BOOST_AUTO_TEST_CASE(a_missing_config_file_is_named) {
    kurer::testing::scratch_dir dir;
    const auto p = run({"run", "--config", (dir / "absent.json").string()});
    expect_config_error(p, "absent.json");
}

BOOST_AUTO_TEST_CASE(a_bad_field_is_named_and_nothing_starts) {
    kurer::testing::two_orgs t;
    const auto file = write_config(t, [](json::object& o) {
        o["broker"].as_object()["altinn2"].as_object()["service_edition"] = "270815";
    });
    expect_config_error(run({"run", "--config", file.string()}),
                        "broker.altinn2.service_edition: expected an integer");
    BOOST_TEST(!fs::exists(file.parent_path() / "data"), "the store is not created for a config that fails");

    const auto typo = write_config(t, [](json::object& o) { o["polling_intervall_ms"] = 1000; });
    expect_config_error(run({"run", "--config=" + typo.string()}), "polling_intervall_ms: unknown member");
}

BOOST_AUTO_TEST_CASE(certificate_problems_are_config_errors) {
    kurer::testing::two_orgs t;
    const auto absent = write_config(t, [](json::object& o) { o["certificate"] = "nowhere.pem"; });
    expect_config_error(run({"run", "--config", absent.string()}), "certificate: ");

    const auto someone_elses = write_config(
        t, [](json::object&) {}, org_b);
    expect_config_error(run({"run", "--config", someone_elses.string()}),
                        std::string("organisation ") + org_b);
    BOOST_TEST(!fs::exists(someone_elses.parent_path() / "data"));
}

BOOST_AUTO_TEST_CASE(secret_files_others_can_read_are_refused_with_exit_2_as_ssh_refuses_them) {
    kurer::testing::two_orgs t;
    const auto key = t.dir / org_a / "key.pem";
    BOOST_TEST_REQUIRE(::chmod(key.c_str(), 0644) == 0);
    const auto plain = write_config(t, [](json::object&) {});
    expect_config_error(run({"run", "--config", plain.string()}),
                        "private_key: " + key.lexically_normal().string() +
                            " is readable by others (mode 0644); chmod 600 it");
    nothing_started(plain);
    BOOST_TEST_REQUIRE(::chmod(key.c_str(), 0600) == 0);

    const auto with_tcp = write_config(t, [](json::object& o) {
        o["admin_tcp"] = {{"port", 18099}, {"token_file", "token"}};
    });
    const auto token = with_tcp.parent_path() / "token";
    secret(token, "a-token-long-enough-for-the-listener\n", 0644);
    expect_config_error(run({"run", "--config", with_tcp.string()}),
                        "admin_tcp.token_file: " + token.string() +
                            " is readable by others (mode 0644); chmod 600 it");
    nothing_started(with_tcp);

    const auto with_password_file = write_config(t, [](json::object& o) {
        auto& a2 = o["broker"].as_object()["altinn2"].as_object();
        a2.erase("system_password");
        a2["system_password_file"] = "password";
    });
    secret(with_password_file.parent_path() / "password", "very-secret-password\n", 0640);
    expect_config_error(
        run({"run", "--config", with_password_file.string()}),
        "broker.altinn2.system_password_file: " + (with_password_file.parent_path() / "password").string() +
            " is readable by others (mode 0640); chmod 600 it");
    nothing_started(with_password_file);
}

BOOST_AUTO_TEST_CASE(a_short_bearer_token_is_refused_with_exit_2_before_anything_starts) {
    kurer::testing::two_orgs t;
    const auto file = write_config(t, [](json::object& o) {
        o["admin_tcp"] = {{"port", 18099}, {"token_file", "token"}};
    });
    secret(file.parent_path() / "token", "short-token\n", 0600);
    const auto p = run({"run", "--config", file.string()});
    expect_config_error(p, "admin_tcp.token_file: the token in " + (file.parent_path() / "token").string() +
                               " is 11 characters long; at least 16 are needed");
    BOOST_TEST(p.err.find("short-token") == std::string::npos, "the token never reaches the log");
    BOOST_TEST(p.err.find("\"starting\"") == std::string::npos, "refused before it starts");
    nothing_started(file);
}

// The daemon keeps everything it writes to itself: a data directory an older kurer made 0755 is
// made private (and the log says so), a document a killed submit left is swept, and after a run
// with drafts, a message handed to the runner and its RocksDB files, no file in the data
// directory has a permission bit for the group or others and no directory is more than 0700.
BOOST_AUTO_TEST_CASE(a_daemon_run_leaves_nothing_in_its_data_directory_that_others_can_reach) {
    kurer::testing::two_orgs t;
    const auto file = write_config(t, [](json::object& o) {
        o["polling_interval_ms"] = 200;
        o["shutdown_grace_ms"] = 1000;
    });
    const auto data = file.parent_path() / "data";
    const auto leftover = data / "documents" / kurer::random_uuid();
    fs::create_directories(leftover);
    spit(leftover / "0", "a document whose submit was killed before its record");
    for (const auto& p : {data, data / "documents", leftover})
        BOOST_TEST_REQUIRE(::chmod(p.c_str(), 0755) == 0);
    BOOST_TEST_REQUIRE(::chmod((leftover / "0").c_str(), 0644) == 0);

    auto d = kurer::testing::daemon::start(file, t.dir / "daemon.log");
    BOOST_TEST_REQUIRE(d.has_value(), (d ? "" : d.error().message));
    {
        kurer::engine::admin_client c({.socket = file.parent_path() / "kurer.sock"});
        const auto sent = draft_with_a_document(c);
        const auto send = call(c, boost::beast::http::verb::post, "/api/messages/out/" + sent);
        BOOST_TEST_REQUIRE(send.status == 200u, send.body);
        draft_with_a_document(c); // stays a draft
    }
    BOOST_TEST(d->terminate() == 0);

    const auto log = kurer::testing::read_log(t.dir / "daemon.log").value();
    const auto said = [&](std::string_view msg, std::string_view field, const json::value& value) {
        return std::any_of(log.begin(), log.end(), [&](const json::object& l) {
            return l.at("msg").as_string() == msg && l.contains(field) && l.at(field) == value;
        });
    };
    BOOST_TEST(said("a data directory was open to others; it is private now", "directory",
                    json::value(data.string())));
    BOOST_TEST(said("a data directory was open to others; it is private now", "mode_before", "0755"));
    BOOST_TEST(said("removed leftovers no message needs", "documents", 1), "a count is a JSON number");
    BOOST_TEST(!fs::exists(leftover));

    std::size_t files = 0, directories = 0;
    BOOST_TEST(mode_of(data) == 0700u);
    for (const auto& entry : fs::recursive_directory_iterator(data)) {
        const auto mode = mode_of(entry.path());
        if (entry.is_directory()) {
            ++directories;
            BOOST_TEST(mode == 0700u, entry.path().string() << " is " << octal(mode));
        } else {
            ++files;
            BOOST_TEST((mode & 077u) == 0u, entry.path().string() << " is " << octal(mode));
        }
    }
    BOOST_TEST(fs::exists(data / "db" / "CURRENT"), "RocksDB's files are among those checked");
    BOOST_TEST(files > 5u);
    BOOST_TEST(directories >= 8u, "db, packages, documents, the drafts and theirs");
}

BOOST_AUTO_TEST_SUITE_END()

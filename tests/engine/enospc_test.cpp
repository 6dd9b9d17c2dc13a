// A full disk, for real: each test forks a child that enters a mount namespace of its own, mounts
// a small tmpfs and runs an engine whose data directory lives there, so that writes fail with
// ENOSPC exactly as they do when a disk fills up. The child reports what it saw, one "key=value"
// line each, and the test asserts on that (the tmpfs, and what is on it, end with the child).
// Without permission to mount (not root, a restricted container) the executable exits 77, which
// CTest reports as skipped, after saying why.
#include "admin_fixture.hpp"

#include <cerrno>
#include <cstring>
#include <map>
#include <sched.h>
#include <sstream>
#include <sys/mount.h>
#include <sys/statvfs.h>

namespace kurer::engine::test {
namespace {

namespace fs = std::filesystem;

struct child_report {
    int exit_code = -1;
    std::string text;
    std::map<std::string, std::string> seen; // the "key=value" lines
};

// Runs `scenario` in a child process that sees a tmpfs of `size` at `mount_point`, in a mount
// namespace of its own: nothing of it is visible outside, and it goes away with the child. The
// child exits 77 (the reason in `text`) when it may not mount. No Boost.Test macro may run in
// the child: its verdicts would stay there.
child_report on_small_disk(const fs::path& mount_point, const std::string& size,
                           const std::function<void(std::ostream&)>& scenario) {
    int out[2];
    BOOST_TEST_REQUIRE(::pipe(out) == 0);
    const pid_t pid = ::fork(); // this process has one thread here: the child may run anything
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(out[0]);
        std::ostringstream report;
        int code = 0;
        const auto cannot = [&](const char* what) {
            report << "cannot " << what << ": " << std::strerror(errno) << "\n";
            code = 77;
        };
        const auto options = "size=" + size + ",mode=0700";
        if (::unshare(CLONE_NEWNS) != 0)
            cannot("enter a mount namespace of its own (unshare CLONE_NEWNS)");
        else if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            cannot("make / private in that namespace");
        else if (::mount("tmpfs", mount_point.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0)
            cannot(("mount a tmpfs (" + options + ") on " + mount_point.string()).c_str());
        else {
            try {
                scenario(report);
            } catch (const std::exception& e) {
                report << "problem=the scenario threw: " << e.what() << "\n";
            }
        }
        const auto text = report.str();
        std::size_t done = 0;
        while (done < text.size()) {
            const auto n = ::write(out[1], text.data() + done, text.size() - done);
            if (n <= 0)
                break;
            done += static_cast<std::size_t>(n);
        }
        ::_exit(code);
    }
    ::close(out[1]);
    child_report r;
    char buf[4096];
    for (;;) {
        const auto n = ::read(out[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        r.text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::istringstream lines(r.text);
    std::string line;
    while (std::getline(lines, line))
        if (const auto eq = line.find('='); eq != std::string::npos)
            r.seen[line.substr(0, eq)] = line.substr(eq + 1);
    return r;
}

// Once, before any test: may this process mount? If not, the whole executable is skipped.
struct mounting_is_permitted {
    mounting_is_permitted() {
        child_report probe;
        {
            kurer::testing::scratch_dir dir;
            fs::create_directories(dir / "disk");
            probe = on_small_disk(dir / "disk", "1m", [](std::ostream& out) { out << "mounted=yes\n"; });
        }
        if (probe.exit_code == 77) {
            std::cout << "skipped: these tests fill a small tmpfs in a mount namespace of their own, which "
                         "needs CAP_SYS_ADMIN (root outside a restricted container); "
                      << probe.text << std::flush;
            std::exit(77);
        }
    }
};

std::uint64_t free_bytes(const fs::path& p) {
    struct statvfs s {};
    if (::statvfs(p.c_str(), &s) != 0)
        return 0;
    return static_cast<std::uint64_t>(s.f_bavail) * s.f_frsize;
}

// A file of `size` zero bytes that takes no space (a hole), outside the small disk.
void sparse_file(const fs::path& p, std::uint64_t size, std::string_view head = {},
                 std::string_view tail = {}) {
    std::ofstream(p, std::ios::binary) << head;
    fs::resize_file(p, head.size() + size);
    std::ofstream(p, std::ios::binary | std::ios::app) << tail;
}

// Every regular file below `dir`, relative to it, sorted; "-" when there is none.
std::string files_below(const fs::path& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
        if (it->is_regular_file())
            names.push_back(fs::relative(it->path(), dir).string());
    std::sort(names.begin(), names.end());
    std::string out;
    for (const auto& n : names)
        out += (out.empty() ? "" : ",") + n;
    return out.empty() ? "-" : out;
}

log_sink quiet() {
    return [](log_level, std::string_view) {
    };
}

BOOST_TEST_GLOBAL_FIXTURE(mounting_is_permitted);

} // namespace

BOOST_AUTO_TEST_SUITE(full_disk)

BOOST_AUTO_TEST_CASE(a_submit_that_runs_out_of_space_leaves_no_file_behind) {
    kurer::testing::scratch_dir dir;
    const auto disk = dir / "disk";
    fs::create_directories(disk);
    const auto id = random_uuid();
    auto r = on_small_disk(disk, "64m", [&](std::ostream& out) {
        auto c = config_for(disk / "data", org_a);
        c.log = quiet();
        auto opened = runner::open(c, testing::make_fake_ports(dir / "broker", org_a));
        if (!opened || !(*opened)->start()) {
            out << "problem=the engine does not start on the small disk\n";
            return;
        }
        auto& engine = **opened;
        const auto before = free_bytes(disk);
        sparse_file(dir / "big.pdf", before + (1u << 20)); // 1 MiB more than is free
        auto m = message_to(org_b, id);
        m.documents.push_back({"stor.pdf", "application/pdf", false, {}, dir / "big.pdf"});
        const auto submitted = engine.submit_blocking(m);
        out << "submitted=" << (submitted ? "yes" : "no") << "\n";
        if (!submitted)
            out << "error=" << submitted.error().message << "\n";
        out << "left=" << files_below(disk / "data" / "documents") << "\n";
        out << "space_back=" << (free_bytes(disk) + (64u << 10) >= before ? "yes" : "no") << "\n";
        const auto record = engine.find_outgoing(id);
        out << "recorded=" << (record && *record ? "yes" : "no") << "\n";
        // The same message without the big document: running out of space harmed nothing.
        m.documents.pop_back();
        const auto again = engine.submit_blocking(m);
        out << "resubmitted=" << (again && again->created ? "yes" : "no") << "\n";
        out << "kept=" << files_below(disk / "data" / "documents") << "\n";
        engine.stop();
    });
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.text);
    BOOST_TEST(!r.seen.contains("problem"), r.text);
    BOOST_TEST(r.seen["submitted"] == "no", r.text);
    BOOST_TEST(r.seen["error"].find("No space left on device") != std::string::npos, r.text);
    BOOST_TEST(r.seen["left"] == "-", "the documents written before the disk filled are gone: " << r.text);
    BOOST_TEST(r.seen["space_back"] == "yes", r.text);
    BOOST_TEST(r.seen["recorded"] == "no", r.text);
    BOOST_TEST(r.seen["resubmitted"] == "yes", r.text);
    BOOST_TEST(r.seen["kept"] == id + "/0," + id + "/1",
               "a recorded message keeps its documents: " << r.text);
}

BOOST_AUTO_TEST_CASE(uploads_through_the_admin_api_that_run_out_of_space_leave_no_file_behind) {
    kurer::testing::scratch_dir dir;
    const auto disk = dir / "disk";
    fs::create_directories(disk);
    auto r = on_small_disk(disk, "64m", [&](std::ostream& out) {
        auto c = config_for(disk / "data", org_a);
        c.log = quiet();
        auto opened = runner::open(c, testing::make_fake_ports(dir / "broker", org_a));
        if (!opened || !(*opened)->start()) {
            out << "problem=the engine does not start on the small disk\n";
            return;
        }
        auto& engine = **opened;
        metrics registry;
        boost::asio::io_context io;
        auto work = boost::asio::make_work_guard(io);
        std::thread thread([&io] { io.run(); });
        admin_config ac;
        ac.socket_path = disk / "a.sock";
        ac.drafts_dir = disk / "data" / "admin-drafts";
        ac.log = [](kurer::log_level, std::string_view) {
        };
        auto server = admin_server::start({.engine = engine, .registry = registry, .organization = org_a}, ac,
                                          io.get_executor());
        const auto finish = [&] {
            if (server)
                (*server)->stop();
            work.reset();
            io.stop();
            thread.join();
            engine.stop();
        };
        if (!server) {
            out << "problem=the admin server does not start: " << server.error().message << "\n";
            finish();
            return;
        }
        admin_client client({.socket = ac.socket_path});
        const auto send = [&](admin_request q) -> std::string {
            auto a = client.send(std::move(q));
            return a ? std::to_string(a->status) + " " + a->body : "no answer: " + a.error().message;
        };

        admin_request create;
        create.method = verb::post;
        create.target = "/api/messages/out";
        create.body = minimal_sbd(org_b);
        create.headers.set(boost::beast::http::field::content_type, "application/json");
        const auto created = client.send(create);
        if (!created || created->status != 200) {
            out << "problem=the draft is not created: " << (created ? created->body : created.error().message)
                << "\n";
            finish();
            return;
        }
        const auto id = std::string(json::parse(created->body)
                                        .at("standardBusinessDocumentHeader")
                                        .at("documentIdentification")
                                        .at("instanceIdentifier")
                                        .as_string());
        const auto before = free_bytes(disk);

        // PUT of a document larger than the free space, into the draft.
        sparse_file(dir / "big.pdf", before + (1u << 20));
        admin_request put;
        put.method = verb::put;
        put.target = "/api/messages/out/" + id;
        put.body_file = dir / "big.pdf";
        put.headers.set(boost::beast::http::field::content_type, "application/pdf");
        put.headers.set(boost::beast::http::field::content_disposition,
                        "attachment; name=\"stor\"; filename=\"stor.pdf\"");
        out << "upload=" << send(put).substr(0, 200) << "\n";
        out << "after_upload=" << files_below(ac.drafts_dir) << "\n";

        // The same as one multipart request (create and send): nothing of it may stay.
        const std::string boundary = "kurer-enospc-boundary";
        const auto head =
            "--" + boundary +
            "\r\nContent-Disposition: form-data; name=\"sbd\"\r\nContent-Type: application/json\r\n\r\n" +
            minimal_sbd(org_b) + "\r\n--" + boundary +
            "\r\nContent-Disposition: form-data; name=\"stor\"; filename=\"stor.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n";
        sparse_file(dir / "multipart.bin", before + (1u << 20), head, "\r\n--" + boundary + "--\r\n");
        admin_request multipart;
        multipart.method = verb::post;
        multipart.target = "/api/messages/out/multipart";
        multipart.body_file = dir / "multipart.bin";
        multipart.headers.set(boost::beast::http::field::content_type,
                              "multipart/form-data; boundary=" + boundary);
        out << "multipart=" << send(multipart).substr(0, 200) << "\n";
        out << "after_multipart=" << files_below(ac.drafts_dir) << "\n";
        out << "documents=" << files_below(disk / "data" / "documents") << "\n";
        out << "space_back=" << (free_bytes(disk) + (64u << 10) >= before ? "yes" : "no") << "\n";
        out << "draft=" << id << "\n";
        finish();
    });
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.text);
    BOOST_TEST(!r.seen.contains("problem"), r.text);
    const auto draft_only = r.seen["draft"] + "/draft.json";
    BOOST_TEST(!r.seen["upload"].starts_with("200"), "the upload cannot have succeeded: " << r.text);
    BOOST_TEST(r.seen["after_upload"] == draft_only, "the draft keeps no part of the upload: " << r.text);
    BOOST_TEST(!r.seen["multipart"].starts_with("200"), r.text);
    BOOST_TEST(r.seen["after_multipart"] == draft_only, "no staged part, no new draft: " << r.text);
    BOOST_TEST(r.seen["documents"] == "-", r.text);
    BOOST_TEST(r.seen["space_back"] == "yes", r.text);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace kurer::engine::test

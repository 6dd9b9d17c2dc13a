// kill -9 in the middle of packing: the output is absent (never half-written), the only
// leftover is the work directory, remove_pack_leftovers() clears it, and packing again works.
#include <kurer/dpo/package.hpp>
#include <kurer/testing/dpo_pki.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace t = kurer::testing;

BOOST_AUTO_TEST_SUITE(kurer_pack_crash)

BOOST_AUTO_TEST_CASE(killed_while_packing_leaves_no_package_and_removable_leftovers) {
    t::scratch_dir dir;
    t::test_pki pki(dir / "pki");
    const auto sender = pki.make_party("avsender", "910077473");
    const auto receiver = pki.make_party("mottaker", "910075918");
    t::write_file(dir / "arkivmelding.xml", "<arkivmelding/>");
    {
        // Compressible, so deflate keeps the packer busy long enough to be caught mid-way.
        std::ofstream big(dir / "stort.txt", std::ios::binary);
        std::string line;
        for (int i = 0; i < 200; ++i)
            line += "saksbehandler kommune vedtak arkiv journalpost " + std::to_string(i) + "\n";
        for (int i = 0; i < 20000; ++i)
            big << line;
    }
    const auto out_dir = dir / "store";
    std::filesystem::create_directories(out_dir);
    const std::vector<std::string> argv{t::executable("kurer-pack").string(),
                                        "pack",
                                        "--sender",
                                        "910077473",
                                        "--receiver",
                                        "910075918",
                                        "--receiver-cert",
                                        receiver.cert.string(),
                                        "--cert",
                                        sender.cert.string(),
                                        "--key",
                                        sender.key.string(),
                                        "--out",
                                        (out_dir / "sbd.zip").string(),
                                        (dir / "arkivmelding.xml").string(),
                                        (dir / "stort.txt").string()};
    // The event to kill at: the work directory appears, so packing is under way.
    const int watch = inotify_init1(IN_CLOEXEC);
    BOOST_TEST_REQUIRE(watch >= 0);
    BOOST_TEST_REQUIRE(inotify_add_watch(watch, out_dir.c_str(), IN_CREATE) >= 0);

    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    BOOST_TEST_REQUIRE(posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    bool started = false;
    while (!started && std::chrono::steady_clock::now() < deadline) {
        pollfd p{watch, POLLIN, 0};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (::poll(&p, 1, static_cast<int>(std::max<long long>(left.count(), 0))) <= 0)
            break;
        alignas(inotify_event) char buf[4096];
        const ssize_t n = ::read(watch, buf, sizeof buf);
        for (ssize_t off = 0; off < n;) {
            const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
            if (ev->len > 0 && std::string_view(ev->name).starts_with(".kurer-pack-"))
                started = true;
            off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
        }
    }
    ::close(watch);
    BOOST_TEST_REQUIRE(started, "kurer-pack did not start packing within 30 s");
    int early = 0;
    BOOST_TEST_REQUIRE(waitpid(pid, &early, WNOHANG) == 0, "kurer-pack ended before it was killed");
    ::kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    BOOST_TEST_REQUIRE(WIFSIGNALED(status));

    BOOST_TEST(!std::filesystem::exists(out_dir / "sbd.zip"));
    auto removed = kurer::dpo::remove_pack_leftovers(out_dir);
    BOOST_TEST_REQUIRE(removed.has_value());
    BOOST_TEST(*removed == 1u);
    BOOST_TEST(std::filesystem::is_empty(out_dir));

    const auto again = t::run(argv);
    BOOST_TEST_REQUIRE(again.exit_code == 0, again.err);
    auto opened = kurer::dpo::open_package(out_dir / "sbd.zip");
    BOOST_TEST_REQUIRE(opened.has_value(), (opened ? "" : opened.error().describe()));
    BOOST_TEST(opened->asic.has_value());
}

BOOST_AUTO_TEST_SUITE_END()

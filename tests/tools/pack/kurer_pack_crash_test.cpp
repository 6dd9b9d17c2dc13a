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
#include <spawn.h>
#include <sys/wait.h>
#include <thread>

extern char** environ;

namespace t = kurer::testing;

namespace {

bool has_work_directory(const std::filesystem::path& dir) {
    for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().filename().string().starts_with(".kurer-pack-"))
            return true;
    return false;
}

} // namespace

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

    // The event: the work directory exists, so packing is under way.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    bool started = false;
    while (std::chrono::steady_clock::now() < deadline && !(started = has_work_directory(out_dir))) {
        int status = 0;
        BOOST_TEST_REQUIRE(waitpid(pid, &status, WNOHANG) == 0, "kurer-pack ended before it was killed");
        std::this_thread::yield();
    }
    BOOST_TEST_REQUIRE(started);
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

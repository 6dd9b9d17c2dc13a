// The command line of the five executables, run as processes: --help lists each one's
// sub-commands and exits 0, a sub-command's --help shows its own options, --version names the
// program, an unknown option is named on stderr with the --help hint and exits 2.
#include <kurer/core/version.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

extern char** environ;

namespace {

struct ran {
    int exit_code = -1;
    std::string out, err;
};

std::string read_all(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Runs build/bin/<program> with `args`, stdin from /dev/null; its exit code, stdout and stderr.
ran run(const std::string& program, std::vector<std::string> args) {
    kurer::testing::scratch_dir dir;
    args.insert(args.begin(), kurer::testing::executable(program).string());
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, (dir / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, (dir / "err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    BOOST_TEST_REQUIRE(rc == 0, "cannot start " << args[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
    }
    ran r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_all(dir / "out");
    r.err = read_all(dir / "err");
    return r;
}

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

struct program {
    std::string name;
    std::vector<std::string> subcommands; // all of them appear in --help
    std::string subcommand;               // whose --help is checked
    std::vector<std::string> its_options; // ... and mentions these
};

const std::vector<program> programs{
    {"kurer", {"run"}, "run", {"--config"}},
    {"kurerctl",
     {"send", "status", "list", "watch", "inbox", "capabilities", "health", "metrics", "retry", "pause",
      "resume"},
     "send",
     {"--to", "--process", "--title", "--id", "--conversation", "FILE"}},
    {"kurer-pack", {"pack", "open"}, "open", {"--cert", "--key", "--trust", "--out"}},
    {"kurer-sandbox", {"init", "serve"}, "init", {"--port", "--org", "--seid2", "--broker"}},
    {"kurer-bench",
     {"storage", "memory", "pack", "altinn2-mtom", "altinn2-broker", "altinn3-transfer", "e2e", "torture"},
     "storage",
     {"--transitions", "--writers", "--dir"}},
};

} // namespace

BOOST_AUTO_TEST_SUITE(command_lines)

BOOST_AUTO_TEST_CASE(help_lists_the_subcommands_and_exits_zero) {
    for (const auto& p : programs) {
        for (const auto* flag : {"--help", "-h"}) {
            const auto r = run(p.name, {flag});
            BOOST_TEST(r.exit_code == 0, p.name << " " << flag << ": " << r.err);
            BOOST_TEST(r.err.empty(), p.name << ": " << r.err);
            BOOST_TEST(
                r.out.starts_with(p.name + " " + std::string(kurer::version()) + "\n\nusage: " + p.name),
                p.name << ": " << r.out);
            BOOST_TEST(contains(r.out, "--version"), p.name << ": " << r.out);
            for (const auto& sub : p.subcommands)
                BOOST_TEST(contains(r.out, "\n  " + sub + " "),
                           p.name << " --help lacks " << sub << ": " << r.out);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_subcommands_help_shows_its_options) {
    for (const auto& p : programs) {
        const auto r = run(p.name, {p.subcommand, "--help"});
        BOOST_TEST(r.exit_code == 0, p.name << " " << p.subcommand << " --help: " << r.err);
        BOOST_TEST(r.out.starts_with("usage: " + p.name + " " + p.subcommand), p.name << ": " << r.out);
        for (const auto& o : p.its_options)
            BOOST_TEST(contains(r.out, o),
                       p.name << " " << p.subcommand << " --help lacks " << o << ": " << r.out);
    }
}

BOOST_AUTO_TEST_CASE(version_names_the_program) {
    for (const auto& p : programs) {
        const auto r = run(p.name, {"--version"});
        BOOST_TEST(r.exit_code == 0);
        BOOST_TEST(r.out == p.name + " " + std::string(kurer::version()) + "\n");
    }
}

BOOST_AUTO_TEST_CASE(an_unknown_option_is_named_and_exits_two) {
    for (const auto& p : programs) {
        for (const auto& args : {std::vector<std::string>{"--frobnicate"},
                                 std::vector<std::string>{p.subcommand, "--frobnicate=1"}}) {
            const auto r = run(p.name, args);
            BOOST_TEST(r.exit_code == 2, p.name << " " << args.front() << ": " << r.err);
            BOOST_TEST(r.out.empty(), p.name << ": " << r.out);
            BOOST_TEST(r.err.starts_with(p.name + ": unknown option --frobnicate\n"),
                       p.name << ": " << r.err);
            BOOST_TEST(contains(r.err, "usage: " + p.name), p.name << ": " << r.err);
            BOOST_TEST(contains(r.err, "--help'"), p.name << ": " << r.err);
        }
    }
}

BOOST_AUTO_TEST_CASE(an_unknown_command_or_a_missing_value_exits_two) {
    for (const auto& p : programs) {
        const auto unknown = run(p.name, {"frobnicate"});
        BOOST_TEST(unknown.exit_code == 2, p.name << ": " << unknown.err);
        BOOST_TEST(unknown.err.starts_with(p.name + ": unknown command 'frobnicate'\n"), unknown.err);
        const auto none = run(p.name, {});
        BOOST_TEST(none.exit_code == 2, p.name);
        BOOST_TEST(contains(none.err, "usage: " + p.name), p.name << ": " << none.err);
        BOOST_TEST(none.out.empty());
        const auto missing = run(p.name, {p.subcommand, p.its_options.front()});
        BOOST_TEST(missing.exit_code == 2, p.name << ": " << missing.err);
        BOOST_TEST(missing.err.starts_with(p.name + ": " + p.its_options.front() + " needs a value\n"),
                   p.name << ": " << missing.err);
    }
}

BOOST_AUTO_TEST_SUITE_END()

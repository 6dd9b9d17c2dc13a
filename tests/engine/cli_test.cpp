// kurer::cli in-process: what parse answers and prints for help, version and mistakes, on a
// small program shaped like the real ones (tests/tools/cli runs the five executables).
#include <kurer/core/version.hpp>
#include <kurer/engine/cli.hpp>

#include <boost/test/unit_test.hpp>

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace cli = kurer::engine::cli;

namespace {

struct outcome {
    std::optional<int> code;
    std::string out, err;
};

// A program "demo" with `run --config FILE [--count N] [--tag T ...]` and `list [ID]`.
struct demo {
    CLI::App app{"A demonstration.", "demo"};
    CLI::App* run = nullptr;
    CLI::App* list = nullptr;
    std::string config, id;
    std::size_t count = 1;
    std::vector<std::string> tags;

    demo() {
        cli::configure(app, "usage: demo run --config FILE\n       demo --version | --help");
        run = app.add_subcommand("run", "run it");
        cli::synopsis(*run, "usage: demo run --config FILE [--count N]");
        run->add_option("--config", config, "the file")->required();
        run->add_option("--count", count, "how many")->check(cli::whole_number());
        run->add_option("--tag", tags, "a tag")
            ->allow_extra_args(false)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
        list = app.add_subcommand("list", "list them");
        list->add_option("ID", id, "one of them");
    }

    outcome parse(std::vector<std::string> args) {
        args.insert(args.begin(), "demo");
        std::vector<const char*> argv;
        for (const auto& a : args)
            argv.push_back(a.c_str());
        std::ostringstream out, err;
        auto* old_out = std::cout.rdbuf(out.rdbuf());
        auto* old_err = std::cerr.rdbuf(err.rdbuf());
        outcome o;
        o.code = cli::parse(app, static_cast<int>(argv.size()), argv.data());
        std::cout.rdbuf(old_out);
        std::cerr.rdbuf(old_err);
        o.out = out.str();
        o.err = err.str();
        return o;
    }
};

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(cli_conventions)

BOOST_AUTO_TEST_CASE(help_and_version_print_on_stdout_and_exit_zero) {
    for (const auto* flag : {"--help", "-h"}) {
        const auto o = demo().parse({flag});
        BOOST_TEST(o.code.value_or(-1) == 0);
        BOOST_TEST(o.err.empty());
        BOOST_TEST(
            o.out.starts_with("demo " + std::string(kurer::version()) + "\n\nusage: demo run --config FILE"),
            o.out);
        BOOST_TEST(contains(o.out, "A demonstration."), o.out);
        BOOST_TEST(contains(o.out, "run it"), o.out);
        BOOST_TEST(contains(o.out, "list them"), o.out);
    }
    const auto sub = demo().parse({"run", "--help"});
    BOOST_TEST(sub.code.value_or(-1) == 0, sub.err);
    BOOST_TEST(sub.out.starts_with("usage: demo run --config FILE [--count N]"), sub.out);
    BOOST_TEST(contains(sub.out, "--count"), sub.out);
    const auto generated = demo().parse({"list", "--help"});
    BOOST_TEST(contains(generated.out, "usage: demo list [OPTIONS] [ID]"), generated.out);

    const auto version = demo().parse({"--version"});
    BOOST_TEST(version.code.value_or(-1) == 0);
    BOOST_TEST(version.out == "demo " + std::string(kurer::version()) + "\n");
}

BOOST_AUTO_TEST_CASE(no_arguments_print_the_help_on_stderr_and_exit_two) {
    const auto o = demo().parse({});
    BOOST_TEST(o.code.value_or(-1) == 2);
    BOOST_TEST(o.out.empty());
    BOOST_TEST(contains(o.err, "usage: demo run"), o.err);
}

BOOST_AUTO_TEST_CASE(mistakes_name_what_is_wrong_show_the_usage_and_exit_two) {
    struct mistake {
        std::vector<std::string> args;
        std::string message, usage, hint;
    };
    const std::vector<mistake> mistakes{
        {{"--bogus"},
         "demo: unknown option --bogus\n",
         "usage: demo run --config FILE\n",
         "run 'demo --help'"},
        {{"run", "--config", "f", "--bogus=1"},
         "demo: unknown option --bogus\n",
         "usage: demo run --config FILE [",
         "run 'demo run --help' for its options"},
        {{"frobnicate"}, "demo: unknown command 'frobnicate'\n", "usage: demo run", "for the commands"},
        {{"run", "--config"},
         "demo: --config needs a value\n",
         "usage: demo run --config FILE [",
         "demo run --help"},
        {{"run"}, "demo: --config is required\n", "usage: demo run", "demo run --help"},
        {{"run", "--config", "f", "extra"},
         "demo: unexpected argument 'extra'\n",
         "usage: demo run",
         "--help"},
        {{"run", "--config", "f", "--count", "0"},
         "demo: --count: '0' is not a positive integer\n",
         "usage:",
         "--help"},
        {{"run", "--config", "f", "--count", "-1"},
         "demo: --count: '-1' is not a positive integer\n",
         "usage:",
         "--help"},
        {{"list", "a", "b"},
         "demo: unexpected argument 'b'\n",
         "usage: demo list [OPTIONS] [ID]",
         "demo list --help"},
    };
    for (const auto& m : mistakes) {
        const auto o = demo().parse(m.args);
        BOOST_TEST(o.code.value_or(-1) == 2, m.message);
        BOOST_TEST(o.out.empty(), o.out);
        BOOST_TEST(o.err.starts_with(m.message), o.err);
        BOOST_TEST(contains(o.err, m.usage), o.err);
        BOOST_TEST(contains(o.err, m.hint), o.err);
    }
}

BOOST_AUTO_TEST_CASE(values_as_separate_or_joined_arguments_the_last_one_wins) {
    demo d;
    const auto o =
        d.parse({"run", "--config=a.json", "--count", "3", "--count=4", "--tag", "x", "--tag", "y"});
    BOOST_TEST(!o.code.has_value(), o.err);
    BOOST_TEST(d.run->parsed());
    BOOST_TEST(d.config == "a.json");
    BOOST_TEST(d.count == 4u);
    BOOST_TEST(d.tags == (std::vector<std::string>{"x", "y"}), "each --tag takes one value, all are kept");
}

BOOST_AUTO_TEST_CASE(a_mistake_found_after_parsing_is_reported_alike) {
    demo d;
    BOOST_TEST_REQUIRE(!d.parse({"run", "--config", "f"}).code.has_value());
    std::ostringstream err;
    auto* old = std::cerr.rdbuf(err.rdbuf());
    const int code = cli::usage_error(d.app, "--config: f is not JSON");
    std::cerr.rdbuf(old);
    BOOST_TEST(code == 2);
    BOOST_TEST(err.str() == "demo: --config: f is not JSON\nusage: demo run --config FILE [--count N]\n"
                            "run 'demo run --help' for its options\n");
}

BOOST_AUTO_TEST_SUITE_END()

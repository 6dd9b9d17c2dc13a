// The command line of every kurer executable: CLI11 (Debian's libcli11-dev) with the conventions
// they all share, so `kurer`, kurerctl, kurer-pack, kurer-sandbox and kurer-bench answer alike.
//
//   CLI::App app{"what it does", "kurer-pack"};
//   kurer::engine::cli::configure(app, "usage: kurer-pack pack ...\n       kurer-pack --version | --help");
//   auto* pack = app.add_subcommand("pack", "builds sbd.zip");
//   kurer::engine::cli::synopsis(*pack, "usage: kurer-pack pack --sender 0192:ORG ...");
//   pack->add_option("--sender", sender, "...");
//   if (auto code = kurer::engine::cli::parse(app, argc, argv))
//       return *code;
//
// -h/--help prints "<program> <version>", the synopsis, the description, the options and the
// sub-commands on stdout and exits 0 (each sub-command has its own --help); --version prints
// "<program> <version>" and exits 0. A program with sub-commands run without arguments prints
// its help on stderr and exits 2. A mistake (an unknown option or command, a missing value or
// a missing required option, a value of the wrong form) prints "<program>: <what>", the usage of
// the command concerned and a hint to use --help on stderr, and exits 2. Options may be given as
// `--name value` or `--name=value`; an option given twice keeps the last value.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace kurer::engine::cli {

// The exit code of every usage mistake, in every kurer executable.
inline constexpr int usage_exit = 2;

// Gives the top-level `app` kurer's conventions: -h/--help, --version, the help layout, at most
// one sub-command, last-one-wins options. `synopsis` ("usage: ..." lines) heads its --help and
// follows its usage errors; without one, CLI11's generated usage line is shown.
void configure(CLI::App& app, std::string synopsis = {});

// The "usage: ..." lines of a sub-command (or of `app`), shown at the top of its --help and
// after its usage errors instead of the generated line.
void synopsis(CLI::App& app, std::string text);

// Parses the command line. nullopt: go on with the values the options were bound to. Otherwise
// the program ends with the returned code: 0 after --help or --version, usage_exit after a
// mistake (reported on stderr as above) or, for a program with sub-commands, no arguments.
std::optional<int> parse(CLI::App& app, int argc, const char* const* argv);

// Reports a usage mistake found after parsing (a value of the wrong form, an argument missing)
// as parse reports its own: "<program>: <message>", the usage of the deepest sub-command given,
// the --help hint, on stderr. Returns usage_exit.
int usage_error(const CLI::App& app, std::string_view message);

// Checks a count or a size: decimal digits only (CLI11 alone would take -1, 0x10 or 010), a
// value of at least `min`; else "--name: 'x' is not a positive integer" (min 1) or the like.
CLI::Validator whole_number(unsigned long long min = 1);

} // namespace kurer::engine::cli

// kurer: the daemon that sends and receives an organisation's DPO messages.
#include "daemon.hpp"

#include <kurer/engine/cli.hpp>

#include <string>

int main(int argc, char** argv) {
    namespace cli = kurer::engine::cli;
    CLI::App app{"Runs the engine for one organisation: sends what integration products submit through the\n"
                 "admin socket, receives the organisation's incoming messages and exchanges the receipts.",
                 "kurer"};
    cli::configure(app, "usage: kurer run --config FILE\n"
                        "       kurer --version | --help");
    app.footer(
        "Logs are JSON lines on stderr; SIGTERM or SIGINT stops it gracefully. Exit codes: 0 after a\n"
        "graceful stop, 1 when the engine cannot start or stops on an error, 2 for a usage or\n"
        "configuration error (nothing was started). See docs/configuration.md and docs/operations.md.");

    std::string config;
    auto* run = app.add_subcommand("run", "run the engine the configuration file describes");
    cli::synopsis(*run, "usage: kurer run --config FILE      (or --config=FILE)");
    run->add_option("--config", config, "the configuration (kurer.json, docs/configuration.md)")
        ->type_name("FILE")
        ->required()
        ->multi_option_policy(CLI::MultiOptionPolicy::Throw);

    if (auto code = cli::parse(app, argc, argv))
        return *code;
    if (!run->parsed())
        return cli::usage_error(app, "no command given");
    if (config.empty())
        return cli::usage_error(*run, "--config needs a file");
    return kurer::daemon::run(config);
}

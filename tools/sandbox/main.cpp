// kurer-sandbox: local stand-ins for Maskinporten, the Service Registry and the Altinn brokers.
#include <kurer/engine/cli.hpp>
#include <kurer/sandbox/init.hpp>
#include <kurer/sandbox/serve.hpp>

#include <iostream>

namespace {

namespace cli = kurer::engine::cli;

// A repeatable option: each occurrence takes one value, all are kept in order.
CLI::Option* repeatable(CLI::App* cmd, const std::string& name, std::vector<std::string>& into,
                        std::string description) {
    return cmd->add_option(name, into, std::move(description))
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Local stand-ins for Maskinporten, the Service Registry and the Altinn brokers.",
                 "kurer-sandbox"};
    cli::configure(
        app, "usage: kurer-sandbox init DIR --port N --org ORGNR [--org ORGNR ...] [--seid2 ORGNR ...]\n"
             "                          [--broker altinn2|altinn3]\n"
             "       kurer-sandbox serve DIR [--fault JSON ...] [--set JSON ...] [--verbose]\n"
             "       kurer-sandbox --version | --help");
    app.footer("See docs/sandbox.md.");

    std::string dir;
    kurer::sandbox::init_options init;
    auto* init_cmd = app.add_subcommand(
        "init", "create DIR: a test CA, certificates, keys, a kurer.json per organisation");
    cli::synopsis(*init_cmd,
                  "usage: kurer-sandbox init DIR --port N --org ORGNR [--org ORGNR ...] [--seid2 ORGNR ...]\n"
                  "                          [--broker altinn2|altinn3]");
    init_cmd->footer(
        "Creates DIR: a test CA, certificates and keys for every organisation, the sandbox state\n"
        "(DIR/sandbox.json) and a ready-to-run kurer configuration per organisation at\n"
        "DIR/orgs/<orgnr>/kurer.json. --port 0 lets `serve` choose a free port (and rewrite the\n"
        "configurations when it starts). Enterprise certificates have SEID 1 subjects (serialNumber\n"
        "ORGNR); --seid2 ORGNR (repeatable, each also an --org) gives that organisation a SEID 2.0\n"
        "subject instead (organizationIdentifier NTRNO-ORGNR), as current production certificates.");
    init_cmd->add_option("DIR", dir, "the sandbox directory to create")->required();
    unsigned port = 0;
    auto* port_option =
        init_cmd->add_option("--port", port, "the HTTPS port on 127.0.0.1 (0: chosen by serve)")
            ->type_name("N")
            ->check(cli::whole_number(0))
            ->check(CLI::Range(0U, 65535U).description(""));
    repeatable(init_cmd, "--org", init.organizations, "an organisation (9 digits; repeatable)")
        ->type_name("ORGNR");
    repeatable(init_cmd, "--seid2", init.seid2_organizations,
               "an --org whose certificate has a SEID 2.0 subject (repeatable)")
        ->type_name("ORGNR");
    init_cmd->add_option("--broker", init.broker, "the broker the organisations use (default altinn2)")
        ->type_name("altinn2|altinn3");

    kurer::sandbox::serve_options serve;
    auto* serve_cmd =
        app.add_subcommand("serve", "serve DIR over HTTPS on 127.0.0.1 until SIGTERM or SIGINT");
    cli::synopsis(*serve_cmd,
                  "usage: kurer-sandbox serve DIR [--fault JSON ...] [--set JSON ...] [--verbose]");
    serve_cmd->footer(
        "Serves HTTPS on 127.0.0.1:<port> and prints \"ready https://127.0.0.1:<port>\" once listening.\n"
        "--fault adds a fault rule, e.g. '{\"path_prefix\":\"/token\",\"status\":503,\"count\":2}';\n"
        "--set changes a setting, e.g. '{\"token_lifetime_s\":5}'. See docs/sandbox.md.");
    serve_cmd->add_option("DIR", dir, "a directory `kurer-sandbox init` made")->required();
    repeatable(serve_cmd, "--fault", serve.faults, "a fault rule (repeatable)")->type_name("JSON");
    repeatable(serve_cmd, "--set", serve.settings, "a settings change (repeatable)")->type_name("JSON");
    serve_cmd->add_flag("--verbose", serve.verbose, "also log debug lines");

    if (auto code = cli::parse(app, argc, argv))
        return *code;
    if (init_cmd->parsed()) {
        if (port_option->count() == 0)
            return cli::usage_error(app, "init needs --port (0 lets serve choose)");
        init.port = static_cast<std::uint16_t>(port);
        auto s = kurer::sandbox::init_sandbox(dir, init);
        if (!s) {
            std::cerr << "kurer-sandbox: " << s.error().message << "\n";
            return 1;
        }
        std::cout << "initialised " << dir << " with " << s->organizations.size() << " organisation(s)\n";
        return 0;
    }
    if (serve_cmd->parsed())
        return kurer::sandbox::serve(dir, serve, std::cout);
    return cli::usage_error(app, "no command given");
}

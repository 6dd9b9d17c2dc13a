// kurer-sandbox: local stand-ins for Maskinporten, the Service Registry and the Altinn brokers.
#include <kurer/engine/cli.hpp>
#include <kurer/sandbox/init.hpp>
#include <kurer/sandbox/serve.hpp>

#include <charconv>
#include <iostream>

namespace {

constexpr std::string_view usage =
    R"(usage: kurer-sandbox init DIR --port N --org ORGNR [--org ORGNR ...] [--seid2 ORGNR ...]
                          [--broker altinn2|altinn3]
       kurer-sandbox serve DIR [--fault JSON ...] [--set JSON ...] [--verbose]
       kurer-sandbox --version | --help

init   creates DIR: a test CA, certificates and keys for every organisation, the sandbox state
       (DIR/sandbox.json) and a ready-to-run kurer configuration per organisation at
       DIR/orgs/<orgnr>/kurer.json. --port 0 lets `serve` choose a free port (and rewrite the
       configurations when it starts). Enterprise certificates have SEID 1 subjects (serialNumber
       ORGNR); --seid2 ORGNR (repeatable, each also an --org) gives that organisation a SEID 2.0
       subject instead (organizationIdentifier NTRNO-ORGNR), as current production certificates.
serve  serves HTTPS on 127.0.0.1:<port> and prints "ready https://127.0.0.1:<port>" once listening.
       --fault adds a fault rule, e.g. '{"path_prefix":"/token","status":503,"count":2}';
       --set changes a setting, e.g. '{"token_lifetime_s":5}'. See docs/sandbox.md.
)";

int usage_error(const std::string& message) {
    std::cerr << "kurer-sandbox: " << message << "\n" << usage;
    return 2;
}

int init(std::span<char* const> args) {
    if (args.size() < 3)
        return usage_error("init needs a directory");
    kurer::sandbox::init_options options;
    bool port_given = false;
    for (std::size_t i = 3; i < args.size(); ++i) {
        const std::string_view a = args[i];
        if (i + 1 >= args.size())
            return usage_error("option " + std::string(a) + " needs a value");
        const std::string_view v = args[++i];
        if (a == "--port") {
            unsigned port = 0;
            const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), port);
            if (ec != std::errc{} || p != v.data() + v.size() || port > 65535)
                return usage_error("--port " + std::string(v) + ": expected 0-65535");
            options.port = static_cast<std::uint16_t>(port);
            port_given = true;
        } else if (a == "--org") {
            options.organizations.emplace_back(v);
        } else if (a == "--seid2") {
            options.seid2_organizations.emplace_back(v);
        } else if (a == "--broker") {
            options.broker = v;
        } else {
            return usage_error("unknown option " + std::string(a));
        }
    }
    if (!port_given)
        return usage_error("init needs --port (0 lets serve choose)");
    auto s = kurer::sandbox::init_sandbox(args[2], options);
    if (!s) {
        std::cerr << "kurer-sandbox: " << s.error().message << "\n";
        return 1;
    }
    std::cout << "initialised " << args[2] << " with " << s->organizations.size() << " organisation(s)\n";
    return 0;
}

int serve(std::span<char* const> args) {
    if (args.size() < 3)
        return usage_error("serve needs a directory");
    kurer::sandbox::serve_options options;
    for (std::size_t i = 3; i < args.size(); ++i) {
        const std::string_view a = args[i];
        if (a == "--verbose") {
            options.verbose = true;
            continue;
        }
        if (i + 1 >= args.size())
            return usage_error("option " + std::string(a) + " needs a value");
        if (a == "--fault")
            options.faults.emplace_back(args[++i]);
        else if (a == "--set")
            options.settings.emplace_back(args[++i]);
        else
            return usage_error("unknown option " + std::string(a));
    }
    return kurer::sandbox::serve(args[2], options, std::cout);
}

} // namespace

int main(int argc, char** argv) {
    const std::span<char* const> args{argv, static_cast<std::size_t>(argc)};
    if (auto code = kurer::engine::handle_common_options("kurer-sandbox", usage, args))
        return *code;
    const std::string_view command = argv[1];
    if (command == "init")
        return init(args);
    if (command == "serve")
        return serve(args);
    return usage_error("unknown command '" + std::string(command) + "'");
}

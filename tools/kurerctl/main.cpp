// kurerctl: the operator's and integrator's CLI over the engine's admin socket.
#include "ctl.hpp"

#include <kurer/engine/cli.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>

namespace {

constexpr std::string_view usage_text = R"(usage: kurerctl [--socket PATH] [--json] COMMAND ...
       kurerctl --tcp HOST:PORT --token-file FILE [--json] COMMAND ...
       kurerctl --version | --help

Talks to a running kurer engine over its admin socket (default: $KURER_SOCKET, else ./kurer.sock).
Tables by default; --json prints the engine's JSON instead.

commands:
  send --to 0192:ORG [--process URN] [--title TEXT] [--id UUID] [--conversation UUID] FILE...
                          create a message, upload the files (an arkivmelding.xml is written when
                          none is given), send it; prints the messageId
  status ID               a message's state and its timed transition history
  list [--state S] [--direction outgoing|incoming] [--limit N]
                          messages by engine state (Created ... Received, Queued, ...)
  watch [ID]              follow transitions live (with ID: until that message is finished)
  inbox                   messages waiting for this end system
  inbox take [ID] --out DIR
                          peek (lock), pop the documents into DIR, then delete from the queue
                          (the sender gets LEVERT)
  capabilities 0192:ORG [--process URN]
                          what the receiver takes, from the Service Registry
  health                  whether the engine runs, and its counters
  metrics                 Prometheus metrics
  retry ID                send a Failed message again (if the broker never accepted it)
  pause | resume          stop or restart sending (receipts still flow)

exit codes: 0 done, 1 the engine refused or the request failed, 2 bad usage, 3 the engine is not running
)";

// Options that take a value, per command ("" = global).
const std::set<std::string> valued_options = {"--socket",  "--tcp",       "--token-file", "--to",
                                              "--process", "--title",     "--id",         "--conversation",
                                              "--state",   "--direction", "--limit",      "--out"};

int run(int argc, char** argv) {
    using namespace kurer::ctl;
    invocation inv;
    const char* env = std::getenv("KURER_SOCKET");
    inv.target.socket = env && *env ? env : "kurer.sock";
    std::optional<std::string> tcp, token_file;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--json") {
            inv.json = true;
        } else if (a.starts_with("--")) {
            const auto eq = a.find('=');
            const auto name = a.substr(0, eq);
            if (!valued_options.contains(name))
                throw failure(usage, "unknown option " + name);
            std::string value;
            if (eq != std::string::npos)
                value = a.substr(eq + 1);
            else if (i + 1 < argc)
                value = argv[++i];
            else
                throw failure(usage, name + " needs a value");
            if (name == "--socket")
                inv.target.socket = value;
            else if (name == "--tcp")
                tcp = value;
            else if (name == "--token-file")
                token_file = value;
            else
                inv.options[name.substr(2)] = value;
        } else if (inv.command.empty()) {
            inv.command = a;
        } else {
            inv.args.push_back(a);
        }
    }
    if (tcp) {
        const auto colon = tcp->rfind(':');
        if (colon == std::string::npos)
            throw failure(usage, "--tcp expects HOST:PORT");
        inv.target.socket.clear();
        inv.target.host = tcp->substr(0, colon);
        try {
            inv.target.port = static_cast<unsigned short>(std::stoul(tcp->substr(colon + 1)));
        } catch (const std::exception&) {
            throw failure(usage, "--tcp expects HOST:PORT");
        }
        if (!token_file)
            throw failure(usage, "--tcp needs --token-file (the listener requires a bearer token)");
        std::ifstream in(*token_file);
        if (!in || !std::getline(in, inv.target.token))
            throw failure(usage, "cannot read the token from " + *token_file);
    }
    const auto& c = inv.command;
    if (c.empty())
        throw failure(usage, "no command given");
    if (c == "send")
        return cmd_send(inv);
    if (c == "status")
        return cmd_status(inv);
    if (c == "list")
        return cmd_list(inv);
    if (c == "watch")
        return cmd_watch(inv);
    if (c == "inbox")
        return cmd_inbox(inv);
    if (c == "capabilities")
        return cmd_capabilities(inv);
    if (c == "health")
        return cmd_health(inv);
    if (c == "metrics")
        return cmd_metrics(inv);
    if (c == "retry")
        return cmd_retry(inv);
    if (c == "pause" || c == "resume")
        return cmd_pause(inv, c == "pause");
    throw failure(usage, "unknown command '" + c + "'");
}

} // namespace

int main(int argc, char** argv) {
    if (auto code = kurer::engine::handle_common_options("kurerctl", usage_text,
                                                         {argv, static_cast<std::size_t>(argc)}))
        return *code;
    try {
        return run(argc, argv);
    } catch (const kurer::ctl::failure& f) {
        std::cerr << "kurerctl: " << f.what() << "\n";
        if (f.code == kurer::ctl::usage)
            std::cerr << "run 'kurerctl --help' for the commands\n";
        return f.code;
    } catch (const std::exception& e) {
        std::cerr << "kurerctl: " << e.what() << "\n";
        return kurer::ctl::failed;
    }
}

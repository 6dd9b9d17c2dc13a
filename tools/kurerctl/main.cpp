// kurerctl: the operator's and integrator's CLI over the engine's admin socket.
#include "ctl.hpp"

#include <kurer/engine/cli.hpp>

#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <string>

namespace {

namespace cli = kurer::engine::cli;
using namespace kurer::ctl;

constexpr const char* synopsis = "usage: kurerctl [--socket PATH] [--json] COMMAND ...\n"
                                 "       kurerctl --tcp HOST:PORT --token-file FILE [--json] COMMAND ...\n"
                                 "       kurerctl --version | --help";

// The command line, bound to an invocation: the global options anywhere (before or after the
// command), each command's options after it.
class command_line {
public:
    explicit command_line(invocation& inv)
        : inv_(inv) {
        cli::configure(app_, synopsis);
        app_.fallthrough(); // --socket, --tcp, --token-file and --json also after the command
        app_.footer("exit codes: 0 done, 1 the engine refused or the request failed, 2 bad usage, 3 the "
                    "engine is not running");
        app_.add_option("--socket", inv.target.socket, "the engine's admin socket (default: ./kurer.sock)")
            ->type_name("PATH")
            ->envname("KURER_SOCKET");
        app_.add_option("--tcp", tcp, "the engine's admin TCP listener instead of the socket")
            ->type_name("HOST:PORT");
        app_.add_option("--token-file", token_file, "the bearer token for --tcp (its first line)")
            ->type_name("FILE");
        app_.add_flag("--json", inv.json, "print the engine's JSON instead of tables");

        auto* send = command("send",
                             "create a message, upload the files, send it; prints the messageId\n"
                             "(an arkivmelding.xml naming the files is written when none is given)",
                             &cmd_send);
        cli::synopsis(*send, "usage: kurerctl send --to 0192:ORG [--process URN] [--title TEXT] [--id UUID]\n"
                             "                     [--conversation UUID] FILE...");
        value(send, "to", "0192:ORG", "the receiver");
        value(send, "process", "URN", "the process (default: the engine's default_process)");
        value(send, "title", "TEXT", "the title (default: the first file's name)");
        value(send, "id", "UUID", "the messageId (default: the engine makes one)");
        value(send, "conversation", "UUID", "the conversationId (default: the engine makes one)");
        send->add_option("FILE", inv.args, "the documents (the first is the main document)");

        auto* status = command("status", "a message's state and its timed transition history", &cmd_status);
        cli::synopsis(*status, "usage: kurerctl status ID");
        positional(status, "ID", "the messageId");

        auto* list =
            command("list", "messages by engine state (Created ... Received, Queued, ...)", &cmd_list);
        cli::synopsis(*list, "usage: kurerctl list [--state S] [--direction outgoing|incoming] [--limit N]");
        value(list, "state", "S", "only messages in this state");
        value(list, "direction", "outgoing|incoming", "only messages going this way");
        value(list, "limit", "N", "at most N messages (default 100)");

        auto* watch =
            command("watch", "follow transitions live (with ID: until that message is finished)", &cmd_watch);
        cli::synopsis(*watch, "usage: kurerctl watch [ID]");
        positional(watch, "ID", "the messageId (its history first)");

        auto* inbox =
            command("inbox", "messages waiting for this end system; `inbox take` takes one", &cmd_inbox);
        cli::synopsis(*inbox, "usage: kurerctl inbox [--process URN]\n"
                              "       kurerctl inbox take [ID] --out DIR");
        value(inbox, "process", "URN", "only messages of this process");
        auto* take = command(inbox, "take",
                             "peek (lock), pop the documents into DIR, then delete from the queue\n"
                             "(the sender gets LEVERT)",
                             &cmd_inbox_take);
        cli::synopsis(*take, "usage: kurerctl inbox take [ID] --out DIR");
        value(take, "out", "DIR", "where the documents, asic.zip and sbd.json go");
        positional(take, "ID", "the messageId (default: the next one waiting)");

        auto* capabilities =
            command("capabilities", "what the receiver takes, from the Service Registry", &cmd_capabilities);
        cli::synopsis(*capabilities, "usage: kurerctl capabilities 0192:ORG [--process URN]");
        positional(capabilities, "ORG", "the receiver, 0192:ORG");
        value(capabilities, "process", "URN", "only this process");

        command("health", "whether the engine runs, and its counters", &cmd_health);
        command("metrics", "Prometheus metrics", &cmd_metrics);
        auto* retry =
            command("retry", "send a Failed message again (if the broker never accepted it)", &cmd_retry);
        cli::synopsis(*retry, "usage: kurerctl retry ID");
        positional(retry, "ID", "the messageId");
        command("pause", "stop sending (receipts still flow)",
                [](const invocation& i) { return cmd_pause(i, true); });
        command("resume", "start sending again", [](const invocation& i) { return cmd_pause(i, false); });
    }

    CLI::App& app() { return app_; }

    // The command given (the deepest: `inbox take` rather than `inbox`), named in inv.command;
    // nullptr when none was.
    const std::function<int(const invocation&)>* chosen() {
        const CLI::App* at = &app_;
        std::string name;
        while (!at->get_subcommands().empty()) {
            at = at->get_subcommands().front();
            name += (name.empty() ? "" : " ") + at->get_name();
        }
        const auto it = commands_.find(at);
        if (it == commands_.end())
            return nullptr;
        inv_.command = name;
        return &it->second;
    }

    std::string tcp, token_file;

private:
    CLI::App* command(std::string name, std::string description, std::function<int(const invocation&)> run) {
        return command(&app_, std::move(name), std::move(description), std::move(run));
    }

    CLI::App* command(CLI::App* parent, std::string name, std::string description,
                      std::function<int(const invocation&)> run) {
        auto* sub = parent->add_subcommand(std::move(name), std::move(description));
        commands_.emplace(sub, std::move(run));
        return sub;
    }

    // --name VALUE, kept in invocation::options["name"] when given.
    void value(CLI::App* sub, const std::string& name, std::string type, std::string description) {
        sub->add_option_function<std::string>(
               "--" + name, [this, name](const std::string& v) { inv_.options[name] = v; },
               std::move(description))
            ->type_name(std::move(type));
    }

    // One positional argument, appended to invocation::args when given.
    void positional(CLI::App* sub, std::string name, std::string description) {
        sub->add_option_function<std::string>(
            std::move(name), [this](const std::string& v) { inv_.args.push_back(v); },
            std::move(description));
    }

    invocation& inv_;
    CLI::App app_{"Talks to a running kurer engine over its admin socket (default: $KURER_SOCKET, else\n"
                  "./kurer.sock). Tables by default; --json prints the engine's JSON instead.",
                  "kurerctl"};
    std::map<const CLI::App*, std::function<int(const invocation&)>> commands_;
};

// --tcp HOST:PORT with --token-file instead of the socket.
void use_tcp(invocation& inv, const std::string& tcp, const std::string& token_file) {
    const auto colon = tcp.rfind(':');
    if (colon == std::string::npos)
        throw failure(usage, "--tcp expects HOST:PORT");
    inv.target.socket.clear();
    inv.target.host = tcp.substr(0, colon);
    try {
        inv.target.port = static_cast<unsigned short>(std::stoul(tcp.substr(colon + 1)));
    } catch (const std::exception&) {
        throw failure(usage, "--tcp expects HOST:PORT");
    }
    if (token_file.empty())
        throw failure(usage, "--tcp needs --token-file (the listener requires a bearer token)");
    std::ifstream in(token_file);
    if (!in || !std::getline(in, inv.target.token))
        throw failure(usage, "cannot read the token from " + token_file);
}

} // namespace

int main(int argc, char** argv) {
    invocation inv;
    inv.target.socket = "kurer.sock";
    command_line line(inv);
    if (auto code = cli::parse(line.app(), argc, argv))
        return *code;
    try {
        if (line.app().count("--tcp") > 0)
            use_tcp(inv, line.tcp, line.token_file);
        const auto* run = line.chosen();
        if (run == nullptr)
            throw failure(usage, "no command given");
        return (*run)(inv);
    } catch (const failure& f) {
        if (f.code == usage)
            return cli::usage_error(line.app(), f.what());
        std::cerr << "kurerctl: " << f.what() << "\n";
        return f.code;
    } catch (const std::exception& e) {
        std::cerr << "kurerctl: " << e.what() << "\n";
        return failed;
    }
}

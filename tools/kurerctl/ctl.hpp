// kurerctl's pieces: the parsed command line, how answers are printed, and the commands.
#pragma once

#include <kurer/engine/admin_client.hpp>

#include <boost/json/value.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace kurer::ctl {

// Exit codes: 0 done, 1 the engine refused or the request failed, 2 bad usage, 3 no engine.
enum exit_code : int { ok = 0, failed = 1, usage = 2, not_running = 3 };

// A failure that ends the command with a message and an exit code.
struct failure : std::runtime_error {
    failure(int code, std::string message)
        : std::runtime_error(std::move(message))
        , code(code) {}
    int code;
};

struct invocation {
    engine::admin_target target;
    bool json = false;
    std::string command;
    std::vector<std::string> args;              // positional
    std::map<std::string, std::string> options; // --name value
};

class session {
public:
    explicit session(const invocation& inv)
        : client_(inv.target)
        , json_(inv.json) {}

    // A request whose answer must be 2xx (or one of `also_ok`); throws failure otherwise, with
    // the engine's message, or not_running when nothing listens.
    engine::admin_response call(engine::admin_request r, std::vector<unsigned> also_ok = {}) const;
    boost::json::value call_json(boost::beast::http::verb method, std::string target) const;

    const engine::admin_client& client() const noexcept { return client_; }
    bool json() const noexcept { return json_; }

private:
    engine::admin_client client_;
    bool json_;
};

// Left-aligned columns under a header row.
void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);
// A JSON value, pretty-printed, on stdout.
void print_json(const boost::json::value& v);
std::string str(const boost::json::value& v, std::string_view key); // "" when absent or not a string
std::string human_bytes(std::uint64_t n);

int cmd_send(const invocation& inv);
int cmd_status(const invocation& inv);
int cmd_list(const invocation& inv);
int cmd_watch(const invocation& inv);
int cmd_inbox(const invocation& inv);
int cmd_inbox_take(const invocation& inv); // args: [ID]
int cmd_capabilities(const invocation& inv);
int cmd_health(const invocation& inv);
int cmd_metrics(const invocation& inv);
int cmd_retry(const invocation& inv);
int cmd_pause(const invocation& inv, bool pause);

// The arkivmelding.xml kurerctl writes when none is given: one saksmappe with one journalpost
// whose documents are `files` (the first is the main document).
std::string make_arkivmelding(const std::string& title, const std::vector<std::string>& files);

} // namespace kurer::ctl

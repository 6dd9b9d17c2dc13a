// `kurer-sandbox serve DIR`: HTTPS on 127.0.0.1:<port> with every service, the request log,
// fault injection and the control endpoints under /sandbox/. Prints "ready https://127.0.0.1:<port>"
// (flushed) once it accepts connections; stops on SIGTERM or SIGINT.
//
// Control endpoints (never faulted):
//   GET    /sandbox/health     {"status":"ok","services":[...]}
//   GET    /sandbox/faults     the fault rules with what is left of their counts
//   POST   /sandbox/faults     add rules (a rule, an array, or {"rules":[...]}); 400 names a bad member
//   DELETE /sandbox/faults     remove every rule
//   GET    /sandbox/settings   the runtime switches (settings.hpp)
//   POST   /sandbox/settings   change them: {"token_lifetime_s":5}, {"sr_corrupt_signature":true}, ...
//   GET    /sandbox/stats      requests per "METHOD path?query" (conversationId left out)
//   DELETE /sandbox/stats      reset the counts
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace kurer::sandbox {

struct serve_options {
    std::vector<std::string> faults;   // JSON fault rules (--fault)
    std::vector<std::string> settings; // JSON objects applied to the settings (--set)
    bool verbose = false;              // also log debug lines
};

// Runs until a signal stops it; returns the process exit code. Errors go to stderr.
int serve(const std::filesystem::path& dir, const serve_options& options, std::ostream& ready_out);

} // namespace kurer::sandbox

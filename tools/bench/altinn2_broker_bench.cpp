// kurer-bench altinn2-broker: a large package through altinn2::broker_client and the sandbox's
// Altinn 2 broker over TLS on loopback (upload, then download), reporting the time of each
// direction, a plain file copy of the same size in the same run for comparison, and this
// process's peak RSS (VmHWM, reset before the transfer) — the sandbox runs as a child process,
// so the figure is the client's alone.
#include "bench.hpp"

#include <kurer/altinn2/client.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/engine/cli.hpp>
#include <kurer/sandbox/child.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <unistd.h>

namespace kurer::bench {
namespace {

namespace fs = std::filesystem;
using clock = std::chrono::steady_clock;

struct options {
    std::size_t size_mb = 200;
    std::string dir = fs::temp_directory_path().string();
    std::string sandbox; // default: next to kurer-bench
};

std::uint64_t vm_hwm_kib() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0)
            return std::stoull(line.substr(6));
    return 0;
}

void write_package(const fs::path& p, std::uint64_t size) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    std::vector<std::uint64_t> block(1 << 13);
    std::uint64_t x = 0x9E3779B97F4A7C15ull;
    for (std::uint64_t written = 0; written < size;) {
        for (auto& v : block) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v = x;
        }
        if (written == 0)
            std::memcpy(block.data(), "PK\3\4", 4); // the broker checks the zip signature
        const auto n = std::min<std::uint64_t>(block.size() * 8, size - written);
        out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(n));
        written += n;
    }
}

double seconds_since(clock::time_point start) {
    return std::chrono::duration<double>(clock::now() - start).count();
}

template <class T>
T run_on(boost::asio::io_context& io, boost::asio::awaitable<T> work) {
    std::optional<T> out;
    std::exception_ptr failure;
    bool done = false;
    boost::asio::co_spawn(io, std::move(work), [&](std::exception_ptr e, T v) {
        failure = e;
        if (!e)
            out.emplace(std::move(v));
        done = true;
    });
    // Until the work is done, not until the io_context runs dry: pooled connections keep
    // their idle timers running.
    io.restart();
    while (!done)
        io.run_one();
    if (failure)
        std::rethrow_exception(failure);
    return std::move(*out);
}

altinn2::client_config config_for(const fs::path& sandbox_dir, const std::string& org) {
    std::ifstream in(sandbox_dir / "orgs" / org / "kurer.json");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto v = boost::json::parse(text);
    const auto& a2 = v.at("broker").at("altinn2");
    altinn2::client_config c;
    c.broker.basic_url = a2.at("basic_url").as_string();
    c.broker.streamed_url = a2.at("streamed_url").as_string();
    c.broker.account.system_user = a2.at("system_user").as_string();
    c.broker.account.system_password = a2.at("system_password").as_string();
    c.broker.service.code = a2.at("service_code").as_string();
    c.broker.service.edition = static_cast<std::int32_t>(a2.at("service_edition").as_int64());
    c.organization = org;
    return c;
}

int run(const options& o) {
    const std::size_t size_mb = o.size_mb;
    const fs::path work = fs::path(o.dir) / ("kurer-bench-a2-" + random_uuid());
    char self[4096] = {};
    const auto len = ::readlink("/proc/self/exe", self, sizeof self - 1);
    const fs::path sandbox_exe =
        !o.sandbox.empty() ? fs::path(o.sandbox)
                           : fs::path(std::string(self, len > 0 ? len : 0)).parent_path() / "kurer-sandbox";
    fs::create_directories(work);
    struct cleanup {
        fs::path p;
        ~cleanup() {
            std::error_code ec;
            fs::remove_all(p, ec);
        }
    } remove_work{work};

    const std::string a = "910077473", b = "910075918";
    auto sb = sandbox::child::start(sandbox_exe, work / "sb", {.organizations = {a, b}});
    if (!sb) {
        std::cerr << "cannot start " << sandbox_exe << ": " << sb.error().message << "\n";
        return 1;
    }
    const std::uint64_t size = std::uint64_t(size_mb) << 20;
    const auto package = work / "sbd.zip";
    write_package(package, size);

    // A plain copy of the same file, for scale.
    auto start = clock::now();
    fs::copy_file(package, work / "copy.zip");
    const double copy_s = seconds_since(start);
    fs::remove(work / "copy.zip");

    boost::asio::io_context io;
    http::client_config hc;
    hc.ca_bundle = sb->dir() / "ca/ca.pem";
    auto http = std::make_shared<http::client>(http::client::create(io.get_executor(), hc).value());
    auto sender = altinn2::broker_client::create(http, config_for(sb->dir(), a)).value();
    auto receiver = altinn2::broker_client::create(http, config_for(sb->dir(), b)).value();

    auto ref = run_on(io, sender.initiate(a, random_uuid(), b));
    if (!ref) {
        std::cerr << "initiate: " << ref.error().describe() << "\n";
        return 1;
    }
    std::ofstream("/proc/self/clear_refs") << "5";
    const auto hwm_before = vm_hwm_kib();

    start = clock::now();
    auto up = run_on(io, sender.upload(*ref, a, package));
    const double up_s = seconds_since(start);
    if (!up) {
        std::cerr << "upload: " << up.error().describe() << "\n";
        return 1;
    }
    start = clock::now();
    auto down = run_on(io, receiver.download(*ref, b, work / "in.zip"));
    const double down_s = seconds_since(start);
    if (!down || *down != size) {
        std::cerr << "download: " << (down ? "wrong size" : down.error().describe()) << "\n";
        return 1;
    }
    const auto hwm_after = vm_hwm_kib();

    std::cout << "altinn2-broker: " << size_mb << " MiB over TLS on loopback (sandbox as a child process)\n"
              << "  plain copy      " << copy_s << " s\n"
              << "  upload          " << up_s << " s  (" << (up_s / copy_s) << "x the copy, "
              << size_mb / up_s << " MiB/s)\n"
              << "  download        " << down_s << " s  (" << (down_s / copy_s) << "x the copy, "
              << size_mb / down_s << " MiB/s)\n"
              << "  client peak RSS " << hwm_before << " KiB before, " << hwm_after << " KiB after (+"
              << (hwm_after - hwm_before) << " KiB)\n";
    return 0;
}

command_fn setup(CLI::App& command) {
    auto o = std::make_shared<options>();
    engine::cli::synopsis(command,
                          "usage: kurer-bench altinn2-broker [--size-mb N] [--dir PATH] [--sandbox PATH]");
    command.footer(
        "Starts kurer-sandbox, uploads an N MiB package (default 200) from one organisation with\n"
        "altinn2::broker_client and downloads it as the other, over TLS on 127.0.0.1. Reports the time\n"
        "of each direction, a plain copy of the file for comparison, and this process's peak RSS growth.");
    command.add_option("--size-mb", o->size_mb, "package size in MiB (default 200)")
        ->type_name("N")
        ->check(engine::cli::whole_number());
    command
        .add_option("--dir", o->dir,
                    "scratch directory (default: the system's temp directory); removed afterwards")
        ->type_name("PATH");
    command
        .add_option("--sandbox", o->sandbox, "the kurer-sandbox executable (default: next to kurer-bench)")
        ->type_name("PATH");
    return [o] {
        return run(*o);
    };
}

const registrar
    registered("altinn2-broker",
               "Altinn 2 broker client: a large upload and download against the sandbox, time and peak RSS",
               &setup);

} // namespace
} // namespace kurer::bench

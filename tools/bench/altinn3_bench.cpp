// kurer-bench altinn3-transfer: one large file sent and received through the Altinn 3 client
// against a kurer-sandbox child process over TLS on loopback: time per phase (MD5 + initialize,
// upload, download, confirm), throughput, and this process's peak resident memory growth, with a
// plain copy of the same file measured in the same run for comparison.
#include "bench.hpp"

#include <kurer/altinn3/broker.hpp>
#include <kurer/altinn3/client.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/engine/cli.hpp>
#include <kurer/http/client.hpp>
#include <kurer/maskinporten/grant.hpp>
#include <kurer/maskinporten/token_provider.hpp>
#include <kurer/sandbox/child.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>

namespace kurer::bench {
namespace {

namespace fs = std::filesystem;
namespace a3 = kurer::altinn3;
namespace mp = kurer::maskinporten;
using clock = std::chrono::steady_clock;

struct options {
    std::size_t size_mb = 200;
    std::string dir = fs::temp_directory_path().string();
};

long peak_rss_kib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

double seconds_since(clock::time_point start) {
    return std::chrono::duration<double>(clock::now() - start).count();
}

bool write_test_file(const fs::path& path, std::uint64_t size) {
    std::ofstream out(path, std::ios::binary);
    std::vector<std::uint64_t> block(1 << 13);
    std::uint64_t x = 0x9E3779B97F4A7C15ull;
    for (std::uint64_t written = 0; written < size;) {
        for (auto& v : block) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v = x;
        }
        const auto n = std::min<std::uint64_t>(block.size() * 8, size - written);
        out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(n));
        written += n;
    }
    return static_cast<bool>(out);
}

// Runs `work` to completion (not io.run(): pooled connections keep timers pending).
template <class T>
T run(boost::asio::io_context& io, boost::asio::awaitable<T> work) {
    std::optional<T> out;
    std::exception_ptr failure;
    bool done = false;
    boost::asio::co_spawn(io, std::move(work), [&](std::exception_ptr e, T value) {
        failure = e;
        if (!e)
            out.emplace(std::move(value));
        done = true;
    });
    io.restart();
    while (!done)
        io.run_one();
    if (failure)
        std::rethrow_exception(failure);
    return std::move(*out);
}

struct party {
    std::unique_ptr<mp::token_provider> provider;
    std::unique_ptr<a3::client> client;
    std::unique_ptr<a3::broker> broker;
};

party make_party(http::client& h, const sandbox::child& sb, const std::string& org) {
    const auto dir = sb.dir() / "orgs" / org;
    auto creds = mp::credentials::load(dir / "cert.pem", dir / "key.pem").value();
    party p;
    p.provider = std::make_unique<mp::token_provider>(
        mp::token_provider::create(h,
                                   {.token_url = sb.base_url() + "/token",
                                    .audience = sb.base_url() + "/",
                                    .client_id = "MOVE_IP_" + org},
                                   std::move(creds))
            .value());
    auto tokens = a3::system_user_tokens(
        *p.provider, {.organization = org, .external_ref = org + "_integrasjonspunkt_systembruker_" + org});
    p.client = std::make_unique<a3::client>(
        h,
        a3::config{.base_url = sb.base_url() + "/broker/api/v1",
                   .exchange_url = sb.base_url() + "/authentication/api/v1/exchange/maskinporten"},
        std::move(tokens));
    p.broker = std::make_unique<a3::broker>(*p.client, org);
    return p;
}

void phase(std::string_view name, double seconds, std::uint64_t bytes) {
    std::printf("  %-22s %8.3f s  %8.1f MiB/s\n", std::string(name).c_str(), seconds,
                static_cast<double>(bytes) / (1 << 20) / seconds);
}

int fail(std::string_view what, const kurer::error& e) {
    std::cerr << what << ": " << e.message << "\n";
    return 1;
}

int transfer(const options& o) {
    const std::size_t size_mb = o.size_mb;
    const std::uint64_t size = static_cast<std::uint64_t>(size_mb) << 20;
    const fs::path base = o.dir;
    const auto scratch = base / ("kurer-bench-altinn3-" + random_uuid());
    fs::create_directories(scratch);
    struct cleanup {
        fs::path p;
        ~cleanup() {
            std::error_code ec;
            fs::remove_all(p, ec);
        }
    } remove_scratch{scratch};

    char self[4096] = {};
    const auto n = readlink("/proc/self/exe", self, sizeof self - 1);
    const auto exe =
        fs::path(std::string(self, n > 0 ? static_cast<std::size_t>(n) : 0)).parent_path() / "kurer-sandbox";
    auto sb = sandbox::child::start(exe, scratch / "sandbox", {.broker = "altinn3"});
    if (!sb)
        return fail("starting kurer-sandbox", sb.error());

    const auto file = scratch / "sbd.zip";
    if (!write_test_file(file, size)) {
        std::cerr << "cannot write " << file << "\n";
        return 1;
    }
    // The same bytes copied by the kernel, for scale.
    auto start = clock::now();
    fs::copy_file(file, scratch / "copy.zip");
    const double copy_s = seconds_since(start);
    fs::remove(scratch / "copy.zip");

    boost::asio::io_context io;
    auto h = http::client::create(io.get_executor(), {.ca_bundle = sb->dir() / "ca/ca.pem"});
    if (!h)
        return fail("http client", h.error());
    auto alice = make_party(*h, *sb, "910077473");
    auto bob = make_party(*h, *sb, "910075918");
    // Tokens first: the measurement is the transfer.
    if (auto t = run(io, alice.client->altinn_token(std::string(a3::scope_write))); !t)
        return fail("token", t.error());
    if (auto t = run(io, bob.client->altinn_token(std::string(a3::scope_read))); !t)
        return fail("token", t.error());
    const long rss_before = peak_rss_kib();

    start = clock::now();
    auto id = run(io, alice.broker->initiate({.sender = "910077473",
                                              .receiver = "910075918",
                                              .senders_reference = random_uuid(),
                                              .file = file}));
    if (!id)
        return fail("initiate", id.error());
    const double initiate_s = seconds_since(start);
    start = clock::now();
    if (auto up = run(io, alice.broker->upload(*id, file)); !up)
        return fail("upload", up.error());
    const double upload_s = seconds_since(start);
    // The broker publishes asynchronously; poll its status as a client would.
    for (const auto deadline = clock::now() + std::chrono::seconds(60);;) {
        auto o = run(io, bob.client->overview(*id));
        if (!o)
            return fail("overview", o.error());
        if (o->status == "Published")
            break;
        if (clock::now() > deadline) {
            std::cerr << "the transfer was not published within 60 s\n";
            return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    start = clock::now();
    const auto received = scratch / "received.zip";
    if (auto down = run(io, bob.broker->download(*id, received)); !down)
        return fail("download", down.error());
    const double download_s = seconds_since(start);
    start = clock::now();
    if (auto c = run(io, bob.broker->confirm(*id)); !c)
        return fail("confirm", c.error());
    const double confirm_s = seconds_since(start);
    const long rss_after = peak_rss_kib();

    const auto sent_md5 = a3::md5_file_hex(file);
    const auto received_md5 = a3::md5_file_hex(received);
    const bool same =
        fs::file_size(received) == size && sent_md5 && received_md5 && *sent_md5 == *received_md5;
    std::printf("altinn3-transfer: %zu MiB through kurer-sandbox (TLS, loopback)%s\n", size_mb,
                same ? "" : "  ** RECEIVED FILE DIFFERS **");
    phase("file copy (kernel)", copy_s, size);
    phase("md5 + initialize", initiate_s, size);
    phase("upload", upload_s, size);
    phase("download", download_s, size);
    std::printf("  %-22s %8.3f s\n", "confirm", confirm_s);
    std::printf("  peak RSS: %ld KiB before, %ld KiB after: grew %ld KiB for a %zu MiB file\n", rss_before,
                rss_after, rss_after - rss_before, size_mb);
    sb->stop();
    return same ? 0 : 1;
}

command_fn setup(CLI::App& command) {
    auto o = std::make_shared<options>();
    engine::cli::synopsis(command, "usage: kurer-bench altinn3-transfer [--size-mb N] [--dir PATH]");
    command.footer(
        "Starts kurer-sandbox (Altinn 3 broker), sends an N MiB file (default 200) from one organisation\n"
        "and receives it as the other: MD5 + initialize, upload, download, confirm. Prints each phase's\n"
        "time and throughput, a plain file copy of the same file for comparison, and the growth of this\n"
        "process's peak resident memory (the transfer streams: it should not grow with N).");
    command.add_option("--size-mb", o->size_mb, "file size in MiB (default 200)")
        ->type_name("N")
        ->check(engine::cli::whole_number());
    command
        .add_option("--dir", o->dir,
                    "scratch directory (default: the system's temp directory); removed afterwards")
        ->type_name("PATH");
    return [o] {
        return transfer(*o);
    };
}

const registrar registered("altinn3-transfer",
                           "Altinn 3 send + receive of a large file through kurer-sandbox: time and memory",
                           &setup);

} // namespace
} // namespace kurer::bench

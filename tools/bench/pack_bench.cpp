// kurer-bench pack: how fast a DPO package is built and opened, against `openssl cms` on the
// same ASiC-E in the same run, and how much memory a 1 GB document needs.
//
//   pack+encrypt    documents -> sbd.zip (ASiC-E with deflate and signature, CMS, zip)
//   decrypt+unpack  sbd.zip -> decrypted ASiC-E -> verified -> documents on disk
//   cms encrypt / decrypt of the same ASiC-E: kurer's streaming codec vs openssl cms
//   peak RSS        a child process packs and opens a 1 GB document; its VmHWM is reported
#include "bench.hpp"

#include <kurer/core/uuid.hpp>
#include <kurer/dpo/package.hpp>
#include <kurer/engine/cli.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <memory>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace kurer::bench {
namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

struct options {
    fs::path dir;
    int repeat = 5;
    std::uint64_t big_mib = 1024;
    bool big = true;
    int level = 6;
    bool deflate_all = false;
    std::string rss_child; // the child that measures the big document's peak RSS: its directory
};

struct process_result {
    int exit_code = -1;
    double seconds = 0;
    long max_rss_kib = 0;
    std::string out;
};

process_result run(const std::vector<std::string>& argv, const fs::path& out_file = "/dev/null") {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0); // openssl's progress dots
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    process_result r;
    const auto start = clock_type::now();
    pid_t pid = 0;
    if (posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return r;
    }
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    struct rusage usage {};
    while (wait4(pid, &status, 0, &usage) < 0) {
    }
    r.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.max_rss_kib = usage.ru_maxrss;
    if (out_file != "/dev/null") {
        std::ifstream in(out_file);
        std::stringstream s;
        s << in.rdbuf();
        r.out = s.str();
    }
    return r;
}

void must(const process_result& r, std::string_view what) {
    if (r.exit_code != 0)
        throw std::runtime_error(std::string(what) + " failed with exit code " + std::to_string(r.exit_code));
}

template <class T>
T must(kurer::result<T> r, std::string_view what) {
    if (!r)
        throw std::runtime_error(std::string(what) + ": " + r.error().describe());
    return std::move(*r);
}

void must(kurer::result<void> r, std::string_view what) {
    if (!r)
        throw std::runtime_error(std::string(what) + ": " + r.error().describe());
}

enum class content { random, text };

// Random bytes (xorshift: a scanned PDF or an image, which deflate cannot shrink) or text made
// of Norwegian words (compresses about 3:1, like XML and office documents), in 1 MiB blocks.
void write_document(const fs::path& path, std::uint64_t bytes, std::uint64_t seed,
                    content kind = content::random) {
    static constexpr std::string_view words[] = {
        "saksbehandler ", "kommune ", "vedtak ",   "arkiv ",  "journalpost ", "klage ",
        "eiendom ",       "og ",      "i ",        "til ",    "for ",         "med ",
        "byggesak ",      "søknad ",  "dokument ", "tilsyn\n"};
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    std::vector<std::uint64_t> block(128 * 1024);
    std::string text;
    std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    auto next = [&] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    };
    for (std::uint64_t done = 0; done < bytes;) {
        const char* data = nullptr;
        std::size_t size = 0;
        if (kind == content::random) {
            for (auto& w : block)
                w = next();
            data = reinterpret_cast<const char*>(block.data());
            size = block.size() * 8;
        } else {
            text.clear();
            while (text.size() < 1024 * 1024)
                text += words[next() % 16];
            data = text.data();
            size = text.size();
        }
        const auto n = std::min<std::uint64_t>(bytes - done, size);
        out.write(data, static_cast<std::streamsize>(n));
        done += n;
    }
}

struct keys {
    fs::path sender_cert, sender_key, receiver_cert, receiver_key;
};

keys make_keys(const fs::path& dir) {
    keys k{dir / "sender.pem", dir / "sender.key", dir / "receiver.pem", dir / "receiver.key"};
    for (auto [cert, key, org] : {std::tuple{k.sender_cert, k.sender_key, "910077473"},
                                  std::tuple{k.receiver_cert, k.receiver_key, "910075918"}})
        must(run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.string(), "-out",
                  cert.string(), "-days", "30", "-subj",
                  std::string("/O=Bench/serialNumber=") + org + "/CN=bench", "-addext",
                  "keyUsage=critical,digitalSignature,keyEncipherment"}),
             "openssl req");
    return k;
}

dpo::sbd message() {
    dpo::message_params p;
    p.sender = "0192:910077473";
    p.receiver = "0192:910075918";
    return dpo::make_message(
        p, std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now()));
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double mb_per_s(std::uint64_t bytes, double seconds) {
    return static_cast<double>(bytes) / 1e6 / seconds;
}

struct size_result {
    std::uint64_t bytes = 0;
    double pack_s = 0, open_s = 0, our_encrypt_s = 0, openssl_encrypt_s = 0, our_decrypt_s = 0,
           openssl_decrypt_s = 0;
    std::uint64_t asic_bytes = 0;
};

template <class F>
double timed(F&& f) {
    const auto start = clock_type::now();
    f();
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

size_result measure(const options& o, const keys& k, const dpo::identity& sender,
                    const dpo::identity& receiver, std::uint64_t bytes, content kind, int repeat) {
    const auto dir = o.dir / ("size-" + std::to_string(bytes));
    fs::create_directories(dir);
    write_document(dir / "vedlegg.pdf", bytes, bytes, kind);
    { std::ofstream(dir / "arkivmelding.xml") << "<arkivmelding/>"; }
    const std::vector<dpo::pack_document> docs{
        {dir / "arkivmelding.xml", "arkivmelding.xml", "application/xml"},
        {dir / "vedlegg.pdf", "vedlegg.pdf", "application/pdf"}};
    dpo::pack_options popts;
    popts.asic.compression_level = o.level;
    popts.asic.store_incompressible = !o.deflate_all;
    popts.durable = false; // measure the work, not the disk's fsync
    size_result r;
    r.bytes = bytes;
    std::vector<double> pack_t, open_t, enc_t, ossl_enc_t, dec_t, ossl_dec_t;
    for (int i = 0; i < repeat; ++i) {
        const auto sbd_zip = dir / "sbd.zip";
        dpo::pack_result packed;
        pack_t.push_back(timed([&] {
            packed = must(dpo::pack(message(), docs, sender, receiver.leaf(), sbd_zip, popts), "pack");
        }));
        r.asic_bytes = packed.asic_bytes;
        fs::remove_all(dir / "out");
        open_t.push_back(timed([&] {
            auto opened = must(dpo::open_package(sbd_zip), "open");
            must(dpo::decrypt_asic(*opened.asic, receiver, dir / "in.asice"), "decrypt");
            auto report = must(dpo::verify_asic(dir / "in.asice"), "verify");
            if (!report.ok())
                throw std::runtime_error("verification failed: " + report.describe_problems());
            must(dpo::extract_documents(dir / "in.asice", dir / "out"), "extract");
        }));

        // The same ASiC-E through both CMS implementations.
        enc_t.push_back(timed([&] {
            auto in = must(dpo::file_source::open(dir / "in.asice"), "open asic");
            auto out = must(dpo::file_sink::create(dir / "ours.cms"), "create cms");
            must(dpo::encrypt(in, out, receiver.leaf()), "encrypt");
            must(out.commit(false), "commit");
        }));
        ossl_enc_t.push_back(run({"openssl",
                                  "cms",
                                  "-encrypt",
                                  "-binary",
                                  "-aes-256-cbc",
                                  "-recip",
                                  k.receiver_cert.string(),
                                  "-keyopt",
                                  "rsa_padding_mode:oaep",
                                  "-keyopt",
                                  "rsa_oaep_md:sha256",
                                  "-keyopt",
                                  "rsa_mgf1_md:sha256",
                                  "-stream",
                                  "-outform",
                                  "DER",
                                  "-in",
                                  (dir / "in.asice").string(),
                                  "-out",
                                  (dir / "openssl.cms").string()})
                                 .seconds);
        dec_t.push_back(timed([&] {
            auto in = must(dpo::file_source::open(dir / "openssl.cms"), "open cms");
            auto out = must(dpo::file_sink::create(dir / "ours.asice"), "create asic");
            must(dpo::decrypt(in, out, receiver), "decrypt");
            must(out.commit(false), "commit");
        }));
        const auto d = run({"openssl", "cms", "-decrypt", "-binary", "-inform", "DER", "-in",
                            (dir / "ours.cms").string(), "-inkey", k.receiver_key.string(), "-recip",
                            k.receiver_cert.string(), "-out", (dir / "openssl.asice").string()});
        must(d, "openssl cms -decrypt");
        ossl_dec_t.push_back(d.seconds);
        fs::remove(dir / "ours.asice");
    }
    r.pack_s = median(pack_t);
    r.open_s = median(open_t);
    r.our_encrypt_s = median(enc_t);
    r.openssl_encrypt_s = median(ossl_enc_t);
    r.our_decrypt_s = median(dec_t);
    r.openssl_decrypt_s = median(ossl_dec_t);
    fs::remove_all(dir);
    return r;
}

long vm_hwm_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.starts_with("VmHWM:"))
            return std::stol(line.substr(6));
    return -1;
}

// The child: packs and opens one big document, prints its own VmHWM and the times.
int rss_child(const fs::path& dir, int level) try {
    auto sender = must(dpo::identity::load(dir / "sender.pem", dir / "sender.key"), "sender identity");
    auto receiver =
        must(dpo::identity::load(dir / "receiver.pem", dir / "receiver.key"), "receiver identity");
    { std::ofstream(dir / "arkivmelding.xml") << "<arkivmelding/>"; }
    dpo::pack_options popts;
    popts.asic.compression_level = level;
    popts.durable = false;
    const std::vector<dpo::pack_document> docs{
        {dir / "arkivmelding.xml", "arkivmelding.xml", "application/xml"},
        {dir / "big.bin", "big.bin", "application/octet-stream"}};
    const double pack_s = timed(
        [&] { must(dpo::pack(message(), docs, sender, receiver.leaf(), dir / "sbd.zip", popts), "pack"); });
    const double open_s = timed([&] {
        auto opened = must(dpo::open_package(dir / "sbd.zip"), "open");
        must(dpo::decrypt_asic(*opened.asic, receiver, dir / "in.asice"), "decrypt");
        auto report = must(dpo::verify_asic(dir / "in.asice"), "verify");
        if (!report.ok())
            throw std::runtime_error(report.describe_problems());
        must(dpo::extract_documents(dir / "in.asice", dir / "out"), "extract");
    });
    std::cout << "vmhwm_kib " << vm_hwm_kib() << "\npack_s " << pack_s << "\nopen_s " << open_s << "\n";
    return 0;
} catch (const std::exception& e) {
    std::cout << "error: " << e.what() << "\n";
    return 1;
}

std::string machine() {
    std::string cpu = "unknown CPU";
    std::ifstream info("/proc/cpuinfo");
    std::string line;
    while (std::getline(info, line))
        if (line.starts_with("model name")) {
            cpu = line.substr(line.find(':') + 2);
            break;
        }
    long mem_kib = 0;
    std::ifstream meminfo("/proc/meminfo");
    while (std::getline(meminfo, line))
        if (line.starts_with("MemTotal:"))
            mem_kib = std::stol(line.substr(9));
    struct utsname u {};
    uname(&u);
    std::ostringstream out;
    out << cpu << ", " << std::thread::hardware_concurrency() << " cores, " << mem_kib / 1024 / 1024
        << " GiB RAM, " << u.sysname << " " << u.release;
    return out.str();
}

std::string human(std::uint64_t bytes) {
    if (bytes >= 1000 * 1000)
        return std::to_string(bytes / 1000 / 1000) + " MB";
    return std::to_string(bytes / 1000) + " KB";
}

int pack_command(options o) {
    if (!o.rss_child.empty())
        return rss_child(o.rss_child, o.level);
    const bool own_dir = o.dir.empty();
    if (own_dir)
        o.dir = fs::temp_directory_path() / ("kurer-bench-pack-" + random_uuid());
    fs::create_directories(o.dir);
    try {
        const auto k = make_keys(o.dir);
        const auto sender = must(dpo::identity::load(k.sender_cert, k.sender_key), "sender identity");
        const auto receiver = must(dpo::identity::load(k.receiver_cert, k.receiver_key), "receiver identity");

        std::cout << "## kurer-bench pack\n\nmachine: " << machine() << "\ndeflate level " << o.level
                  << (o.deflate_all ? ", incompressible documents deflated too" : "") << ", medians of "
                  << o.repeat * 4 << " runs (100 KB) and " << std::max(1, o.repeat / 2) << " (100 MB)\n\n";
        std::cout << "| document | pack+encrypt | decrypt+unpack | CMS encrypt kurer / openssl | "
                     "CMS decrypt kurer / openssl |\n|---|---|---|---|---|\n";
        const std::pair<std::uint64_t, content> cases[] = {
            {std::uint64_t(100) * 1000, content::random},
            {std::uint64_t(100) * 1000, content::text},
            {std::uint64_t(100) * 1000 * 1000, content::random},
            {std::uint64_t(100) * 1000 * 1000, content::text}};
        for (const auto& [bytes, kind] : cases) {
            const int repeat = bytes > 1000 * 1000 ? std::max(1, o.repeat / 2) : o.repeat * 4;
            const auto r = measure(o, k, sender, receiver, bytes, kind, repeat);
            char line[512];
            std::snprintf(line, sizeof line,
                          "| %s | %.1f MB/s (%.3f s) | %.1f MB/s (%.3f s) | %.0f / %.0f MB/s = %.2fx | "
                          "%.0f / %.0f MB/s = %.2fx |\n",
                          (human(bytes) + (kind == content::random ? " random" : " text")).c_str(),
                          mb_per_s(bytes, r.pack_s), r.pack_s, mb_per_s(bytes, r.open_s), r.open_s,
                          mb_per_s(r.asic_bytes, r.our_encrypt_s),
                          mb_per_s(r.asic_bytes, r.openssl_encrypt_s), r.openssl_encrypt_s / r.our_encrypt_s,
                          mb_per_s(r.asic_bytes, r.our_decrypt_s),
                          mb_per_s(r.asic_bytes, r.openssl_decrypt_s), r.openssl_decrypt_s / r.our_decrypt_s);
            std::cout << line << std::flush;
        }
        if (o.big) {
            const auto big_dir = o.dir / "big";
            fs::create_directories(big_dir);
            for (const auto& f : {"sender.pem", "sender.key", "receiver.pem", "receiver.key"})
                fs::copy_file(o.dir / f, big_dir / f);
            write_document(big_dir / "big.bin", o.big_mib * 1024 * 1024, 42);
            char self[4096];
            const auto n = readlink("/proc/self/exe", self, sizeof self - 1);
            if (n <= 0)
                throw std::runtime_error("cannot find my own executable");
            self[n] = '\0';
            const auto child =
                run({self, "pack", "--level", std::to_string(o.level), "--rss-child", big_dir.string()},
                    o.dir / "child.out");
            if (child.exit_code != 0)
                throw std::runtime_error("the big-document child failed: " + child.out);
            std::cout << "\n"
                      << o.big_mib << " MiB document in a child process: " << child.out << "ru_maxrss_kib "
                      << child.max_rss_kib << "\n";
            fs::remove_all(big_dir);
        }
    } catch (const std::exception& e) {
        std::cerr << "kurer-bench pack: " << e.what() << "\n";
        if (own_dir)
            fs::remove_all(o.dir);
        return 1;
    }
    if (own_dir)
        fs::remove_all(o.dir);
    return 0;
}

command_fn setup(CLI::App& command) {
    auto o = std::make_shared<options>();
    engine::cli::synopsis(
        command, "usage: kurer-bench pack [--dir DIR] [--repeat N] [--big-mib N] [--no-big] [--level N]\n"
                 "                        [--deflate-all]");
    command.footer(
        "Packs and opens DPO packages with documents of 100 KB and 100 MB (random bytes like a scanned\n"
        "PDF, and compressible text), compares kurer's CMS encryption and decryption of the same ASiC-E\n"
        "with `openssl cms`, and measures the peak RSS of a child process that packs and opens a document\n"
        "of --big-mib MiB (default 1024). DIR (default: a fresh folder under /tmp) needs about 5x that.");
    command
        .add_option_function<std::string>(
            "--dir", [o](const std::string& v) { o->dir = v; },
            "scratch directory (default: a fresh one under /tmp)")
        ->type_name("DIR");
    command.add_option("--repeat", o->repeat, "runs per case: 4N for 100 KB, N/2 for 100 MB (default 5)")
        ->type_name("N");
    command.add_option("--big-mib", o->big_mib, "the big document's size in MiB (default 1024)")
        ->type_name("N")
        ->check(engine::cli::whole_number(0));
    command.add_flag_callback(
        "--no-big", [o] { o->big = false; }, "skip the big document");
    command.add_option("--level", o->level, "deflate level (default 6)")->type_name("N");
    command.add_flag("--deflate-all", o->deflate_all, "deflate incompressible documents too");
    command.add_option("--rss-child", o->rss_child, "(internal) the child process measuring peak RSS")
        ->type_name("DIR")
        ->group(""); // not in --help
    return [o] {
        return pack_command(*o);
    };
}

const registrar registered{"pack", "DPO package build/open throughput vs openssl cms, peak RSS for 1 GB",
                           &setup};

} // namespace
} // namespace kurer::bench

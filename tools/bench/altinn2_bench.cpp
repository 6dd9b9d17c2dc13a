// kurer-bench altinn2-mtom: the Altinn 2 MTOM codec's throughput and memory on a large file,
// against a plain file copy through the same buffer measured in the same run.
#include "bench.hpp"

#include <kurer/altinn2/streamed.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/engine/cli.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <sys/resource.h>
#include <vector>

namespace kurer::bench {
namespace {

namespace altinn2 = kurer::altinn2;
namespace mtom = kurer::altinn2::mtom;
using clock = std::chrono::steady_clock;

struct options {
    std::uint64_t size_mib = 200;
    std::size_t chunk_kib = 64;
    std::string dir = std::filesystem::temp_directory_path().string();
};

long peak_rss_kib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

bool write_test_file(const std::filesystem::path& path, std::uint64_t size) {
    std::ofstream out(path, std::ios::binary);
    std::vector<std::uint64_t> block(1 << 13);
    std::uint64_t x = 0x9E3779B97F4A7C15ull;
    for (std::uint64_t written = 0; written < size;) {
        for (auto& v : block) { // xorshift: incompressible, no boundary lookalikes by design
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

double seconds_since(clock::time_point start) {
    return std::chrono::duration<double>(clock::now() - start).count();
}

// Pulls `m` through `buffer` into a parser writing its attachment to `out`.
result<std::size_t> pump(const mtom::message& m, std::vector<char>& buffer,
                         const std::filesystem::path& out) {
    mtom::file_sink sink(out);
    auto parser = mtom::parser::create(m.content_type, &sink);
    if (!parser)
        return parser.error();
    mtom::body_reader reader(m);
    for (;;) {
        auto n = reader.read(buffer);
        if (!n)
            return n.error();
        if (*n == 0)
            break;
        if (auto ok = parser->feed(std::string_view(buffer.data(), *n)); !ok)
            return ok.error();
    }
    if (auto ok = parser->finish(); !ok)
        return ok.error();
    return parser->buffer_high_water();
}

int run(const options& o) {
    const auto& [size_mib, chunk_kib, dir] = o;
    const auto work = std::filesystem::path(dir) / ("kurer-bench-altinn2-" + random_uuid());
    std::filesystem::create_directories(work);
    const auto input = work / "sbd.zip";
    const std::uint64_t size = size_mib << 20;
    if (!write_test_file(input, size)) {
        std::cerr << "altinn2-mtom: cannot write " << input << "\n";
        return 1;
    }
    std::vector<char> buffer(chunk_kib << 10);
    const long rss_before = peak_rss_kib();

    // Baseline: the same bytes through the same buffer, no framing.
    auto start = clock::now();
    {
        std::FILE* in = std::fopen(input.c_str(), "rb");
        std::FILE* out = std::fopen((work / "copy.zip").c_str(), "wb");
        for (std::size_t n; in && out && (n = std::fread(buffer.data(), 1, buffer.size(), in)) > 0;)
            std::fwrite(buffer.data(), 1, n, out);
        if (in)
            std::fclose(in);
        if (out)
            std::fclose(out);
    }
    const double copy_s = seconds_since(start);

    start = clock::now();
    auto upload =
        altinn2::write_upload_message({{"100001", "pw"}, "sbd.zip", random_uuid(), "910077473"}, input);
    auto upload_hw =
        upload ? pump(*upload, buffer, work / "uploaded.zip") : result<std::size_t>(upload.error());
    const double upload_s = seconds_since(start);

    start = clock::now();
    auto download = altinn2::write_download_message(input);
    auto download_hw =
        download ? pump(*download, buffer, work / "downloaded.zip") : result<std::size_t>(download.error());
    const double download_s = seconds_since(start);

    const long rss_after = peak_rss_kib();
    std::error_code ignored;
    const bool same = std::filesystem::file_size(work / "uploaded.zip", ignored) == size &&
                      std::filesystem::file_size(work / "downloaded.zip", ignored) == size;
    std::filesystem::remove_all(work, ignored);
    if (!upload_hw || !download_hw) {
        std::cerr << "altinn2-mtom: " << (!upload_hw ? upload_hw.error() : download_hw.error()).describe()
                  << "\n";
        return 1;
    }
    if (!same) {
        std::cerr << "altinn2-mtom: a received file has the wrong size\n";
        return 1;
    }
    const double mib = static_cast<double>(size_mib);
    std::printf("altinn2-mtom: %llu MiB file, %zu KiB chunks\n", static_cast<unsigned long long>(size_mib),
                chunk_kib);
    std::printf("  plain copy          %7.3f s  %7.0f MiB/s\n", copy_s, mib / copy_s);
    std::printf("  upload framing      %7.3f s  %7.0f MiB/s  %.2fx copy  parser buffer peak %zu B\n",
                upload_s, mib / upload_s, upload_s / copy_s, *upload_hw);
    std::printf("  download framing    %7.3f s  %7.0f MiB/s  %.2fx copy  parser buffer peak %zu B\n",
                download_s, mib / download_s, download_s / copy_s, *download_hw);
    std::printf("  peak RSS            %ld KiB before, %ld KiB after\n", rss_before, rss_after);
    return 0;
}

command_fn setup(CLI::App& command) {
    auto o = std::make_shared<options>();
    engine::cli::synopsis(command,
                          "usage: kurer-bench altinn2-mtom [--size-mb N] [--chunk-kib N] [--dir PATH]");
    command.footer("Streams an N MiB file (default 200) through the MTOM writer and parser (upload and\n"
                   "download framing) in chunks of N KiB (default 64) and compares with copying the file\n"
                   "through the same buffer.");
    command.add_option("--size-mb", o->size_mib, "file size in MiB (default 200)")
        ->type_name("N")
        ->check(engine::cli::whole_number(0));
    command.add_option("--chunk-kib", o->chunk_kib, "buffer size in KiB (default 64)")
        ->type_name("N")
        ->check(engine::cli::whole_number());
    command.add_option("--dir", o->dir, "scratch directory (default: the system's temp directory)")
        ->type_name("PATH");
    return [o] {
        return run(*o);
    };
}

const registrar registered("altinn2-mtom", "Altinn 2 MTOM framing throughput and memory on a large file",
                           &setup);

} // namespace
} // namespace kurer::bench

// A large package up and down through the Altinn 2 client and the sandbox's broker, with the
// client process's memory flat: the upload streams from the file, the download streams to a
// file and is parsed from there. kurer-bench altinn2-broker does the same with 200 MB.
#include "broker_fixture.hpp"

#include <kurer/core/uuid.hpp>

#define BOOST_TEST_MODULE altinn2_large
#include <boost/test/unit_test.hpp>

namespace a2 = kurer::altinn2;
namespace fs = std::filesystem;
using kurer::test::broker_fixture;
using kurer::test::org_a;
using kurer::test::org_b;
using kurer::test::run;

namespace {

// Peak resident memory since the last reset, in bytes.
std::uint64_t peak_rss() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0)
            return std::stoull(line.substr(6)) * 1024;
    return 0;
}
void reset_peak_rss() {
    std::ofstream("/proc/self/clear_refs") << "5";
}

// Compares two files 64 KiB at a time.
bool same_bytes(const fs::path& a, const fs::path& b) {
    std::ifstream x(a, std::ios::binary), y(b, std::ios::binary);
    std::string bx(64 * 1024, '\0'), by(64 * 1024, '\0');
    for (;;) {
        x.read(bx.data(), static_cast<std::streamsize>(bx.size()));
        y.read(by.data(), static_cast<std::streamsize>(by.size()));
        if (x.gcount() != y.gcount())
            return false;
        if (x.gcount() == 0)
            return true;
        if (std::memcmp(bx.data(), by.data(), static_cast<std::size_t>(x.gcount())) != 0)
            return false;
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(fifty_megabytes_up_and_down_with_flat_memory) {
    broker_fixture f;
    auto a = f.client_for(org_a);
    auto b = f.client_for(org_b);
    constexpr std::uint64_t size = 50ull << 20;
    const auto package = f.dir / "sbd.zip";
    kurer::test::write_zip_like(package, size, 7);

    auto ref = run(f.io, a.initiate(org_a, kurer::random_uuid(), org_b)).value();
    reset_peak_rss();
    const auto before = peak_rss();
    auto up = run(f.io, a.upload(ref, org_a, package));
    BOOST_TEST_REQUIRE(up.has_value(), (up ? "" : up.error().describe()));
    auto got = run(f.io, b.download(ref, org_b, f.dir / "in.zip"));
    BOOST_TEST_REQUIRE(got.has_value(), (got ? "" : got.error().describe()));
    const auto growth = peak_rss() - before;
    BOOST_TEST_MESSAGE("peak RSS growth over 50 MiB up and down: " << growth / 1024 << " KiB");
#if !defined(__SANITIZE_ADDRESS__)
    // Holding either file in memory would add 50 MiB.
    BOOST_TEST(growth < (16ull << 20), "peak RSS grew by " << growth / 1024 << " KiB");
#endif
    BOOST_TEST(*got == size);
    BOOST_TEST(same_bytes(package, f.dir / "in.zip"));
    BOOST_TEST(same_bytes(package, f.sb.dir() / "broker/a2" / ref / "sbd.zip"));
}

// A large file through the Altinn 3 client and the sandbox broker with flat memory: the MD5,
// the upload and the download all stream, so the client's peak resident memory grows by far
// less than the file. (kurer-bench altinn3-transfer measures the 200 MB case.)
#include "sandbox_parties.hpp"

#include <sys/resource.h>

using namespace kurer::test::altinn3;

namespace {

long peak_rss_kib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

} // namespace

BOOST_AUTO_TEST_SUITE(altinn3_large_transfer)

BOOST_AUTO_TEST_CASE(a_64_mib_file_goes_through_without_growing_memory_by_its_size) {
    constexpr std::size_t size = 64u << 20;
    test_context t;
    auto alice = t.make_party(sender_org);
    auto bob = t.make_party(receiver_org);
    const auto file = t.write_file("large.zip", size);
    (void)t.run(alice.client->altinn_token(std::string(a3::scope_write)));
    (void)t.run(bob.client->altinn_token(std::string(a3::scope_read)));
    const auto before = peak_rss_kib();

    const auto id = t.send(alice, receiver_org, file);
    t.wait_published(bob, id);
    const auto to = t.scratch / "received.zip";
    auto got = t.run(bob.broker->download(id, to));
    BOOST_TEST_REQUIRE(got.has_value(), got.error().message);
    BOOST_TEST_REQUIRE(t.run(bob.broker->confirm(id)).has_value());
    const auto growth_kib = peak_rss_kib() - before;

    BOOST_TEST(fs::file_size(to) == size);
    BOOST_TEST(a3::md5_file_hex(to).value() == a3::md5_file_hex(file).value());
    BOOST_TEST_MESSAGE("peak RSS growth for a 64 MiB send + receive: " << growth_kib << " KiB");
#if !defined(__SANITIZE_ADDRESS__) // ASan's quarantine keeps freed buffers resident
    BOOST_TEST(growth_kib < 16 * 1024, "peak RSS grew by " << growth_kib << " KiB");
#endif
}

BOOST_AUTO_TEST_SUITE_END()

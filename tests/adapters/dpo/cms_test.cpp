// CMS EnvelopedData and SignedData against ourselves: round trips, the exact BouncyCastle-like
// layout, and each way a blob can be wrong.
#include "fixtures.hpp"
#include "test_support.hpp"

#include <kurer/dpo/cms.hpp>
#include <kurer/dpo/errors.hpp>
#include <kurer/testing/dpo_pki.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/test/unit_test.hpp>

#include <random>

using namespace kurer::dpo;
namespace t = kurer::testing;

namespace {

class memory_source final : public byte_source {
public:
    explicit memory_source(std::vector<std::uint8_t> bytes, std::size_t max_read = 1 << 20)
        : bytes_(std::move(bytes))
        , max_read_(max_read) {}
    kurer::result<std::size_t> read(std::span<std::uint8_t> buf) override {
        const std::size_t n = std::min({buf.size(), bytes_.size() - pos_, max_read_});
        std::copy_n(bytes_.begin() + static_cast<std::ptrdiff_t>(pos_), n, buf.begin());
        pos_ += n;
        return n;
    }

private:
    std::vector<std::uint8_t> bytes_;
    std::size_t pos_ = 0;
    std::size_t max_read_;
};

class memory_sink final : public byte_sink {
public:
    kurer::result<void> write(std::span<const std::uint8_t> b) override {
        bytes.insert(bytes.end(), b.begin(), b.end());
        return {};
    }
    std::vector<std::uint8_t> bytes;
};

std::vector<std::uint8_t> random_bytes(std::size_t n, unsigned seed = 1) {
    std::mt19937 gen(seed);
    std::vector<std::uint8_t> out(n);
    for (auto& b : out)
        b = static_cast<std::uint8_t>(gen());
    return out;
}

kurer::testing::dpo_keys& shared() {
    return kurer::testing::shared_keys();
}

std::vector<std::uint8_t> encrypt_bytes(const std::vector<std::uint8_t>& plain, const certificate& to,
                                        encrypt_options opts = {}) {
    memory_source in(plain, 777); // odd read sizes exercise the block and chunk carry-over
    memory_sink out;
    auto n = encrypt(in, out, to, opts);
    BOOST_TEST_REQUIRE(n.has_value(), (n ? "" : n.error().describe()));
    BOOST_TEST(*n == out.bytes.size());
    return out.bytes;
}

kurer::result<decrypt_info> decrypt_bytes(const std::vector<std::uint8_t>& cms, const identity& id,
                                          std::vector<std::uint8_t>& plain, std::size_t read_size = 1 << 20,
                                          const limits& lim = {}) {
    memory_source in(cms, read_size);
    memory_sink out;
    auto r = decrypt(in, out, id, lim);
    plain = std::move(out.bytes);
    return r;
}

void expect_decrypt_error(const std::vector<std::uint8_t>& cms, const identity& id, errc code,
                          std::string_view mentions = {}) {
    std::vector<std::uint8_t> plain;
    auto r = decrypt_bytes(cms, id, plain);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == code, r.error().describe());
    BOOST_TEST(r.error().message.find(mentions) != std::string::npos, r.error().message);
}

} // namespace

BOOST_AUTO_TEST_SUITE(enveloped_data)

BOOST_AUTO_TEST_CASE(round_trips_every_size_around_block_and_chunk_edges) {
    auto& k = shared();
    for (std::size_t n : {0u, 1u, 15u, 16u, 17u, 983u, 984u, 999u, 1000u, 1001u, 1008u, 4096u, 100003u}) {
        const auto plain = random_bytes(n, static_cast<unsigned>(n));
        const auto cms = encrypt_bytes(plain, k.bob_id.leaf());
        const auto expected_size = envelope_encoder::create(k.bob_id.leaf()).value().encoded_size(n);
        BOOST_TEST(cms.size() == expected_size, "size for " << n);
        for (std::size_t read_size : {std::size_t(1) << 20, std::size_t(1), std::size_t(13)}) {
            std::vector<std::uint8_t> back;
            auto info = decrypt_bytes(cms, k.bob_id, back, read_size);
            BOOST_TEST_REQUIRE(info.has_value(), (info ? "" : info.error().describe()));
            BOOST_TEST((back == plain), "plaintext of " << n << " bytes, reads of " << read_size);
            BOOST_TEST(info->plaintext_bytes == n);
            BOOST_TEST(info->content_encryption == "AES-256/CBC");
            BOOST_TEST(info->key_transport == "RSAES-OAEP(SHA-256, MGF1-SHA-256)");
            BOOST_TEST(info->indefinite_length);
        }
    }
}

BOOST_AUTO_TEST_CASE(writes_the_layout_bouncycastle_streams) {
    auto& k = shared();
    const auto plain = random_bytes(2500);
    const auto cms = encrypt_bytes(plain, k.bob_id.leaf());
    // ContentInfo ∞, envelopedData, [0] ∞, EnvelopedData ∞, version 0, then a definite SET.
    const std::vector<std::uint8_t> head{0x30, 0x80, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01,
                                         0x07, 0x03, 0xA0, 0x80, 0x30, 0x80, 0x02, 0x01, 0x00, 0x31};
    BOOST_TEST_REQUIRE(cms.size() > head.size());
    BOOST_TEST((std::vector<std::uint8_t>(cms.begin(), cms.begin() + head.size()) == head));
    // The OAEP parameters with explicit SHA-256 (NULL parameters) and MGF1-SHA-256.
    const std::vector<std::uint8_t> oaep{
        0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x07, 0x30, 0x2F, 0xA0, 0x0F, 0x30,
        0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xA1, 0x1C,
        0x30, 0x1A, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x08, 0x30, 0x0D};
    BOOST_TEST((std::search(cms.begin(), cms.end(), oaep.begin(), oaep.end()) != cms.end()));
    // AES-256-CBC with a 16-byte IV, then [0] IMPLICIT constructed ∞ and 1000-byte chunks:
    // 2512 bytes of ciphertext = 1000 + 1000 + 512.
    const std::vector<std::uint8_t> aes{0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
                                        0x03, 0x04, 0x01, 0x2A, 0x04, 0x10};
    auto at = std::search(cms.begin(), cms.end(), aes.begin(), aes.end());
    BOOST_TEST_REQUIRE((at != cms.end()));
    auto pos = static_cast<std::size_t>(at - cms.begin()) + aes.size() + 16;
    BOOST_TEST(cms[pos] == 0xA0);
    BOOST_TEST(cms[pos + 1] == 0x80);
    pos += 2;
    for (std::size_t chunk : {1000u, 1000u, 512u}) {
        BOOST_TEST(cms[pos] == 0x04);
        BOOST_TEST(cms[pos + 1] == 0x82);
        BOOST_TEST(((cms[pos + 2] << 8) | cms[pos + 3]) == static_cast<int>(chunk));
        pos += 4 + chunk;
    }
    BOOST_TEST(cms.size() - pos == 10u); // five end-of-contents markers
    BOOST_TEST(std::all_of(cms.begin() + static_cast<std::ptrdiff_t>(pos), cms.end(),
                           [](auto b) { return b == 0; }));
}

BOOST_AUTO_TEST_CASE(pkcs1_v15_key_transport_round_trips) {
    auto& k = shared();
    const auto plain = random_bytes(5000);
    const auto cms = encrypt_bytes(plain, k.bob_id.leaf(), {key_transport::rsa_pkcs1_v15, 1000});
    std::vector<std::uint8_t> back;
    auto info = decrypt_bytes(cms, k.bob_id, back);
    BOOST_TEST_REQUIRE(info.has_value(), (info ? "" : info.error().describe()));
    BOOST_TEST((back == plain));
    BOOST_TEST(info->key_transport == "RSA PKCS#1 v1.5");
}

BOOST_AUTO_TEST_CASE(a_blob_for_someone_else_says_so_and_names_both) {
    auto& k = shared();
    const auto cms = encrypt_bytes(random_bytes(100), k.bob_id.leaf());
    expect_decrypt_error(cms, k.alice_id, errc::cms_not_for_this_certificate,
                         "serial " + k.alice_id.leaf().serial_hex());
    expect_decrypt_error(cms, k.alice_id, errc::cms_not_for_this_certificate, k.bob_id.leaf().serial_hex());
}

BOOST_AUTO_TEST_CASE(truncation_trailing_bytes_and_bad_padding_are_told_apart) {
    auto& k = shared();
    const auto plain = random_bytes(3000);
    const auto cms = encrypt_bytes(plain, k.bob_id.leaf());
    for (std::size_t cut : {std::size_t(1), std::size_t(10), std::size_t(300), std::size_t(1500),
                            cms.size() - 5, cms.size() - 1})
        expect_decrypt_error(
            std::vector<std::uint8_t>(cms.begin(), cms.begin() + static_cast<std::ptrdiff_t>(cut)), k.bob_id,
            errc::cms_truncated);
    auto trailing = cms;
    trailing.push_back(0x42);
    expect_decrypt_error(trailing, k.bob_id, errc::cms_trailing_data, "after the end");

    // Flipping the penultimate ciphertext block's last byte flips the last plaintext byte (the
    // padding length, 8 for 3000 bytes) to zero: never valid padding. The 3008 ciphertext bytes
    // are three 1000-byte chunks and one of 8 (OCTET STRING header 04 08), so that byte
    // (ciphertext index 2991) is the ninth from the end of the third chunk. (Flipping a byte of
    // the last block instead garbles the padding at random: valid one time in ~256.)
    auto bad = cms;
    const std::size_t last_chunk_end = bad.size() - 10;
    BOOST_TEST_REQUIRE(bad[last_chunk_end - 10] == 0x04);
    BOOST_TEST_REQUIRE(bad[last_chunk_end - 9] == 0x08);
    bad[last_chunk_end - 8 - 2 - 9] ^= 0x08;
    expect_decrypt_error(bad, k.bob_id, errc::cms_bad_padding, "padding");

    auto empty = std::vector<std::uint8_t>{};
    expect_decrypt_error(empty, k.bob_id, errc::cms_truncated);
    expect_decrypt_error({0x04, 0x03, 0x01, 0x02, 0x03}, k.bob_id, errc::cms_malformed, "ContentInfo");
}

BOOST_AUTO_TEST_CASE(a_key_that_names_us_but_is_not_ours_fails_key_decryption) {
    auto& k = shared();
    // Encrypt to alice's key but under bob's issuer and serial: swap the recipient identifier.
    auto cms = encrypt_bytes(random_bytes(64), k.alice_id.leaf());
    const auto alice_serial = k.alice_id.leaf().serial_hex();
    const auto bob_serial = k.bob_id.leaf().serial_hex();
    BOOST_TEST_REQUIRE(alice_serial.size() == bob_serial.size());
    auto hex_to_bytes = [](const std::string& hex) {
        std::vector<std::uint8_t> out;
        for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
            out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
        return out;
    };
    const auto a = hex_to_bytes(alice_serial), b = hex_to_bytes(bob_serial);
    auto at = std::search(cms.begin(), cms.end(), a.begin(), a.end());
    BOOST_TEST_REQUIRE((at != cms.end()));
    std::copy(b.begin(), b.end(), at);
    expect_decrypt_error(cms, k.bob_id, errc::cms_key_decryption_failed,
                         "does not decrypt with our private key");
}

BOOST_AUTO_TEST_CASE(the_content_size_limit_holds_while_streaming) {
    auto& k = shared();
    const auto cms = encrypt_bytes(random_bytes(200000), k.bob_id.leaf());
    limits lim;
    lim.max_total_bytes = 100000;
    std::vector<std::uint8_t> plain;
    auto r = decrypt_bytes(cms, k.bob_id, plain, 1 << 20, lim);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == errc::cms_content_too_large);
    BOOST_TEST(plain.size() <= 100000u + 64 * 1024u);
}

BOOST_AUTO_TEST_CASE(other_content_types_are_refused_by_name) {
    auto& k = shared();
    const auto sig = sign_detached(random_bytes(10), k.alice_id, digest_algorithm::sha256,
                                   std::chrono::time_point_cast<std::chrono::nanoseconds>(
                                       std::chrono::system_clock::now()))
                         .value();
    expect_decrypt_error(sig, k.bob_id, errc::cms_wrong_content_type, "signedData");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(signed_data)

BOOST_AUTO_TEST_CASE(signs_and_verifies_with_sha256_and_sha1) {
    auto& k = shared();
    const auto content = random_bytes(832);
    const auto now = std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
    for (auto d : {digest_algorithm::sha256, digest_algorithm::sha1}) {
        auto sig = sign_detached(content, k.alice_id, d, now);
        BOOST_TEST_REQUIRE(sig.has_value(), (sig ? "" : sig.error().describe()));
        BOOST_TEST(sig->size() == detached_signature_size(k.alice_id, d).value());
        auto info = verify_detached(*sig, content);
        BOOST_TEST_REQUIRE(info.has_value(), (info ? "" : info.error().describe()));
        BOOST_TEST(info->digest == (d == digest_algorithm::sha256 ? "SHA-256" : "SHA-1"));
        BOOST_TEST(info->signer_subject == k.alice_id.leaf().subject());
        BOOST_TEST(info->signer_serial == k.alice_id.leaf().serial_hex());
        BOOST_TEST(info->certificates.size() == 2u); // the leaf and the test CA
        BOOST_TEST_REQUIRE(info->signing_time.has_value());
        BOOST_TEST((std::chrono::floor<std::chrono::seconds>(*info->signing_time) ==
                    std::chrono::floor<std::chrono::seconds>(now)));
    }
}

BOOST_AUTO_TEST_CASE(any_change_breaks_it) {
    auto& k = shared();
    const auto content = random_bytes(500);
    const auto sig = sign_detached(content, k.alice_id, digest_algorithm::sha256, {}).value();
    auto changed = content;
    changed[100] ^= 1;
    auto r = verify_detached(sig, changed);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == errc::asic_signature_invalid);
    BOOST_TEST(r.error().message.find("digest") != std::string::npos, r.error().message);

    auto bad_sig = sig;
    bad_sig[bad_sig.size() - 20] ^= 1; // inside the RSA signature value
    r = verify_detached(bad_sig, content);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == errc::asic_signature_invalid);
    BOOST_TEST(r.error().message.find("RSA signature") != std::string::npos, r.error().message);

    r = verify_detached(std::vector<std::uint8_t>(sig.begin(), sig.begin() + 100), content);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == errc::cms_malformed);
}

BOOST_AUTO_TEST_SUITE_END()

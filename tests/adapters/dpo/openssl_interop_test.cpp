// Interop with an independent implementation, the openssl command line: it decrypts our CMS and
// verifies our ASiC-E signature; we decrypt its CMS (streamed BER, DER, PKCS#1 v1.5) and verify
// its signatures.
#include "fixtures.hpp"
#include "test_support.hpp"

#include <kurer/dpo/asic.hpp>
#include <kurer/dpo/cms.hpp>
#include <kurer/dpo/errors.hpp>
#include <kurer/dpo/package.hpp>
#include <kurer/dpo/zip.hpp>
#include <kurer/testing/dpo_zip.hpp>

#include <boost/test/unit_test.hpp>

using namespace kurer::dpo;
namespace t = kurer::testing;

namespace {

instant now() {
    return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
}

t::run_result openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    return t::run(args);
}

void require_ok(const t::run_result& r, std::string_view what) {
    BOOST_TEST_REQUIRE(r.exit_code == 0, what << " failed (" << r.exit_code << "): " << r.err);
}

// Our CMS of `plain` for bob, as a file.
std::filesystem::path our_cms(const t::scratch_dir& dir, const std::string& name, const std::string& plain,
                              key_transport kt = key_transport::rsa_oaep_sha256) {
    t::write_file(dir / (name + ".plain"), plain);
    auto in = file_source::open(dir / (name + ".plain")).value();
    auto out = file_sink::create(dir / (name + ".cms")).value();
    BOOST_TEST_REQUIRE(encrypt(in, out, t::shared_keys().bob_id.leaf(), {kt, 1000}).has_value());
    BOOST_TEST_REQUIRE(out.commit(false).has_value());
    return dir / (name + ".cms");
}

kurer::result<decrypt_info> our_decrypt(const std::filesystem::path& cms, const std::filesystem::path& out) {
    auto in = file_source::open(cms).value();
    auto sink = file_sink::create(out).value();
    auto info = decrypt(in, sink, t::shared_keys().bob_id);
    if (info)
        BOOST_TEST_REQUIRE(sink.commit(false).has_value());
    return info;
}

} // namespace

BOOST_AUTO_TEST_SUITE(openssl_interop)

BOOST_AUTO_TEST_CASE(openssl_decrypts_our_cms) {
    auto& k = t::shared_keys();
    t::scratch_dir dir;
    for (auto kt : {key_transport::rsa_oaep_sha256, key_transport::rsa_pkcs1_v15}) {
        for (std::size_t size : {0u, 999u, 1000u, 250000u}) {
            const auto plain = t::random_text(size, static_cast<unsigned>(size) + 1);
            const auto cms = our_cms(dir, "ours", plain, kt);
            require_ok(
                openssl({"cms", "-decrypt", "-binary", "-inform", "DER", "-in", cms.string(), "-inkey",
                         k.bob.key.string(), "-recip", k.bob.leaf.string(), "-out", (dir / "out").string()}),
                "openssl cms -decrypt");
            BOOST_TEST(t::read_file(dir / "out") == plain, size << " bytes");
        }
    }
}

BOOST_AUTO_TEST_CASE(we_decrypt_openssl_cms_streamed_der_and_pkcs1) {
    auto& k = t::shared_keys();
    t::scratch_dir dir;
    const auto plain = t::random_text(300001, 5);
    t::write_file(dir / "plain", plain);
    const std::vector<std::string> oaep{"-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256",
                                        "-keyopt", "rsa_mgf1_md:sha256"};
    struct variant {
        std::string name;
        std::vector<std::string> extra;
        bool indefinite;
        std::string transport;
    };
    std::vector<variant> variants{
        {"oaep-stream", oaep, true, "RSAES-OAEP(SHA-256, MGF1-SHA-256)"},
        {"oaep-der", oaep, false, "RSAES-OAEP(SHA-256, MGF1-SHA-256)"},
        {"pkcs1", {}, false, "RSA PKCS#1 v1.5"},
        {"oaep-sha1", {"-keyopt", "rsa_padding_mode:oaep"}, true, "RSAES-OAEP(SHA-1, MGF1-SHA-1)"}};
    for (const auto& v : variants) {
        BOOST_TEST_CONTEXT(v.name) {
            std::vector<std::string> args{"cms",          "-encrypt", "-binary",
                                          "-aes-256-cbc", "-recip",   k.bob.leaf.string()};
            args.insert(args.end(), v.extra.begin(), v.extra.end());
            if (v.indefinite)
                args.push_back("-stream");
            for (const auto& a : {"-outform", "DER", "-in"})
                args.push_back(a);
            args.push_back((dir / "plain").string());
            args.push_back("-out");
            args.push_back((dir / (v.name + ".cms")).string());
            require_ok(openssl(args), "openssl cms -encrypt");
            auto info = our_decrypt(dir / (v.name + ".cms"), dir / (v.name + ".out"));
            BOOST_TEST_REQUIRE(info.has_value(), (info ? "" : info.error().describe()));
            BOOST_TEST(t::read_file(dir / (v.name + ".out")) == plain);
            BOOST_TEST(info->indefinite_length == v.indefinite);
            BOOST_TEST(info->key_transport == v.transport);
            BOOST_TEST(info->content_encryption == "AES-256/CBC");
        }
    }
    // openssl's blob for someone else is named as such.
    require_ok(
        openssl({"cms", "-encrypt", "-binary", "-aes-256-cbc", "-recip", k.carol.leaf.string(), "-outform",
                 "DER", "-in", (dir / "plain").string(), "-out", (dir / "carol.cms").string()}),
        "openssl cms -encrypt (carol)");
    auto wrong = our_decrypt(dir / "carol.cms", dir / "carol.out");
    BOOST_TEST_REQUIRE(!wrong.has_value());
    BOOST_TEST(wrong.error().code == errc::cms_not_for_this_certificate);
}

BOOST_AUTO_TEST_CASE(openssl_verifies_our_asic_signature) {
    auto& k = t::shared_keys();
    t::scratch_dir dir;
    t::write_file(dir / "arkivmelding.xml", "<arkivmelding/>");
    for (auto digest : {digest_algorithm::sha256, digest_algorithm::sha1}) {
        auto w =
            write_asic(dir / "asic.zip", {{dir / "arkivmelding.xml", "arkivmelding.xml", "application/xml"}},
                       "0192:910077473", "0192:910075918", k.alice_id, {digest, 6, std::nullopt});
        BOOST_TEST_REQUIRE(w.has_value());
        for (const auto& e : t::read_entries((dir / "asic.zip").string())) {
            if (e.name == "META-INF/ASiCManifest.xml")
                t::write_file(dir / "manifest.xml", e.data);
            if (e.name == w->signature_entry)
                t::write_file(dir / "signature.p7s", e.data);
        }
        const std::vector<std::string> verify{"cms",
                                              "-verify",
                                              "-binary",
                                              "-inform",
                                              "DER",
                                              "-in",
                                              (dir / "signature.p7s").string(),
                                              "-content",
                                              (dir / "manifest.xml").string(),
                                              "-out",
                                              (dir / "verified").string()};
        auto noverify = verify;
        noverify.push_back("-noverify");
        require_ok(openssl(noverify), "openssl cms -verify -noverify");
        auto chained = verify;
        chained.push_back("-CAfile");
        chained.push_back(k.pki.ca_cert().string());
        require_ok(openssl(chained), "openssl cms -verify -CAfile");
        BOOST_TEST(t::read_file(dir / "verified") == t::read_file(dir / "manifest.xml"));

        // And it is a real check: a changed manifest fails in openssl too.
        t::write_file(dir / "manifest.xml", t::read_file(dir / "manifest.xml") + " ");
        BOOST_TEST(openssl(noverify).exit_code != 0);
        std::filesystem::remove(dir / "asic.zip");
    }
}

BOOST_AUTO_TEST_CASE(we_verify_openssl_signatures) {
    auto& k = t::shared_keys();
    t::scratch_dir dir;
    const auto content = t::random_text(900, 9);
    t::write_file(dir / "content", content);
    for (std::string md : {"sha256", "sha1"}) {
        require_ok(
            openssl({"cms", "-sign", "-binary", "-md", md, "-nosmimecap", "-signer", k.alice.leaf.string(),
                     "-inkey", k.alice.key.string(), "-certfile", k.pki.ca_cert().string(), "-outform", "DER",
                     "-in", (dir / "content").string(), "-out", (dir / "sig").string()}),
            "openssl cms -sign");
        const auto sig = t::read_file(dir / "sig");
        auto info =
            verify_detached(std::span(reinterpret_cast<const std::uint8_t*>(sig.data()), sig.size()),
                            std::span(reinterpret_cast<const std::uint8_t*>(content.data()), content.size()));
        BOOST_TEST_REQUIRE(info.has_value(), (info ? "" : info.error().describe()));
        BOOST_TEST(info->digest == (md == "sha256" ? "SHA-256" : "SHA-1"));
        BOOST_TEST(info->signer_serial == k.alice_id.leaf().serial_hex());
    }
}

BOOST_AUTO_TEST_CASE(a_package_whose_asic_openssl_encrypted_opens_and_verifies) {
    auto& k = t::shared_keys();
    t::scratch_dir dir;
    t::write_file(dir / "arkivmelding.xml", "<arkivmelding/>");
    BOOST_TEST_REQUIRE(write_asic(dir / "asic.asice",
                                  {{dir / "arkivmelding.xml", "arkivmelding.xml", "text/xml"}},
                                  "0192:910077473", "0192:910075918", k.alice_id)
                           .has_value());
    require_ok(openssl({"cms", "-encrypt", "-binary", "-aes-256-cbc", "-recip", k.bob.leaf.string(),
                        "-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256", "-keyopt",
                        "rsa_mgf1_md:sha256", "-stream", "-outform", "DER", "-in",
                        (dir / "asic.asice").string(), "-out", (dir / "asic.cms").string()}),
               "openssl cms -encrypt");
    message_params p;
    p.sender = "910077473";
    p.receiver = "910075918";
    t::write_file(dir / "sbd.zip",
                  t::build_zip({t::file_entry("sbd.json", to_json(make_message(p, now())), 8),
                                t::file_entry("asic.zip", t::read_file(dir / "asic.cms"), 8)}));
    auto opened = open_package(dir / "sbd.zip");
    BOOST_TEST_REQUIRE(opened.has_value());
    BOOST_TEST_REQUIRE(decrypt_asic(*opened->asic, k.bob_id, dir / "in.asice").has_value());
    BOOST_TEST(t::read_file(dir / "in.asice") == t::read_file(dir / "asic.asice"));
    auto report = verify_asic(dir / "in.asice");
    BOOST_TEST_REQUIRE(report.has_value());
    BOOST_TEST(report->ok(), report->describe_problems());
}

BOOST_AUTO_TEST_SUITE_END()

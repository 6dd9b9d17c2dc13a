// The bad-input suite: crafted packages, each rejected by the receiving pipeline (open the
// sbd.zip, decrypt the ASiC-E, verify it) with its own code and a message naming the culprit.
// Everything is generated here; nothing binary lives in the repository.
#include "fixtures.hpp"
#include "test_support.hpp"

#include <kurer/core/xml.hpp>
#include <kurer/dpo/cms.hpp>
#include <kurer/dpo/errors.hpp>
#include <kurer/dpo/package.hpp>
#include <kurer/dpo/zip.hpp>
#include <kurer/testing/dpo_zip.hpp>

#include <boost/test/unit_test.hpp>

#include <zip.h>

#include <functional>

using namespace kurer::dpo;
namespace t = kurer::testing;
using boost::system::error_code;

namespace {

instant now() {
    return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
}

sbd arkivmelding() {
    message_params p;
    p.sender = "0192:910077473";
    p.receiver = "0192:910075918";
    return make_message(p, now());
}

struct outcome {
    std::vector<problem> problems; // empty: accepted

    bool has(error_code code) const {
        return std::any_of(problems.begin(), problems.end(), [&](const auto& p) { return p.code == code; });
    }
    std::string describe() const {
        std::string out;
        for (const auto& p : problems)
            out += "[" + std::string(p.code.category().name()) + ":" + std::to_string(p.code.value()) + "] " +
                   p.entry + ": " + p.message + "\n";
        return out.empty() ? "accepted" : out;
    }
    std::string text() const {
        std::string out;
        for (const auto& p : problems)
            out += p.entry + ": " + p.message + "\n";
        return out;
    }
};

// What a receiver does with a downloaded package.
outcome receive(const std::filesystem::path& package, const limits& lim = {}) {
    auto& k = t::shared_keys();
    auto opened = open_package(package, lim);
    if (!opened)
        return {{problem{opened.error().code, "", opened.error().message}}};
    if (!opened->asic)
        return {};
    const auto asic = package.parent_path() / (package.stem().string() + ".asice");
    auto info = decrypt_asic(*opened->asic, k.bob_id, asic, lim);
    if (!info)
        return {{problem{info.error().code, "asic.zip", info.error().message}}};
    auto report = verify_asic(asic, lim);
    if (!report)
        return {{problem{report.error().code, "", report.error().message}}};
    return {report->problems};
}

// A genuine ASiC-E, taken apart into entries that cases then spoil and reassemble.
struct genuine_asic {
    t::scratch_dir dir;
    std::vector<t::raw_entry> entries;
    std::string signature_entry;

    genuine_asic() {
        t::write_file(dir / "arkivmelding.xml", "<arkivmelding>hei</arkivmelding>");
        t::write_file(dir / "vedlegg.pdf", t::random_text(5000, 11));
        auto w = write_asic(dir / "asic.zip",
                            {{dir / "arkivmelding.xml", "arkivmelding.xml", "application/xml"},
                             {dir / "vedlegg.pdf", "vedlegg.pdf", "application/pdf"}},
                            "0192:910077473", "0192:910075918", t::shared_keys().alice_id);
        BOOST_TEST_REQUIRE(w.has_value());
        signature_entry = w->signature_entry;
        entries = t::read_entries((dir / "asic.zip").string());
        for (auto& e : entries)
            if (e.name != "mimetype")
                e.method = 8; // written again as deflate stored blocks
    }

    t::raw_entry& operator[](std::string_view name) {
        for (auto& e : entries)
            if (e.name == name)
                return e;
        throw std::runtime_error("no entry " + std::string(name));
    }
    void erase(std::string_view name) {
        entries.erase(
            std::remove_if(entries.begin(), entries.end(), [&](const auto& e) { return e.name == name; }),
            entries.end());
    }
    std::string bytes() const {
        t::raw_zip z;
        z.entries = entries;
        z.comment = "mimetype=application/vnd.etsi.asic-e+zip";
        return t::build_zip(z);
    }
};

std::string encrypt_for(const std::string& plaintext, const certificate& to) {
    struct src : byte_source {
        std::string_view s;
        kurer::result<std::size_t> read(std::span<std::uint8_t> b) override {
            const auto n = std::min(b.size(), s.size());
            std::copy_n(s.data(), n, b.data());
            s.remove_prefix(n);
            return n;
        }
    } in;
    in.s = plaintext;
    struct snk : byte_sink {
        std::string out;
        kurer::result<void> write(std::span<const std::uint8_t> b) override {
            out.append(reinterpret_cast<const char*>(b.data()), b.size());
            return {};
        }
    } out;
    BOOST_TEST_REQUIRE(encrypt(in, out, to).has_value());
    return out.out;
}

// sbd.zip around a given asic.zip blob (or none) and sbd.json.
std::filesystem::path package_of(const t::scratch_dir& dir, const std::string& name,
                                 std::optional<std::string> cms,
                                 std::string sbd_json = to_json(arkivmelding())) {
    std::vector<t::raw_entry> entries{t::file_entry("sbd.json", std::move(sbd_json), 8)};
    if (cms)
        entries.push_back(t::file_entry("asic.zip", std::move(*cms)));
    const auto path = dir / (name + ".zip");
    t::write_file(path, t::build_zip(std::move(entries)));
    return path;
}

std::filesystem::path package_with_asic(const t::scratch_dir& dir, const std::string& name,
                                        const std::string& asic) {
    return package_of(dir, name, encrypt_for(asic, t::shared_keys().bob_id.leaf()));
}

void expect(const outcome& o, error_code code, std::string_view mentions) {
    BOOST_TEST(o.has(code), "expected " << code.category().name() << ":" << code.value() << " ("
                                        << code.message() << "), got " << o.describe());
    BOOST_TEST(o.text().find(mentions) != std::string::npos,
               "expected a mention of '" << mentions << "' in " << o.describe());
}

std::string write_with_libzip(const std::filesystem::path& path, const std::string& name,
                              const std::string& data) {
    int err = 0;
    zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    zip_source_t* s = zip_source_buffer(z, data.data(), data.size(), 0);
    const auto i = zip_file_add(z, name.c_str(), s, 0);
    zip_set_file_compression(z, static_cast<zip_uint64_t>(i), ZIP_CM_DEFLATE, 9);
    zip_close(z);
    return t::read_file(path);
}

} // namespace

BOOST_AUTO_TEST_SUITE(bad_input)

BOOST_AUTO_TEST_CASE(the_genuine_package_passes_so_each_failure_below_is_the_case_s_own) {
    t::scratch_dir dir;
    genuine_asic g;
    const auto o = receive(package_with_asic(dir, "genuine", g.bytes()));
    BOOST_TEST(o.problems.empty(), o.describe());
}

BOOST_AUTO_TEST_CASE(zip_containers) {
    t::scratch_dir dir;
    const auto json = to_json(arkivmelding());
    auto file = [&](const std::string& name, const std::string& bytes) {
        const auto p = dir / (name + ".zip");
        t::write_file(p, bytes);
        return p;
    };
    auto with = [&](std::vector<t::raw_entry> extra) {
        std::vector<t::raw_entry> entries{t::file_entry("sbd.json", json, 8)};
        for (auto& e : extra)
            entries.push_back(std::move(e));
        return t::build_zip(std::move(entries));
    };
    const auto code = [](errc e) {
        return make_error_code(e);
    };

    expect(receive(file("random", t::random_text(5000))), code(errc::zip_malformed),
           "end-of-central-directory");
    expect(receive(file("empty", "")), code(errc::zip_malformed), "too short");
    const auto whole = with({});
    expect(receive(file("truncated", whole.substr(0, whole.size() / 2))), code(errc::zip_malformed),
           "end-of-central-directory");
    {
        t::raw_zip z;
        z.entries = {t::file_entry("sbd.json", json, 8)};
        z.trailing = "EXTRA BYTES";
        expect(receive(file("trailing", t::build_zip(z))), code(errc::zip_trailing_data),
               "after the ZIP end record");
        z.trailing.clear();
        z.prefix = "MZ-a-self-extractor-stub";
        expect(receive(file("prefix", t::build_zip(z))), code(errc::zip_trailing_data),
               "before the first ZIP entry");
    }
    expect(receive(file("traversal", with({t::file_entry("../../etc/cron.d/evil", "x")}))),
           code(errc::zip_name_traversal), "../../etc/cron.d/evil");
    expect(receive(file("absolute", with({t::file_entry("/etc/passwd", "x")}))),
           code(errc::zip_name_absolute), "/etc/passwd");
    expect(receive(file("nul", with({t::file_entry(std::string("asic.zip\0.txt", 13), "x")}))),
           code(errc::zip_name_nul), "asic.zip\\x00.txt");
    expect(receive(file("backslash", with({t::file_entry("..\\windows\\evil.dll", "x")}))),
           code(errc::zip_name_invalid), "backslash");
    expect(receive(file("duplicate", with({t::file_entry("sbd.json", json)}))),
           code(errc::zip_duplicate_entry), "\"sbd.json\"");
    {
        std::vector<t::raw_entry> many;
        for (int i = 0; i < 1001; ++i)
            many.push_back(t::file_entry("f" + std::to_string(i), ""));
        expect(receive(file("many", with(std::move(many)))), code(errc::zip_too_many_entries),
               "1002 entries");
    }
    {
        auto bomb = t::file_entry("asic.zip", "tiny", 8);
        bomb.uncompressed_size = 0xFFFFFFF0u; // claims 4 GiB
        expect(receive(file("size-bomb", with({bomb}))), code(errc::zip_entry_too_large), "\"asic.zip\"");
    }
    {
        // 20 MiB of zeros deflate to about 20 KiB: a ratio of a thousand.
        const std::string zeros(20 * 1024 * 1024, '\0');
        const auto bomb = write_with_libzip(dir / "ratio-src.zip", "asic.zip", zeros);
        limits unbounded;
        unbounded.max_ratio = 0;
        const auto layout = scan_zip(dir / "ratio-src.zip", unbounded).value();
        auto e = t::file_entry("asic.zip", zeros, 8);
        e.raw_compressed = bomb.substr(layout.entries[0].data_offset, layout.entries[0].compressed_size);
        expect(receive(file("ratio-bomb", with({e}))), code(errc::zip_ratio_exceeded), "times");
    }
    {
        limits lim;
        lim.max_total_bytes = 1024 * 1024;
        expect(receive(file("total", with({t::file_entry("a.bin", t::random_text(600000)),
                                           t::file_entry("b.bin", t::random_text(600000))})),
                       lim),
               code(errc::zip_total_too_large), "\"b.bin\"");
    }
    {
        auto e = t::file_entry("asic.zip", "secret");
        e.flags = 1;
        expect(receive(file("encrypted", with({e}))), code(errc::zip_encrypted_entry), "\"asic.zip\"");
    }
    expect(receive(file("bzip2", with({t::file_entry("asic.zip", "BZh9", 12)}))),
           code(errc::zip_unsupported_method), "method 12");
    {
        auto e = t::file_entry("sbd.json", json);
        e.crc = 0x12345678;
        expect(receive(file("crc", t::build_zip(std::vector<t::raw_entry>{e}))), code(errc::zip_data_corrupt),
               "\"sbd.json\"");
    }
    {
        // b.bin's local header and data sit inside a.bin's data: two entries sharing bytes.
        const std::string inner = t::build_zip(std::vector<t::raw_entry>{t::file_entry("b.bin", "payload")});
        const std::string b_local = inner.substr(0, 30 + 5 + 7);
        auto a = t::file_entry("a.bin", b_local);
        auto b = t::file_entry("b.bin", "payload");
        b.local_offset = 30 + 5; // a.bin's data offset
        t::raw_zip z;
        z.entries = {a, b, t::file_entry("sbd.json", json, 8)};
        expect(receive(file("overlap", t::build_zip(z))), code(errc::zip_malformed), "overlap");
    }
}

BOOST_AUTO_TEST_CASE(standard_business_documents) {
    t::scratch_dir dir;
    const auto good = to_json(arkivmelding());
    auto replace = [&](std::string from, std::string to) {
        auto s = good;
        const auto pos = s.find(from);
        BOOST_TEST_REQUIRE(pos != std::string::npos, from);
        return s.replace(pos, from.size(), to);
    };
    const auto code = [](errc e) {
        return make_error_code(e);
    };
    auto with_sbd = [&](const std::string& name, std::string json) {
        return receive(package_of(dir, name, std::nullopt, std::move(json)));
    };

    {
        const auto p = dir / "no-sbd.zip";
        t::write_file(p, t::build_zip(std::vector<t::raw_entry>{t::file_entry("asic.zip", "x")}));
        expect(receive(p), code(errc::sbd_missing), "no sbd.json");
    }
    expect(with_sbd("not-json", "{\"standardBusinessDocumentHeader\": "), code(errc::sbd_malformed_json),
           "sbd.json");
    expect(with_sbd("deep", replace("\"hoveddokument\"", "\"x\" : " + std::string(100, '[') +
                                                             std::string(100, ']') + ", \"hoveddokument\"")),
           code(errc::sbd_too_deep), "nested deeper");
    expect(with_sbd("three", replace("\"arkivmelding\" : {", "\"status\" : {}, \"arkivmelding\" : {")),
           code(errc::sbd_top_level), "exactly two members");
    {
        auto s = good;
        const auto from = s.find("\"documentIdentification\"");
        const auto to = s.find("\"businessScope\"");
        s.erase(from, to - from);
        expect(with_sbd("missing-field", s), code(errc::sbd_missing_field),
               "documentIdentification: missing");
    }
    {
        expect(with_sbd("not-uuid",
                        replace("\"instanceIdentifier\" : \"", "\"instanceIdentifier\" : \"msg-42-")),
               code(errc::sbd_not_uuid), "instanceIdentifier");
    }
    expect(with_sbd("unknown-type", replace("\"type\" : \"arkivmelding\"", "\"type\" : \"faktura\"")),
           code(errc::sbd_unknown_type), "faktura");
    expect(with_sbd("duplicate-key", replace("\"headerVersion\" : \"1.0\"",
                                             "\"headerVersion\" : \"1.0\", \"headerVersion\" : \"1.0\"")),
           code(errc::sbd_duplicate_key), "headerVersion");
    expect(
        with_sbd("huge", replace("\"hoveddokument\"", "\"padding\" : \"" + std::string(2 * 1024 * 1024, 'x') +
                                                          "\", \"hoveddokument\"")),
        code(errc::sbd_too_large), "sbd.json");
}

BOOST_AUTO_TEST_CASE(cms_envelopes) {
    t::scratch_dir dir;
    auto& k = t::shared_keys();
    genuine_asic g;
    const auto asic = g.bytes();
    const auto cms = encrypt_for(asic, k.bob_id.leaf());
    const auto code = [](errc e) {
        return make_error_code(e);
    };

    expect(receive(package_of(dir, "other-cert", encrypt_for(asic, k.carol_id.leaf()))),
           code(errc::cms_not_for_this_certificate), k.carol_id.leaf().serial_hex());
    expect(receive(package_of(dir, "truncated", cms.substr(0, cms.size() - 700))), code(errc::cms_truncated),
           "ends too early");
    expect(receive(package_of(dir, "trailing", cms + "trailing")), code(errc::cms_trailing_data),
           "after the end");
    {
        // The last plaintext byte (padding length p) becomes 0 when the penultimate block's last
        // byte is xored with p.
        auto bad = cms;
        const std::uint8_t p = static_cast<std::uint8_t>(16 - asic.size() % 16);
        bad[bad.size() - 10 - 16 - 1] = static_cast<char>(bad[bad.size() - 10 - 16 - 1] ^ p);
        expect(receive(package_of(dir, "padding", bad)), code(errc::cms_bad_padding), "padding");
    }
    {
        // Encrypted for alice's key, but naming bob (same CA, so same issuer) as recipient.
        auto hex = [](const std::string& h) {
            std::string out;
            for (std::size_t i = 0; i + 1 < h.size(); i += 2)
                out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
            return out;
        };
        const auto bob_serial = hex(k.bob_id.leaf().serial_hex());
        auto via_alice = encrypt_for(asic, k.alice_id.leaf());
        const auto alice_serial = hex(k.alice_id.leaf().serial_hex());
        BOOST_TEST_REQUIRE(alice_serial.size() == bob_serial.size());
        via_alice.replace(via_alice.find(alice_serial), alice_serial.size(), bob_serial);
        expect(receive(package_of(dir, "wrong-key", via_alice)), code(errc::cms_key_decryption_failed),
               "does not decrypt with our private key");
    }
    expect(receive(package_of(dir, "not-encrypted", asic)), code(errc::cms_malformed), "ContentInfo");
    {
        const auto sig =
            sign_detached(std::span(reinterpret_cast<const std::uint8_t*>(asic.data()), asic.size()),
                          k.alice_id, digest_algorithm::sha256, now())
                .value();
        expect(receive(package_of(dir, "signed-not-enveloped", std::string(sig.begin(), sig.end()))),
               code(errc::cms_wrong_content_type), "signedData");
    }
}

BOOST_AUTO_TEST_CASE(asic_containers) {
    t::scratch_dir dir;
    const auto code = [](errc e) {
        return make_error_code(e);
    };
    auto check = [&](const std::string& name, std::function<void(genuine_asic&)> spoil, error_code expected,
                     std::string_view mentions) {
        BOOST_TEST_CONTEXT(name) {
            genuine_asic g;
            spoil(g);
            expect(receive(package_with_asic(dir, name, g.bytes())), expected, mentions);
        }
    };

    check(
        "missing-mimetype", [](auto& g) { g.erase("mimetype"); }, code(errc::asic_missing_mimetype),
        "mimetype");
    check(
        "wrong-mimetype", [](auto& g) { g["mimetype"].data = "application/zip"; },
        code(errc::asic_wrong_mimetype), "application/zip");
    check(
        "mimetype-not-first", [](auto& g) { std::swap(g.entries[0], g.entries[1]); },
        code(errc::asic_mimetype_not_first), "first");
    check(
        "mimetype-compressed", [](auto& g) { g["mimetype"].method = 8; },
        code(errc::asic_mimetype_compressed), "compressed");
    check(
        "mimetype-extra-field",
        [](auto& g) { g["mimetype"].local_extra = std::string("UT\x05\0\x01\0\0\0\0", 9); },
        code(errc::asic_mimetype_extra_field), "extra field");
    check(
        "tampered-document", [](auto& g) { g["vedlegg.pdf"].data[100] ^= 1; },
        code(errc::asic_digest_mismatch), "vedlegg.pdf");
    check(
        "tampered-manifest",
        [](auto& g) {
            auto& m = g["META-INF/ASiCManifest.xml"].data;
            m.replace(m.find("MimeType=\"application/pdf\""), 26, "MimeType=\"application/xyz\"");
        },
        code(errc::asic_signature_invalid), "manifest was changed");
    check(
        "tampered-signature",
        [&](auto& g) { g[g.signature_entry].data[g[g.signature_entry].data.size() - 30] ^= 1; },
        code(errc::asic_signature_invalid), "RSA signature");
    check(
        "extra-meta-inf", [](auto& g) { g.entries.push_back(t::file_entry("META-INF/evil.sh", "rm -rf /")); },
        code(errc::asic_unexpected_meta_inf_entry), "META-INF/evil.sh");
    check(
        "xxe",
        [](auto& g) {
            g["META-INF/ASiCManifest.xml"].data =
                "<?xml version=\"1.0\"?>\n<!DOCTYPE m [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
                "<ASiCManifest xmlns=\"http://uri.etsi.org/02918/v1.2.1#\">&x;</ASiCManifest>";
        },
        make_error_code(kurer::xml::errc::doctype_forbidden), "META-INF/ASiCManifest.xml");
    check(
        "billion-laughs",
        [](auto& g) {
            std::string bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">";
            for (int i = 1; i < 10; ++i)
                bomb += "<!ENTITY lol" + std::to_string(i) + " \"" + [&] {
                    std::string s;
                    for (int k = 0; k < 10; ++k)
                        s += "&lol" + (i == 1 ? std::string() : std::to_string(i - 1)) + ";";
                    return s;
                }() + "\">";
            bomb += "]>\n<manifest "
                    "xmlns=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\">&lol9;</manifest>";
            g["META-INF/manifest.xml"].data = bomb;
        },
        make_error_code(kurer::xml::errc::doctype_forbidden), "META-INF/manifest.xml");
    check(
        "smuggled-document", [](auto& g) { g.entries.push_back(t::file_entry("faktura.pdf", "pay me")); },
        code(errc::asic_entry_not_in_manifest), "faktura.pdf");
    check(
        "removed-document", [](auto& g) { g.erase("vedlegg.pdf"); }, code(errc::asic_listed_entry_missing),
        "vedlegg.pdf");
    check(
        "removed-signature", [](auto& g) { g.erase(g.signature_entry); }, code(errc::asic_signature_missing),
        "META-INF/signature-");
    check(
        "sha1-digests",
        [](auto& g) {
            auto& m = g["META-INF/ASiCManifest.xml"].data;
            const std::string from = "http://www.w3.org/2001/04/xmlenc#sha256";
            m.replace(m.find(from), from.size(), "http://www.w3.org/2000/09/xmldsig#sha1");
        },
        code(errc::asic_digest_algorithm_unsupported), "xmldsig#sha1");
    check(
        "nested-document", [](auto& g) { g.entries.push_back(t::file_entry("sub/dir/doc.pdf", "x")); },
        code(errc::asic_entry_not_flat), "sub/dir/doc.pdf");
    check(
        "no-asic-manifest", [](auto& g) { g.erase("META-INF/ASiCManifest.xml"); },
        code(errc::asic_manifest_missing), "ASiCManifest");
}

BOOST_AUTO_TEST_CASE(move_610_first_block_garbage_is_named_and_the_rest_still_checked) {
    t::scratch_dir dir;
    genuine_asic g;
    auto bytes = g.bytes();
    const auto garbage = t::random_text(16, 610);
    bytes.replace(0, 16, garbage);
    const auto o = receive(package_with_asic(dir, "move-610", bytes));
    expect(o, make_error_code(errc::asic_first_block_corrupt), "MOVE-610");
    // Only the first block is damaged: the documents and the signature still check out.
    BOOST_TEST(!o.has(make_error_code(errc::asic_digest_mismatch)), o.describe());
    BOOST_TEST(!o.has(make_error_code(errc::asic_signature_invalid)), o.describe());
    BOOST_TEST(!o.has(make_error_code(errc::asic_wrong_mimetype)), o.describe());
}

BOOST_AUTO_TEST_SUITE_END()

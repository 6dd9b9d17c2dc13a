// sbd.zip: packing, opening, decrypting, as the sender and the receiver see it.
#include "fixtures.hpp"
#include "test_support.hpp"

#include <kurer/dpo/errors.hpp>
#include <kurer/dpo/package.hpp>
#include <kurer/dpo/zip.hpp>
#include <kurer/testing/dpo_zip.hpp>

#include <boost/test/unit_test.hpp>

#include <botan/hash.h>
#include <botan/hex.h>

#include <fstream>

using namespace kurer::dpo;
namespace t = kurer::testing;

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

std::vector<std::string> entry_names(const std::filesystem::path& zip) {
    std::vector<std::string> out;
    for (const auto& e : scan_zip(zip, {}).value().entries)
        out.push_back(e.name);
    return out;
}

struct sender_side {
    t::scratch_dir dir;
    std::filesystem::path out = dir / "sbd.zip";
    std::vector<pack_document> documents;
    sender_side() {
        t::write_file(dir / "arkivmelding.xml", "<arkivmelding/>");
        t::write_file(dir / "vedlegg.pdf", t::random_text(123456, 3));
        documents = {{dir / "vedlegg.pdf", "vedlegg.pdf", ""},
                     {dir / "arkivmelding.xml", "arkivmelding.xml", ""}};
    }
};

// Peak resident memory of this process so far (VmHWM), in bytes.
std::uint64_t peak_rss() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.starts_with("VmHWM:"))
            return std::stoull(line.substr(6)) * 1024;
    return 0;
}

std::string sha256_of_file(const std::filesystem::path& p) {
    auto h = Botan::HashFunction::create_or_throw("SHA-256");
    std::ifstream in(p, std::ios::binary);
    std::vector<char> buf(1 << 16);
    while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0)
        h->update(reinterpret_cast<const std::uint8_t*>(buf.data()), static_cast<std::size_t>(in.gcount()));
    return Botan::hex_encode(h->final());
}

} // namespace

BOOST_AUTO_TEST_SUITE(packing)

BOOST_AUTO_TEST_CASE(packs_opens_decrypts_and_verifies) {
    auto& k = t::shared_keys();
    sender_side s;
    const auto document = arkivmelding();
    auto packed = pack(document, s.documents, k.alice_id, k.bob_id.leaf(), s.out);
    BOOST_TEST_REQUIRE(packed.has_value(), (packed ? "" : packed.error().describe()));
    BOOST_TEST((entry_names(s.out) == std::vector<std::string>{"sbd.json", "asic.zip"}));
    const auto layout = scan_zip(s.out, {}).value();
    BOOST_TEST(layout.entries[0].method == 8);
    BOOST_TEST(layout.entries[1].method == 0); // ciphertext is stored
    BOOST_TEST(layout.entries[1].uncompressed_size == packed->encrypted_bytes);
    BOOST_TEST(packed->bytes == std::filesystem::file_size(s.out));

    auto opened = open_package(s.out);
    BOOST_TEST_REQUIRE(opened.has_value(), (opened ? "" : opened.error().describe()));
    BOOST_TEST(opened->document.message_id() == document.message_id());
    BOOST_TEST(opened->sbd_json == to_json(document));
    BOOST_TEST_REQUIRE(opened->asic.has_value());
    BOOST_TEST(!opened->has_broker_manifest);

    auto info = decrypt_asic(*opened->asic, k.bob_id, s.dir / "in.asice");
    BOOST_TEST_REQUIRE(info.has_value(), (info ? "" : info.error().describe()));
    BOOST_TEST(info->plaintext_bytes == packed->asic_bytes);
    auto report = verify_asic(s.dir / "in.asice");
    BOOST_TEST_REQUIRE(report.has_value());
    BOOST_TEST(report->ok(), report->describe_problems());
    // The primary document moved first although it was uploaded second.
    BOOST_TEST_REQUIRE(report->documents.size() == 3u);
    BOOST_TEST(report->documents[1].name == "arkivmelding.xml");
    BOOST_TEST(report->documents[1].mime_type == "text/xml"); // derived from the name
    BOOST_TEST(report->documents[2].name == "vedlegg.pdf");

    auto wrong = decrypt_asic(*opened->asic, k.carol_id, s.dir / "carol.asice");
    BOOST_TEST_REQUIRE(!wrong.has_value());
    BOOST_TEST(wrong.error().code == errc::cms_not_for_this_certificate);
    BOOST_TEST(!std::filesystem::exists(s.dir / "carol.asice")); // nothing half-written is left
}

BOOST_AUTO_TEST_CASE(altinn2_mode_puts_the_broker_files_first_and_valid) {
    auto& k = t::shared_keys();
    sender_side s;
    pack_options options;
    options.altinn2 = altinn2_manifest{"19efbd4c-413d-4e2c-bbc5-257ef4a65b38"};
    auto packed = pack(arkivmelding(), s.documents, k.alice_id, k.bob_id.leaf(), s.out, options);
    BOOST_TEST_REQUIRE(packed.has_value(), (packed ? "" : packed.error().describe()));
    BOOST_TEST((entry_names(s.out) ==
                std::vector<std::string>{"manifest.xml", "recipients.xml", "sbd.json", "asic.zip"}));
    const auto entries = t::read_entries(s.out.string());
    BOOST_TEST(entries[0].data == R"(<?xml version="1.0" encoding="UTF-8"?>
<BrokerServiceManifest xmlns="http://schema.altinn.no/services/ServiceEngine/Broker/2015/06">
   <ExternalServiceCode>v3888</ExternalServiceCode>
   <ExternalServiceEditionCode>70515</ExternalServiceEditionCode>
   <SendersReference>19efbd4c-413d-4e2c-bbc5-257ef4a65b38</SendersReference>
   <Reportee>910077473</Reportee>
   <FileList>
      <File>
         <FileName>sbd.json</FileName>
      </File>
   </FileList>
</BrokerServiceManifest>
)");
    BOOST_TEST(entries[1].data == R"(<?xml version="1.0" encoding="UTF-8"?>
<BrokerServiceRecipientList xmlns="http://schema.altinn.no/services/ServiceEngine/Broker/2015/06">
   <Recipient>
      <PartyNumber>910075918</PartyNumber>
   </Recipient>
</BrokerServiceRecipientList>
)");
    auto opened = open_package(s.out);
    BOOST_TEST_REQUIRE(opened.has_value());
    BOOST_TEST(opened->has_broker_manifest);
    BOOST_TEST(opened->has_recipients);
}

BOOST_AUTO_TEST_CASE(receipts_are_sbd_json_alone) {
    t::scratch_dir dir;
    const auto status = make_status(arkivmelding(), receipt_status::mottatt, now());
    auto packed = pack_receipt(status, dir / "sbd.zip");
    BOOST_TEST_REQUIRE(packed.has_value(), (packed ? "" : packed.error().describe()));
    BOOST_TEST((entry_names(dir / "sbd.zip") == std::vector<std::string>{"sbd.json"}));
    auto opened = open_package(dir / "sbd.zip");
    BOOST_TEST_REQUIRE(opened.has_value());
    BOOST_TEST(!opened->asic.has_value());
    BOOST_TEST(opened->document.business_string("status").value() == "MOTTATT");
}

BOOST_AUTO_TEST_CASE(refuses_what_the_reference_would_refuse_to_send) {
    auto& k = t::shared_keys();
    sender_side s;
    auto expect = [&](const sbd& d, const std::vector<pack_document>& docs, errc code,
                      std::string_view mentions) {
        auto r = pack(d, docs, k.alice_id, k.bob_id.leaf(), s.out);
        BOOST_TEST_REQUIRE(!r.has_value());
        BOOST_TEST(r.error().code == code, r.error().describe());
        BOOST_TEST(r.error().message.find(mentions) != std::string::npos, r.error().message);
        BOOST_TEST(!std::filesystem::exists(s.out));
    };
    expect(arkivmelding(), {s.documents[0]}, errc::document_invalid, "arkivmelding.xml");
    auto d = arkivmelding();
    d.business_message["hoveddokument"] = "brev.pdf";
    expect(d, s.documents, errc::document_invalid, "brev.pdf");
    d = arkivmelding();
    d.header.document.instance_identifier = "1234";
    expect(d, s.documents, errc::sbd_not_uuid, "instanceIdentifier");
    expect(arkivmelding(), {}, errc::document_invalid, "pack_receipt");
    // No plaintext is left behind in the working directory either.
    for (const auto& e : std::filesystem::directory_iterator(s.dir.path()))
        BOOST_TEST(!e.path().filename().string().starts_with(".kurer-pack-"), e.path());
}

BOOST_AUTO_TEST_CASE(leftovers_of_a_killed_pack_are_found_by_name) {
    t::scratch_dir dir;
    std::filesystem::create_directories(dir / ".kurer-pack-0d7c5a4e" / "x");
    t::write_file(dir / ".kurer-pack-0d7c5a4e" / "x" / "asic.zip", "plaintext");
    t::write_file(dir / "sbd.zip", "kept");
    std::filesystem::create_directories(dir / "other");
    auto removed = remove_pack_leftovers(dir.path());
    BOOST_TEST_REQUIRE(removed.has_value());
    BOOST_TEST(*removed == 1u);
    BOOST_TEST(!std::filesystem::exists(dir / ".kurer-pack-0d7c5a4e"));
    BOOST_TEST(std::filesystem::exists(dir / "sbd.zip"));
    BOOST_TEST(std::filesystem::exists(dir / "other"));
}

BOOST_AUTO_TEST_CASE(open_skips_unknown_entries_and_names_a_missing_sbd) {
    t::scratch_dir dir;
    const auto json = to_json(arkivmelding());
    t::write_file(dir / "extra.zip",
                  t::build_zip({t::file_entry("readme.txt", "hei"), t::file_entry("sbd.json", json)}));
    auto opened = open_package(dir / "extra.zip");
    BOOST_TEST_REQUIRE(opened.has_value(), (opened ? "" : opened.error().describe()));
    BOOST_TEST((opened->skipped == std::vector<std::string>{"readme.txt"}));

    t::write_file(dir / "legacy.zip",
                  t::build_zip({t::file_entry("content.xml", "<StandardBusinessDocument/>")}));
    auto legacy = open_package(dir / "legacy.zip");
    BOOST_TEST_REQUIRE(!legacy.has_value());
    BOOST_TEST(legacy.error().code == errc::sbd_missing);
    BOOST_TEST(legacy.error().message.find("content.xml") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_48_mib_document_streams_through_in_flat_memory) {
    auto& k = t::shared_keys();
    t::scratch_dir dir;
    const auto big = dir / "stort.pdf";
    {
        std::ofstream out(big, std::ios::binary);
        for (unsigned i = 0; i < 48; ++i) {
            const auto chunk = t::random_text(1024 * 1024, i);
            out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        }
    }
    t::write_file(dir / "arkivmelding.xml", "<arkivmelding/>");
    const auto before = peak_rss();
    pack_options fast;
    fast.asic.compression_level = 1;
    auto packed =
        pack(arkivmelding(), {{dir / "arkivmelding.xml", "arkivmelding.xml", ""}, {big, "stort.pdf", ""}},
             k.alice_id, k.bob_id.leaf(), dir / "sbd.zip", fast);
    BOOST_TEST_REQUIRE(packed.has_value(), (packed ? "" : packed.error().describe()));
    auto opened = open_package(dir / "sbd.zip");
    BOOST_TEST_REQUIRE(opened.has_value());
    BOOST_TEST_REQUIRE(decrypt_asic(*opened->asic, k.bob_id, dir / "in.asice").has_value());
    auto report = verify_asic(dir / "in.asice");
    BOOST_TEST_REQUIRE(report.has_value());
    BOOST_TEST(report->ok(), report->describe_problems());
    BOOST_TEST_REQUIRE(extract_documents(dir / "in.asice", dir / "out").has_value());
    BOOST_TEST(sha256_of_file(dir / "out" / "stort.pdf") == sha256_of_file(big));
    const auto grown = peak_rss() - before;
    BOOST_TEST(grown < 16u * 1024 * 1024, "peak RSS grew by " << grown << " bytes for a 48 MiB document");
}

BOOST_AUTO_TEST_SUITE_END()

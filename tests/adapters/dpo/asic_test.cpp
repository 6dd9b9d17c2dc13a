// The ASiC-E as written (the exact layout of message-package.md §2) and as verified.
#include "fixtures.hpp"
#include "test_support.hpp"

#include <kurer/core/uuid.hpp>
#include <kurer/dpo/asic.hpp>
#include <kurer/dpo/errors.hpp>
#include <kurer/dpo/zip.hpp>
#include <kurer/testing/dpo_zip.hpp>

#include <boost/test/unit_test.hpp>

using namespace kurer::dpo;
namespace t = kurer::testing;

namespace {

struct container {
    t::scratch_dir dir;
    std::vector<asic_document> documents;
    std::filesystem::path file = dir / "asic.zip";
    asic_summary summary;

    explicit container(asic_options options = {}) {
        t::write_file(dir / "arkivmelding.xml", "<arkivmelding>hei</arkivmelding>");
        t::write_file(dir / "vedlegg.pdf", t::random_text(1500000, 7));
        t::write_file(dir / "brev.txt", std::string(50000, 'x'));
        documents = {{dir / "arkivmelding.xml", "arkivmelding.xml", "application/xml"},
                     {dir / "vedlegg.pdf", "vedlegg.pdf", "application/pdf"},
                     {dir / "brev.txt", "brev.txt", "text/plain"}};
        auto r = write_asic(file, documents, "0192:910077473", "0192:910075918", t::shared_keys().alice_id,
                            options);
        BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().describe()));
        summary = *r;
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(asic_writer)

BOOST_AUTO_TEST_CASE(lays_out_the_container_like_the_reference) {
    container c;
    auto layout = scan_zip(c.file, {});
    BOOST_TEST_REQUIRE(layout.has_value(), (layout ? "" : layout.error().describe()));
    std::vector<std::string> names;
    for (const auto& e : layout->entries)
        names.push_back(e.name);
    BOOST_TEST_REQUIRE(names.size() == 8u);
    BOOST_TEST(names[0] == "mimetype");
    BOOST_TEST(names[1] == "manifest.xml");
    BOOST_TEST(names[2] == "arkivmelding.xml");
    BOOST_TEST(names[3] == "vedlegg.pdf");
    BOOST_TEST(names[4] == "brev.txt");
    BOOST_TEST(names[5] == "META-INF/ASiCManifest.xml");
    BOOST_TEST(names[6] == c.summary.signature_entry);
    BOOST_TEST(c.summary.signature_entry.starts_with("META-INF/signature-"));
    BOOST_TEST(kurer::is_uuid(c.summary.signature_entry.substr(19, 36)));
    BOOST_TEST(c.summary.signature_entry.ends_with(".p7s"));
    BOOST_TEST(names[7] == "META-INF/manifest.xml");

    const auto& m = layout->entries[0];
    BOOST_TEST(m.method == 0);
    BOOST_TEST(m.local_header_offset == 0u);
    BOOST_TEST(m.local_extra_length == 0u);
    BOOST_TEST(m.sizes_in_local_header);
    BOOST_TEST(m.data_offset == 38u);
    BOOST_TEST(m.comment == "mimetype=application/vnd.etsi.asic-e+zip");
    BOOST_TEST(layout->archive_comment == "mimetype=application/vnd.etsi.asic-e+zip");
    const auto bytes = t::read_file(c.file);
    BOOST_TEST(bytes.substr(38, 31) == "application/vnd.etsi.asic-e+zip");
    for (const auto& e : layout->entries) {
        BOOST_TEST(!e.local_header_error.has_value(), e.name);
        BOOST_TEST(e.sizes_in_local_header, e.name); // readable by a streaming reader
        // Deflated, except random bytes, which deflate cannot shrink (store_incompressible).
        if (e.name != "mimetype")
            BOOST_TEST(e.method == (e.name == "vedlegg.pdf" ? 0 : 8), e.name);
    }
}

BOOST_AUTO_TEST_CASE(deflates_everything_like_the_reference_when_asked) {
    asic_options options;
    options.store_incompressible = false;
    container c(options);
    for (const auto& e : scan_zip(c.file, {}).value().entries)
        BOOST_TEST(e.method == (e.name == "mimetype" ? 0 : 8), e.name);
    auto r = verify_asic(c.file);
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->ok(), r->describe_problems());
}

BOOST_AUTO_TEST_CASE(writes_the_three_manifests_exactly) {
    container c;
    const auto entries = t::read_entries(c.file.string());
    auto find = [&](std::string_view name) {
        for (const auto& e : entries)
            if (e.name == name)
                return e.data;
        BOOST_FAIL("no entry " << name);
        return std::string();
    };
    BOOST_TEST(find("manifest.xml") == R"(<?xml version="1.0" encoding="UTF-8"?>
<manifest>
   <mottaker>
      <organisasjon authority="iso6523-actorid-upis">0192:910075918</organisasjon>
   </mottaker>
   <avsender>
      <organisasjon authority="iso6523-actorid-upis">0192:910077473</organisasjon>
   </avsender>
   <hoveddokument href="arkivmelding.xml" mime="application/xml">
      <tittel lang="no">Hoveddokument</tittel>
   </hoveddokument>
</manifest>
)");
    const auto asic_manifest = find("META-INF/ASiCManifest.xml");
    BOOST_TEST(asic_manifest.starts_with(R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<ASiCManifest xmlns="http://uri.etsi.org/02918/v1.2.1#" xmlns:ns2="http://www.w3.org/2000/09/xmldsig#">
    <SigReference URI=")" + c.summary.signature_entry +
                                         R"(" MimeType="application/x-pkcs7-signature"/>
    <DataObjectReference URI="manifest.xml" MimeType="application/xml">
        <ns2:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
        <ns2:DigestValue>)"));
    for (const auto& [name, digest] : c.summary.digests)
        BOOST_TEST(asic_manifest.find("<ns2:DigestValue>" + digest + "</ns2:DigestValue>") !=
                       std::string::npos,
                   name);
    BOOST_TEST(c.summary.digests.size() == 4u); // manifest.xml and the three documents
    BOOST_TEST(find("META-INF/manifest.xml") == R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<ns1:manifest xmlns:ns1="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">
    <ns1:file-entry ns1:full-path="/" ns1:media-type="application/vnd.etsi.asic-e+zip"/>
    <ns1:file-entry ns1:full-path="manifest.xml" ns1:media-type="application/xml"/>
    <ns1:file-entry ns1:full-path="arkivmelding.xml" ns1:media-type="application/xml"/>
    <ns1:file-entry ns1:full-path="vedlegg.pdf" ns1:media-type="application/pdf"/>
    <ns1:file-entry ns1:full-path="brev.txt" ns1:media-type="text/plain"/>
</ns1:manifest>
)");
    BOOST_TEST(find("vedlegg.pdf") == t::read_file(c.dir / "vedlegg.pdf"));
}

BOOST_AUTO_TEST_CASE(refuses_names_that_cannot_be_documents) {
    container c;
    const auto& id = t::shared_keys().alice_id;
    const auto f = c.dir / "brev.txt";
    for (const auto& bad :
         std::vector<std::vector<asic_document>>{{},
                                                 {{f, "manifest.xml", "text/xml"}},
                                                 {{f, "mimetype", "text/plain"}},
                                                 {{f, "META-INF/x.xml", "text/xml"}},
                                                 {{f, "sub/brev.txt", "text/plain"}},
                                                 {{f, "../brev.txt", "text/plain"}},
                                                 {{f, "a.txt", "text/plain"}, {f, "a.txt", "text/plain"}},
                                                 {{f, "a.txt", ""}},
                                                 {{c.dir / "missing.txt", "missing.txt", "text/plain"}}}) {
        auto r = write_asic(c.dir / "bad.zip", bad, "0192:910077473", "0192:910075918", id);
        BOOST_TEST_REQUIRE(!r.has_value());
        BOOST_TEST(r.error().code == errc::document_invalid, r.error().message);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(asic_verifier)

BOOST_AUTO_TEST_CASE(verifies_what_it_writes) {
    for (auto digest : {digest_algorithm::sha256, digest_algorithm::sha1}) {
        container c(asic_options{digest, 6, std::nullopt});
        auto r = verify_asic(c.file);
        BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().describe()));
        BOOST_TEST(r->ok(), r->describe_problems());
        BOOST_TEST_REQUIRE(r->signature.has_value());
        BOOST_TEST(r->signature->digest == (digest == digest_algorithm::sha1 ? "SHA-1" : "SHA-256"));
        BOOST_TEST(r->signature->signer_subject == t::shared_keys().alice_id.leaf().subject());
        BOOST_TEST(r->sender == "0192:910077473");
        BOOST_TEST(r->receiver == "0192:910075918");
        BOOST_TEST(r->primary_document == "arkivmelding.xml");
        BOOST_TEST(r->manifest_entry == "META-INF/ASiCManifest.xml");
        BOOST_TEST_REQUIRE(r->documents.size() == 4u);
        BOOST_TEST(r->documents[2].name == "vedlegg.pdf");
        BOOST_TEST(r->documents[2].mime_type == "application/pdf");
        BOOST_TEST(r->documents[2].bytes == 1500000u);
        BOOST_TEST(r->documents[2].digest_matches);
    }
}

BOOST_AUTO_TEST_CASE(extracts_documents_and_never_overwrites) {
    container c;
    auto files = extract_documents(c.file, c.dir / "out");
    BOOST_TEST_REQUIRE(files.has_value(), (files ? "" : files.error().describe()));
    BOOST_TEST(files->size() == 4u);
    BOOST_TEST(t::read_file(c.dir / "out" / "vedlegg.pdf") == t::read_file(c.dir / "vedlegg.pdf"));
    BOOST_TEST(!std::filesystem::exists(c.dir / "out" / "mimetype"));
    BOOST_TEST(!std::filesystem::exists(c.dir / "out" / "META-INF"));
    auto again = extract_documents(c.file, c.dir / "out");
    BOOST_TEST_REQUIRE(!again.has_value());
    BOOST_TEST(again.error().code == errc::io_failure);
}

BOOST_AUTO_TEST_SUITE_END()

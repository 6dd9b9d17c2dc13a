// kurer-pack as operators use it: pack a message, open it on the other side, and fail loudly
// (non-zero exit, the reason on stderr) when anything is wrong.
#include <kurer/dpo/package.hpp>
#include <kurer/dpo/zip.hpp>
#include <kurer/testing/dpo_pki.hpp>
#include <kurer/testing/dpo_zip.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/test/unit_test.hpp>

namespace t = kurer::testing;

namespace {

struct setup {
    t::scratch_dir dir;
    t::test_pki pki{dir / "pki"};
    t::party sender = pki.make_party("avsender", "910077473");
    t::party receiver = pki.make_party("mottaker", "910075918");
    t::party stranger = pki.make_party("fremmed", "910094092", false);

    setup() {
        t::write_file(dir / "arkivmelding.xml", "<arkivmelding><tittel>Test</tittel></arkivmelding>");
        t::write_file(dir / "vedlegg.pdf", std::string(100000, 'p'));
    }

    t::run_result kurer_pack(std::vector<std::string> args) const {
        args.insert(args.begin(), t::executable("kurer-pack").string());
        return t::run(args);
    }

    t::run_result pack(const std::filesystem::path& out, std::vector<std::string> extra = {}) const {
        std::vector<std::string> args{"pack",
                                      "--sender",
                                      "0192:910077473",
                                      "--receiver",
                                      "0192:910075918",
                                      "--receiver-cert",
                                      receiver.cert.string(),
                                      "--cert",
                                      sender.cert.string(),
                                      "--key",
                                      sender.key.string(),
                                      "--out",
                                      out.string()};
        args.insert(args.end(), extra.begin(), extra.end());
        args.push_back((dir / "arkivmelding.xml").string());
        args.push_back((dir / "vedlegg.pdf").string());
        return kurer_pack(args);
    }

    t::run_result open(const t::party& who, const std::filesystem::path& package,
                       const std::filesystem::path& out) const {
        return kurer_pack({"open", "--cert", who.cert.string(), "--key", who.key.string(), "--out",
                           out.string(), package.string()});
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(kurer_pack_cli)

BOOST_AUTO_TEST_CASE(packs_and_opens_a_message) {
    setup s;
    const auto packed = s.pack(s.dir / "sbd.zip");
    BOOST_TEST_REQUIRE(packed.exit_code == 0, packed.err);
    BOOST_TEST(packed.out.find("messageId") != std::string::npos, packed.out);

    const auto opened = s.open(s.receiver, s.dir / "sbd.zip", s.dir / "inn");
    BOOST_TEST_REQUIRE(opened.exit_code == 0, opened.out << opened.err);
    BOOST_TEST(opened.out.find("\"standardBusinessDocumentHeader\" : {") != std::string::npos, opened.out);
    BOOST_TEST(opened.out.find("SBD check: ok") != std::string::npos, opened.out);
    BOOST_TEST(opened.out.find("problems: none") != std::string::npos, opened.out);
    BOOST_TEST(opened.out.find("SHA-256 with RSA by") != std::string::npos, opened.out);
    BOOST_TEST(t::read_file(s.dir / "inn" / "documents" / "vedlegg.pdf") ==
               t::read_file(s.dir / "vedlegg.pdf"));
    BOOST_TEST(t::read_file(s.dir / "inn" / "documents" / "arkivmelding.xml") ==
               t::read_file(s.dir / "arkivmelding.xml"));
    BOOST_TEST(std::filesystem::exists(s.dir / "inn" / "asic.zip"));
    BOOST_TEST(std::filesystem::exists(s.dir / "inn" / "sbd.json"));
}

BOOST_AUTO_TEST_CASE(with_the_enterprise_cas_open_decides_whether_the_sender_is_believed) {
    setup s;
    BOOST_TEST_REQUIRE(s.pack(s.dir / "sbd.zip").exit_code == 0);
    auto open_trusting = [&](const std::filesystem::path& ca, const std::string& out) {
        return s.kurer_pack({"open", "--cert", s.receiver.cert.string(), "--key", s.receiver.key.string(),
                             "--trust", ca.string(), "--out", (s.dir / out).string(),
                             (s.dir / "sbd.zip").string()});
    };
    const auto trusted = open_trusting(s.pki.ca_cert(), "trusted");
    BOOST_TEST_REQUIRE(trusted.exit_code == 0, trusted.out << trusted.err);
    BOOST_TEST(trusted.out.find("sender: verified: 910077473, signed by") != std::string::npos, trusted.out);

    // Another CA's bundle: the same package is one a receiving engine would reject.
    t::test_pki other(s.dir / "other-pki");
    const auto untrusted = open_trusting(other.ca_cert(), "untrusted");
    BOOST_TEST(untrusted.exit_code == 1);
    BOOST_TEST(untrusted.out.find("sender: NOT VERIFIED") != std::string::npos, untrusted.out);
    BOOST_TEST(untrusted.err.find("would reject") != std::string::npos, untrusted.err);
    BOOST_TEST(untrusted.err.find("does not chain to a trusted enterprise CA") != std::string::npos,
               untrusted.err);

    const auto unchecked = s.open(s.receiver, s.dir / "sbd.zip", s.dir / "unchecked");
    BOOST_TEST(unchecked.out.find("sender: not checked") != std::string::npos, unchecked.out);
}

BOOST_AUTO_TEST_CASE(altinn2_mode_and_sha1_signatures) {
    setup s;
    const auto packed =
        s.pack(s.dir / "sbd.zip", {"--altinn2", "--senders-reference", "ref-1", "--signature-digest", "sha1",
                                   "--process", "urn:no:difi:profile:arkivmelding:planByggOgGeodata:ver1.0"});
    BOOST_TEST_REQUIRE(packed.exit_code == 0, packed.err);
    const auto layout = kurer::dpo::scan_zip(s.dir / "sbd.zip", {}).value();
    BOOST_TEST_REQUIRE(layout.entries.size() == 4u);
    BOOST_TEST(layout.entries[0].name == "manifest.xml");
    BOOST_TEST(layout.entries[1].name == "recipients.xml");
    const auto opened = s.open(s.receiver, s.dir / "sbd.zip", s.dir / "inn");
    BOOST_TEST_REQUIRE(opened.exit_code == 0, opened.out << opened.err);
    BOOST_TEST(opened.out.find("SHA-1 with RSA") != std::string::npos, opened.out);
    BOOST_TEST(opened.out.find("planByggOgGeodata") != std::string::npos, opened.out);
}

BOOST_AUTO_TEST_CASE(fails_with_the_reason) {
    setup s;
    BOOST_TEST_REQUIRE(s.pack(s.dir / "sbd.zip").exit_code == 0);

    const auto stranger = s.open(s.stranger, s.dir / "sbd.zip", s.dir / "x");
    BOOST_TEST(stranger.exit_code == 1);
    BOOST_TEST(stranger.err.find("not encrypted for our certificate") != std::string::npos, stranger.err);

    // A tampered document inside a correctly encrypted container: the report names it.
    const auto opened = s.open(s.receiver, s.dir / "sbd.zip", s.dir / "ok");
    BOOST_TEST_REQUIRE(opened.exit_code == 0);
    auto entries = t::read_entries((s.dir / "ok" / "asic.zip").string());
    for (auto& e : entries) {
        if (e.name == "vedlegg.pdf")
            e.data[10] = 'X';
        if (e.name != "mimetype")
            e.method = 8;
    }
    t::write_file(s.dir / "tampered.asice", t::build_zip(entries));
    auto in = kurer::dpo::file_source::open(s.dir / "tampered.asice").value();
    auto cms = kurer::dpo::file_sink::create(s.dir / "tampered.cms").value();
    BOOST_TEST_REQUIRE(
        kurer::dpo::encrypt(in, cms, kurer::dpo::certificate::load_chain(s.receiver.cert).value().front())
            .has_value());
    BOOST_TEST_REQUIRE(cms.commit(false).has_value());
    const auto sbd = kurer::dpo::open_package(s.dir / "sbd.zip").value();
    t::write_file(s.dir / "tampered.zip",
                  t::build_zip({t::file_entry("sbd.json", sbd.sbd_json, 8),
                                t::file_entry("asic.zip", t::read_file(s.dir / "tampered.cms"))}));
    const auto bad = s.open(s.receiver, s.dir / "tampered.zip", s.dir / "y");
    BOOST_TEST(bad.exit_code == 1);
    BOOST_TEST(bad.out.find("vedlegg.pdf: its SHA-256 is") != std::string::npos, bad.out);
    BOOST_TEST(bad.err.find("does not verify") != std::string::npos, bad.err);
    BOOST_TEST(!std::filesystem::exists(s.dir / "y" / "documents"));

    const auto usage = s.kurer_pack({"pack", "--sender", "0192:910077473"});
    BOOST_TEST(usage.exit_code == 2);
    BOOST_TEST(usage.err.find("--receiver is required") != std::string::npos, usage.err);
    const auto bad_org =
        s.kurer_pack({"pack", "--sender", "12345", "--receiver", "0192:910075918", "--receiver-cert", "x",
                      "--cert", "x", "--key", "x", "--out", "x", "a.xml"});
    BOOST_TEST(bad_org.exit_code == 2);
    const auto missing = s.open(s.receiver, s.dir / "nope.zip", s.dir / "z");
    BOOST_TEST(missing.exit_code == 1);
    BOOST_TEST(missing.err.find("nope.zip") != std::string::npos, missing.err);
}

BOOST_AUTO_TEST_SUITE_END()

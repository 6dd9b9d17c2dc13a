// kurer-pack: builds and opens DPO packages (sbd.zip) offline, so operators can look inside
// what was sent or received.
#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/dpo/asic.hpp>
#include <kurer/dpo/date_time.hpp>
#include <kurer/dpo/package.hpp>
#include <kurer/dpo/sbd.hpp>
#include <kurer/dpo/trust.hpp>
#include <kurer/engine/cli.hpp>

#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace cli = kurer::engine::cli;

// What the command line gave `pack`.
struct pack_arguments {
    std::string sender, receiver, receiver_cert, cert, key, out;
    std::optional<std::string> process, senders_reference;
    std::string signature_digest = "sha256";
    bool altinn2 = false;
    std::vector<std::string> files;
};

// What the command line gave `open`.
struct open_arguments {
    std::string cert, key, out, package;
    std::optional<std::string> trust;
};

// An option whose value is kept only when it is given (an empty value included).
CLI::Option* optional_value(CLI::App* cmd, const std::string& name, std::optional<std::string>& into,
                            std::string description) {
    return cmd->add_option_function<std::string>(
        name, [&into](const std::string& v) { into = v; }, std::move(description));
}

int fail(const kurer::error& e) {
    std::cerr << "kurer-pack: " << e.describe() << "\n";
    return 1;
}

int pack_command(const CLI::App& cmd, const pack_arguments& args) {
    if (args.files.empty())
        return cli::usage_error(cmd, "name at least one file to pack (arkivmelding.xml first)");
    const auto sender_id = kurer::dpo::normalize_organization(args.sender);
    const auto receiver_id = kurer::dpo::normalize_organization(args.receiver);
    if (!sender_id || !receiver_id)
        return cli::usage_error(cmd, "--sender and --receiver are 0192:<9 digits> (or the 9 digits)");
    kurer::dpo::pack_options options;
    if (args.signature_digest == "sha1")
        options.asic.signature_digest = kurer::dpo::digest_algorithm::sha1;
    else if (args.signature_digest != "sha256")
        return cli::usage_error(cmd, "--signature-digest is sha256 or sha1");
    if (args.altinn2)
        options.altinn2 = kurer::dpo::altinn2_manifest{args.senders_reference.value_or(kurer::random_uuid())};

    if (auto zone = kurer::dpo::load_oslo_time_zone(); !zone) // the SBD is stamped in Oslo time
        return fail(zone.error());
    auto id = kurer::dpo::identity::load(args.cert, args.key);
    if (!id)
        return fail(id.error());
    auto to = kurer::dpo::certificate::load_chain(args.receiver_cert);
    if (!to)
        return fail(to.error());

    std::vector<kurer::dpo::pack_document> documents;
    for (const auto& file : args.files) {
        const std::filesystem::path p(file);
        const auto name = p.filename().string();
        // Archive systems upload arkivmelding.xml as application/xml; the rest by extension.
        documents.push_back({p, name, name == "arkivmelding.xml" ? "application/xml" : ""});
    }
    kurer::dpo::message_params params;
    params.sender = *sender_id;
    params.receiver = *receiver_id;
    if (args.process)
        params.process = *args.process;
    params.business_message["hoveddokument"] = documents.front().name;
    const auto sbd = kurer::dpo::make_message(
        params, std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now()));

    auto packed = kurer::dpo::pack(sbd, documents, *id, to->front(), args.out, options);
    if (!packed)
        return fail(packed.error());
    std::cout << "wrote " << args.out << " (" << packed->bytes << " bytes)\n"
              << "  messageId       " << sbd.message_id() << "\n"
              << "  conversationId  " << sbd.conversation_id().value_or("") << "\n"
              << "  ASiC-E          " << packed->asic_bytes << " bytes, " << documents.size()
              << " document(s), " << packed->asic.signature_entry << "\n"
              << "  asic.zip (CMS)  " << packed->encrypted_bytes << " bytes for " << to->front().subject()
              << "\n";
    if (options.altinn2)
        std::cout << "  Altinn 2        manifest.xml + recipients.xml, SendersReference "
                  << options.altinn2->senders_reference << "\n";
    return 0;
}

int open_command(const open_arguments& args) {
    const std::filesystem::path package = args.package;
    const std::filesystem::path dir = args.out;

    if (auto zone = kurer::dpo::load_oslo_time_zone(); !zone) // the SBD is stamped in Oslo time
        return fail(zone.error());
    auto id = kurer::dpo::identity::load(args.cert, args.key);
    if (!id)
        return fail(id.error());
    auto opened = kurer::dpo::open_package(package);
    if (!opened)
        return fail(opened.error());
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        std::cerr << "kurer-pack: cannot create " << dir << ": " << ec.message() << "\n";
        return 1;
    }
    if (auto ok = kurer::write_file_durably(dir / "sbd.json", opened->sbd_json); !ok)
        return fail(ok.error());

    std::cout << "SBD (" << package.filename().string() << "/sbd.json):\n"
              << kurer::dpo::to_json(opened->document) << "\n";
    bool failed = false;
    if (auto strict = kurer::dpo::validate(opened->document); !strict) {
        std::cout << "SBD check: FAILED: " << strict.error().message << "\n";
        failed = true;
    } else {
        std::cout << "SBD check: ok (" << opened->document.type() << ", messageId "
                  << opened->document.message_id() << ")\n";
    }
    if (!opened->skipped.empty()) {
        std::cout << "skipped entries:";
        for (const auto& s : opened->skipped)
            std::cout << " " << s;
        std::cout << "\n";
    }
    if (!opened->asic) {
        std::cout << "no asic.zip: an SBD-only package (status or receipt)\n";
        return failed ? 1 : 0;
    }

    const auto asic_path = dir / "asic.zip";
    auto decrypted = kurer::dpo::decrypt_asic(*opened->asic, *id, asic_path);
    if (!decrypted)
        return fail(decrypted.error());
    std::cout << "decrypted: " << asic_path.string() << " (" << decrypted->plaintext_bytes << " bytes, "
              << decrypted->content_encryption << ", " << decrypted->key_transport << ", "
              << (decrypted->indefinite_length ? "BER" : "DER") << ")\n";

    auto report = kurer::dpo::verify_asic(asic_path);
    if (!report)
        return fail(report.error());
    std::cout << "ASiC-E:\n";
    if (report->signature)
        std::cout << "  signature  " << report->signature_entry << ": " << report->signature->digest
                  << " with RSA by " << report->signature->signer_subject << " (serial "
                  << report->signature->signer_serial << ")\n";
    if (!report->primary_document.empty())
        std::cout << "  manifest   from " << report->sender << " to " << report->receiver
                  << ", primary document " << report->primary_document << "\n";
    for (const auto& d : report->documents)
        std::cout << "  " << d.name << "  " << d.bytes << " bytes  "
                  << (d.mime_type.empty() ? "-" : d.mime_type) << "  sha256 "
                  << (d.digest_matches ? "ok" : "MISMATCH") << "\n";
    if (!report->ok()) {
        std::cout << "problems:\n";
        for (const auto& p : report->problems)
            std::cout << "  " << (p.entry.empty() ? "" : p.entry + ": ") << p.message << " ("
                      << p.code.category().name() << ":" << p.code.value() << ")\n";
        std::cerr << "kurer-pack: the ASiC-E does not verify (" << report->problems.size()
                  << " problem(s))\n";
        return 1;
    }
    std::cout << "problems: none\n";
    if (args.trust) {
        auto anchors = kurer::dpo::trust_anchors::load(*args.trust);
        if (!anchors)
            return fail(anchors.error());
        const auto now =
            std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
        auto signer = kurer::dpo::verify_received(opened->document, asic_path, *anchors, now);
        if (!signer) {
            std::cout << "sender: NOT VERIFIED: " << signer.error().message << "\n";
            std::cerr << "kurer-pack: a receiving engine would reject this package: "
                      << signer.error().message << "\n";
            return 1;
        }
        std::cout << "sender: verified: " << signer->organization_number << ", signed by "
                  << signer->describe() << "\n";
    } else {
        std::cout << "sender: not checked (give --trust with the enterprise CAs)\n";
    }
    auto files = kurer::dpo::extract_documents(asic_path, dir / "documents");
    if (!files)
        return fail(files.error());
    std::cout << "documents written to " << (dir / "documents").string() << ":";
    for (const auto& f : *files)
        std::cout << " " << f.filename().string();
    std::cout << "\n";
    return failed ? 1 : 0;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Builds and opens DPO packages (sbd.zip) offline, to look inside what was sent or received.",
                 "kurer-pack"};
    cli::configure(app, "usage: kurer-pack pack --sender 0192:ORG --receiver 0192:ORG --receiver-cert PEM "
                        "--cert PEM --key PEM\n"
                        "                       [--process URN] [--altinn2] [--senders-reference REF]\n"
                        "                       [--signature-digest sha256|sha1] --out sbd.zip "
                        "arkivmelding.xml [FILE ...]\n"
                        "       kurer-pack open --cert PEM --key PEM [--trust CA_PEM] --out DIR sbd.zip\n"
                        "       kurer-pack --version | --help");

    pack_arguments p;
    auto* pack =
        app.add_subcommand("pack", "build sbd.zip: an arkivmelding SBD with the files, signed and encrypted");
    cli::synopsis(*pack, "usage: kurer-pack pack --sender 0192:ORG --receiver 0192:ORG --receiver-cert PEM "
                         "--cert PEM --key PEM\n"
                         "                       [--process URN] [--altinn2] [--senders-reference REF]\n"
                         "                       [--signature-digest sha256|sha1] --out sbd.zip "
                         "arkivmelding.xml [FILE ...]");
    pack->footer(
        "Builds sbd.zip: an arkivmelding SBD (fresh messageId and conversationId, 24 h deadline), the\n"
        "files in an ASiC-E signed with --cert/--key (the first file is the primary document),\n"
        "encrypted for --receiver-cert. --altinn2 adds the broker's manifest.xml and recipients.xml.");
    pack->add_option("--sender", p.sender, "the sender")->type_name("0192:ORG")->required();
    pack->add_option("--receiver", p.receiver, "the receiver")->type_name("0192:ORG")->required();
    pack->add_option("--receiver-cert", p.receiver_cert,
                     "the receiver's certificate (the ASiC-E is encrypted for it)")
        ->type_name("PEM")
        ->required();
    pack->add_option("--cert", p.cert, "the sender's certificate, which signs")->type_name("PEM")->required();
    pack->add_option("--key", p.key, "the sender's private key")->type_name("PEM")->required();
    optional_value(pack, "--process", p.process,
                   "the process (default: arkivmelding's administration process)")
        ->type_name("URN");
    pack->add_flag("--altinn2", p.altinn2, "add the Altinn 2 broker's manifest.xml and recipients.xml");
    optional_value(pack, "--senders-reference", p.senders_reference,
                   "the Altinn 2 SendersReference (default: a UUID)")
        ->type_name("REF");
    pack->add_option("--signature-digest", p.signature_digest,
                     "the ASiC-E signature's digest (default sha256)")
        ->type_name("sha256|sha1");
    pack->add_option("--out", p.out, "where sbd.zip goes")->type_name("sbd.zip")->required();
    pack->add_option("FILE", p.files, "arkivmelding.xml, then the documents");

    open_arguments o;
    auto* open = app.add_subcommand("open", "decrypt and verify sbd.zip, write its SBD and documents to DIR");
    cli::synopsis(*open, "usage: kurer-pack open --cert PEM --key PEM [--trust CA_PEM] --out DIR sbd.zip");
    open->footer(
        "Reads sbd.zip, decrypts the ASiC-E with --cert/--key, verifies it and writes DIR/sbd.json,\n"
        "DIR/asic.zip (the decrypted ASiC-E) and DIR/documents/. Prints the SBD and a verification\n"
        "report; exits non-zero with the reason on any failure. With --trust (the enterprise CAs, as\n"
        "kurer.json's enterprise_ca_bundle) it also decides, as a receiving engine does, whether the\n"
        "signer is trusted now and is the SBD's sender.");
    open->add_option("--cert", o.cert, "the receiver's certificate")->type_name("PEM")->required();
    open->add_option("--key", o.key, "the receiver's private key")->type_name("PEM")->required();
    optional_value(open, "--trust", o.trust,
                   "the enterprise CAs: also check the signer as a receiving engine does")
        ->type_name("CA_PEM");
    open->add_option("--out", o.out, "where the SBD, asic.zip and the documents go")
        ->type_name("DIR")
        ->required();
    open->add_option("PACKAGE", o.package, "the sbd.zip to open")->type_name("sbd.zip")->required();

    if (auto code = cli::parse(app, argc, argv))
        return *code;
    if (pack->parsed())
        return pack_command(*pack, p);
    if (open->parsed())
        return open_command(o);
    return cli::usage_error(app, "no command given");
}

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
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

constexpr std::string_view usage =
    R"(usage: kurer-pack pack --sender 0192:ORG --receiver 0192:ORG --receiver-cert PEM --cert PEM --key PEM
                  [--process URN] [--altinn2] [--senders-reference REF] [--signature-digest sha256|sha1]
                  --out sbd.zip arkivmelding.xml [FILE ...]
       kurer-pack open --cert PEM --key PEM [--trust CA_PEM] --out DIR sbd.zip
       kurer-pack --version | --help

pack  builds sbd.zip: an arkivmelding SBD (fresh messageId and conversationId, 24 h deadline),
      the files in an ASiC-E signed with --cert/--key (the first file is the primary document),
      encrypted for --receiver-cert. --altinn2 adds the broker's manifest.xml and recipients.xml.
open  reads sbd.zip, decrypts the ASiC-E with --cert/--key, verifies it and writes
      DIR/sbd.json, DIR/asic.zip (the decrypted ASiC-E) and DIR/documents/. Prints the SBD and a
      verification report; exits non-zero with the reason on any failure. With --trust (the
      enterprise CAs, as kurer.json's enterprise_ca_bundle) it also decides, as a receiving
      engine does, whether the signer is trusted now and is the SBD's sender.
)";

struct arguments {
    std::map<std::string, std::string> options;
    std::vector<std::string> flags;
    std::vector<std::string> positional;

    std::optional<std::string> get(const std::string& name) const {
        const auto it = options.find(name);
        return it == options.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
    bool has(const std::string& flag) const {
        return std::find(flags.begin(), flags.end(), flag) != flags.end();
    }
};

// --name value options and --flag switches; everything else is positional.
std::optional<arguments> parse(int argc, char** argv, const std::vector<std::string>& value_options,
                               const std::vector<std::string>& flag_options) {
    arguments a;
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        if (std::find(value_options.begin(), value_options.end(), arg) != value_options.end()) {
            if (i + 1 >= argc) {
                std::cerr << "kurer-pack: " << arg << " needs a value\n";
                return std::nullopt;
            }
            a.options[arg] = argv[++i];
        } else if (std::find(flag_options.begin(), flag_options.end(), arg) != flag_options.end()) {
            a.flags.push_back(arg);
        } else if (arg.starts_with("--")) {
            std::cerr << "kurer-pack: unknown option " << arg << "\n";
            return std::nullopt;
        } else {
            a.positional.push_back(arg);
        }
    }
    return a;
}

std::optional<std::string> require(const arguments& a, const std::string& name) {
    auto v = a.get(name);
    if (!v)
        std::cerr << "kurer-pack: " << name << " is required\n";
    return v;
}

int fail(const kurer::error& e) {
    std::cerr << "kurer-pack: " << e.describe() << "\n";
    return 1;
}

int pack_command(int argc, char** argv) {
    auto args = parse(argc, argv,
                      {"--sender", "--receiver", "--receiver-cert", "--cert", "--key", "--process", "--out",
                       "--senders-reference", "--signature-digest"},
                      {"--altinn2"});
    if (!args)
        return 2;
    const auto sender = require(*args, "--sender");
    const auto receiver = require(*args, "--receiver");
    const auto receiver_cert = require(*args, "--receiver-cert");
    const auto cert = require(*args, "--cert");
    const auto key = require(*args, "--key");
    const auto out = require(*args, "--out");
    if (!sender || !receiver || !receiver_cert || !cert || !key || !out)
        return 2;
    if (args->positional.empty()) {
        std::cerr << "kurer-pack: name at least one file to pack (arkivmelding.xml first)\n";
        return 2;
    }
    const auto sender_id = kurer::dpo::normalize_organization(*sender);
    const auto receiver_id = kurer::dpo::normalize_organization(*receiver);
    if (!sender_id || !receiver_id) {
        std::cerr << "kurer-pack: --sender and --receiver are 0192:<9 digits> (or the 9 digits)\n";
        return 2;
    }
    kurer::dpo::pack_options options;
    if (const auto d = args->get("--signature-digest")) {
        if (*d == "sha1")
            options.asic.signature_digest = kurer::dpo::digest_algorithm::sha1;
        else if (*d != "sha256") {
            std::cerr << "kurer-pack: --signature-digest is sha256 or sha1\n";
            return 2;
        }
    }
    if (args->has("--altinn2"))
        options.altinn2 =
            kurer::dpo::altinn2_manifest{args->get("--senders-reference").value_or(kurer::random_uuid())};

    if (auto zone = kurer::dpo::load_oslo_time_zone(); !zone) // the SBD is stamped in Oslo time
        return fail(zone.error());
    auto id = kurer::dpo::identity::load(*cert, *key);
    if (!id)
        return fail(id.error());
    auto to = kurer::dpo::certificate::load_chain(*receiver_cert);
    if (!to)
        return fail(to.error());

    std::vector<kurer::dpo::pack_document> documents;
    for (const auto& file : args->positional) {
        const std::filesystem::path p(file);
        const auto name = p.filename().string();
        // Archive systems upload arkivmelding.xml as application/xml; the rest by extension.
        documents.push_back({p, name, name == "arkivmelding.xml" ? "application/xml" : ""});
    }
    kurer::dpo::message_params params;
    params.sender = *sender_id;
    params.receiver = *receiver_id;
    if (const auto process = args->get("--process"))
        params.process = *process;
    params.business_message["hoveddokument"] = documents.front().name;
    const auto sbd = kurer::dpo::make_message(
        params, std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now()));

    auto packed = kurer::dpo::pack(sbd, documents, *id, to->front(), *out, options);
    if (!packed)
        return fail(packed.error());
    std::cout << "wrote " << *out << " (" << packed->bytes << " bytes)\n"
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

int open_command(int argc, char** argv) {
    auto args = parse(argc, argv, {"--cert", "--key", "--out", "--trust"}, {});
    if (!args)
        return 2;
    const auto cert = require(*args, "--cert");
    const auto key = require(*args, "--key");
    const auto out = require(*args, "--out");
    if (!cert || !key || !out)
        return 2;
    if (args->positional.size() != 1) {
        std::cerr << "kurer-pack: open takes exactly one sbd.zip\n";
        return 2;
    }
    const std::filesystem::path package = args->positional.front();
    const std::filesystem::path dir = *out;

    if (auto zone = kurer::dpo::load_oslo_time_zone(); !zone) // the SBD is stamped in Oslo time
        return fail(zone.error());
    auto id = kurer::dpo::identity::load(*cert, *key);
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
    if (const auto trust = args->get("--trust")) {
        auto anchors = kurer::dpo::trust_anchors::load(*trust);
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
    if (auto code =
            kurer::engine::handle_common_options("kurer-pack", usage, {argv, static_cast<std::size_t>(argc)}))
        return *code;
    const std::string_view command = argv[1];
    if (command == "pack")
        return pack_command(argc, argv);
    if (command == "open")
        return open_command(argc, argv);
    std::cerr << "kurer-pack: unknown command '" << command << "'\n" << usage;
    return 2;
}

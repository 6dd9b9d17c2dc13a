#include <kurer/core/files.hpp>
#include <kurer/sandbox/pki.hpp>

#include <botan/auto_rng.h>
#include <botan/data_src.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/pkcs10.h>
#include <botan/pkcs8.h>
#include <botan/rsa.h>
#include <botan/x509_ca.h>
#include <botan/x509_key.h>
#include <botan/x509self.h>

#include <sys/stat.h>

namespace kurer::sandbox {
namespace {

Botan::Key_Constraints constraints(key_usage u) {
    unsigned c = Botan::NO_CONSTRAINTS;
    const auto has = [u](key_usage bit) {
        return (static_cast<unsigned>(u) & static_cast<unsigned>(bit)) != 0;
    };
    if (has(key_usage::digital_signature))
        c |= Botan::DIGITAL_SIGNATURE;
    if (has(key_usage::key_encipherment))
        c |= Botan::KEY_ENCIPHERMENT;
    if (has(key_usage::data_encipherment))
        c |= Botan::DATA_ENCIPHERMENT;
    if (has(key_usage::non_repudiation))
        c |= Botan::NON_REPUDIATION;
    return static_cast<Botan::Key_Constraints>(c);
}

std::unique_ptr<Botan::Private_Key> load_key_pem(const std::string& pem) {
    Botan::DataSource_Memory source(pem);
    return Botan::PKCS8::load_key(source);
}

} // namespace

certificate_authority certificate_authority::create(std::string common_name) {
    Botan::AutoSeeded_RNG rng;
    Botan::RSA_PrivateKey key(rng, 2048);
    Botan::X509_Cert_Options opts("", 10 * 365 * 24 * 3600);
    opts.common_name = std::move(common_name);
    opts.organization = "kurer sandbox";
    opts.country = "NO";
    opts.CA_key(1);
    opts.start = Botan::X509_Time(std::chrono::system_clock::now() - std::chrono::hours(1));
    const auto cert = Botan::X509::create_self_signed_cert(opts, key, "SHA-256", rng);
    return certificate_authority(cert.PEM_encode(), Botan::PKCS8::PEM_encode(key));
}

result<certificate_authority> certificate_authority::load(const std::filesystem::path& certificate,
                                                          const std::filesystem::path& private_key) {
    auto cert = read_small_file(certificate, 1 << 20);
    if (!cert)
        return cert.error();
    auto key = read_small_file(private_key, 1 << 20);
    if (!key)
        return key.error();
    try {
        Botan::DataSource_Memory source(*cert);
        Botan::X509_Certificate parsed(source);
        (void)load_key_pem(*key);
    } catch (const std::exception& e) {
        return make_error(make_error_code(boost::system::errc::invalid_argument),
                          "cannot load the sandbox CA from " + certificate.string() + ": " + e.what());
    }
    return certificate_authority(std::move(*cert), std::move(*key));
}

issued certificate_authority::issue(const certificate_request& request) const {
    Botan::AutoSeeded_RNG rng;
    std::unique_ptr<Botan::Private_Key> key;
    if (request.ecdsa_key)
        key = std::make_unique<Botan::ECDSA_PrivateKey>(rng, Botan::EC_Group("secp256r1"));
    else
        key = std::make_unique<Botan::RSA_PrivateKey>(rng, request.rsa_bits);

    Botan::X509_Cert_Options opts;
    opts.common_name = request.common_name;
    opts.organization = request.organization;
    opts.serial_number = request.serial_number;
    opts.country = request.country;
    if (!request.dns_names.empty()) {
        opts.dns = request.dns_names.front();
        opts.more_dns.assign(request.dns_names.begin() + 1, request.dns_names.end());
    }
    opts.ip = request.ip_address;
    opts.constraints = constraints(request.usage);
    if (request.server_auth)
        opts.add_ex_constraint("PKIX.ServerAuth");
    auto req = Botan::X509::create_cert_req(opts, *key, "SHA-256", rng);
    if (!request.organization_identifier.empty()) {
        // X509_Cert_Options has no organizationIdentifier (SEID 2.0): the request is made again
        // with it added to the subject, the extensions kept.
        auto subject = req.subject_dn();
        subject.add_attribute(Botan::OID::from_string("2.5.4.97"),
                              Botan::ASN1_String(request.organization_identifier));
        req = Botan::PKCS10_Request::create(*key, subject, req.extensions(), "SHA-256", rng);
    }

    Botan::DataSource_Memory ca_source(certificate_pem_);
    const Botan::X509_Certificate ca_cert(ca_source);
    const auto ca_key = load_key_pem(private_key_pem_);
    const Botan::X509_CA ca(ca_cert, *ca_key, "SHA-256", rng);
    const auto cert =
        ca.sign_request(req, rng, Botan::X509_Time(request.not_before), Botan::X509_Time(request.not_after));
    return issued{cert.PEM_encode(), Botan::PKCS8::PEM_encode(*key)};
}

issued generate_rsa_key(std::size_t bits) {
    Botan::AutoSeeded_RNG rng;
    Botan::RSA_PrivateKey key(rng, bits);
    return issued{Botan::X509::PEM_encode(key), Botan::PKCS8::PEM_encode(key)};
}

result<void> write_private_file(const std::filesystem::path& path, std::string_view content) {
    // write_file_durably creates its temporary 0600 and renames it into place.
    return write_file_durably(path, content);
}

result<void> write_public_file(const std::filesystem::path& path, std::string_view content) {
    auto r = write_file_durably(path, content);
    if (!r)
        return r;
    ::chmod(path.c_str(), 0644);
    return {};
}

} // namespace kurer::sandbox

#include "keys_impl.hpp"

#include <kurer/core/files.hpp>
#include <kurer/core/organization_number.hpp>
#include <kurer/dpo/errors.hpp>

#include <botan/data_src.h>
#include <botan/hex.h>
#include <botan/pem.h>
#include <botan/pkcs8.h>
#include <botan/pkix_types.h>
#include <botan/rsa.h>

namespace kurer::dpo {
namespace {

constexpr std::size_t max_pem_file_bytes = 1024 * 1024;
constexpr std::size_t pem_search_window = 64 * 1024;

Botan::DataSource_Memory memory_source(std::string_view bytes) {
    return Botan::DataSource_Memory(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

result<std::unique_ptr<Botan::Private_Key>> parse_private_key(std::string_view pem) {
    try {
        auto src = memory_source(pem);
        if (Botan::PEM_Code::matches(src, "RSA PRIVATE KEY", pem_search_window)) {
            // PKCS#1, as `openssl genrsa -traditional` writes it.
            auto again = memory_source(pem);
            std::string label;
            const auto der = Botan::PEM_Code::decode(again, label);
            const Botan::AlgorithmIdentifier alg(Botan::OID::from_string("RSA"),
                                                 Botan::AlgorithmIdentifier::USE_NULL_PARAM);
            return std::unique_ptr<Botan::Private_Key>(std::make_unique<Botan::RSA_PrivateKey>(alg, der));
        }
        auto again = memory_source(pem);
        return Botan::PKCS8::load_key(again);
    } catch (const std::exception& e) {
        return make_dpo_error(
            errc::private_key_invalid,
            std::string("cannot read the private key (unencrypted PKCS#8 or PKCS#1 PEM): ") + e.what());
    }
}

} // namespace

certificate::certificate(std::shared_ptr<const impl> p)
    : impl_(std::move(p)) {}

result<certificate> certificate::from_pem(std::string_view pem) {
    try {
        auto src = memory_source(pem);
        return certificate(std::make_shared<const impl>(Botan::X509_Certificate(src)));
    } catch (const std::exception& e) {
        return make_dpo_error(errc::certificate_invalid,
                              std::string("cannot read the certificate: ") + e.what());
    }
}

result<certificate> certificate::from_der(std::string_view der) {
    return from_pem(der); // Botan's reader tells PEM and DER apart itself
}

namespace {

result<std::vector<certificate>> parse_chain(std::string_view text, const std::string& what) {
    std::vector<certificate> out;
    // PEM_Code::matches consumes what it looks at, so each certificate is located in a fresh
    // view of the text and the next search starts after its END line.
    std::string_view rest = text;
    while (true) {
        const auto begin = rest.find("-----BEGIN CERTIFICATE-----");
        if (begin == std::string_view::npos)
            break;
        const auto end = rest.find("-----END CERTIFICATE-----", begin);
        if (end == std::string_view::npos)
            return make_dpo_error(errc::certificate_invalid, what + ": certificate " +
                                                                 std::to_string(out.size() + 1) +
                                                                 " has no END line");
        const auto stop = end + std::string_view("-----END CERTIFICATE-----").size();
        auto one = certificate::from_pem(rest.substr(begin, stop - begin));
        if (!one)
            return make_dpo_error(errc::certificate_invalid, what + ": certificate " +
                                                                 std::to_string(out.size() + 1) + ": " +
                                                                 one.error().message);
        out.push_back(std::move(*one));
        rest.remove_prefix(stop);
    }
    if (out.empty()) {
        auto one = certificate::from_der(text); // a single DER certificate is accepted too
        if (!one)
            return make_dpo_error(errc::certificate_invalid, what + " holds no certificate");
        out.push_back(std::move(*one));
    }
    return out;
}

} // namespace

result<std::vector<certificate>> certificate::load_chain(const std::filesystem::path& pem_file) {
    auto text = read_small_file(pem_file, max_pem_file_bytes);
    if (!text)
        return make_dpo_error(errc::certificate_invalid, "cannot read certificate file " + pem_file.string() +
                                                             ": " + text.error().message);
    return parse_chain(*text, pem_file.string());
}

std::string certificate::subject() const {
    return impl_->cert.subject_dn().to_string();
}
std::string certificate::issuer() const {
    return impl_->cert.issuer_dn().to_string();
}
std::string certificate::serial_hex() const {
    return Botan::hex_encode(impl_->cert.serial_number());
}

result<std::string> certificate::organization_number() const {
    std::vector<subject_attribute> subject;
    for (const auto& [oid, value] : impl_->cert.subject_dn().dn_info())
        subject.push_back({oid.to_string(), value.value()});
    auto number = organization_number_in_attributes(subject, "the certificate (" + this->subject() + ")");
    if (!number)
        return make_dpo_error(errc::certificate_invalid, number.error().message);
    return number;
}

std::vector<std::uint8_t> certificate::der() const {
    return impl_->cert.BER_encode();
}

bool certificate::has_rsa_key() const {
    return impl_->cert.subject_public_key_algo().get_oid() == Botan::OID::from_string("RSA");
}

identity::identity(std::shared_ptr<const impl> p)
    : impl_(std::move(p)) {}

const certificate& identity::leaf() const noexcept {
    return impl_->chain.front();
}
const std::vector<certificate>& identity::chain() const noexcept {
    return impl_->chain;
}

result<identity> identity::from_pem(std::string_view cert_pem, std::string_view key_pem) {
    auto chain = parse_chain(cert_pem, "the certificate text");
    if (!chain)
        return chain.error();
    auto key = parse_private_key(key_pem);
    if (!key)
        return key.error();
    if ((*key)->algo_name() != "RSA")
        return make_dpo_error(errc::private_key_invalid,
                              "the private key is " + (*key)->algo_name() + "; DPO needs an RSA key");
    const auto& leaf = chain->front();
    if (botan_cert(leaf).subject_public_key_bitstring() != (*key)->public_key_bits())
        return make_dpo_error(errc::key_mismatch, "the private key does not belong to the certificate " +
                                                      leaf.subject() + " (serial " + leaf.serial_hex() + ")");
    auto p = std::make_shared<impl>();
    p->chain = std::move(*chain);
    p->key = std::move(*key);
    return identity(std::move(p));
}

result<identity> identity::load(const std::filesystem::path& cert_pem, const std::filesystem::path& key_pem) {
    auto certs = read_small_file(cert_pem, max_pem_file_bytes);
    if (!certs)
        return make_dpo_error(errc::certificate_invalid, "cannot read certificate file " + cert_pem.string() +
                                                             ": " + certs.error().message);
    auto key = read_small_file(key_pem, max_pem_file_bytes);
    if (!key)
        return make_dpo_error(errc::private_key_invalid, "cannot read private key file " + key_pem.string() +
                                                             ": " + key.error().message);
    auto id = from_pem(*certs, *key);
    if (!id) {
        auto e = id.error();
        e.message = (e.code == errc::private_key_invalid ? key_pem : cert_pem).string() + ": " + e.message;
        return e;
    }
    return id;
}

} // namespace kurer::dpo

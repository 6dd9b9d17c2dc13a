#include <kurer/core/files.hpp>
#include <kurer/core/organization_number.hpp>
#include <kurer/maskinporten/grant.hpp>
#include <kurer/maskinporten/jose.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/system/errc.hpp>

#include <botan/data_src.h>
#include <botan/pkcs8.h>
#include <botan/pkix_types.h>
#include <botan/rsa.h>
#include <botan/x509cert.h>

namespace kurer::maskinporten {
namespace {

error invalid(std::string what) {
    return make_error(make_error_code(boost::system::errc::invalid_argument), std::move(what));
}

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty())
            out += ' ';
        out += p;
    }
    return out;
}

} // namespace

result<credentials> credentials::from_pem(std::string_view certificate_pem,
                                          std::string_view private_key_pem) {
    credentials out;
    try {
        Botan::DataSource_Memory cert_source(std::string{certificate_pem});
        out.certificate = std::make_shared<const Botan::X509_Certificate>(cert_source);
    } catch (const std::exception& e) {
        return invalid(std::string("the enterprise certificate cannot be read: ") + e.what());
    }
    try {
        Botan::DataSource_Memory key_source(std::string{private_key_pem});
        out.private_key = std::shared_ptr<const Botan::Private_Key>(Botan::PKCS8::load_key(key_source));
    } catch (const std::exception& e) {
        return invalid(std::string("the private key cannot be read (PKCS#8 PEM, unencrypted): ") + e.what());
    }
    if (out.private_key->algo_name() != "RSA")
        return invalid("the private key is " + out.private_key->algo_name() +
                       ", Maskinporten grants need RSA");
    if (out.certificate->subject_public_key_bitstring() != out.private_key->public_key_bits())
        return invalid("the private key does not belong to the enterprise certificate");
    return out;
}

result<credentials> credentials::load(const std::filesystem::path& certificate_pem,
                                      const std::filesystem::path& private_key_pem) {
    auto cert = read_small_file(certificate_pem, 1 << 20);
    if (!cert)
        return cert.error();
    auto key = read_small_file(private_key_pem, 1 << 20);
    if (!key)
        return key.error();
    auto out = from_pem(*cert, *key);
    if (!out)
        return invalid(out.error().message + " (" + certificate_pem.string() + ", " +
                       private_key_pem.string() + ")");
    return out;
}

result<std::string> credentials::organization_number() const {
    std::vector<subject_attribute> subject;
    for (const auto& [oid, value] : certificate->subject_dn().dn_info())
        subject.push_back({oid.to_string(), value.value()});
    return organization_number_in_attributes(subject, "the enterprise certificate (" +
                                                          certificate->subject_dn().to_string() + ")");
}

std::string grant_claims_json(const grant_claims& claims, std::chrono::system_clock::time_point now,
                              std::string_view jti) {
    const auto iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    boost::json::object o;
    o["aud"] = claims.audience;
    o["iss"] = claims.issuer;
    o["scope"] = join(claims.scopes);
    o["iat"] = iat;
    o["exp"] = iat + claims.lifetime.count();
    o["jti"] = jti;
    if (claims.system_user) {
        boost::json::object org;
        org["authority"] = "iso6523-actorid-upis";
        org["ID"] = "0192:" + claims.system_user->organization;
        boost::json::object detail;
        detail["type"] = "urn:altinn:systemuser";
        detail["systemuser_org"] = std::move(org);
        if (!claims.system_user->external_ref.empty())
            detail["externalRef"] = claims.system_user->external_ref;
        o["authorization_details"] = boost::json::array{std::move(detail)};
    }
    return boost::json::serialize(o);
}

result<std::string> make_grant(const grant_claims& claims, const credentials& creds,
                               std::chrono::system_clock::time_point now, std::string_view jti) {
    if (claims.lifetime.count() < 1 || claims.lifetime.count() > 120)
        return invalid("the grant lifetime must be 1..120 seconds, not " +
                       std::to_string(claims.lifetime.count()));
    if (claims.audience.empty() || claims.issuer.empty())
        return invalid("a grant needs an audience and an issuer (client_id)");
    if (claims.scopes.empty())
        return invalid("a grant needs at least one scope");
    boost::json::object header;
    header["alg"] = "RS256";
    header["x5c"] = boost::json::array{boost::json::string(jose::x5c_entry(*creds.certificate))};
    return jose::sign(boost::json::serialize(header), grant_claims_json(claims, now, jti),
                      *creds.private_key);
}

} // namespace kurer::maskinporten

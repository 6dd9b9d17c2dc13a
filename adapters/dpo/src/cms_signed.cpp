// SignedData: the detached signature over the ASiC manifest, written and verified.
#include "asn1_util.hpp"
#include "keys_impl.hpp"

#include <kurer/dpo/cms.hpp>
#include <kurer/dpo/errors.hpp>

#include <botan/bigint.h>
#include <botan/hash.h>
#include <botan/hex.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#include <botan/x509_dn.h>

namespace kurer::dpo {

using namespace detail;

namespace {

struct digest_choice {
    Botan::OID oid;
    std::string hash;
    std::vector<std::uint8_t> alg_id; // as written in digestAlgorithms and the SignerInfo
};

digest_choice choose(digest_algorithm d) {
    // SHA-1 with NULL parameters as BouncyCastle writes it (and the 2018 reference sample
    // shows); SHA-256 without parameters, as RFC 5754 asks writers to do.
    if (d == digest_algorithm::sha1)
        return {oid::sha1, "SHA-1", alg_with_null(oid::sha1)};
    return {oid::sha256, "SHA-256", alg_without_params(oid::sha256)};
}

std::vector<std::uint8_t> attribute(const Botan::OID& type, const std::vector<std::uint8_t>& value_der) {
    std::vector<std::uint8_t> out;
    Botan::DER_Encoder(out)
        .start_cons(Botan::SEQUENCE)
        .encode(type)
        .start_cons(Botan::SET)
        .raw_bytes(value_der)
        .end_cons()
        .end_cons();
    return out;
}

// The signed attributes as a DER SET OF (sorted), which is what the signature covers; in the
// SignerInfo the same bytes appear with the tag [0] IMPLICIT.
std::vector<std::uint8_t> signed_attributes(const digest_choice& d, const std::vector<std::uint8_t>& digest,
                                            instant signing_time) {
    std::vector<std::uint8_t> content_type, time, message_digest, protection;
    Botan::DER_Encoder(content_type).encode(oid::data);
    Botan::DER_Encoder(time).encode(
        Botan::ASN1_Time(std::chrono::time_point_cast<std::chrono::system_clock::duration>(
            std::chrono::floor<std::chrono::seconds>(signing_time))));
    Botan::DER_Encoder(message_digest).encode(digest, Botan::OCTET_STRING);
    const auto rsa = alg_with_null(oid::rsa_encryption);
    // CMSAlgorithmProtection (RFC 6211): the digest algorithm and, [1] IMPLICIT, the signature
    // algorithm, so neither can be swapped after signing.
    Botan::DER_Encoder(protection)
        .start_cons(Botan::SEQUENCE)
        .raw_bytes(d.alg_id)
        .add_object(Botan::ASN1_Tag(1), Botan::ASN1_Tag(Botan::CONTEXT_SPECIFIC | Botan::CONSTRUCTED),
                    rsa.data() + 2, rsa.size() - 2)
        .end_cons();
    std::vector<std::uint8_t> out;
    Botan::DER_Encoder(out)
        .start_cons(Botan::SET)
        .raw_bytes(attribute(oid::content_type, content_type))
        .raw_bytes(attribute(oid::signing_time, time))
        .raw_bytes(attribute(oid::message_digest, message_digest))
        .raw_bytes(attribute(oid::algorithm_protection, protection))
        .end_cons();
    return out;
}

Botan::BigInt serial_of(const Botan::X509_Certificate& cert) {
    Botan::BigInt serial = Botan::BigInt::decode(cert.serial_number());
    if (cert.is_serial_negative())
        serial.set_sign(Botan::BigInt::Negative);
    return serial;
}

std::vector<std::uint8_t> assemble(const identity& signer, const digest_choice& d,
                                   const std::vector<std::uint8_t>& attrs,
                                   const std::vector<std::uint8_t>& signature) {
    const auto& cert = botan_cert(signer.leaf());
    std::vector<std::uint8_t> implicit_attrs = attrs;
    implicit_attrs[0] = 0xA0; // SET OF -> [0] IMPLICIT, same length and contents

    std::vector<std::uint8_t> certificates;
    for (const auto& c : signer.chain()) {
        const auto der = c.der();
        certificates.insert(certificates.end(), der.begin(), der.end());
    }

    std::vector<std::uint8_t> out;
    Botan::DER_Encoder(out)
        .start_cons(Botan::SEQUENCE)
        .encode(oid::signed_data)
        .start_explicit(0)
        .start_cons(Botan::SEQUENCE)
        .encode(std::size_t(1))
        .start_cons(Botan::SET)
        .raw_bytes(d.alg_id)
        .end_cons()
        .start_cons(Botan::SEQUENCE)
        .encode(oid::data)
        .end_cons()
        .add_object(Botan::ASN1_Tag(0), Botan::ASN1_Tag(Botan::CONTEXT_SPECIFIC | Botan::CONSTRUCTED),
                    certificates)
        .start_cons(Botan::SET)
        .start_cons(Botan::SEQUENCE)
        .encode(std::size_t(1))
        .start_cons(Botan::SEQUENCE)
        .raw_bytes(cert.raw_issuer_dn())
        .encode(serial_of(cert))
        .end_cons()
        .raw_bytes(d.alg_id)
        .raw_bytes(implicit_attrs)
        .raw_bytes(alg_with_null(oid::rsa_encryption))
        .encode(signature, Botan::OCTET_STRING)
        .end_cons()
        .end_cons()
        .end_cons()
        .end_explicit()
        .end_cons();
    return out;
}

std::size_t modulus_bytes(const identity& signer) {
    return (botan_key(signer).key_length() + 7) / 8;
}

} // namespace

result<std::vector<std::uint8_t>> sign_detached(std::span<const std::uint8_t> content, const identity& signer,
                                                digest_algorithm digest, instant signing_time) {
    try {
        const auto d = choose(digest);
        auto hash = Botan::HashFunction::create_or_throw(d.hash);
        hash->update(content.data(), content.size());
        const auto md = hash->final_stdvec();
        const auto attrs = signed_attributes(d, md, signing_time);
        auto sig = signer_for(signer, "EMSA3(" + d.hash + ")");
        const auto signature = sig->sign_message(attrs, Botan::system_rng());
        return assemble(signer, d, attrs, signature);
    } catch (const std::exception& e) {
        return make_dpo_error(errc::private_key_invalid, std::string("cannot sign: ") + e.what());
    }
}

result<std::size_t> detached_signature_size(const identity& signer, digest_algorithm digest) {
    try {
        const auto d = choose(digest);
        const std::vector<std::uint8_t> md(Botan::HashFunction::create_or_throw(d.hash)->output_length());
        const auto attrs =
            signed_attributes(d, md, instant{std::chrono::sys_days{std::chrono::year{2020} / 1 / 1}});
        return assemble(signer, d, attrs, std::vector<std::uint8_t>(modulus_bytes(signer))).size();
    } catch (const std::exception& e) {
        return make_dpo_error(errc::private_key_invalid,
                              std::string("cannot size the signature: ") + e.what());
    }
}

// ---------------------------------------------------------------------------------------------

namespace {

error malformed(std::string why) {
    return make_dpo_error(errc::cms_malformed, "malformed signature: " + why);
}
error invalid(std::string why) {
    return make_dpo_error(errc::asic_signature_invalid, "the signature does not verify: " + why);
}

const Botan::ASN1_Tag context_constructed = Botan::ASN1_Tag(Botan::CONTEXT_SPECIFIC | Botan::CONSTRUCTED);

struct signer_info {
    bool by_issuer_serial = true;
    Botan::X509_DN issuer;
    Botan::BigInt serial;
    std::vector<std::uint8_t> subject_key_id;
    Botan::AlgorithmIdentifier digest_alg;
    std::optional<Botan::BER_Object> signed_attrs;
    Botan::AlgorithmIdentifier signature_alg;
    std::vector<std::uint8_t> signature;
};

result<std::string> signature_hash(const Botan::AlgorithmIdentifier& sig_alg,
                                   const std::string& digest_hash) {
    const auto& o = sig_alg.get_oid();
    if (o == oid::rsa_encryption)
        return digest_hash;
    const std::pair<const Botan::OID*, const char*> combined[] = {{&oid::sha1_with_rsa, "SHA-1"},
                                                                  {&oid::sha224_with_rsa, "SHA-224"},
                                                                  {&oid::sha256_with_rsa, "SHA-256"},
                                                                  {&oid::sha384_with_rsa, "SHA-384"},
                                                                  {&oid::sha512_with_rsa, "SHA-512"}};
    for (const auto& [alg, hash] : combined)
        if (o == *alg) {
            if (digest_hash != hash)
                return invalid("the signature algorithm " + describe_oid(o) + " contradicts the digest " +
                               digest_hash);
            return std::string(hash);
        }
    return make_dpo_error(errc::cms_unsupported_algorithm,
                          "unsupported signature algorithm " + describe_oid(o) + " (RSA PKCS#1 v1.5 is)");
}

} // namespace

result<signature_info> verify_detached(std::span<const std::uint8_t> signature,
                                       std::span<const std::uint8_t> content, const limits& lim) {
    if (lim.max_signature_bytes != 0 && signature.size() > lim.max_signature_bytes)
        return malformed("it is " + std::to_string(signature.size()) + " bytes, more than the limit of " +
                         std::to_string(lim.max_signature_bytes));
    signature_info info;
    std::vector<Botan::X509_Certificate> certs;
    signer_info si;
    Botan::OID econtent_type;
    // BouncyCastle writes the outer structure with indefinite lengths.
    const auto definite = with_definite_lengths(signature.data(), signature.size());
    if (!definite)
        return malformed("it is not well-formed BER");
    try {
        Botan::BER_Decoder top(*definite);
        Botan::BER_Decoder ci = top.start_cons(Botan::SEQUENCE);
        Botan::OID type;
        ci.decode(type);
        if (type != oid::signed_data)
            return make_dpo_error(errc::cms_wrong_content_type, "the signature's content type is " +
                                                                    describe_oid(type) + ", not signedData");
        Botan::BER_Decoder expl = ci.start_cons(Botan::ASN1_Tag(0), Botan::CONTEXT_SPECIFIC);
        Botan::BER_Decoder sd = expl.start_cons(Botan::SEQUENCE);
        std::size_t version = 0;
        sd.decode(version);
        sd.get_next_object(); // digestAlgorithms: the SignerInfo names the one that counts
        {
            Botan::BER_Decoder eci = sd.start_cons(Botan::SEQUENCE);
            eci.decode(econtent_type);
            if (eci.more_items())
                return malformed("the signature carries its content; the ASiC-E uses detached signatures");
            eci.end_cons();
        }
        auto obj = sd.get_next_object();
        if (obj.is_a(0, context_constructed)) {
            Botan::BER_Decoder list(obj);
            while (list.more_items()) {
                const auto c = list.get_next_object();
                if (!c.is_a(Botan::SEQUENCE, Botan::CONSTRUCTED))
                    continue; // attribute or other certificate formats: not used to verify
                const auto der = reencode(c);
                certs.emplace_back(der);
            }
            obj = sd.get_next_object();
        }
        if (obj.is_a(1, context_constructed)) // CRLs
            obj = sd.get_next_object();
        if (!obj.is_a(Botan::SET, Botan::CONSTRUCTED))
            return malformed("no signerInfos");
        Botan::BER_Decoder infos(obj);
        if (!infos.more_items())
            return invalid("it has no SignerInfo");
        {
            Botan::BER_Decoder s = infos.start_cons(Botan::SEQUENCE);
            s.decode(version);
            const auto sid = s.get_next_object();
            if (sid.is_a(Botan::SEQUENCE, Botan::CONSTRUCTED)) {
                Botan::BER_Decoder(sid).decode(si.issuer).decode(si.serial).verify_end();
            } else if (sid.is_a(0, Botan::CONTEXT_SPECIFIC)) {
                si.by_issuer_serial = false;
                si.subject_key_id.assign(sid.bits(), sid.bits() + sid.length());
            } else {
                return malformed("unknown signer identifier");
            }
            s.decode(si.digest_alg);
            auto next = s.get_next_object();
            if (next.is_a(0, context_constructed)) {
                si.signed_attrs = next;
                next = s.get_next_object();
            }
            Botan::BER_Decoder(reencode(next)).decode(si.signature_alg);
            s.decode(si.signature, Botan::OCTET_STRING);
            s.discard_remaining(); // unsigned attributes
            s.end_cons();
        }
        if (infos.more_items())
            return make_dpo_error(errc::cms_unsupported_algorithm, "the signature has more than one signer");
    } catch (const std::exception& e) {
        return malformed(e.what());
    }

    // The signer's certificate, among those the signature carries.
    const Botan::X509_Certificate* signer = nullptr;
    for (const auto& c : certs) {
        const bool match = si.by_issuer_serial ? serial_of(c) == si.serial &&
                                                     (c.issuer_dn().get_bits() == si.issuer.get_bits() ||
                                                      c.issuer_dn() == si.issuer)
                                               : c.subject_key_id() == si.subject_key_id;
        if (match) {
            signer = &c;
            break;
        }
    }
    if (signer == nullptr)
        return invalid("the signer's certificate (" +
                       (si.by_issuer_serial
                            ? "issuer " + si.issuer.to_string() + ", serial " + si.serial.to_hex_string()
                            : "key id " + Botan::hex_encode(si.subject_key_id)) +
                       ") is not among the certificates it carries");

    const auto digest_hash = hash_name(si.digest_alg.get_oid());
    if (!digest_hash)
        return make_dpo_error(errc::cms_unsupported_algorithm,
                              "unsupported digest algorithm " + describe_oid(si.digest_alg.get_oid()));
    auto hash = signature_hash(si.signature_alg, *digest_hash);
    if (!hash)
        return hash.error();
    info.digest = *digest_hash;

    auto h = Botan::HashFunction::create_or_throw(*digest_hash);
    h->update(content.data(), content.size());
    const auto content_digest = h->final_stdvec();

    std::vector<std::uint8_t> signed_bytes;
    if (si.signed_attrs) {
        // What was signed is the DER SET OF: the [0] contents under the SET tag.
        signed_bytes = reencode(*si.signed_attrs);
        signed_bytes[0] = 0x31;
        bool saw_type = false, saw_digest = false;
        try {
            Botan::BER_Decoder attrs(*si.signed_attrs);
            while (attrs.more_items()) {
                Botan::BER_Decoder a = attrs.start_cons(Botan::SEQUENCE);
                Botan::OID type;
                a.decode(type);
                Botan::BER_Decoder values = a.start_cons(Botan::SET);
                if (type == oid::content_type) {
                    Botan::OID ct;
                    values.decode(ct);
                    if (ct != econtent_type)
                        return invalid("the signed content type " + describe_oid(ct) +
                                       " differs from the content's");
                    saw_type = true;
                } else if (type == oid::message_digest) {
                    std::vector<std::uint8_t> md;
                    values.decode(md, Botan::OCTET_STRING);
                    if (md != content_digest)
                        return invalid("the signed " + *digest_hash +
                                       " digest is not the digest of the signed "
                                       "content (the manifest was changed)");
                    saw_digest = true;
                } else if (type == oid::signing_time) {
                    Botan::ASN1_Time t;
                    values.decode(t);
                    info.signing_time =
                        std::chrono::time_point_cast<std::chrono::nanoseconds>(t.to_std_timepoint());
                } else if (type == oid::algorithm_protection) {
                    Botan::BER_Decoder p = values.start_cons(Botan::SEQUENCE);
                    Botan::AlgorithmIdentifier d;
                    p.decode(d);
                    if (d.get_oid() != si.digest_alg.get_oid())
                        return invalid("CMSAlgorithmProtection names the digest " +
                                       describe_oid(d.get_oid()));
                    while (p.more_items()) {
                        const auto alg = p.get_next_object();
                        if (alg.is_a(1, context_constructed)) {
                            Botan::AlgorithmIdentifier s;
                            auto seq = reencode(alg);
                            seq[0] = 0x30;
                            Botan::BER_Decoder(seq).decode(s);
                            if (s.get_oid() != si.signature_alg.get_oid())
                                return invalid("CMSAlgorithmProtection names the signature algorithm " +
                                               describe_oid(s.get_oid()));
                        }
                    }
                    p.end_cons();
                } else {
                    values.discard_remaining();
                }
                values.end_cons();
                a.discard_remaining();
                a.end_cons();
            }
        } catch (const std::exception& e) {
            return malformed(std::string("signed attributes: ") + e.what());
        }
        if (!saw_type || !saw_digest)
            return invalid("the signed attributes lack the content type or the message digest");
    } else {
        signed_bytes.assign(content.begin(), content.end());
    }

    try {
        const auto key = signer->load_subject_public_key();
        if (key->algo_name() != "RSA")
            return make_dpo_error(errc::cms_unsupported_algorithm, "the signer's key is " + key->algo_name());
        Botan::PK_Verifier verifier(*key, "EMSA3(" + *hash + ")");
        if (!verifier.verify_message(signed_bytes, si.signature))
            return invalid("the RSA signature does not match the signed attributes and the certificate of " +
                           signer->subject_dn().to_string());
    } catch (const std::exception& e) {
        return invalid(std::string("cannot check the RSA signature: ") + e.what());
    }
    info.signer_subject = signer->subject_dn().to_string();
    info.signer_issuer = signer->issuer_dn().to_string();
    info.signer_serial = Botan::hex_encode(signer->serial_number());
    for (const auto& c : certs) {
        const auto der = c.BER_encode();
        auto cc =
            certificate::from_der(std::string_view(reinterpret_cast<const char*>(der.data()), der.size()));
        if (!cc)
            continue;
        if (&c == signer)
            info.signer = *cc;
        info.certificates.push_back(std::move(*cc));
    }
    if (!info.signer)
        return invalid("the signer's certificate cannot be read back");
    return info;
}

} // namespace kurer::dpo

// EnvelopedData: the streaming writer and the streaming reader.
#include "asn1_util.hpp"
#include "keys_impl.hpp"

#include <kurer/dpo/cms.hpp>
#include <kurer/dpo/errors.hpp>

#include <botan/bigint.h>
#include <botan/cipher_mode.h>
#include <botan/hex.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#include <botan/x509_dn.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace kurer::dpo {

using namespace detail;

namespace {

constexpr std::size_t aes_block = 16;

// The header of a primitive OCTET STRING of n bytes, DER length form.
std::size_t octet_header_size(std::size_t n) {
    if (n < 0x80)
        return 2;
    if (n < 0x100)
        return 3;
    if (n < 0x10000)
        return 4;
    return 5; // chunk sizes are bounded well below 16 MiB
}

void append_octet_header(std::vector<std::uint8_t>& out, std::size_t n) {
    out.push_back(0x04);
    if (n < 0x80) {
        out.push_back(static_cast<std::uint8_t>(n));
    } else if (n < 0x100) {
        out.push_back(0x81);
        out.push_back(static_cast<std::uint8_t>(n));
    } else if (n < 0x10000) {
        out.push_back(0x82);
        out.push_back(static_cast<std::uint8_t>(n >> 8));
        out.push_back(static_cast<std::uint8_t>(n));
    } else {
        out.push_back(0x83);
        out.push_back(static_cast<std::uint8_t>(n >> 16));
        out.push_back(static_cast<std::uint8_t>(n >> 8));
        out.push_back(static_cast<std::uint8_t>(n));
    }
}

void append(std::vector<std::uint8_t>& out, std::initializer_list<std::uint8_t> bytes) {
    out.insert(out.end(), bytes);
}

Botan::BigInt certificate_serial(const Botan::X509_Certificate& cert) {
    Botan::BigInt serial = Botan::BigInt::decode(cert.serial_number());
    if (cert.is_serial_negative())
        serial.set_sign(Botan::BigInt::Negative);
    return serial;
}

std::vector<std::uint8_t> oaep_algorithm_identifier() {
    // RSAES-OAEP-params with SHA-256 and MGF1-SHA-256, hash parameters NULL as BouncyCastle's
    // CmsAlgorithm.RSAES_OAEP writes them; pSourceAlgorithm omitted (the default empty label).
    const auto sha256 = alg_with_null(oid::sha256);
    std::vector<std::uint8_t> params;
    Botan::DER_Encoder(params)
        .start_cons(Botan::SEQUENCE)
        .start_explicit(0)
        .raw_bytes(sha256)
        .end_explicit()
        .start_explicit(1)
        .encode(Botan::AlgorithmIdentifier(oid::mgf1, sha256))
        .end_explicit()
        .end_cons();
    std::vector<std::uint8_t> out;
    Botan::DER_Encoder(out).encode(Botan::AlgorithmIdentifier(oid::rsaes_oaep, params));
    return out;
}

} // namespace

struct envelope_encoder::impl {
    std::vector<std::uint8_t> prefix;
    std::unique_ptr<Botan::Cipher_Mode> cipher;
    std::size_t chunk_size = 1000;
    std::vector<std::uint8_t> pending_plain; // less than one block
    std::vector<std::uint8_t> chunk;         // ciphertext not yet framed

    void emit_chunks(std::vector<std::uint8_t>& out, bool final) {
        std::size_t pos = 0;
        while (chunk.size() - pos >= chunk_size || (final && pos < chunk.size())) {
            const std::size_t n = std::min(chunk_size, chunk.size() - pos);
            append_octet_header(out, n);
            out.insert(out.end(), chunk.begin() + static_cast<std::ptrdiff_t>(pos),
                       chunk.begin() + static_cast<std::ptrdiff_t>(pos + n));
            pos += n;
        }
        chunk.erase(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(pos));
    }
};

envelope_encoder::envelope_encoder(std::unique_ptr<impl> p)
    : impl_(std::move(p)) {}
envelope_encoder::envelope_encoder(envelope_encoder&&) noexcept = default;
envelope_encoder& envelope_encoder::operator=(envelope_encoder&&) noexcept = default;
envelope_encoder::~envelope_encoder() = default;

result<envelope_encoder> envelope_encoder::create(const certificate& recipient,
                                                  const encrypt_options& options) {
    if (options.chunk_size == 0 || options.chunk_size > 1024 * 1024)
        return make_dpo_error(errc::cms_unsupported_algorithm, "chunk size must be between 1 byte and 1 MiB");
    const auto& cert = botan_cert(recipient);
    try {
        auto& rng = Botan::system_rng();
        auto p = std::make_unique<impl>();
        p->chunk_size = options.chunk_size;

        const auto& public_key = *recipient.internals().public_key;
        if (public_key.algo_name() != "RSA")
            return make_dpo_error(errc::certificate_invalid,
                                  "the receiver's certificate " + recipient.subject() + " has a " +
                                      public_key.algo_name() + " key; DPO encrypts to RSA keys");
        Botan::secure_vector<std::uint8_t> cek(32);
        rng.randomize(cek.data(), cek.size());
        std::array<std::uint8_t, aes_block> iv{};
        rng.randomize(iv.data(), iv.size());

        const bool oaep = options.transport == key_transport::rsa_oaep_sha256;
        const auto encrypted_key =
            encryptor_for(recipient, oaep ? "OAEP(SHA-256,MGF1(SHA-256))" : "PKCS1v15")->encrypt(cek, rng);
        const auto key_alg = oaep ? oaep_algorithm_identifier() : alg_with_null(oid::rsa_encryption);

        std::vector<std::uint8_t> recipient_infos;
        Botan::DER_Encoder(recipient_infos)
            .start_cons(Botan::SET)
            .start_cons(Botan::SEQUENCE)
            .encode(std::size_t(0))
            .start_cons(Botan::SEQUENCE)
            .raw_bytes(cert.raw_issuer_dn())
            .encode(certificate_serial(cert))
            .end_cons()
            .raw_bytes(key_alg)
            .encode(encrypted_key, Botan::OCTET_STRING)
            .end_cons()
            .end_cons();

        std::vector<std::uint8_t> content_alg;
        std::vector<std::uint8_t> iv_param;
        Botan::DER_Encoder(iv_param).encode(iv.data(), iv.size(), Botan::OCTET_STRING);
        Botan::DER_Encoder(content_alg).encode(Botan::AlgorithmIdentifier(oid::aes256_cbc, iv_param));

        // ContentInfo, [0], EnvelopedData, version 0, recipientInfos, EncryptedContentInfo, data,
        // the content algorithm, [0] IMPLICIT constructed: the layout of message-package.md §3.1.
        auto& pre = p->prefix;
        append(pre, {0x30, 0x80});
        Botan::DER_Encoder(pre).encode(oid::enveloped_data);
        append(pre, {0xA0, 0x80, 0x30, 0x80, 0x02, 0x01, 0x00});
        pre.insert(pre.end(), recipient_infos.begin(), recipient_infos.end());
        append(pre, {0x30, 0x80});
        Botan::DER_Encoder(pre).encode(oid::data);
        pre.insert(pre.end(), content_alg.begin(), content_alg.end());
        append(pre, {0xA0, 0x80});

        p->cipher = Botan::Cipher_Mode::create_or_throw("AES-256/CBC/PKCS7", Botan::ENCRYPTION);
        p->cipher->set_key(cek);
        p->cipher->start(iv.data(), iv.size());
        return envelope_encoder(std::move(p));
    } catch (const std::exception& e) {
        return make_dpo_error(errc::certificate_invalid,
                              "cannot encrypt to " + recipient.subject() + ": " + std::string(e.what()));
    }
}

void envelope_encoder::begin(std::vector<std::uint8_t>& out) {
    out.insert(out.end(), impl_->prefix.begin(), impl_->prefix.end());
}

void envelope_encoder::update(std::span<const std::uint8_t> plaintext, std::vector<std::uint8_t>& out) {
    auto& p = *impl_;
    // Whole blocks go through the cipher in place; a partial block waits for more.
    const std::size_t start = p.chunk.size();
    p.chunk.insert(p.chunk.end(), p.pending_plain.begin(), p.pending_plain.end());
    p.chunk.insert(p.chunk.end(), plaintext.begin(), plaintext.end());
    const std::size_t fresh = p.chunk.size() - start;
    const std::size_t whole = fresh - fresh % aes_block;
    p.pending_plain.assign(p.chunk.begin() + static_cast<std::ptrdiff_t>(start + whole), p.chunk.end());
    p.chunk.resize(start + whole);
    if (whole > 0)
        p.cipher->process(p.chunk.data() + start, whole);
    p.emit_chunks(out, false);
}

void envelope_encoder::finish(std::vector<std::uint8_t>& out) {
    auto& p = *impl_;
    Botan::secure_vector<std::uint8_t> last(p.pending_plain.begin(), p.pending_plain.end());
    p.cipher->finish(last);
    p.pending_plain.clear();
    p.chunk.insert(p.chunk.end(), last.begin(), last.end());
    p.emit_chunks(out, true);
    // End of the [0] content, EncryptedContentInfo, EnvelopedData, [0], ContentInfo.
    out.insert(out.end(), 10, 0x00);
}

std::uint64_t envelope_encoder::encoded_size(std::uint64_t plaintext_size) const noexcept {
    const std::uint64_t cipher_bytes = (plaintext_size / aes_block + 1) * aes_block;
    const std::uint64_t chunk = impl_->chunk_size;
    const std::uint64_t full = cipher_bytes / chunk;
    const std::uint64_t rest = cipher_bytes % chunk;
    return impl_->prefix.size() + full * (octet_header_size(chunk) + chunk) +
           (rest == 0 ? 0 : octet_header_size(static_cast<std::size_t>(rest)) + rest) + 10;
}

result<std::uint64_t> encrypt(byte_source& plaintext, byte_sink& out, const certificate& recipient,
                              const encrypt_options& options) {
    auto enc = envelope_encoder::create(recipient, options);
    if (!enc)
        return enc.error();
    std::vector<std::uint8_t> in(256 * 1024);
    std::vector<std::uint8_t> buf;
    buf.reserve(in.size() + in.size() / 200 + 4096);
    std::uint64_t written = 0;
    auto flush = [&]() -> result<void> {
        if (buf.empty())
            return {};
        if (auto ok = out.write(buf); !ok)
            return ok.error();
        written += buf.size();
        buf.clear();
        return {};
    };
    enc->begin(buf);
    while (true) {
        auto n = plaintext.read(in);
        if (!n)
            return n.error();
        if (*n == 0)
            break;
        enc->update(std::span<const std::uint8_t>(in.data(), *n), buf);
        if (auto ok = flush(); !ok)
            return ok.error();
    }
    enc->finish(buf);
    if (auto ok = flush(); !ok)
        return ok.error();
    return written;
}

// =============================================================================================
// The reader.

namespace {

error malformed(std::string why) {
    return make_dpo_error(errc::cms_malformed, "malformed CMS: " + why);
}
error truncated(std::string why) {
    return make_dpo_error(errc::cms_truncated, "the CMS data ends too early: " + why);
}

struct tlv_header {
    std::uint8_t first = 0; // identifier octet as read (class, constructed bit, low tag)
    std::uint32_t tag = 0;
    bool constructed = false;
    std::uint8_t cls = 0;                // 0 universal, 1 application, 2 context, 3 private
    std::optional<std::uint64_t> length; // nullopt: indefinite
    std::vector<std::uint8_t> raw;       // the header bytes

    bool is(std::uint8_t c, bool cons, std::uint32_t t) const {
        return cls == c && constructed == cons && tag == t;
    }
    bool eoc() const { return first == 0 && length == 0; }
};

// Pulls BER from a byte_source with a small look-ahead buffer and tracks where each open
// constructed element ends, so lengths are checked as the structure unfolds.
class ber_stream {
public:
    ber_stream(byte_source& src, std::size_t max_depth)
        : src_(src)
        , max_depth_(max_depth) {}

    std::uint64_t offset() const noexcept { return offset_; }

    result<bool> at_eof() {
        auto ok = fill(1);
        if (!ok)
            return ok.error();
        return end_ == pos_;
    }

    // Makes `n` bytes available, unless the source ends first.
    result<void> fill(std::size_t n) {
        if (end_ - pos_ >= n)
            return {};
        if (pos_ > 0) {
            std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
            end_ -= pos_;
            pos_ = 0;
        }
        while (end_ < n && !eof_) {
            auto r = src_.read(std::span<std::uint8_t>(buf_.data() + end_, buf_.size() - end_));
            if (!r)
                return r.error();
            if (*r == 0)
                eof_ = true;
            end_ += *r;
        }
        return {};
    }

    result<void> read(std::uint8_t* dst, std::size_t n, const char* what) {
        while (n > 0) {
            if (pos_ == end_) {
                if (auto ok = fill(1); !ok)
                    return ok.error();
                if (pos_ == end_)
                    return truncated(std::string("inside ") + what);
            }
            const std::size_t k = std::min(n, end_ - pos_);
            std::memcpy(dst, buf_.data() + pos_, k);
            pos_ += k;
            offset_ += k;
            dst += k;
            n -= k;
        }
        return {};
    }

    // Hands out up to `n` buffered bytes without copying them; refills as needed.
    result<std::span<const std::uint8_t>> borrow(std::size_t n, const char* what) {
        if (pos_ == end_) {
            if (auto ok = fill(1); !ok)
                return ok.error();
            if (pos_ == end_)
                return truncated(std::string("inside ") + what);
        }
        const std::size_t k = std::min(n, end_ - pos_);
        std::span<const std::uint8_t> out(buf_.data() + pos_, k);
        pos_ += k;
        offset_ += k;
        return out;
    }

    result<tlv_header> header(const char* what) {
        tlv_header h;
        std::uint8_t b = 0;
        if (auto ok = read_byte(b, what); !ok)
            return ok.error();
        h.raw.push_back(b);
        h.first = b;
        h.cls = static_cast<std::uint8_t>(b >> 6);
        h.constructed = (b & 0x20) != 0;
        h.tag = b & 0x1F;
        if (h.tag == 0x1F) {
            h.tag = 0;
            for (int i = 0;; ++i) {
                if (i == 4)
                    return malformed(std::string("tag number too large in ") + what);
                if (auto ok = read_byte(b, what); !ok)
                    return ok.error();
                h.raw.push_back(b);
                h.tag = (h.tag << 7) | (b & 0x7F);
                if ((b & 0x80) == 0)
                    break;
            }
        }
        if (auto ok = read_byte(b, what); !ok)
            return ok.error();
        h.raw.push_back(b);
        if (b == 0x80) {
            if (!h.constructed)
                return malformed(std::string("a primitive element with indefinite length in ") + what);
        } else if (b < 0x80) {
            h.length = b;
        } else {
            const int count = b & 0x7F;
            if (count > 8)
                return malformed(std::string("length of more than 8 bytes in ") + what);
            std::uint64_t len = 0;
            for (int i = 0; i < count; ++i) {
                if (auto ok = read_byte(b, what); !ok)
                    return ok.error();
                h.raw.push_back(b);
                if (len >> 56)
                    return malformed(std::string("length too large in ") + what);
                len = (len << 8) | b;
            }
            h.length = len;
        }
        if (h.length && !frames_.empty() && frames_.back().end && offset_ + *h.length > *frames_.back().end)
            return malformed(std::string(what) + " is longer than the element that contains it");
        return h;
    }

    // Enters a constructed element whose header was just read.
    result<void> enter(const tlv_header& h, const char* what) {
        if (frames_.size() >= 64)
            return malformed("nested too deeply");
        frames_.push_back(
            frame{h.length ? std::optional<std::uint64_t>(offset_ + *h.length) : std::nullopt, what});
        return {};
    }

    // True when the innermost open element has no more children (its length is used up, or
    // an end-of-contents marker follows, which is then consumed by leave()).
    result<bool> at_end() {
        const auto& f = frames_.back();
        if (f.end)
            return offset_ >= *f.end;
        if (auto ok = fill(2); !ok)
            return ok.error();
        if (end_ - pos_ < 2)
            return truncated(std::string("before the end of ") + f.what);
        return buf_[pos_] == 0 && buf_[pos_ + 1] == 0;
    }

    result<void> leave() {
        const auto f = frames_.back();
        frames_.pop_back();
        if (f.end) {
            if (offset_ != *f.end)
                return malformed(std::string(f.what) + " does not end where its length says");
            return {};
        }
        std::uint8_t eoc[2];
        if (auto ok = read(eoc, 2, f.what); !ok)
            return ok.error();
        if (eoc[0] != 0 || eoc[1] != 0)
            return malformed(std::string(f.what) + " has more elements than expected");
        return {};
    }

    // The whole element (header included) as bytes, at most `max` of them; handles indefinite
    // lengths by walking the children.
    result<std::vector<std::uint8_t>> capture(const tlv_header& h, std::size_t max, const char* what,
                                              std::size_t depth = 0) {
        std::vector<std::uint8_t> out = h.raw;
        if (auto ok = capture_body(h, out, max, what, depth); !ok)
            return ok.error();
        return out;
    }

    result<void> skip(const tlv_header& h, std::size_t max, const char* what) {
        auto r = capture(h, max, what);
        if (!r)
            return r.error();
        return {};
    }

private:
    struct frame {
        std::optional<std::uint64_t> end;
        const char* what;
    };

    result<void> read_byte(std::uint8_t& b, const char* what) { return read(&b, 1, what); }

    result<void> capture_body(const tlv_header& h, std::vector<std::uint8_t>& out, std::size_t max,
                              const char* what, std::size_t depth) {
        if (depth > max_depth_)
            return malformed(std::string(what) + " is nested too deeply");
        if (h.length) {
            if (out.size() + *h.length > max)
                return make_dpo_error(errc::cms_malformed, std::string(what) + " is larger than the " +
                                                               std::to_string(max) + " bytes allowed for it");
            const std::size_t at = out.size();
            out.resize(at + static_cast<std::size_t>(*h.length));
            return read(out.data() + at, static_cast<std::size_t>(*h.length), what);
        }
        while (true) {
            auto child = header(what);
            if (!child)
                return child.error();
            if (out.size() + child->raw.size() > max)
                return make_dpo_error(errc::cms_malformed, std::string(what) + " is larger than the " +
                                                               std::to_string(max) + " bytes allowed for it");
            out.insert(out.end(), child->raw.begin(), child->raw.end());
            if (child->eoc())
                return {};
            if (auto ok = capture_body(*child, out, max, what, depth + 1); !ok)
                return ok;
        }
    }

    byte_source& src_;
    std::size_t max_depth_;
    std::array<std::uint8_t, 64 * 1024> buf_{};
    std::size_t pos_ = 0;
    std::size_t end_ = 0;
    bool eof_ = false;
    std::uint64_t offset_ = 0;
    std::vector<frame> frames_;
};

struct key_transport_choice {
    std::string spec;        // Botan EME name
    std::string description; // for decrypt_info
};

result<key_transport_choice> key_transport_for(const Botan::AlgorithmIdentifier& alg) {
    if (alg.get_oid() == oid::rsa_encryption)
        return key_transport_choice{"PKCS1v15", "RSA PKCS#1 v1.5"};
    if (alg.get_oid() != oid::rsaes_oaep)
        return make_dpo_error(errc::cms_unsupported_algorithm, "unsupported key transport " +
                                                                   describe_oid(alg.get_oid()) +
                                                                   " (RSAES-OAEP and RSA PKCS#1 v1.5 are)");
    std::string hash = "SHA-1", mgf_hash = "SHA-1";
    const auto& params = alg.get_parameters();
    if (!params.empty() && !(params.size() == 2 && params[0] == 0x05)) {
        try {
            Botan::BER_Decoder outer(params);
            Botan::BER_Decoder seq = outer.start_cons(Botan::SEQUENCE);
            while (seq.more_items()) {
                const auto obj = seq.get_next_object();
                if (obj.is_a(0, Botan::ASN1_Tag(Botan::CONTEXT_SPECIFIC | Botan::CONSTRUCTED))) {
                    Botan::AlgorithmIdentifier h;
                    Botan::BER_Decoder(obj).decode(h).verify_end();
                    const auto name = hash_name(h.get_oid());
                    if (!name || !absent_or_null(h))
                        return make_dpo_error(errc::cms_unsupported_algorithm,
                                              "unsupported OAEP hash " + describe_oid(h.get_oid()));
                    hash = *name;
                } else if (obj.is_a(1, Botan::ASN1_Tag(Botan::CONTEXT_SPECIFIC | Botan::CONSTRUCTED))) {
                    Botan::AlgorithmIdentifier mgf;
                    Botan::BER_Decoder(obj).decode(mgf).verify_end();
                    if (mgf.get_oid() != oid::mgf1)
                        return make_dpo_error(errc::cms_unsupported_algorithm,
                                              "unsupported OAEP mask generation " +
                                                  describe_oid(mgf.get_oid()));
                    Botan::AlgorithmIdentifier h;
                    Botan::BER_Decoder(mgf.get_parameters()).decode(h).verify_end();
                    const auto name = hash_name(h.get_oid());
                    if (!name || !absent_or_null(h))
                        return make_dpo_error(errc::cms_unsupported_algorithm,
                                              "unsupported MGF1 hash " + describe_oid(h.get_oid()));
                    mgf_hash = *name;
                } else if (obj.is_a(2, Botan::ASN1_Tag(Botan::CONTEXT_SPECIFIC | Botan::CONSTRUCTED))) {
                    Botan::AlgorithmIdentifier source;
                    Botan::BER_Decoder(obj).decode(source).verify_end();
                    std::vector<std::uint8_t> label;
                    if (source.get_oid() == oid::p_specified && !source.get_parameters().empty())
                        Botan::BER_Decoder(source.get_parameters()).decode(label, Botan::OCTET_STRING);
                    if (source.get_oid() != oid::p_specified || !label.empty())
                        return make_dpo_error(errc::cms_unsupported_algorithm, "OAEP with a non-empty label");
                } else {
                    return malformed("unexpected element in the RSAES-OAEP parameters");
                }
            }
            seq.end_cons();
        } catch (const std::exception& e) {
            return malformed(std::string("RSAES-OAEP parameters: ") + e.what());
        }
    }
    return key_transport_choice{"OAEP(" + hash + ",MGF1(" + mgf_hash + "))",
                                "RSAES-OAEP(" + hash + ", MGF1-" + mgf_hash + ")"};
}

struct ktri {
    bool by_issuer_serial = true;
    Botan::X509_DN issuer;
    Botan::BigInt serial;
    std::vector<std::uint8_t> subject_key_id;
    Botan::AlgorithmIdentifier key_alg;
    std::vector<std::uint8_t> encrypted_key;

    std::string describe() const {
        if (by_issuer_serial)
            return "issuer " + issuer.to_string() + ", serial " + serial.to_hex_string();
        return "subject key identifier " + Botan::hex_encode(subject_key_id);
    }
};

// Parses recipientInfos; other kinds of recipient (key agreement, KEK, password) are counted
// but cannot be for us.
result<std::vector<ktri>> parse_recipients(const std::vector<std::uint8_t>& set, std::size_t& others) {
    std::vector<ktri> out;
    try {
        Botan::BER_Decoder outer(set);
        Botan::BER_Decoder dec = outer.start_cons(Botan::SET);
        while (dec.more_items()) {
            const auto obj = dec.get_next_object();
            if (!obj.is_a(Botan::SEQUENCE, Botan::CONSTRUCTED)) {
                ++others;
                continue;
            }
            ktri r;
            Botan::BER_Decoder k(obj);
            std::size_t version = 0;
            k.decode(version);
            const auto rid = k.get_next_object();
            if (rid.is_a(Botan::SEQUENCE, Botan::CONSTRUCTED)) {
                Botan::BER_Decoder(rid).decode(r.issuer).decode(r.serial).verify_end();
            } else if (rid.is_a(0, Botan::CONTEXT_SPECIFIC)) {
                r.by_issuer_serial = false;
                r.subject_key_id.assign(rid.bits(), rid.bits() + rid.length());
            } else {
                return malformed("a KeyTransRecipientInfo with an unknown recipient identifier");
            }
            k.decode(r.key_alg);
            k.decode(r.encrypted_key, Botan::OCTET_STRING);
            k.verify_end();
            out.push_back(std::move(r));
        }
        dec.end_cons();
    } catch (const std::exception& e) {
        return malformed(std::string("recipientInfos: ") + e.what());
    }
    return out;
}

bool names_our_certificate(const ktri& r, const Botan::X509_Certificate& cert) {
    if (!r.by_issuer_serial)
        return !cert.subject_key_id().empty() && cert.subject_key_id() == r.subject_key_id;
    return r.serial == certificate_serial(cert) &&
           (r.issuer.get_bits() == cert.issuer_dn().get_bits() || r.issuer == cert.issuer_dn());
}

struct content_cipher {
    std::string spec;
    std::string description;
    std::size_t key_length;
    std::vector<std::uint8_t> iv;
};

result<content_cipher> content_cipher_for(const Botan::AlgorithmIdentifier& alg) {
    content_cipher c;
    if (alg.get_oid() == oid::aes256_cbc)
        c = {"AES-256/CBC/PKCS7", "AES-256/CBC", 32, {}};
    else if (alg.get_oid() == oid::aes192_cbc)
        c = {"AES-192/CBC/PKCS7", "AES-192/CBC", 24, {}};
    else if (alg.get_oid() == oid::aes128_cbc)
        c = {"AES-128/CBC/PKCS7", "AES-128/CBC", 16, {}};
    else
        return make_dpo_error(errc::cms_unsupported_algorithm, "unsupported content encryption " +
                                                                   describe_oid(alg.get_oid()) +
                                                                   " (AES-CBC is)");
    try {
        // The IV is the algorithm's parameter; the first block only decrypts right with it
        // (the MOVE-610 lesson).
        Botan::BER_Decoder(alg.get_parameters()).decode(c.iv, Botan::OCTET_STRING).verify_end();
    } catch (const std::exception& e) {
        return malformed(std::string("the content-encryption IV: ") + e.what());
    }
    if (c.iv.size() != aes_block)
        return malformed("the content-encryption IV is " + std::to_string(c.iv.size()) + " bytes, not 16");
    return c;
}

// Decrypts ciphertext pieces as they arrive, keeping the last block back for the padding check.
class content_decryptor {
public:
    content_decryptor(std::unique_ptr<Botan::Cipher_Mode> cipher, byte_sink& out, std::uint64_t max_bytes)
        : cipher_(std::move(cipher))
        , out_(out)
        , max_(max_bytes) {
        work_.reserve(128 * 1024);
    }

    result<void> feed(std::span<const std::uint8_t> piece) {
        total_ += piece.size();
        if (max_ != 0 && total_ > max_ + aes_block)
            return make_dpo_error(errc::cms_content_too_large, "the encrypted content exceeds the limit of " +
                                                                   std::to_string(max_) + " bytes");
        work_.insert(work_.end(), piece.begin(), piece.end());
        if (work_.size() < 64 * 1024)
            return {};
        return drain();
    }

    result<std::uint64_t> finish() {
        if (auto ok = drain(); !ok)
            return ok.error();
        if (work_.size() != aes_block)
            return make_dpo_error(errc::cms_bad_padding, "the encrypted content is " +
                                                             std::to_string(total_) +
                                                             " bytes, not a whole number of 16-byte blocks");
        Botan::secure_vector<std::uint8_t> last(work_.begin(), work_.end());
        try {
            cipher_->finish(last);
        } catch (const std::exception&) {
            return make_dpo_error(errc::cms_bad_padding,
                                  "the decrypted content does not end in valid padding (a wrong key, or "
                                  "corrupted ciphertext)");
        }
        if (auto ok = out_.write(last); !ok)
            return ok.error();
        written_ += last.size();
        return written_;
    }

private:
    // Decrypts all whole blocks but the last one seen so far.
    result<void> drain() {
        const std::size_t whole = work_.size() - work_.size() % aes_block;
        const std::size_t now =
            whole >= aes_block && work_.size() % aes_block == 0 ? whole - aes_block : whole;
        if (now == 0)
            return {};
        cipher_->process(work_.data(), now);
        if (auto ok = out_.write(std::span<const std::uint8_t>(work_.data(), now)); !ok)
            return ok.error();
        written_ += now;
        work_.erase(work_.begin(), work_.begin() + static_cast<std::ptrdiff_t>(now));
        return {};
    }

    std::unique_ptr<Botan::Cipher_Mode> cipher_;
    byte_sink& out_;
    std::uint64_t max_;
    std::uint64_t total_ = 0;
    std::uint64_t written_ = 0;
    std::vector<std::uint8_t> work_;
};

// Streams the encrypted content: a primitive [0], or a constructed one holding OCTET STRINGs
// (themselves possibly constructed).
result<void> stream_octets(ber_stream& in, const tlv_header& h, content_decryptor& dec, std::size_t depth,
                           std::size_t max_depth, bool& indefinite) {
    if (!h.constructed) {
        std::uint64_t left = *h.length;
        while (left > 0) {
            auto piece = in.borrow(static_cast<std::size_t>(std::min<std::uint64_t>(left, 64 * 1024)),
                                   "the encrypted content");
            if (!piece)
                return piece.error();
            if (auto ok = dec.feed(*piece); !ok)
                return ok;
            left -= piece->size();
        }
        return {};
    }
    if (depth > max_depth)
        return malformed("the encrypted content's OCTET STRINGs are nested too deeply");
    if (!h.length)
        indefinite = true;
    if (auto ok = in.enter(h, "the encrypted content"); !ok)
        return ok;
    while (true) {
        auto done = in.at_end();
        if (!done)
            return done.error();
        if (*done)
            break;
        auto child = in.header("the encrypted content");
        if (!child)
            return child.error();
        if (!child->is(0, child->constructed, 4))
            return malformed("the encrypted content holds something other than OCTET STRINGs");
        if (auto ok = stream_octets(in, *child, dec, depth + 1, max_depth, indefinite); !ok)
            return ok;
    }
    return in.leave();
}

result<Botan::OID> read_oid(ber_stream& in, const char* what) {
    auto h = in.header(what);
    if (!h)
        return h.error();
    if (!h->is(0, false, 6))
        return malformed(std::string("expected an OBJECT IDENTIFIER for ") + what);
    auto raw = in.capture(*h, 256, what);
    if (!raw)
        return raw.error();
    try {
        Botan::OID o;
        Botan::BER_Decoder(*raw).decode(o);
        return o;
    } catch (const std::exception& e) {
        return malformed(std::string(what) + ": " + e.what());
    }
}

result<tlv_header> expect(ber_stream& in, std::uint8_t cls, bool constructed, std::uint32_t tag,
                          const char* what) {
    auto h = in.header(what);
    if (!h)
        return h.error();
    if (!h->is(cls, constructed, tag))
        return malformed(std::string("expected ") + what);
    return h;
}

} // namespace

result<decrypt_info> decrypt(byte_source& cms, byte_sink& plaintext, const identity& id, const limits& lim) {
    ber_stream in(cms, lim.max_ber_depth == 0 ? 64 : lim.max_ber_depth);
    decrypt_info info;
    const std::size_t max_small = lim.max_cms_header_bytes == 0 ? 16 * 1024 * 1024 : lim.max_cms_header_bytes;

    auto ci = expect(in, 0, true, 16, "a ContentInfo SEQUENCE");
    if (!ci)
        return ci.error();
    info.indefinite_length = !ci->length.has_value();
    if (auto ok = in.enter(*ci, "ContentInfo"); !ok)
        return ok.error();
    auto type = read_oid(in, "the ContentInfo content type");
    if (!type)
        return type.error();
    if (*type != oid::enveloped_data)
        return make_dpo_error(errc::cms_wrong_content_type,
                              "the CMS content type is " + describe_oid(*type) + ", not envelopedData");
    auto explicit0 = expect(in, 2, true, 0, "the [0] content of the ContentInfo");
    if (!explicit0)
        return explicit0.error();
    if (auto ok = in.enter(*explicit0, "the ContentInfo [0]"); !ok)
        return ok.error();
    auto env = expect(in, 0, true, 16, "an EnvelopedData SEQUENCE");
    if (!env)
        return env.error();
    if (auto ok = in.enter(*env, "EnvelopedData"); !ok)
        return ok.error();

    auto version = expect(in, 0, false, 2, "the EnvelopedData version INTEGER");
    if (!version)
        return version.error();
    if (auto ok = in.skip(*version, 16, "the EnvelopedData version"); !ok)
        return ok.error();

    auto next = in.header("the EnvelopedData");
    if (!next)
        return next.error();
    if (next->is(2, true, 0)) { // originatorInfo: certificates we do not need
        if (auto ok = in.skip(*next, max_small, "originatorInfo"); !ok)
            return ok.error();
        next = in.header("the EnvelopedData");
        if (!next)
            return next.error();
    }
    if (!next->is(0, true, 17))
        return malformed("expected the recipientInfos SET");
    auto set = in.capture(*next, max_small, "recipientInfos");
    if (!set)
        return set.error();
    std::size_t other_kinds = 0;
    const auto set_definite = with_definite_lengths(set->data(), set->size());
    if (!set_definite)
        return malformed("recipientInfos is not well-formed BER");
    auto recipients = parse_recipients(*set_definite, other_kinds);
    if (!recipients)
        return recipients.error();

    const auto& cert = botan_cert(id.leaf());
    const ktri* mine = nullptr;
    for (const auto& r : *recipients)
        if (names_our_certificate(r, cert)) {
            mine = &r;
            break;
        }
    if (mine == nullptr) {
        std::string listed;
        for (const auto& r : *recipients)
            listed += (listed.empty() ? "" : "; ") + r.describe();
        if (other_kinds > 0)
            listed +=
                (listed.empty() ? "" : "; ") + std::to_string(other_kinds) + " recipient(s) of other kinds";
        return make_dpo_error(errc::cms_not_for_this_certificate,
                              "the CMS is not encrypted for our certificate (issuer " +
                                  cert.issuer_dn().to_string() + ", serial " + id.leaf().serial_hex() +
                                  "); it names " + (listed.empty() ? std::string("no recipient") : listed));
    }
    auto transport = key_transport_for(mine->key_alg);
    if (!transport)
        return transport.error();
    info.key_transport = transport->description;

    auto eci = expect(in, 0, true, 16, "the EncryptedContentInfo SEQUENCE");
    if (!eci)
        return eci.error();
    if (auto ok = in.enter(*eci, "EncryptedContentInfo"); !ok)
        return ok.error();
    auto inner = read_oid(in, "the encrypted content type");
    if (!inner)
        return inner.error();
    auto alg_h = expect(in, 0, true, 16, "the content-encryption AlgorithmIdentifier");
    if (!alg_h)
        return alg_h.error();
    auto alg_raw = in.capture(*alg_h, 4096, "the content-encryption algorithm");
    if (!alg_raw)
        return alg_raw.error();
    Botan::AlgorithmIdentifier content_alg;
    try {
        const auto alg_definite = with_definite_lengths(alg_raw->data(), alg_raw->size());
        if (!alg_definite)
            return malformed("the content-encryption algorithm is not well-formed BER");
        Botan::BER_Decoder(*alg_definite).decode(content_alg).verify_end();
    } catch (const std::exception& e) {
        return malformed(std::string("the content-encryption algorithm: ") + e.what());
    }
    auto cipher_choice = content_cipher_for(content_alg);
    if (!cipher_choice)
        return cipher_choice.error();
    info.content_encryption = cipher_choice->description;

    // The content-encryption key, with our private key.
    Botan::secure_vector<std::uint8_t> cek;
    try {
        auto key_decryptor = decryptor_for(id, transport->spec);
        if (transport->spec == "PKCS1v15") {
            // Bleichenbacher: never reveal whether the padding was right; a wrong key shows up
            // as garbage content and fails the padding check below.
            cek = key_decryptor->decrypt_or_random(mine->encrypted_key.data(), mine->encrypted_key.size(),
                                                   cipher_choice->key_length, Botan::system_rng());
        } else {
            cek = key_decryptor->decrypt(mine->encrypted_key);
        }
    } catch (const std::exception&) {
        return make_dpo_error(errc::cms_key_decryption_failed,
                              "the content-encryption key does not decrypt with our private key (" +
                                  transport->description +
                                  "); the blob names our certificate but was "
                                  "encrypted with another key");
    }
    if (cek.size() != cipher_choice->key_length)
        return make_dpo_error(errc::cms_key_decryption_failed, "the decrypted content-encryption key is " +
                                                                   std::to_string(cek.size()) + " bytes; " +
                                                                   cipher_choice->description + " needs " +
                                                                   std::to_string(cipher_choice->key_length));
    auto cipher = Botan::Cipher_Mode::create_or_throw(cipher_choice->spec, Botan::DECRYPTION);
    cipher->set_key(cek);
    cipher->start(cipher_choice->iv);

    auto content_done = in.at_end();
    if (!content_done)
        return content_done.error();
    if (*content_done)
        return malformed(
            "the EncryptedContentInfo has no encrypted content (detached content is not used by DPO)");
    auto content = in.header("the encrypted content");
    if (!content)
        return content.error();
    if (!content->is(2, content->constructed, 0))
        return malformed("expected the [0] encrypted content");
    content_decryptor dec(std::move(cipher), plaintext, lim.max_total_bytes);
    bool indefinite_chunks = false;
    if (auto ok = stream_octets(in, *content, dec, 0, lim.max_ber_depth == 0 ? 64 : lim.max_ber_depth,
                                indefinite_chunks);
        !ok)
        return ok.error();
    auto written = dec.finish();
    if (!written)
        return written.error();
    info.plaintext_bytes = *written;
    if (auto ok = in.leave(); !ok) // EncryptedContentInfo
        return ok.error();

    // unprotectedAttrs, then the ends of EnvelopedData, [0] and ContentInfo.
    auto env_done = in.at_end();
    if (!env_done)
        return env_done.error();
    if (!*env_done) {
        auto attrs = in.header("the EnvelopedData");
        if (!attrs)
            return attrs.error();
        if (!attrs->is(2, true, 1))
            return malformed("unexpected element after the EncryptedContentInfo");
        if (auto ok = in.skip(*attrs, max_small, "unprotectedAttrs"); !ok)
            return ok.error();
    }
    for (int i = 0; i < 3; ++i)
        if (auto ok = in.leave(); !ok)
            return ok.error();
    auto eof = in.at_eof();
    if (!eof)
        return eof.error();
    if (!*eof)
        return make_dpo_error(errc::cms_trailing_data,
                              "there are bytes after the end of the CMS structure (at offset " +
                                  std::to_string(in.offset()) + ")");
    return info;
}

} // namespace kurer::dpo

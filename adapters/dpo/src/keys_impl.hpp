// The Botan objects behind kurer::dpo::certificate and identity, for the module's own sources.
#pragma once

#include <kurer/dpo/keys.hpp>

#include <botan/pk_keys.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#include <botan/x509cert.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kurer::dpo {

// Botan's private-key operations set up RSA blinding when they are created (a modular inverse,
// about as costly as the signature itself), so they are kept and reused. They are not
// thread-safe: each is leased to one caller at a time.
template <class Op>
class op_pool {
public:
    class lease {
    public:
        lease(op_pool& pool, std::string spec, std::unique_ptr<Op> op)
            : pool_(&pool)
            , spec_(std::move(spec))
            , op_(std::move(op)) {}
        lease(lease&&) noexcept = default;
        lease& operator=(lease&&) = delete;
        ~lease() {
            if (op_)
                pool_->give_back(spec_, std::move(op_));
        }
        Op& operator*() const noexcept { return *op_; }
        Op* operator->() const noexcept { return op_.get(); }

    private:
        op_pool* pool_;
        std::string spec_;
        std::unique_ptr<Op> op_;
    };

    template <class Key>
    lease take(const Key& key, const std::string& spec) {
        {
            std::lock_guard lock(mutex_);
            auto& free = free_[spec];
            if (!free.empty()) {
                auto op = std::move(free.back());
                free.pop_back();
                return lease(*this, spec, std::move(op));
            }
        }
        return lease(*this, spec, std::make_unique<Op>(key, Botan::system_rng(), spec));
    }

private:
    void give_back(const std::string& spec, std::unique_ptr<Op> op) {
        std::lock_guard lock(mutex_);
        auto& free = free_[spec];
        if (free.size() < 16)
            free.push_back(std::move(op));
    }

    std::mutex mutex_;
    std::map<std::string, std::vector<std::unique_ptr<Op>>> free_;
};

struct certificate::impl {
    explicit impl(Botan::X509_Certificate c)
        : cert(std::move(c))
        , public_key(cert.load_subject_public_key()) {}
    Botan::X509_Certificate cert;
    std::unique_ptr<Botan::Public_Key> public_key;
    mutable op_pool<Botan::PK_Encryptor_EME> encryptors;
};

struct identity::impl {
    std::vector<certificate> chain; // leaf first, never empty
    std::unique_ptr<Botan::Private_Key> key;
    mutable op_pool<Botan::PK_Signer> signers;
    mutable op_pool<Botan::PK_Decryptor_EME> decryptors;
};

inline const Botan::X509_Certificate& botan_cert(const certificate& c) {
    return c.internals().cert;
}
inline const Botan::Private_Key& botan_key(const identity& id) {
    return *id.internals().key;
}
inline auto encryptor_for(const certificate& c, const std::string& eme) {
    return c.internals().encryptors.take(*c.internals().public_key, eme);
}
inline auto signer_for(const identity& id, const std::string& emsa) {
    return id.internals().signers.take(*id.internals().key, emsa);
}
inline auto decryptor_for(const identity& id, const std::string& eme) {
    return id.internals().decryptors.take(*id.internals().key, eme);
}

} // namespace kurer::dpo

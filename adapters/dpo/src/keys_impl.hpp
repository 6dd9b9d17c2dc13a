// The Botan objects behind kurer::dpo::certificate and identity, for the module's own sources.
#pragma once

#include <kurer/dpo/keys.hpp>

#include <botan/pk_keys.h>
#include <botan/x509cert.h>

#include <memory>

namespace kurer::dpo {

struct certificate::impl {
    Botan::X509_Certificate cert;
};

struct identity::impl {
    std::vector<certificate> chain; // leaf first, never empty
    std::unique_ptr<Botan::Private_Key> key;
};

inline const Botan::X509_Certificate& botan_cert(const certificate& c) {
    return c.internals().cert;
}
inline const Botan::Private_Key& botan_key(const identity& id) {
    return *id.internals().key;
}

} // namespace kurer::dpo

// What the dpo tests share: two organisations with keys and certificates from the openssl
// command line (made once per test executable), and small file helpers.
#pragma once

#include <kurer/dpo/keys.hpp>
#include <kurer/testing/dpo_pki.hpp>
#include <kurer/testing/paths.hpp>

#include <fstream>
#include <random>
#include <string>

namespace kurer::testing {

struct dpo_keys {
    scratch_dir dir;
    test_pki pki{dir / "pki"};
    party alice = pki.make_party("alice", "910077473"); // the sender in most tests
    party bob = pki.make_party("bob", "910075918");     // the receiver
    party carol = pki.make_party("carol", "910094092", false);
    dpo::identity alice_id = dpo::identity::load(alice.cert, alice.key).value();
    dpo::identity bob_id = dpo::identity::load(bob.cert, bob.key).value();
    dpo::identity carol_id = dpo::identity::load(carol.cert, carol.key).value();
};

inline dpo_keys& shared_keys() {
    static dpo_keys k;
    return k;
}

// Pseudo-random bytes, repeatable by seed.
inline std::string random_text(std::size_t n, unsigned seed = 1) {
    std::mt19937_64 gen(seed);
    std::string out(n, '\0');
    for (std::size_t i = 0; i < n; i += 8) {
        const auto v = gen();
        for (std::size_t k = 0; k < 8 && i + k < n; ++k)
            out[i + k] = static_cast<char>((v >> (8 * k)) & 0xFF);
    }
    return out;
}

} // namespace kurer::testing

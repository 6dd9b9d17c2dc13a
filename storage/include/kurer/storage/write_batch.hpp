// A set of writes applied atomically by one RocksDB WriteBatch: one transition of one message
// (its record, a history entry, index updates), or several when the committer groups them.
#pragma once

#include <kurer/storage/database.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace kurer::storage {

class write_batch {
public:
    struct operation {
        storage::family family;
        bool erase = false;
        std::string key;
        std::string value;
    };

    void put(storage::family f, std::string key, std::string value) {
        ops_.push_back({f, false, std::move(key), std::move(value)});
    }
    void erase(storage::family f, std::string key) { ops_.push_back({f, true, std::move(key), {}}); }

    // Appends another batch's writes after this one's (later writes to a key win).
    void append(const write_batch& other) { ops_.insert(ops_.end(), other.ops_.begin(), other.ops_.end()); }

    bool empty() const noexcept { return ops_.empty(); }
    std::size_t size() const noexcept { return ops_.size(); }
    std::size_t byte_size() const noexcept {
        std::size_t n = 0;
        for (const auto& op : ops_)
            n += op.key.size() + op.value.size();
        return n;
    }
    const std::vector<operation>& operations() const noexcept { return ops_; }

private:
    std::vector<operation> ops_;
};

} // namespace kurer::storage

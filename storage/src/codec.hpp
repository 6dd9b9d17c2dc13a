// The binary encoding of records: unsigned LEB128 varints, length-prefixed strings, a leading
// type tag and version byte. Internal to storage/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kurer::storage::detail {

class writer {
public:
    void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void varint(std::uint64_t v) {
        while (v >= 0x80) {
            out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
            v >>= 7;
        }
        out_.push_back(static_cast<char>(v));
    }
    void i64(std::int64_t v) {
        varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
    }
    void boolean(bool b) { u8(b ? 1 : 0); }
    void string(std::string_view s) {
        varint(s.size());
        out_.append(s);
    }
    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

// Reads until the input runs out or is malformed; then ok() turns false and every further read
// returns zero values, so a decoder reads straight through and checks once at the end.
class reader {
public:
    explicit reader(std::string_view in)
        : in_(in) {}

    std::uint8_t u8() {
        if (in_.empty())
            return fail(), 0;
        const auto v = static_cast<std::uint8_t>(in_.front());
        in_.remove_prefix(1);
        return v;
    }
    std::uint64_t varint() {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (in_.empty())
                return fail(), 0;
            const auto byte = static_cast<std::uint8_t>(in_.front());
            in_.remove_prefix(1);
            v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
            if ((byte & 0x80) == 0)
                return v;
        }
        return fail(), 0;
    }
    std::uint32_t u32() {
        const auto v = varint();
        if (v > 0xffffffffu)
            return fail(), 0;
        return static_cast<std::uint32_t>(v);
    }
    std::int64_t i64() {
        const auto v = varint();
        return static_cast<std::int64_t>((v >> 1) ^ (~(v & 1) + 1));
    }
    bool boolean() {
        const auto v = u8();
        if (v > 1)
            fail();
        return v == 1;
    }
    std::string string() {
        const auto n = varint();
        if (n > in_.size())
            return fail(), std::string();
        std::string s(in_.substr(0, n));
        in_.remove_prefix(n);
        return s;
    }
    bool ok() const noexcept { return ok_; }
    bool at_end() const noexcept { return in_.empty(); }

private:
    void fail() {
        ok_ = false;
        in_ = {};
    }
    std::string_view in_;
    bool ok_ = true;
};

} // namespace kurer::storage::detail

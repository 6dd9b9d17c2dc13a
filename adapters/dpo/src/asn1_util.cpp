#include "asn1_util.hpp"

namespace kurer::dpo::detail {
namespace {

void put_length(std::vector<std::uint8_t>& out, std::size_t n) {
    if (n < 0x80) {
        out.push_back(static_cast<std::uint8_t>(n));
        return;
    }
    std::uint8_t bytes[8];
    int count = 0;
    for (std::size_t v = n; v != 0; v >>= 8)
        bytes[count++] = static_cast<std::uint8_t>(v & 0xFF);
    out.push_back(static_cast<std::uint8_t>(0x80 | count));
    while (count > 0)
        out.push_back(bytes[--count]);
}

// Copies the element at `pos` (advancing it) into `out` with definite lengths. At an
// end-of-contents marker it sets `eoc` and copies nothing. False on malformed input.
bool copy_element(const std::uint8_t* data, std::size_t end, std::size_t& pos, std::vector<std::uint8_t>& out,
                  std::size_t depth, bool& eoc) {
    eoc = false;
    if (depth == 0 || pos >= end)
        return false;
    const std::size_t tag_start = pos;
    const std::uint8_t first = data[pos++];
    if ((first & 0x1F) == 0x1F) {
        do {
            if (pos >= end)
                return false;
        } while (data[pos++] & 0x80);
    }
    const std::size_t tag_end = pos;
    if (pos >= end)
        return false;
    const std::uint8_t len0 = data[pos++];
    if (first == 0 && len0 == 0) {
        eoc = true;
        return true;
    }
    const bool constructed = (first & 0x20) != 0;
    std::vector<std::uint8_t> content;
    if (len0 == 0x80) {
        if (!constructed)
            return false;
        while (true) {
            bool child_eoc = false;
            if (!copy_element(data, end, pos, content, depth - 1, child_eoc))
                return false;
            if (child_eoc)
                break;
        }
    } else {
        std::size_t length = len0;
        if (len0 & 0x80) {
            const int count = len0 & 0x7F;
            if (count > 8)
                return false;
            length = 0;
            for (int i = 0; i < count; ++i) {
                if (pos >= end || (length >> 56) != 0)
                    return false;
                length = (length << 8) | data[pos++];
            }
        }
        if (length > end - pos)
            return false;
        const std::size_t stop = pos + length;
        if (!constructed) {
            content.assign(data + pos, data + stop);
            pos = stop;
        } else {
            // A definite constructed element may still hold indefinite children.
            while (pos < stop) {
                bool child_eoc = false;
                if (!copy_element(data, stop, pos, content, depth - 1, child_eoc) || child_eoc)
                    return false;
            }
        }
    }
    out.insert(out.end(), data + tag_start, data + tag_end);
    put_length(out, content.size());
    out.insert(out.end(), content.begin(), content.end());
    return true;
}

} // namespace

std::optional<std::vector<std::uint8_t>> with_definite_lengths(const std::uint8_t* data, std::size_t size,
                                                               std::size_t max_depth) {
    std::vector<std::uint8_t> out;
    out.reserve(size);
    std::size_t pos = 0;
    while (pos < size) {
        bool eoc = false;
        if (!copy_element(data, size, pos, out, max_depth, eoc) || eoc)
            return std::nullopt;
    }
    return out;
}

} // namespace kurer::dpo::detail

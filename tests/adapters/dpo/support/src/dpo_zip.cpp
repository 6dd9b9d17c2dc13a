#include <kurer/dpo/zip.hpp>
#include <kurer/testing/dpo_zip.hpp>

#include <array>
#include <stdexcept>

namespace kurer::testing {

std::uint32_t crc32(std::string_view data) {
    static const auto table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k)
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    std::uint32_t c = 0xFFFFFFFFu;
    for (const char ch : data)
        c = table[(c ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

namespace {

void put16(std::string& out, std::uint32_t v) {
    out += static_cast<char>(v & 0xFF);
    out += static_cast<char>((v >> 8) & 0xFF);
}
void put32(std::string& out, std::uint32_t v) {
    put16(out, v & 0xFFFF);
    put16(out, v >> 16);
}

std::string deflate_stored(std::string_view data) {
    std::string out;
    std::size_t pos = 0;
    do {
        const std::size_t n = std::min<std::size_t>(data.size() - pos, 65535);
        const bool last = pos + n == data.size();
        out += static_cast<char>(last ? 1 : 0);
        put16(out, static_cast<std::uint32_t>(n));
        put16(out, static_cast<std::uint32_t>(~n & 0xFFFF));
        out.append(data.substr(pos, n));
        pos += n;
    } while (pos < data.size());
    return out;
}

} // namespace

std::string build_zip(const raw_zip& zip) {
    std::string out = zip.prefix;
    std::string central;
    for (const auto& e : zip.entries) {
        const std::string compressed =
            e.raw_compressed ? *e.raw_compressed : (e.method == 8 ? deflate_stored(e.data) : e.data);
        const std::uint32_t crc = e.crc.value_or(crc32(e.data));
        const std::uint32_t usize = e.uncompressed_size.value_or(static_cast<std::uint32_t>(e.data.size()));
        const std::uint32_t csize = e.compressed_size.value_or(static_cast<std::uint32_t>(compressed.size()));
        const std::uint32_t offset = e.local_offset.value_or(static_cast<std::uint32_t>(out.size()));
        const std::string local_name = e.local_name.value_or(e.name);
        std::string local;
        put32(local, 0x04034b50);
        put16(local, e.method == 0 ? 10 : 20);
        put16(local, e.flags);
        put16(local, e.method);
        put16(local, 0);      // time
        put16(local, 0x5821); // date
        put32(local, crc);
        put32(local, csize);
        put32(local, usize);
        put16(local, static_cast<std::uint32_t>(local_name.size()));
        put16(local, static_cast<std::uint32_t>(e.local_extra.size()));
        local += local_name + e.local_extra;
        if (!e.local_offset)
            out += local + compressed;

        put32(central, 0x02014b50);
        put16(central, 0x031E);
        put16(central, e.method == 0 ? 10 : 20);
        put16(central, e.flags);
        put16(central, e.method);
        put16(central, 0);
        put16(central, 0x5821);
        put32(central, crc);
        put32(central, csize);
        put32(central, usize);
        put16(central, static_cast<std::uint32_t>(e.name.size()));
        put16(central, 0);
        put16(central, static_cast<std::uint32_t>(e.comment.size()));
        put16(central, 0);
        put16(central, 0);
        put32(central, 0);
        put32(central, offset);
        central += e.name + e.comment;
    }
    const auto cd_offset = static_cast<std::uint32_t>(out.size());
    out += central;
    put32(out, 0x06054b50);
    put16(out, 0);
    put16(out, 0);
    put16(out, static_cast<std::uint32_t>(zip.entries.size()));
    put16(out, static_cast<std::uint32_t>(zip.entries.size()));
    put32(out, static_cast<std::uint32_t>(central.size()));
    put32(out, cd_offset);
    put16(out, static_cast<std::uint32_t>(zip.comment.size()));
    out += zip.comment + zip.trailing;
    return out;
}

raw_entry file_entry(std::string name, std::string data, std::uint16_t method) {
    raw_entry e;
    e.name = std::move(name);
    e.data = std::move(data);
    e.method = method;
    return e;
}

std::string build_zip(std::vector<raw_entry> entries) {
    raw_zip z;
    z.entries = std::move(entries);
    return build_zip(z);
}

std::vector<raw_entry> read_entries(const std::string& zip_file) {
    auto zip = kurer::dpo::zip_reader::open(zip_file, {});
    if (!zip)
        throw std::runtime_error("cannot read " + zip_file + ": " + zip.error().message);
    std::vector<raw_entry> out;
    for (const auto& e : zip->entries()) {
        auto bytes = zip->read_entry(e, 0);
        if (!bytes)
            throw std::runtime_error("cannot read entry " + e.name + ": " + bytes.error().message);
        raw_entry r;
        r.name = e.name;
        r.data = std::move(*bytes);
        r.method = e.method;
        r.comment = e.comment;
        out.push_back(std::move(r));
    }
    return out;
}

} // namespace kurer::testing

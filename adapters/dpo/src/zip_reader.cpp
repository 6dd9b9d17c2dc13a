#include "text_util.hpp"

#include <kurer/dpo/errors.hpp>
#include <kurer/dpo/zip.hpp>

#include <zip.h>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_set>

namespace kurer::dpo {
namespace {

constexpr std::uint32_t sig_local = 0x04034b50;
constexpr std::uint32_t sig_central = 0x02014b50;
constexpr std::uint32_t sig_eocd = 0x06054b50;
constexpr std::uint32_t sig_zip64_eocd = 0x06064b50;
constexpr std::uint32_t sig_zip64_locator = 0x07064b50;
constexpr std::size_t eocd_size = 22;
constexpr std::size_t central_header_size = 46;
constexpr std::size_t local_header_size = 30;
constexpr std::uint64_t max_central_directory_bytes = 4ull * 1024 * 1024; // 1000 entries need ~100 KiB

std::uint16_t le16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
std::uint32_t le32(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
           (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
std::uint64_t le64(const std::uint8_t* p) {
    return le32(p) | (static_cast<std::uint64_t>(le32(p + 4)) << 32);
}

error malformed(std::string why) {
    return make_dpo_error(errc::zip_malformed, "not a sound ZIP file: " + why);
}

class fd_holder {
public:
    explicit fd_holder(int fd = -1) noexcept
        : fd_(fd) {}
    fd_holder(fd_holder&& o) noexcept
        : fd_(std::exchange(o.fd_, -1)) {}
    fd_holder& operator=(fd_holder&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    ~fd_holder() { reset(); }
    void reset() noexcept {
        if (fd_ >= 0)
            ::close(std::exchange(fd_, -1));
    }
    int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }

private:
    int fd_;
};

result<void> pread_exact(int fd, std::uint8_t* buf, std::size_t n, std::uint64_t offset,
                         const std::filesystem::path& path) {
    std::size_t done = 0;
    while (done < n) {
        const ssize_t r = ::pread(fd, buf + done, n - done, static_cast<off_t>(offset + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return io_error(errno, "cannot read", path);
        }
        if (r == 0)
            return malformed("unexpected end of file at offset " + std::to_string(offset + done));
        done += static_cast<std::size_t>(r);
    }
    return {};
}

bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > s.size())
            return false;
        for (std::size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

struct zip64_fields {
    std::uint64_t* uncompressed;
    std::uint64_t* compressed;
    std::uint64_t* offset; // null in local headers
};

// Replaces the 0xFFFFFFFF placeholders from a Zip64 extended-information extra field.
result<void> apply_zip64(const std::uint8_t* extra, std::size_t len, zip64_fields f,
                         const std::string& where) {
    std::size_t pos = 0;
    while (pos + 4 <= len) {
        const auto id = le16(extra + pos);
        const auto size = le16(extra + pos + 2);
        if (pos + 4 + size > len)
            return malformed(where + ": an extra field runs past its end");
        if (id == 0x0001) {
            const std::uint8_t* p = extra + pos + 4;
            std::size_t left = size;
            for (std::uint64_t* field : {f.uncompressed, f.compressed, f.offset}) {
                if (field == nullptr || *field != 0xFFFFFFFFu)
                    continue;
                if (left < 8)
                    return malformed(where + ": the Zip64 extra field is too short");
                *field = le64(p);
                p += 8;
                left -= 8;
            }
            return {};
        }
        pos += 4 + size;
    }
    return {};
}

error name_error(errc code, std::string_view name, std::string why) {
    return make_dpo_error(code, "entry " + detail::shown(name) + ": " + why);
}

} // namespace

result<void> check_entry_name(std::string_view name, const limits& lim) {
    if (name.empty())
        return name_error(errc::zip_name_invalid, name, "empty name");
    if (name.find('\0') != std::string_view::npos)
        return name_error(errc::zip_name_nul, name, "the name contains a NUL byte");
    if (lim.max_name_bytes != 0 && name.size() > lim.max_name_bytes)
        return name_error(errc::zip_name_invalid, name,
                          "name of " + std::to_string(name.size()) + " bytes, more than " +
                              std::to_string(lim.max_name_bytes));
    if (name.front() == '/' || name.front() == '\\' ||
        (name.size() >= 2 && name[1] == ':' && std::isalpha(static_cast<unsigned char>(name[0]))))
        return name_error(errc::zip_name_absolute, name, "absolute paths are not allowed");
    if (name.find('\\') != std::string_view::npos)
        return name_error(errc::zip_name_invalid, name, "backslashes are not allowed in names");
    for (const char c : name)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return name_error(errc::zip_name_invalid, name, "control characters are not allowed in names");
    if (!valid_utf8(name))
        return name_error(errc::zip_name_invalid, name, "the name is not UTF-8");
    std::size_t start = 0;
    while (true) {
        const auto slash = name.find('/', start);
        const auto segment =
            name.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (segment == "..")
            return name_error(errc::zip_name_traversal, name,
                              "\"..\" would climb out of the extraction directory");
        if (segment.empty())
            return name_error(errc::zip_name_invalid, name,
                              slash == std::string_view::npos
                                  ? "directory entries are not used in DPO packages"
                                  : "empty path segment");
        if (segment == ".")
            return name_error(errc::zip_name_invalid, name, "\".\" segments are not allowed");
        if (slash == std::string_view::npos)
            break;
        start = slash + 1;
    }
    return {};
}

namespace {

result<zip_layout> scan_fd(int fd, const std::filesystem::path& path, const limits& lim) {
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return io_error(errno, "cannot stat", path);
    zip_layout out;
    out.file_size = static_cast<std::uint64_t>(st.st_size);
    if (out.file_size < eocd_size)
        return malformed("the file is " + std::to_string(out.file_size) + " bytes, too short for a ZIP");

    // The end-of-central-directory record: the last one whose comment reaches exactly to the end.
    const std::size_t tail_len =
        static_cast<std::size_t>(std::min<std::uint64_t>(out.file_size, eocd_size + 0xFFFF));
    std::vector<std::uint8_t> tail(tail_len);
    const std::uint64_t tail_start = out.file_size - tail_len;
    if (auto ok = pread_exact(fd, tail.data(), tail_len, tail_start, path); !ok)
        return ok.error();
    std::optional<std::size_t> eocd;
    std::optional<std::size_t> eocd_with_trailer;
    for (std::size_t i = tail_len - eocd_size + 1; i-- > 0;) {
        if (le32(&tail[i]) != sig_eocd)
            continue;
        const std::size_t comment_len = le16(&tail[i + 20]);
        if (i + eocd_size + comment_len == tail_len) {
            eocd = i;
            break;
        }
        if (i + eocd_size + comment_len < tail_len && !eocd_with_trailer)
            eocd_with_trailer = i;
    }
    if (!eocd) {
        if (eocd_with_trailer)
            return make_dpo_error(errc::zip_trailing_data,
                                  "there are " +
                                      std::to_string(tail_len - *eocd_with_trailer - eocd_size -
                                                     le16(&tail[*eocd_with_trailer + 20])) +
                                      " bytes after the ZIP end record");
        return malformed("no end-of-central-directory record");
    }
    const std::uint8_t* e = &tail[*eocd];
    const std::uint64_t eocd_pos = tail_start + *eocd;
    out.archive_comment.assign(reinterpret_cast<const char*>(e + 22), le16(e + 20));
    if (le16(e + 4) != 0 || le16(e + 6) != 0)
        return malformed("multi-disk archives are not supported");
    std::uint64_t entry_count = le16(e + 10);
    if (le16(e + 8) != entry_count)
        return malformed("the entry counts of the end record disagree");
    std::uint64_t cd_size = le32(e + 12);
    std::uint64_t cd_offset = le32(e + 16);
    std::uint64_t cd_end = eocd_pos;

    if (eocd_pos >= 20) {
        std::uint8_t loc[20];
        if (auto ok = pread_exact(fd, loc, 20, eocd_pos - 20, path); !ok)
            return ok.error();
        if (le32(loc) == sig_zip64_locator) {
            const std::uint64_t z64_pos = le64(loc + 8);
            std::uint8_t z[56];
            if (z64_pos + 56 > eocd_pos - 20)
                return malformed("the Zip64 end record is out of place");
            if (auto ok = pread_exact(fd, z, 56, z64_pos, path); !ok)
                return ok.error();
            if (le32(z) != sig_zip64_eocd)
                return malformed("the Zip64 locator points at no Zip64 end record");
            if (le32(z + 16) != 0 || le32(z + 20) != 0)
                return malformed("multi-disk archives are not supported");
            entry_count = le64(z + 32);
            cd_size = le64(z + 40);
            cd_offset = le64(z + 48);
            cd_end = z64_pos;
        }
    }
    if (lim.max_entries != 0 && entry_count > lim.max_entries)
        return make_dpo_error(errc::zip_too_many_entries, "the ZIP has " + std::to_string(entry_count) +
                                                              " entries, more than the limit of " +
                                                              std::to_string(lim.max_entries));
    if (cd_offset > cd_end || cd_size > cd_end - cd_offset)
        return malformed("the central directory lies outside the file");
    if (cd_offset + cd_size != cd_end)
        return make_dpo_error(errc::zip_trailing_data, "there are " +
                                                           std::to_string(cd_end - cd_offset - cd_size) +
                                                           " unexpected bytes between the central directory "
                                                           "and the end record");
    if (cd_size > max_central_directory_bytes || cd_size < entry_count * central_header_size)
        return malformed("a central directory of " + std::to_string(cd_size) + " bytes for " +
                         std::to_string(entry_count) + " entries");
    out.central_directory_offset = cd_offset;

    std::vector<std::uint8_t> cd(static_cast<std::size_t>(cd_size));
    if (auto ok = pread_exact(fd, cd.data(), cd.size(), cd_offset, path); !ok)
        return ok.error();

    std::unordered_set<std::string> names;
    std::uint64_t total = 0;
    std::size_t pos = 0;
    for (std::uint64_t i = 0; i < entry_count; ++i) {
        const std::string where = "central directory entry " + std::to_string(i);
        if (pos + central_header_size > cd.size() || le32(&cd[pos]) != sig_central)
            return malformed(where + " is missing");
        const std::uint8_t* h = &cd[pos];
        zip_entry en;
        en.index = static_cast<std::size_t>(i);
        en.flags = le16(h + 8);
        en.method = le16(h + 10);
        en.crc32 = le32(h + 16);
        en.compressed_size = le32(h + 20);
        en.uncompressed_size = le32(h + 24);
        const std::size_t nlen = le16(h + 28), xlen = le16(h + 30), clen = le16(h + 32);
        en.local_header_offset = le32(h + 42);
        en.central_extra_length = static_cast<std::uint16_t>(xlen);
        if (pos + central_header_size + nlen + xlen + clen > cd.size())
            return malformed(where + " runs past the central directory");
        en.name.assign(reinterpret_cast<const char*>(h + central_header_size), nlen);
        en.comment.assign(reinterpret_cast<const char*>(h + central_header_size + nlen + xlen), clen);
        if (le16(h + 34) != 0)
            return malformed(where + ": multi-disk archives are not supported");
        if (auto ok =
                apply_zip64(h + central_header_size + nlen, xlen,
                            {&en.uncompressed_size, &en.compressed_size, &en.local_header_offset}, where);
            !ok)
            return ok.error();
        pos += central_header_size + nlen + xlen + clen;

        if (auto ok = check_entry_name(en.name, lim); !ok)
            return ok.error();
        if (!names.insert(en.name).second)
            return name_error(errc::zip_duplicate_entry, en.name, "the name appears twice in the ZIP");
        if ((en.flags & 0x0041) != 0 || en.method == 99)
            return name_error(errc::zip_encrypted_entry, en.name,
                              "ZIP encryption is not used in DPO packages");
        if (en.method != 0 && en.method != 8)
            return name_error(errc::zip_unsupported_method, en.name,
                              "compression method " + std::to_string(en.method) +
                                  " (only stored and deflated)");
        if (en.method == 0 && en.compressed_size != en.uncompressed_size)
            return malformed("entry " + detail::shown(en.name) + " is stored but its two sizes differ");
        if (lim.max_entry_bytes != 0 && en.uncompressed_size > lim.max_entry_bytes)
            return name_error(errc::zip_entry_too_large, en.name,
                              std::to_string(en.uncompressed_size) +
                                  " bytes uncompressed, more than the limit of " +
                                  std::to_string(lim.max_entry_bytes));
        if (lim.max_ratio != 0 && en.uncompressed_size >= lim.ratio_threshold_bytes &&
            en.uncompressed_size / std::max<std::uint64_t>(en.compressed_size, 1) > lim.max_ratio)
            return name_error(errc::zip_ratio_exceeded, en.name,
                              std::to_string(en.compressed_size) + " bytes expand to " +
                                  std::to_string(en.uncompressed_size) + ", more than " +
                                  std::to_string(lim.max_ratio) + " times");
        total += en.uncompressed_size;
        if (lim.max_total_bytes != 0 && total > lim.max_total_bytes)
            return make_dpo_error(errc::zip_total_too_large, "the entries up to " + detail::shown(en.name) +
                                                                 " expand to more than the limit of " +
                                                                 std::to_string(lim.max_total_bytes) +
                                                                 " bytes");
        out.entries.push_back(std::move(en));
    }
    if (pos != cd.size())
        return make_dpo_error(errc::zip_trailing_data, "the central directory has " +
                                                           std::to_string(cd.size() - pos) +
                                                           " bytes after its last entry");

    // Local headers: read, compared with the central directory, and placed.
    for (auto& en : out.entries) {
        const std::string where = "entry " + detail::shown(en.name);
        std::uint8_t lh[local_header_size];
        if (en.local_header_offset + local_header_size > cd_offset) {
            en.local_header_error = where + ": its local header lies outside the entry area";
            continue;
        }
        if (auto ok = pread_exact(fd, lh, local_header_size, en.local_header_offset, path); !ok)
            return ok.error();
        if (le32(lh) != sig_local) {
            en.local_header_error =
                where + ": no local header at offset " + std::to_string(en.local_header_offset);
            continue;
        }
        const std::size_t nlen = le16(lh + 26), xlen = le16(lh + 28);
        en.local_extra_length = static_cast<std::uint16_t>(xlen);
        en.data_offset = en.local_header_offset + local_header_size + nlen + xlen;
        std::vector<std::uint8_t> rest(nlen + xlen);
        if (en.data_offset > cd_offset) {
            en.local_header_error = where + ": its local header runs into the central directory";
            continue;
        }
        if (auto ok =
                pread_exact(fd, rest.data(), rest.size(), en.local_header_offset + local_header_size, path);
            !ok)
            return ok.error();
        if (std::string_view(reinterpret_cast<const char*>(rest.data()), nlen) != en.name) {
            en.local_header_error =
                where + ": the local header names " +
                detail::shown(std::string_view(reinterpret_cast<const char*>(rest.data()), nlen));
            continue;
        }
        if (le16(lh + 8) != en.method) {
            en.local_header_error = where + ": local header and central directory disagree on the method";
            continue;
        }
        en.sizes_in_local_header = (le16(lh + 6) & 0x0008) == 0;
        if (en.sizes_in_local_header) {
            std::uint64_t csize = le32(lh + 18), usize = le32(lh + 22);
            if (auto ok = apply_zip64(rest.data() + nlen, xlen, {&usize, &csize, nullptr}, where); !ok)
                return ok.error();
            if (le32(lh + 14) != en.crc32 || csize != en.compressed_size || usize != en.uncompressed_size) {
                en.local_header_error =
                    where + ": local header and central directory disagree on CRC or sizes";
                continue;
            }
        }
        if (en.data_offset + en.compressed_size > cd_offset) {
            en.local_header_error = where + ": its data runs into the central directory";
            continue;
        }
    }

    // Entries must not share bytes (overlapping entries are a known zip-bomb construction) and
    // nothing may precede the first one.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> spans;
    for (const auto& en : out.entries)
        spans.emplace_back(en.local_header_offset, en.local_header_error
                                                       ? en.local_header_offset + local_header_size
                                                       : en.data_offset + en.compressed_size);
    std::sort(spans.begin(), spans.end());
    for (std::size_t i = 1; i < spans.size(); ++i)
        if (spans[i].first < spans[i - 1].second)
            return malformed("two entries overlap at offset " + std::to_string(spans[i].first));
    const std::uint64_t first = spans.empty() ? cd_offset : spans.front().first;
    if (first != 0)
        return make_dpo_error(errc::zip_trailing_data,
                              "there are " + std::to_string(first) + " bytes before the first ZIP entry");
    return out;
}

} // namespace

result<zip_layout> scan_zip(const std::filesystem::path& path, const limits& lim) {
    fd_holder fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0)
        return io_error(errno, "cannot open", path);
    return scan_fd(fd.get(), path, lim);
}

// ---------------------------------------------------------------------------------------------

struct zip_reader::impl {
    std::filesystem::path path;
    zip_layout layout;
    zip_t* archive = nullptr;

    ~impl() {
        if (archive != nullptr)
            zip_discard(archive);
    }
};

zip_reader::zip_reader(std::unique_ptr<impl> p)
    : impl_(std::move(p)) {}
zip_reader::zip_reader(zip_reader&&) noexcept = default;
zip_reader& zip_reader::operator=(zip_reader&&) noexcept = default;
zip_reader::~zip_reader() = default;

const zip_layout& zip_reader::layout() const noexcept {
    return impl_->layout;
}
const std::filesystem::path& zip_reader::path() const noexcept {
    return impl_->path;
}

const zip_entry* zip_reader::find(std::string_view name) const noexcept {
    for (const auto& e : impl_->layout.entries)
        if (e.name == name)
            return &e;
    return nullptr;
}

result<zip_reader> zip_reader::open(const std::filesystem::path& path, const limits& lim,
                                    bool tolerate_local_header_faults) {
    fd_holder fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0)
        return io_error(errno, "cannot open", path);
    auto layout = scan_fd(fd.get(), path, lim);
    if (!layout)
        return layout.error();
    if (!tolerate_local_header_faults)
        for (const auto& e : layout->entries)
            if (e.local_header_error)
                return malformed(*e.local_header_error);

    // libzip reads the very file we scanned (the same descriptor), and must see what we saw.
    int err = 0;
    zip_t* za = zip_fdopen(fd.get(), ZIP_RDONLY, &err);
    if (za == nullptr) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, err);
        std::string why = zip_error_strerror(&ze);
        zip_error_fini(&ze);
        return malformed("libzip cannot open it: " + why);
    }
    fd.release(); // libzip owns it now
    auto p = std::make_unique<impl>();
    p->archive = za;
    p->path = path;
    p->layout = std::move(*layout);
    const auto count = zip_get_num_entries(za, 0);
    if (count < 0 || static_cast<std::uint64_t>(count) != p->layout.entries.size())
        return malformed("libzip counts " + std::to_string(count) + " entries, the central directory " +
                         std::to_string(p->layout.entries.size()));
    for (const auto& e : p->layout.entries) {
        zip_stat_t st;
        zip_stat_init(&st);
        if (zip_stat_index(za, e.index, ZIP_FL_ENC_RAW, &st) != 0 || st.name == nullptr ||
            e.name != st.name || st.size != e.uncompressed_size || st.comp_size != e.compressed_size ||
            st.comp_method != static_cast<std::int32_t>(e.method))
            return malformed("libzip reads entry " + std::to_string(e.index) + " differently");
    }
    return zip_reader(std::move(p));
}

namespace {

class entry_stream final : public byte_source {
public:
    entry_stream(zip_file_t* f, const zip_entry& e)
        : file_(f)
        , name_(e.name)
        , expected_(e.uncompressed_size) {}
    ~entry_stream() override { zip_fclose(file_); }
    entry_stream(const entry_stream&) = delete;
    entry_stream& operator=(const entry_stream&) = delete;

    result<std::size_t> read(std::span<std::uint8_t> buf) override {
        const auto n = zip_fread(file_, buf.data(), buf.size());
        if (n < 0) {
            const auto* ze = zip_file_get_error(file_);
            const int code = zip_error_code_zip(ze);
            if (code == ZIP_ER_READ || code == ZIP_ER_SEEK || code == ZIP_ER_MEMORY)
                return make_dpo_error(errc::io_failure, "cannot read entry " + detail::shown(name_) + ": " +
                                                            zip_error_strerror(const_cast<zip_error_t*>(ze)));
            return make_dpo_error(errc::zip_data_corrupt,
                                  "entry " + detail::shown(name_) +
                                      " is corrupt: " + zip_error_strerror(const_cast<zip_error_t*>(ze)));
        }
        got_ += static_cast<std::uint64_t>(n);
        if (got_ > expected_)
            return make_dpo_error(errc::zip_data_corrupt,
                                  "entry " + detail::shown(name_) + " holds more than the " +
                                      std::to_string(expected_) + " bytes it declares");
        if (n == 0 && got_ != expected_)
            return make_dpo_error(errc::zip_data_corrupt, "entry " + detail::shown(name_) + " ends after " +
                                                              std::to_string(got_) + " of " +
                                                              std::to_string(expected_) + " bytes");
        return static_cast<std::size_t>(n);
    }

private:
    zip_file_t* file_;
    std::string name_;
    std::uint64_t expected_;
    std::uint64_t got_ = 0;
};

} // namespace

result<std::unique_ptr<byte_source>> zip_reader::open_entry(const zip_entry& entry) const {
    if (entry.local_header_error)
        return malformed(*entry.local_header_error);
    zip_file_t* f = zip_fopen_index(impl_->archive, entry.index, 0);
    if (f == nullptr)
        return make_dpo_error(errc::zip_data_corrupt, "cannot open entry " + detail::shown(entry.name) +
                                                          ": " + zip_strerror(impl_->archive));
    return std::unique_ptr<byte_source>(std::make_unique<entry_stream>(f, entry));
}

result<std::string> zip_reader::read_entry(const zip_entry& entry, std::size_t max_bytes) const {
    if (max_bytes != 0 && entry.uncompressed_size > max_bytes)
        return name_error(errc::zip_entry_too_large, entry.name,
                          std::to_string(entry.uncompressed_size) + " bytes, more than the " +
                              std::to_string(max_bytes) + " this entry may have");
    auto stream = open_entry(entry);
    if (!stream)
        return stream.error();
    std::string out(static_cast<std::size_t>(entry.uncompressed_size), '\0');
    std::size_t done = 0;
    while (true) {
        std::uint8_t probe[1];
        std::span<std::uint8_t> buf =
            done < out.size() ? std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(out.data()) + done,
                                                        out.size() - done)
                              : std::span<std::uint8_t>(probe, 1);
        auto n = (*stream)->read(buf);
        if (!n)
            return n.error();
        if (*n == 0)
            break;
        done += *n;
    }
    return out;
}

} // namespace kurer::dpo

#include "drafts.hpp"

#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/storage/store.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_to.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/stat.h>

namespace kurer::engine::admin {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr std::string_view draft_file_name = "draft.json";
constexpr std::size_t max_draft_json = 64 * 1024 * 1024;

error fs_error(const std::error_code& ec, const std::string& what) {
    return make_error(ec, what + ": " + ec.message(), retry::yes);
}

std::string encode(const draft& d) {
    json::object o;
    o["messageId"] = d.message_id;
    o["sbd"] = d.sbd;
    o["requestDigest"] = d.request_digest;
    o["created"] = d.created.time_since_epoch().count();
    o["nextFile"] = d.next_file;
    json::array files;
    for (const auto& f : d.files)
        files.push_back(json::object{{"name", f.name},
                                     {"mimeType", f.mime_type},
                                     {"title", f.title},
                                     {"stored", f.stored},
                                     {"size", f.size}});
    o["files"] = std::move(files);
    return json::serialize(o);
}

result<draft> decode(std::string_view text, const fs::path& where) {
    const auto bad = [&](std::string why) {
        return make_error(make_error_code(boost::system::errc::illegal_byte_sequence),
                          where.string() + ": " + why);
    };
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object())
        return bad("not a draft record");
    const auto& o = v.get_object();
    try {
        draft d;
        d.message_id = json::value_to<std::string>(o.at("messageId"));
        d.sbd = json::value_to<std::string>(o.at("sbd"));
        d.request_digest = json::value_to<std::string>(o.at("requestDigest"));
        d.created = storage::time_point(std::chrono::milliseconds(o.at("created").to_number<std::int64_t>()));
        d.next_file = o.at("nextFile").to_number<std::uint32_t>();
        for (const auto& f : o.at("files").as_array()) {
            const auto& fo = f.as_object();
            d.files.push_back(draft_file{
                json::value_to<std::string>(fo.at("name")), json::value_to<std::string>(fo.at("mimeType")),
                json::value_to<std::string>(fo.at("title")), json::value_to<std::string>(fo.at("stored")),
                fo.at("size").to_number<std::uint64_t>()});
        }
        return d;
    } catch (const std::exception& e) {
        return bad(std::string("damaged draft record: ") + e.what());
    }
}

} // namespace

std::uint64_t draft::total_bytes() const noexcept {
    std::uint64_t n = 0;
    for (const auto& f : files)
        n += f.size;
    return n;
}

const draft_file* draft::file(std::string_view name) const noexcept {
    for (const auto& f : files)
        if (f.name == name)
            return &f;
    return nullptr;
}

fs::path draft_store::draft_dir(std::string_view message_id) const {
    return dir_ / storage::safe_file_name(message_id);
}

fs::path draft_store::file_path(const draft& d, const draft_file& f) const {
    return draft_dir(d.message_id) / f.stored;
}

fs::path draft_store::upload_path(std::string_view message_id) const {
    return draft_dir(message_id) / (".upload-" + random_uuid());
}

result<fs::path> draft_store::make_staging() const {
    const auto p = dir_ / ".staging" / random_uuid();
    if (auto made = make_private_directories(p); !made)
        return made.error();
    return p;
}

result<std::size_t> draft_store::open(const std::function<bool(const std::string&)>& already_sent) {
    if (auto made = make_private_directories(dir_); !made)
        return made.error();
    if (auto tightened = tighten_directory(dir_); !tightened)
        return tightened.error();
    std::error_code ec;
    std::size_t kept = 0;
    swept_ = 0;
    const auto sweep = [this](const fs::path& p) {
        std::error_code ignored;
        if (fs::remove_all(p, ignored) > 0)
            ++swept_;
    };
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
        const auto name = entry.path().filename().string();
        if (name == ".staging" || name.starts_with(".trash-")) {
            sweep(entry.path());
            continue;
        }
        if (!entry.is_directory())
            continue;
        const auto record = entry.path() / draft_file_name;
        if (!fs::exists(record)) {
            // Created up to its directory, never acknowledged: the create request failed.
            sweep(entry.path());
            continue;
        }
        auto text = read_small_file(record, max_draft_json);
        if (!text)
            return text.error();
        auto d = decode(*text, record);
        if (!d)
            return d.error(); // a damaged draft is not removed: someone should look at it
        if (already_sent(d->message_id)) {
            if (auto r = remove(d->message_id); !r)
                return r.error();
            ++swept_;
            continue;
        }
        // Temporary files and documents draft.json does not name were never acknowledged.
        for (const auto& f : fs::directory_iterator(entry.path(), ec)) {
            const auto fname = f.path().filename().string();
            const bool named = fname == draft_file_name ||
                               std::any_of(d->files.begin(), d->files.end(),
                                           [&](const draft_file& df) { return df.stored == fname; });
            if (!named)
                sweep(f.path());
        }
        ++kept;
    }
    if (ec)
        return fs_error(ec, "cannot read the drafts directory " + dir_.string());
    return kept;
}

result<std::optional<draft>> draft_store::find(std::string_view message_id) const {
    const auto record = draft_dir(message_id) / draft_file_name;
    std::error_code ec;
    if (!fs::exists(record, ec))
        return std::optional<draft>();
    auto text = read_small_file(record, max_draft_json);
    if (!text) {
        if (!fs::exists(record, ec)) // removed meanwhile
            return std::optional<draft>();
        return text.error();
    }
    auto d = decode(*text, record);
    if (!d)
        return d.error();
    return std::optional<draft>(std::move(*d));
}

result<std::vector<draft>> draft_store::list() const {
    std::vector<draft> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
        const auto name = entry.path().filename().string();
        if (name.starts_with(".") || !entry.is_directory())
            continue;
        const auto record = entry.path() / draft_file_name;
        if (!fs::exists(record))
            continue;
        auto text = read_small_file(record, max_draft_json);
        if (!text)
            continue; // removed while we listed
        if (auto d = decode(*text, record))
            out.push_back(std::move(*d));
    }
    if (ec)
        return fs_error(ec, "cannot read the drafts directory " + dir_.string());
    std::sort(out.begin(), out.end(), [](const draft& a, const draft& b) {
        return std::tie(a.created, a.message_id) < std::tie(b.created, b.message_id);
    });
    return out;
}

result<void> draft_store::save(const draft& d) const {
    const auto dir = draft_dir(d.message_id);
    std::error_code ec;
    bool created = false;
    if (!fs::exists(dir, ec)) {
        if (::mkdir(dir.c_str(), 0700) == 0)
            created = true;
        else if (errno != EEXIST)
            return fs_error(std::error_code(errno, std::generic_category()), "cannot create " + dir.string());
    }
    // A draft this call created is removed again when its record cannot be written (a full disk):
    // nothing else refers to it yet.
    const auto fail = [&](error e) -> result<void> {
        if (created)
            fs::remove_all(dir, ec);
        return e;
    };
    if (created)
        if (auto synced = sync_file_and_directory(dir); !synced)
            return fail(synced.error());
    if (auto written = write_file_durably(dir / draft_file_name, encode(d)); !written)
        return fail(written.error());
    return {};
}

result<void> draft_store::remove(std::string_view message_id) const {
    const auto dir = draft_dir(message_id);
    std::error_code ec;
    if (!fs::exists(dir, ec))
        return {};
    const auto trash = dir_ / (".trash-" + random_uuid());
    fs::rename(dir, trash, ec);
    if (ec)
        return fs_error(ec, "cannot remove " + dir.string());
    if (auto synced = sync_file_and_directory(dir_); !synced)
        return synced.error();
    fs::remove_all(trash, ec); // a crash here leaves trash that open() clears
    return {};
}

result<void> draft_store::adopt(draft& d, const fs::path& from, draft_file meta) const {
    if (auto synced = sync_file_and_directory(from); !synced)
        return synced.error();
    auto next = d;
    meta.stored = "f" + std::to_string(next.next_file++);
    const auto to = draft_dir(d.message_id) / meta.stored;
    std::error_code ec;
    fs::rename(from, to, ec);
    if (ec)
        return fs_error(ec, "cannot move " + from.string() + " into " + to.string());
    next.files.push_back(std::move(meta));
    if (auto saved = save(next); !saved) {
        fs::remove(to, ec);
        return saved.error();
    }
    d = std::move(next);
    return {};
}

} // namespace kurer::engine::admin

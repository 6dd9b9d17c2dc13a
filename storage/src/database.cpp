#include <kurer/storage/database.hpp>
#include <kurer/storage/write_batch.hpp>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace kurer::storage {
namespace {

constexpr const char* format_key = "meta/format_version";

constexpr std::array<std::string_view, family_count> family_names{
    "default", "outgoing", "incoming", "history", "live", "finished", "inbox", "dedup",
};
// Families earlier versions wrote and nothing read (a deadline index and broker references):
// opened if present, then dropped.
constexpr std::array<std::string_view, 2> obsolete_families{"deadlines", "broker_refs"};

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "kurer.storage"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
        case errc::rocksdb_failure:
            return "RocksDB operation failed";
        case errc::unknown_format_version:
            return "unknown storage format version";
        case errc::corrupt_record:
            return "corrupt record";
        case errc::not_found:
            return "not found";
        case errc::unknown_record_version:
            return "unknown record format version";
        case errc::conflict:
            return "conflicting content for an existing key";
        case errc::invalid_argument:
            return "invalid argument";
        case errc::closed:
            return "the store is closed";
        case errc::io_failure:
            return "file I/O failed";
        }
        return "unknown storage error";
    }
};

error from_status(const rocksdb::Status& s, const std::string& what) {
    return make_error(errc::rocksdb_failure, what + ": " + s.ToString(),
                      s.IsBusy() || s.IsTryAgain() || s.IsTimedOut() ? retry::yes : retry::no);
}

rocksdb::Slice slice(std::string_view s) {
    return {s.data(), s.size()};
}

} // namespace

const boost::system::error_category& storage_category() noexcept {
    static const category instance;
    return instance;
}

boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), storage_category()};
}

std::string_view to_string(family f) noexcept {
    return family_names[static_cast<std::size_t>(f)];
}

struct database::impl {
    std::unique_ptr<rocksdb::DB> db;
    std::array<rocksdb::ColumnFamilyHandle*, family_count> families{};

    ~impl() {
        if (!db)
            return;
        for (auto* h : families)
            if (h != nullptr)
                db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
        db->Close().PermitUncheckedError();
    }
    rocksdb::ColumnFamilyHandle* handle(family f) const { return families[static_cast<std::size_t>(f)]; }
};

database::database(std::filesystem::path dir, std::unique_ptr<impl> p, std::uint32_t version)
    : dir_(std::move(dir))
    , impl_(std::move(p))
    , version_(version) {}

database::~database() = default;

result<std::unique_ptr<database>> database::open(const std::filesystem::path& dir) {
    rocksdb::DBOptions options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    // All column families share one memtable budget, so ten of them cost no more than one.
    options.db_write_buffer_size = 64 << 20;
    options.max_background_jobs = 2;
    options.keep_log_file_num = 2;
    options.max_log_file_size = 1 << 20;

    rocksdb::ColumnFamilyOptions cf;
    cf.write_buffer_size = 16 << 20;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto name : family_names)
        descriptors.emplace_back(std::string(name), cf);
    // RocksDB opens a database only with every family it has: an obsolete one is opened too.
    std::vector<std::string> existing;
    rocksdb::DB::ListColumnFamilies(options, dir.string(), &existing).PermitUncheckedError();
    for (const auto name : obsolete_families)
        if (std::find(existing.begin(), existing.end(), name) != existing.end())
            descriptors.emplace_back(std::string(name), cf);
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    const auto status = rocksdb::DB::Open(options, dir.string(), descriptors, &handles, &raw);
    if (!status.ok())
        return from_status(status, "cannot open database in " + dir.string());
    auto p = std::make_unique<impl>();
    p->db.reset(raw);
    for (std::size_t i = 0; i < handles.size() && i < family_count; ++i)
        p->families[i] = handles[i];
    for (std::size_t i = family_count; i < handles.size(); ++i) {
        const auto dropped = p->db->DropColumnFamily(handles[i]);
        p->db->DestroyColumnFamilyHandle(handles[i]).PermitUncheckedError();
        if (!dropped.ok())
            return from_status(dropped, "cannot drop the obsolete column family " + descriptors[i].name);
    }

    std::string stored;
    auto s = p->db->Get(rocksdb::ReadOptions(), p->handle(family::meta), format_key, &stored);
    std::uint32_t version = format_version;
    if (s.IsNotFound()) {
        rocksdb::WriteOptions sync;
        sync.sync = true;
        s = p->db->Put(sync, p->handle(family::meta), format_key, std::to_string(format_version));
        if (!s.ok())
            return from_status(s, "cannot record the format version in " + dir.string());
    } else if (!s.ok()) {
        return from_status(s, "cannot read the format version in " + dir.string());
    } else {
        const auto [end, ec] = std::from_chars(stored.data(), stored.data() + stored.size(), version);
        if (ec != std::errc() || end != stored.data() + stored.size() || version != format_version)
            return make_error(errc::unknown_format_version,
                              "database in " + dir.string() + " has format version '" + stored +
                                  "', this kurer reads version " + std::to_string(format_version));
    }
    return std::unique_ptr<database>(new database(dir, std::move(p), version));
}

result<std::optional<std::string>> database::get(family f, std::string_view key) const {
    std::string value;
    const auto s = impl_->db->Get(rocksdb::ReadOptions(), impl_->handle(f), slice(key), &value);
    if (s.IsNotFound())
        return std::optional<std::string>();
    if (!s.ok())
        return from_status(s, "cannot read " + std::string(to_string(f)) + " key");
    return std::optional<std::string>(std::move(value));
}

result<void> database::scan(family f, std::string_view prefix,
                            const std::function<bool(std::string_view, std::string_view)>& visit) const {
    rocksdb::ReadOptions options;
    // Recovery and listings read each key once: keep them out of the block cache.
    options.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(options, impl_->handle(f)));
    for (it->Seek(slice(prefix)); it->Valid(); it->Next()) {
        const auto key = it->key();
        const std::string_view k(key.data(), key.size());
        if (!k.starts_with(prefix))
            break;
        const auto value = it->value();
        if (!visit(k, std::string_view(value.data(), value.size())))
            break;
    }
    if (!it->status().ok())
        return from_status(it->status(), "cannot scan " + std::string(to_string(f)));
    return {};
}

result<void> database::write(std::span<const write_batch* const> batches, bool sync) {
    rocksdb::WriteBatch wb;
    for (const auto* batch : batches) {
        for (const auto& op : batch->operations()) {
            const auto s = op.erase ? wb.Delete(impl_->handle(op.family), slice(op.key))
                                    : wb.Put(impl_->handle(op.family), slice(op.key), slice(op.value));
            if (!s.ok())
                return from_status(s, "cannot build a write batch");
        }
    }
    rocksdb::WriteOptions options;
    options.sync = sync;
    const auto s = impl_->db->Write(options, &wb);
    if (!s.ok())
        return from_status(s, "cannot write to the database in " + dir_.string());
    return {};
}

result<void> database::write(const write_batch& batch, bool sync) {
    const write_batch* one[] = {&batch};
    return write(one, sync);
}

} // namespace kurer::storage

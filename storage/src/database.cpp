#include <kurer/storage/database.hpp>

#include <rocksdb/db.h>

#include <charconv>

namespace kurer::storage {
namespace {

constexpr const char* format_key = "meta/format_version";

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
        }
        return "unknown storage error";
    }
};

error from_status(const rocksdb::Status& s, const std::string& what) {
    return make_error(errc::rocksdb_failure, what + ": " + s.ToString(),
                      s.IsBusy() || s.IsTryAgain() || s.IsTimedOut() ? retry::yes : retry::no);
}

} // namespace

const boost::system::error_category& storage_category() noexcept {
    static const category instance;
    return instance;
}

boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), storage_category()};
}

struct database::impl {
    std::unique_ptr<rocksdb::DB> db;
};

database::database(std::filesystem::path dir, std::unique_ptr<impl> p, std::uint32_t version)
    : dir_(std::move(dir))
    , impl_(std::move(p))
    , version_(version) {}

database::~database() {
    if (impl_ && impl_->db)
        impl_->db->Close().PermitUncheckedError();
}

result<std::unique_ptr<database>> database::open(const std::filesystem::path& dir) {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    const auto status = rocksdb::DB::Open(options, dir.string(), &raw);
    if (!status.ok())
        return from_status(status, "cannot open database in " + dir.string());
    auto p = std::make_unique<impl>();
    p->db.reset(raw);

    std::string stored;
    auto s = p->db->Get(rocksdb::ReadOptions(), format_key, &stored);
    std::uint32_t version = format_version;
    if (s.IsNotFound()) {
        rocksdb::WriteOptions sync;
        sync.sync = true;
        s = p->db->Put(sync, format_key, std::to_string(format_version));
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

} // namespace kurer::storage

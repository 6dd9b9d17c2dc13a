#include "zip_writer.hpp"

#include <kurer/dpo/errors.hpp>

#include <cerrno>
#include <cstring>
#include <sys/stat.h>

namespace kurer::dpo::detail {
namespace {

struct provider_context {
    std::unique_ptr<entry_provider> provider;
    std::uint64_t size = 0;
    std::uint64_t delivered = 0;
    time_t mtime = 0;
    zip_error_t error{};
    std::optional<kurer::error>* failure = nullptr; // shared with the writer
    std::string name;

    zip_int64_t fail(kurer::error e) {
        if (failure != nullptr && !*failure)
            *failure = std::move(e);
        zip_error_set(&error, ZIP_ER_READ, 0);
        return -1;
    }
};

zip_int64_t provider_callback(void* user, void* data, zip_uint64_t len, zip_source_cmd_t cmd) {
    auto* ctx = static_cast<provider_context*>(user);
    switch (cmd) {
    case ZIP_SOURCE_OPEN: {
        ctx->delivered = 0;
        if (auto ok = ctx->provider->open(); !ok)
            return ctx->fail(ok.error());
        return 0;
    }
    case ZIP_SOURCE_READ: {
        auto n = ctx->provider->read(std::span<std::uint8_t>(static_cast<std::uint8_t*>(data), len));
        if (!n)
            return ctx->fail(n.error());
        ctx->delivered += *n;
        if (ctx->delivered > ctx->size || (*n == 0 && ctx->delivered != ctx->size))
            return ctx->fail(make_dpo_error(
                errc::io_failure, "entry " + ctx->name + " delivered " + std::to_string(ctx->delivered) +
                                      " bytes instead of the " + std::to_string(ctx->size) + " announced"));
        return static_cast<zip_int64_t>(*n);
    }
    case ZIP_SOURCE_CLOSE:
        ctx->provider->close();
        return 0;
    case ZIP_SOURCE_STAT: {
        auto* st = static_cast<zip_stat_t*>(data);
        zip_stat_init(st);
        st->valid = ZIP_STAT_SIZE | ZIP_STAT_MTIME;
        st->size = ctx->size;
        st->mtime = ctx->mtime;
        return sizeof(zip_stat_t);
    }
    case ZIP_SOURCE_ERROR:
        return zip_error_to_data(&ctx->error, data, len);
    case ZIP_SOURCE_FREE:
        zip_error_fini(&ctx->error);
        delete ctx;
        return 0;
    case ZIP_SOURCE_SUPPORTS:
        return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                              ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, -1);
    default:
        zip_error_set(&ctx->error, ZIP_ER_OPNOTSUPP, 0);
        return -1;
    }
}

} // namespace

struct zip_writer::impl {
    zip_t* archive = nullptr;
    std::filesystem::path path;
    std::deque<std::string> buffers; // kept alive until the archive is written
    std::optional<kurer::error> failure;
    time_t now = std::time(nullptr);

    ~impl() {
        if (archive != nullptr)
            zip_discard(archive);
    }

    kurer::error libzip_error(const std::string& what) const {
        return make_dpo_error(errc::io_failure, what + " " + path.string() + ": " + zip_strerror(archive));
    }

    result<std::uint64_t> finish_add(zip_source_t* src, const std::string& name, compression c, int level) {
        const zip_int64_t index = zip_file_add(archive, name.c_str(), src, ZIP_FL_ENC_UTF_8);
        if (index < 0) {
            zip_source_free(src);
            return libzip_error("cannot add entry " + name + " to");
        }
        const auto i = static_cast<zip_uint64_t>(index);
        const int rc = c == compression::stored ? zip_set_file_compression(archive, i, ZIP_CM_STORE, 0)
                                                : zip_set_file_compression(archive, i, ZIP_CM_DEFLATE,
                                                                           static_cast<zip_uint32_t>(level));
        if (rc != 0)
            return libzip_error("cannot set the compression of " + name + " in");
        return i;
    }
};

zip_writer::zip_writer(std::unique_ptr<impl> p)
    : impl_(std::move(p)) {}
zip_writer::zip_writer(zip_writer&&) noexcept = default;
zip_writer& zip_writer::operator=(zip_writer&&) noexcept = default;
zip_writer::~zip_writer() = default;

result<zip_writer> zip_writer::create(const std::filesystem::path& path) {
    int err = 0;
    zip_t* za = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (za == nullptr) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, err);
        std::string why = zip_error_strerror(&ze);
        zip_error_fini(&ze);
        return make_dpo_error(errc::io_failure, "cannot create " + path.string() + ": " + why);
    }
    auto p = std::make_unique<impl>();
    p->archive = za;
    p->path = path;
    return zip_writer(std::move(p));
}

result<std::uint64_t> zip_writer::add_buffer(std::string name, std::string bytes, compression c, int level) {
    auto& stored = impl_->buffers.emplace_back(std::move(bytes));
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t* src = zip_source_buffer_create(stored.data(), stored.size(), 0, &ze);
    zip_error_fini(&ze);
    if (src == nullptr)
        return impl_->libzip_error("cannot buffer entry " + name + " for");
    return impl_->finish_add(src, name, c, level);
}

result<std::uint64_t> zip_writer::add_provider(std::string name, std::unique_ptr<entry_provider> provider,
                                               std::uint64_t size, compression c, int level) {
    auto* ctx = new provider_context;
    ctx->provider = std::move(provider);
    ctx->size = size;
    ctx->mtime = impl_->now;
    ctx->failure = &impl_->failure;
    ctx->name = name;
    zip_error_init(&ctx->error);
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t* src = zip_source_function_create(provider_callback, ctx, &ze);
    zip_error_fini(&ze);
    if (src == nullptr) {
        zip_error_fini(&ctx->error);
        delete ctx;
        return impl_->libzip_error("cannot create a source for " + name + " in");
    }
    return impl_->finish_add(src, name, c, level);
}

result<void> zip_writer::set_entry_comment(std::uint64_t index, std::string_view comment) {
    if (zip_file_set_comment(impl_->archive, index, comment.data(), static_cast<zip_uint16_t>(comment.size()),
                             0) != 0)
        return impl_->libzip_error("cannot set an entry comment in");
    return {};
}

result<void> zip_writer::set_archive_comment(std::string_view comment) {
    if (zip_set_archive_comment(impl_->archive, comment.data(), static_cast<zip_uint16_t>(comment.size())) !=
        0)
        return impl_->libzip_error("cannot set the archive comment of");
    return {};
}

result<void> zip_writer::close() {
    if (zip_close(impl_->archive) != 0) {
        if (impl_->failure)
            return *impl_->failure;
        return impl_->libzip_error("cannot write");
    }
    impl_->archive = nullptr;
    // libzip creates the file 0666 less the umask; a package holds the documents: owner only.
    if (::chmod(impl_->path.c_str(), 0600) != 0)
        return make_dpo_error(errc::io_failure, "cannot make " + impl_->path.string() +
                                                    " private (chmod 600): " + std::strerror(errno));
    return {};
}

} // namespace kurer::dpo::detail

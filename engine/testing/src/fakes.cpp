#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/engine/testing/fakes.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace kurer::engine::testing {
namespace {

namespace asio = boost::asio;
namespace sm = statemachine;

constexpr std::string_view magic = "kurer-fake-package 1";

error injected(fault f, std::string_view operation) {
    return f == fault::retryable
               ? make_error(make_error_code(boost::system::errc::resource_unavailable_try_again),
                            "injected retryable fault in " + std::string(operation), retry::yes)
               : make_error(make_error_code(boost::system::errc::operation_not_permitted),
                            "injected permanent fault in " + std::string(operation), retry::no);
}

// Applies the scripted fault of an asynchronous operation: an error to return, or nothing.
asio::awaitable<std::optional<error>> async_fault(std::shared_ptr<fault_script> faults,
                                                  std::string_view operation) {
    const auto f = faults->next(operation);
    if (f == fault::stall)
        co_await faults->stall_async();
    else if (f != fault::none)
        co_return injected(f, operation);
    co_return std::nullopt;
}

std::optional<error> blocking_fault(fake_context& c, std::string_view operation) {
    const auto f = c.faults->next(operation);
    if (f == fault::stall)
        c.faults->stall_blocking();
    else if (f != fault::none)
        return injected(f, operation);
    return std::nullopt;
}

void note(const fake_context& c, std::string_view operation, std::string_view key) {
    if (c.log)
        c.log->append(operation, key);
}

// Lower-case hex, through OpenSSL's libcrypto (the fakes link no adapter and not Botan).
std::string sha256(std::string_view bytes) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), md, &size, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("SHA-256 failed");
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(2 * size);
    for (unsigned int i = 0; i < size; ++i) {
        hex.push_back(digits[md[i] >> 4]);
        hex.push_back(digits[md[i] & 0xf]);
    }
    return hex;
}

error io_failure(const std::string& what) {
    return make_error(make_error_code(boost::system::errc::io_error), what, retry::yes);
}

result<std::string> slurp(const std::filesystem::path& path) {
    return read_small_file(path, 64 << 20);
}

result<package_info> write_package(const std::filesystem::path& out, const std::string& content) {
    std::ofstream f(out, std::ios::binary | std::ios::trunc);
    f << content;
    f.close();
    if (!f)
        return io_failure("cannot write " + out.string());
    return package_info{content.size(), sha256(content)};
}

std::map<std::string, std::string> parse_fields(std::string_view header) {
    std::map<std::string, std::string> fields;
    std::istringstream in{std::string(header)};
    std::string line;
    while (std::getline(in, line)) {
        const auto eq = line.find('=');
        if (eq != std::string::npos)
            fields[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return fields;
}

std::string json_string(const boost::json::value& v, std::string_view key) {
    if (const auto* o = v.if_object())
        if (const auto* s = o->if_contains(key); s && s->is_string())
            return std::string(s->as_string());
    return {};
}

std::int64_t ms(time_point t) {
    return t.time_since_epoch().count();
}

result<void> sync_dir(const std::filesystem::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return io_failure("cannot open " + dir.string());
    ::fsync(fd);
    ::close(fd);
    return {};
}

} // namespace

// ---- fault_script

void fault_script::add(std::string operation, fault f, int times) {
    std::lock_guard lock(mutex_);
    auto& q = queued_[std::move(operation)];
    for (int i = 0; i < times; ++i)
        q.push_back(f);
}

void fault_script::always(std::string operation, fault f) {
    std::lock_guard lock(mutex_);
    always_[std::move(operation)] = f;
}

void fault_script::clear() {
    std::lock_guard lock(mutex_);
    queued_.clear();
    always_.clear();
}

fault fault_script::next(std::string_view operation) {
    std::lock_guard lock(mutex_);
    ++calls_[std::string(operation)];
    if (auto it = queued_.find(operation); it != queued_.end() && !it->second.empty()) {
        const auto f = it->second.front();
        it->second.pop_front();
        return f;
    }
    if (auto it = always_.find(operation); it != always_.end())
        return it->second;
    return fault::none;
}

std::size_t fault_script::calls(std::string_view operation) const {
    std::lock_guard lock(mutex_);
    auto it = calls_.find(operation);
    return it == calls_.end() ? 0 : it->second;
}

void fault_script::release_stalls() {
    std::map<std::uint64_t, std::function<void()>> wake;
    {
        std::lock_guard lock(mutex_);
        ++release_generation_;
        wake.swap(wake_async_);
        changed_.notify_all();
    }
    for (auto& [id, w] : wake)
        w();
}

bool fault_script::wait_for_stalled(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return stalled_ >= n; });
}

std::size_t fault_script::stalled() const {
    std::lock_guard lock(mutex_);
    return stalled_;
}

asio::awaitable<void> fault_script::stall_async() {
    auto ex = co_await asio::this_coro::executor;
    auto timer = std::make_shared<asio::steady_timer>(ex, std::chrono::hours(24));
    std::uint64_t generation = 0, waiter = 0;
    {
        std::lock_guard lock(mutex_);
        generation = release_generation_;
        waiter = next_waiter_++;
        ++stalled_;
        // The timer lives on the caller's executor: only a weak reference stays here, so nothing
        // of an engine that is gone is touched when the script is released or destroyed.
        std::weak_ptr<asio::steady_timer> weak = timer;
        wake_async_.emplace(waiter, [weak, ex] {
            asio::post(ex, [weak] {
                if (auto t = weak.lock())
                    t->cancel();
            });
        });
        changed_.notify_all();
    }
    co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    bool released = false;
    {
        std::lock_guard lock(mutex_);
        wake_async_.erase(waiter);
        --stalled_;
        released = release_generation_ != generation;
        changed_.notify_all();
    }
    if (!released) // cancelled (a shutdown's terminal cancellation), not released
        throw boost::system::system_error(asio::error::operation_aborted);
}

void fault_script::stall_blocking() {
    std::unique_lock lock(mutex_);
    const auto generation = release_generation_;
    ++stalled_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return release_generation_ != generation; });
    --stalled_;
    changed_.notify_all();
}

// ---- journal

void journal::append(std::string_view operation, std::string_view key) const {
    std::string line;
    line.append(operation).append(" ").append(key).append("\n");
    const int fd = ::open(file_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    [[maybe_unused]] const auto n = ::write(fd, line.data(), line.size());
    ::fsync(fd);
    ::close(fd);
}

std::vector<journal::line> journal::read(const std::filesystem::path& file) {
    std::vector<line> out;
    std::ifstream in(file);
    std::string text;
    while (std::getline(in, text)) {
        const auto space = text.find(' ');
        if (space == std::string::npos)
            continue;
        out.push_back({text.substr(0, space), text.substr(space + 1)});
    }
    return out;
}

// ---- token, resolver

task<access_token> fake_token::get_token(std::vector<std::string> scopes) {
    if (auto e = co_await async_fault(c_.faults, "get_token"))
        co_return *e;
    note(c_, "get_token", scopes.empty() ? "-" : scopes.front());
    co_return access_token{"fake-token",
                           std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()) +
                               std::chrono::minutes(2)};
}

task<service_record> fake_resolver::resolve(std::string receiver, std::string, std::string) {
    if (auto e = co_await async_fault(c_.faults, "resolve"))
        co_return *e;
    note(c_, "resolve", receiver);
    co_return service_record{"DPO", "-----BEGIN CERTIFICATE-----\nRkFLRQ==\n-----END CERTIFICATE-----\n"};
}

// ---- packer

result<package_info> fake_packer::pack(const outgoing_message& m, const std::vector<document>& documents,
                                       std::string_view, const std::filesystem::path& out) {
    if (auto e = blocking_fault(c_, "pack"))
        return *e;
    std::string kind = "message", related, receipt_type;
    if (m.document_type.find("arkivmelding_kvittering") != std::string::npos) {
        kind = "kvittering";
        boost::system::error_code ec;
        const auto json = boost::json::parse(m.business_message, ec);
        if (!ec) {
            related = json_string(json, "relatedToMessageId");
            receipt_type = json_string(json, "receiptType");
        }
    }
    std::string names;
    for (const auto& d : documents) {
        auto content = slurp(d.path);
        if (!content)
            return content.error();
        names += (names.empty() ? "" : ",") + d.name + ":" + sha256(*content);
    }
    std::string content(magic);
    content += "\nkind=" + kind + "\nmessage_id=" + m.message_id + "\nconversation_id=" + m.conversation_id +
               "\nsender=" + m.sender + "\nreceiver=" + m.receiver + "\nprocess=" + m.process +
               "\ndocument_type=" + m.document_type + "\nchannel=" + m.message_channel +
               "\ndeadline=" + std::to_string(ms(m.deadline)) + "\nrelated=" + related +
               "\nreceipt_type=" + receipt_type + "\ndocuments=" + names + "\n\n" + m.business_message;
    auto info = write_package(out, content);
    if (info)
        note(c_, "pack", m.message_id);
    return info;
}

result<package_info> fake_packer::pack_status(std::string_view original_sbd, sm::eformidling_status status,
                                              const std::filesystem::path& out) {
    if (auto e = blocking_fault(c_, "pack_status"))
        return *e;
    auto f = parse_fields(original_sbd);
    const auto deadline = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()) +
                          std::chrono::hours(24);
    std::string content(magic);
    content += "\nkind=status\nmessage_id=" + f["message_id"] + "\nconversation_id=" + f["conversation_id"] +
               "\nsender=" + f["receiver"] + "\nreceiver=" + f["sender"] + "\nprocess=" + f["process"] +
               "\ndocument_type=urn:no:difi:eformidling:xsd::status\nchannel=" + f["channel"] +
               "\ndeadline=" + std::to_string(deadline.time_since_epoch().count()) +
               "\nstatus=" + std::string(sm::to_string(status)) + "\n\n";
    auto info = write_package(out, content);
    if (info)
        note(c_, "pack_status", f["message_id"] + "." + std::string(sm::to_string(status)));
    return info;
}

result<opened_package> fake_packer::open(const std::filesystem::path& package,
                                         const std::filesystem::path& payload_out, time_point uploaded) {
    (void)uploaded;
    if (auto e = blocking_fault(c_, "open"))
        return *e;
    auto content = slurp(package);
    if (!content)
        return content.error();
    if (!content->starts_with(magic))
        return make_error(make_error_code(boost::system::errc::illegal_byte_sequence),
                          package.filename().string() + " is not a package (bad magic)", retry::no);
    const auto split = content->find("\n\n");
    const std::string header = content->substr(0, split);
    const std::string body = split == std::string::npos ? std::string() : content->substr(split + 2);
    auto f = parse_fields(header);
    opened_package p;
    const auto& kind = f["kind"];
    p.kind = kind == "status"       ? storage::package_kind::status
             : kind == "kvittering" ? storage::package_kind::kvittering
                                    : storage::package_kind::message;
    p.sbd = header;
    p.message_id = f["message_id"];
    p.conversation_id = f["conversation_id"];
    p.sender = f["sender"];
    p.receiver = f["receiver"];
    p.process = f["process"];
    p.document_type = f["document_type"];
    p.message_channel = f["channel"];
    if (!f["deadline"].empty())
        p.deadline = time_point(std::chrono::milliseconds(std::stoll(f["deadline"])));
    p.status = f["status"];
    p.related_message_id = f["related"];
    p.receipt_type = f["receipt_type"];
    if (p.kind != storage::package_kind::status) {
        if (auto written = write_package(payload_out, body + "\n" + f["documents"]); !written)
            return written.error();
        p.has_payload = true;
        // A fake package is "signed" by the sender it names: the engine's own binding checks
        // (the broker's uploader, receipts) are what the fakes exercise.
        p.signer = "fake signature of " + p.sender;
        p.signer_organization = p.sender;
    }
    note(c_, "open", p.message_id);
    return p;
}

// ---- directory broker

directory_broker::directory_broker(std::filesystem::path root, std::string organization, fake_context c)
    : root_(std::move(root))
    , organization_(std::move(organization))
    , c_(std::move(c)) {
    std::error_code ignored;
    std::filesystem::create_directories(root_ / "transfers", ignored);
}

task<std::string> directory_broker::initiate(transfer_request r) {
    if (auto e = co_await async_fault(c_.faults, "initiate"))
        co_return *e;
    const auto reference = random_uuid();
    const auto dir = root_ / "transfers" / reference;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
        co_return io_failure("cannot create " + dir.string());
    const auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    if (auto w = write_file_durably(dir / "meta", r.sender + "\n" + r.receiver + "\n" + r.senders_reference +
                                                      "\n" + std::to_string(now.time_since_epoch().count()) +
                                                      "\n");
        !w)
        co_return w.error();
    sync_dir(root_ / "transfers");
    note(c_, "initiate", r.senders_reference + " " + reference);
    co_return reference;
}

task<upload_result> directory_broker::upload(std::string reference, std::filesystem::path file) {
    if (auto e = co_await async_fault(c_.faults, "upload"))
        co_return *e;
    const auto dir = root_ / "transfers" / reference;
    if (!std::filesystem::exists(dir / "meta"))
        co_return make_error(make_error_code(boost::system::errc::no_such_file_or_directory),
                             "no transfer " + reference, retry::no);
    if (std::filesystem::exists(dir / "file")) {
        note(c_, "upload_repeat", reference);
        co_return upload_result::already_uploaded;
    }
    auto content = slurp(file);
    if (!content)
        co_return content.error();
    if (auto w = write_file_durably(dir / "file", *content); !w)
        co_return w.error();
    note(c_, "upload", reference);
    co_return upload_result::uploaded;
}

task<std::vector<available_file>> directory_broker::list_available() {
    if (auto e = co_await async_fault(c_.faults, "list_available"))
        co_return *e;
    std::vector<available_file> out;
    for (const auto& t : transfers(root_)) {
        if (t.receiver != organization_ || !t.uploaded || t.confirmed)
            continue;
        available_file f;
        f.reference = t.reference;
        f.senders_reference = t.senders_reference;
        f.sender = t.sender;
        f.recipient = t.receiver;
        std::error_code ec;
        f.size = std::filesystem::file_size(root_ / "transfers" / t.reference / "file", ec);
        out.push_back(std::move(f));
    }
    co_return out;
}

task<void> directory_broker::download(std::string reference, std::filesystem::path to) {
    if (auto e = co_await async_fault(c_.faults, "download"))
        co_return *e;
    auto content = slurp(root_ / "transfers" / reference / "file");
    if (!content)
        co_return make_error(make_error_code(boost::system::errc::no_such_file_or_directory),
                             "no uploaded file in transfer " + reference, retry::no);
    std::ofstream out(to, std::ios::binary | std::ios::trunc);
    out << *content;
    out.close();
    if (!out)
        co_return io_failure("cannot write " + to.string());
    note(c_, "download", reference);
    co_return result<void>();
}

task<void> directory_broker::confirm(std::string reference) {
    if (auto e = co_await async_fault(c_.faults, "confirm"))
        co_return *e;
    const auto dir = root_ / "transfers" / reference;
    if (!std::filesystem::exists(dir / "meta"))
        co_return make_error(make_error_code(boost::system::errc::no_such_file_or_directory),
                             "no transfer " + reference, retry::no);
    if (auto w = write_file_durably(dir / "confirmed", "1"); !w)
        co_return w.error();
    note(c_, "confirm", reference);
    co_return result<void>();
}

std::vector<directory_broker::transfer> directory_broker::transfers(const std::filesystem::path& root) {
    std::vector<transfer> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(root / "transfers", ec)) {
        auto meta = read_small_file(entry.path() / "meta", 4096);
        if (!meta)
            continue; // being created
        std::istringstream in(*meta);
        transfer t;
        t.reference = entry.path().filename().string();
        std::getline(in, t.sender);
        std::getline(in, t.receiver);
        std::getline(in, t.senders_reference);
        t.uploaded = std::filesystem::exists(entry.path() / "file");
        t.confirmed = std::filesystem::exists(entry.path() / "confirmed");
        out.push_back(std::move(t));
    }
    return out;
}

ports make_fake_ports(const std::filesystem::path& broker_root, const std::string& organization,
                      fake_context c) {
    return {std::make_shared<fake_token>(c), std::make_shared<fake_resolver>(c),
            std::make_shared<fake_packer>(c),
            std::make_shared<directory_broker>(broker_root, organization, c)};
}

std::map<std::string, std::string> read_fake_package(const std::filesystem::path& file) {
    auto content = read_small_file(file, 64 << 20);
    if (!content)
        return {};
    return parse_fields(content->substr(0, content->find("\n\n")));
}

} // namespace kurer::engine::testing

// In-process fakes of every engine port, for tests, the crash harness and benchmarks.
//
// Each fake can succeed, fail retryably, fail permanently or stall, on demand (a fault_script
// per operation), and can append every side effect to a journal file (fsynced, one line per
// effect) so a crash test can count how often each happened across process restarts.
//
// directory_broker is a broker kept in a directory: two engines (in one process, or in two
// processes) that point at the same directory exchange files through it, and its state on disk
// says what was really uploaded, downloaded and confirmed.
#pragma once

#include <kurer/engine/ports.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace kurer::engine::testing {

enum class fault {
    none,
    retryable, // a kurer::error with retryable = true
    permanent, // retryable = false (for open(): the package is rejected)
    stall,     // waits until release_stalls(), then succeeds
};

// Operations: get_token, resolve, pack, pack_status, open, initiate, upload, list_available,
// download, confirm.
class fault_script {
public:
    // The next `times` calls of `operation` behave as `f`.
    void add(std::string operation, fault f, int times = 1);
    // Every call from now on (until clear()).
    void always(std::string operation, fault f);
    void clear();
    fault next(std::string_view operation);

    // Stalled calls wait until this is called (or their coroutine is cancelled).
    void release_stalls();
    // Blocks until `n` calls are stalled at once, or `timeout` passes; returns whether they are.
    bool wait_for_stalled(std::size_t n, std::chrono::milliseconds timeout);
    std::size_t stalled() const;

    // Used by the fakes: suspends an asynchronous (resp. blocks a synchronous) call.
    boost::asio::awaitable<void> stall_async();
    void stall_blocking();

    // How many times each operation was called.
    std::size_t calls(std::string_view operation) const;

private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::map<std::string, std::deque<fault>, std::less<>> queued_;
    std::map<std::string, fault, std::less<>> always_;
    std::map<std::string, std::size_t, std::less<>> calls_;
    std::size_t stalled_ = 0;
    std::uint64_t release_generation_ = 0;
    std::uint64_t next_waiter_ = 0;
    std::map<std::uint64_t, std::function<void()>> wake_async_; // by waiter; removed when it wakes
};

// One line per side effect: "<operation> <key>\n", appended with O_APPEND and fsynced.
class journal {
public:
    explicit journal(std::filesystem::path file)
        : file_(std::move(file)) {}
    void append(std::string_view operation, std::string_view key) const;
    const std::filesystem::path& file() const noexcept { return file_; }

    struct line {
        std::string operation;
        std::string key;
    };
    static std::vector<line> read(const std::filesystem::path& file);

private:
    std::filesystem::path file_;
};

struct fake_context {
    std::shared_ptr<fault_script> faults = std::make_shared<fault_script>();
    std::shared_ptr<journal> log; // null: no journal
};

class fake_token : public token_port {
public:
    explicit fake_token(fake_context c)
        : c_(std::move(c)) {}
    task<access_token> get_token(std::vector<std::string> scopes) override;

private:
    fake_context c_;
};

class fake_resolver : public resolver_port {
public:
    explicit fake_resolver(fake_context c)
        : c_(std::move(c)) {}
    task<service_record> resolve(std::string receiver, std::string process,
                                 std::string document_type) override;

private:
    fake_context c_;
};

// Packages are small text files ("kurer-fake-package 1", key=value lines, the business message)
// that open() reads back; a kvittering's relatedToMessageId and receiptType come from its
// business message JSON.
class fake_packer : public packer_port {
public:
    explicit fake_packer(fake_context c)
        : c_(std::move(c)) {}
    result<package_info> pack(const outgoing_message& message, const std::vector<document>& documents,
                              std::string_view receiver_certificate_pem,
                              const std::filesystem::path& out) override;
    result<package_info> pack_status(std::string_view original_sbd, statemachine::eformidling_status status,
                                     const std::filesystem::path& out) override;
    result<opened_package> open(const std::filesystem::path& package,
                                const std::filesystem::path& payload_out, time_point uploaded) override;

private:
    fake_context c_;
};

class directory_broker : public broker_port {
public:
    // `organization` is whose files list_available() shows.
    directory_broker(std::filesystem::path root, std::string organization, fake_context c);
    task<std::string> initiate(transfer_request request) override;
    task<upload_result> upload(std::string reference, std::filesystem::path file) override;
    task<std::vector<available_file>> list_available() override;
    task<void> download(std::string reference, std::filesystem::path to) override;
    task<void> confirm(std::string reference) override;

    // What the broker holds, for checks.
    struct transfer {
        std::string reference;
        std::string sender;
        std::string receiver;
        std::string senders_reference;
        bool uploaded = false;
        bool confirmed = false;
    };
    static std::vector<transfer> transfers(const std::filesystem::path& root);

private:
    std::filesystem::path root_;
    std::string organization_;
    fake_context c_;
};

// Every port faked, sharing one context; the broker keeps its files under `broker_root`.
ports make_fake_ports(const std::filesystem::path& broker_root, const std::string& organization,
                      fake_context c = {});

// A fake package's key=value fields (for checks on what was sent).
std::map<std::string, std::string> read_fake_package(const std::filesystem::path& file);

} // namespace kurer::engine::testing

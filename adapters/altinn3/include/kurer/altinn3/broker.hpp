// The operations the engine's broker port needs, over the Altinn 3 client: one organisation
// (one system user), DPO semantics.
//
// - initiate() computes the file's MD5 (off the I/O thread) and opens the transfer with it, so
//   the broker checks the upload end to end (BRO-00009 on a mismatch).
// - upload() reports already_uploaded for BRO-00004 when the overview shows the file there with
//   its size (a repeat after a crash); a BRO-00004 for a transfer whose upload failed stays an
//   error (the broker wants a new transfer then).
// - list_available() lists Published transfers whose recipient status is Initialized (what the
//   reference polls) and those left in DownloadStarted (a download that crashed before its
//   confirm: the reference never sees them again), reads each overview, keeps the ones for this
//   installation's message channel (§3.5) and sorts them by creation, oldest first.
// - download() writes the file (replacing what a crashed attempt left), resuming with Range;
//   BRO-00007 stays retryable only while the transfer may still become ready (not Failed,
//   Cancelled or Purged).
// - confirm() succeeds on a repeat: BRO-00010 with this recipient already DownloadConfirmed
//   (the transfer is AllConfirmedDownloaded or purged) means the first confirm landed.
#pragma once

#include <kurer/altinn3/client.hpp>

#include <boost/asio/any_io_executor.hpp>

namespace kurer::altinn3 {

struct send_request {
    std::string sender{};   // 9 digits (must be the system user's organisation)
    std::string receiver{}; // 9 digits
    std::string senders_reference{};
    std::string file_name = "sbd.zip";
    std::filesystem::path file{}; // the package; its MD5 goes into initialize
};

enum class upload_result { uploaded, already_uploaded };

struct available_file {
    std::string reference{}; // fileTransferId
    std::optional<std::string> senders_reference{};
    std::string sender{}; // "0192:<orgnr>"
    std::uint64_t size = 0;
    std::string created{};
    bool download_started = false; // found through the DownloadStarted recovery listing
};

// The §3.5 filter: with a channel, only references equal to it; without, no reference or one
// that cannot be a channel name (^[a-zA-Z0-9-_]{0,25}$).
bool for_this_channel(const std::optional<std::string>& senders_reference, std::string_view own_channel);

class broker {
public:
    // `c` must outlive the broker. `organization`: this system user's organisation (the
    // recipient whose status is read); `message_channel` empty when none is configured.
    broker(client& c, std::string organization, std::string message_channel = {},
           boost::asio::any_io_executor blocking = {});

    boost::asio::awaitable<result<std::string>> initiate(send_request request);
    boost::asio::awaitable<result<upload_result>> upload(std::string reference, std::filesystem::path file);
    boost::asio::awaitable<result<std::vector<available_file>>> list_available();
    boost::asio::awaitable<result<void>> download(std::string reference, std::filesystem::path to);
    boost::asio::awaitable<result<void>> confirm(std::string reference);

private:
    client* client_;
    std::string organization_{};
    std::string channel_{};
    boost::asio::any_io_executor blocking_;
};

} // namespace kurer::altinn3

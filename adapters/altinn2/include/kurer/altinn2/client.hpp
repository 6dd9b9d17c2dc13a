// The Altinn 2 broker over the network: the six operations DPO uses, co_await-able, over
// kurer::http (TLS, pooled connections) with the codec of codec.hpp / streamed.hpp.
//
//   auto c = altinn2::broker_client::create(http_client, cfg).value();   // shared_ptr<http::client>
//   auto ref = co_await c.initiate("910077473", senders_reference, "910075918");
//   auto up = co_await c.upload(*ref, "910077473", "/data/out/sbd.zip");  // uploaded | already_uploaded
//   auto files = co_await c.poll();                                        // own org + reportees
//   co_await c.download(files->at(0).reference, files->at(0).reportee, "/data/in/x.zip");
//   co_await c.confirm(files->at(0).reference, files->at(0).reportee);
//
// Outcomes: a SOAP fault (HTTP 500, plain or MTOM) is its typed error from errors.hpp, classified
// as docs/protocols/altinn2.md says. An answer that is not a fault and not 2xx (a proxy's 502, an
// injected 503) is http::status_error (retryable for 5xx). Connection failures and timeouts are
// the http client's retryable errors. Retryable failures are tried again `attempts` times with a
// short backoff before they reach the caller, who retries on its own schedule after that.
//
// Upload: the file is streamed from disk (pread, one 64 KiB buffer at a time). A repeated upload
// to the same reference (after a crash, or a retry whose first answer was lost) meets ErrorID
// 40208, which is returned as upload_status::already_uploaded, not as an error.
//
// Download: the MTOM answer is received into a temporary file next to the target, then parsed
// incrementally (off the I/O thread) with the attachment streamed to the target; memory stays
// flat whatever the size.
#pragma once

#include <kurer/altinn2/messages.hpp>
#include <kurer/core/error.hpp>
#include <kurer/http/client.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kurer::altinn2 {

struct client_config {
    config broker; // URLs, system user and password, service code and edition

    // This organisation (the sender of uploads and the first reportee polled) and further
    // organisations to poll for (kurer.json broker.reportees).
    std::string organization;
    std::vector<std::string> reportees;
    // broker.message_channel: the incoming filter of addressing.hpp.
    std::optional<std::string> message_channel;

    // Per operation, the whole exchange (request, answer, body); 0 = no limit of its own (the
    // http client's per-step request_timeout still ends a stall).
    std::chrono::milliseconds metadata_timeout{60000}; // initiate, check, list, confirm
    std::chrono::milliseconds upload_timeout{0};
    std::chrono::milliseconds download_timeout{0};

    // Tries per operation for retryable failures (1 = no retry here), waiting backoff, 2x
    // backoff, ... in between.
    unsigned attempts = 3;
    std::chrono::milliseconds backoff{250};

    // fsync the downloaded file (and its directory) before download() returns.
    bool sync_downloads = true;
    // Refuse a download attachment larger than this (0 = no limit).
    std::uint64_t max_download_bytes = 0;

    // Where XML parsing and file work run (e.g. a thread_pool's executor); null = inline.
    boost::asio::any_io_executor blocking{};
};

enum class upload_status {
    uploaded,
    already_uploaded, // ErrorID 40208: the reference already has its file
};

struct upload_outcome {
    upload_status status = upload_status::uploaded;
    std::optional<upload_receipt> receipt; // absent for already_uploaded
};

// A file waiting for one of the polled organisations.
struct incoming_file {
    std::string reference; // FileReference
    std::string reportee;  // the organisation it is addressed to (download and confirm as it)
    std::string sender;    // the Reportee member: who sent it
    std::optional<std::string> senders_reference;
    std::string file_name;
    std::uint64_t size = 0;
    std::string sent_date; // as Altinn sent it (xs:dateTime)
};

class broker_client {
public:
    // Fails when the configuration is unusable (URLs, empty credentials, no organisation). The
    // http client may be shared with other adapters.
    static result<broker_client> create(std::shared_ptr<http::client> http, client_config config);

    broker_client(broker_client&&) noexcept;
    broker_client& operator=(broker_client&&) noexcept;
    ~broker_client();

    // InitiateBrokerServiceBasic: opens a transfer from `sender` to `recipient`; the reference.
    boost::asio::awaitable<result<std::string>> initiate(std::string sender, std::string senders_reference,
                                                         std::string recipient,
                                                         std::string file_name = "sbd.zip");
    // UploadFileStreamedBasic: streams `file` to `reference`.
    boost::asio::awaitable<result<upload_outcome>> upload(std::string reference, std::string sender,
                                                          std::filesystem::path file,
                                                          std::string file_name = "sbd.zip");
    // CheckIfAvailableFilesBasic for one recipient.
    boost::asio::awaitable<result<bool>> check(std::string recipient);
    // GetAvailableFilesBasic (FileStatus Uploaded) for one recipient, unfiltered.
    boost::asio::awaitable<result<std::vector<available_file>>> list(std::string recipient);
    // DownloadFileStreamedBasic: writes the file to `to` (replacing what is there) and returns
    // its size.
    boost::asio::awaitable<result<std::uint64_t>> download(std::string reference, std::string recipient,
                                                           std::filesystem::path to);
    // ConfirmDownloadedBasic.
    boost::asio::awaitable<result<void>> confirm(std::string reference, std::string recipient);

    // One poll round as the reference client does it: for the own organisation and every
    // reportee, check, and when something is there, list; keeps the files the message-channel
    // filter accepts. A failure for one organisation fails the round (the caller polls again).
    boost::asio::awaitable<result<std::vector<incoming_file>>> poll();

    const client_config& config() const noexcept;

    struct impl;

private:
    explicit broker_client(std::shared_ptr<impl> p);
    std::shared_ptr<impl> impl_;
};

} // namespace kurer::altinn2

// The Altinn 3 Broker REST API as DPO uses it (altinn-broker.md §4), with Altinn's token exchange.
//
//   auto tokens = altinn3::system_user_tokens(maskinporten_provider, {.organization = "910077473",
//                                             .external_ref =
//                                             "910077473_integrasjonspunkt_systembruker_910077473"});
//   altinn3::client broker(http_client, {.base_url = ".../broker/api/v1", .exchange_url =
//   ".../exchange/maskinporten"},
//                          tokens, worker_pool);
//   auto id = co_await broker.initialize({.sender = "910077473", .recipients = {"910075918"},
//                                         .senders_reference = uuid, .checksum = md5});
//   co_await broker.upload(*id, "sbd.zip");
//
// Tokens: each operation needs one scope (write: initialize, upload; read: list, overview,
// download, confirm). The client asks the Maskinporten source for a system-user token with that
// one scope, exchanges it (GET exchange_url, Bearer) for an Altinn token, and caches the Altinn
// token per (system user, scope) for token_cache_ttl (the reference: 25 of its 30 minutes); a miss
// is fetched once however many coroutines ask (single flight). A broker 401 without a problem
// code drops both cached tokens and the call is made once more with fresh ones.
//
// Files never pass through memory: the MD5 checksum and the upload read the file 64 KiB at a
// time, downloads are written to disk as they arrive, and a download whose connection breaks
// resumes with `Range: bytes=<have>-`.
//
// Errors: every non-2xx answer becomes a typed error (errors.hpp); transport failures keep the
// HTTP client's codes and retry classification.
#pragma once

#include <kurer/altinn3/errors.hpp>
#include <kurer/core/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kurer::http {
class client;
}
namespace kurer::maskinporten {
class token_provider;
struct altinn_system_user;
} // namespace kurer::maskinporten

namespace kurer::altinn3 {

inline constexpr std::string_view scope_read = "altinn:broker.read";
inline constexpr std::string_view scope_write = "altinn:broker.write";
inline constexpr std::string_view dpo_resource = "eformidling-dpo-meldingsutveksling";

struct config {
    std::string base_url{};     // https://platform.tt02.altinn.no/broker/api/v1
    std::string exchange_url{}; // https://platform.tt02.altinn.no/authentication/api/v1/exchange/maskinporten
    std::string resource_id{dpo_resource};
    std::chrono::seconds token_cache_ttl{25 * 60};
    unsigned download_resumes = 3; // Range resumes of one download after a broken connection
};

// Where Maskinporten tokens come from: one token per scope, for one system user.
class maskinporten_tokens {
public:
    virtual ~maskinporten_tokens() = default;
    // A Maskinporten access token carrying the system-user claim and exactly `scope`.
    virtual boost::asio::awaitable<result<std::string>> get(std::string scope) = 0;
    // Drops a cached token (the exchange or the broker refused it).
    virtual void invalidate(std::string scope) = 0;
    // Names the system user in cache keys ("<org>/<externalRef>").
    virtual std::string system_user() const = 0;
};

// Tokens from kurer::maskinporten's provider (which caches and single-flights them) with the
// authorization_details claim for `user`. The provider must outlive the result.
std::shared_ptr<maskinporten_tokens> system_user_tokens(maskinporten::token_provider& provider,
                                                        maskinporten::altinn_system_user user);

// POST /filetransfer: what the transfer is. Parties are "<9 digits>" or "0192:<9 digits>".
struct initialize_request {
    std::string file_name = "sbd.zip";
    std::string sender{};
    std::vector<std::string> recipients{};
    std::optional<std::string> senders_reference{}; // a UUID, or a message channel (§3.5)
    std::optional<std::string> checksum{};          // lower-case hex MD5 of the file
    std::map<std::string, std::string> properties{};
    std::optional<bool> disable_virus_scan{};
};

// The initialize body exactly as the reference sends it: every member present in its order,
// absent optionals as null, parties as "0192:<orgnr>".
std::string initialize_body(const initialize_request& request, std::string_view resource_id);

// "0192:<orgnr>" for "<orgnr>"; a value already prefixed is returned as it is.
std::string party(std::string_view organization);

// MD5 of a file as lower-case hex, read 64 KiB at a time.
result<std::string> md5_file_hex(const std::filesystem::path& file);

struct recipient_state {
    std::string recipient{}; // "0192:<orgnr>"
    std::string status{};    // Initialized, DownloadStarted, DownloadConfirmed
    std::string status_text{};
    std::string status_changed{};
};

// GET /filetransfer/{id} (FileTransferOverviewExt); date-times as the broker wrote them.
struct file_transfer_overview {
    std::string id{};
    std::string resource_id{};
    std::string file_name{};
    std::optional<std::string> senders_reference{};
    std::optional<std::string> checksum{};
    std::uint64_t size = 0;
    std::string status{}; // Initialized, UploadStarted, UploadProcessing, Published, ...
    std::string status_text{};
    std::string status_changed{};
    std::string created{};
    std::string expiration_time{};
    std::string sender{};
    std::vector<recipient_state> recipients{};

    // This organisation's entry, or null.
    const recipient_state* recipient(std::string_view organization) const;
};

result<file_transfer_overview> parse_overview(std::string_view body);

class client {
public:
    // `http` must outlive the client. Blocking work (MD5) runs on `blocking` (null: inline).
    client(http::client& http, config cfg, std::shared_ptr<maskinporten_tokens> tokens,
           boost::asio::any_io_executor blocking = {});
    client(client&&) noexcept;
    client& operator=(client&&) noexcept;
    ~client();

    // An Altinn token for `scope`, from the cache or exchanged once for all askers.
    boost::asio::awaitable<result<std::string>> altinn_token(std::string scope);

    // POST /filetransfer -> the new fileTransferId.
    boost::asio::awaitable<result<std::string>> initialize(initialize_request request);
    // POST /filetransfer/{id}/upload, the file streamed as application/octet-stream.
    boost::asio::awaitable<result<void>> upload(std::string id, std::filesystem::path file);
    // GET /filetransfer?resourceId=&status=&recipientStatus= -> ids, newest first, at most 100.
    boost::asio::awaitable<result<std::vector<std::string>>> list(std::string status,
                                                                  std::string recipient_status);
    // GET /filetransfer/{id}
    boost::asio::awaitable<result<file_transfer_overview>> overview(std::string id);
    // GET /filetransfer/{id}/download into `to` (replaced); resumes with Range when the
    // connection breaks. Returns the file's size.
    boost::asio::awaitable<result<std::uint64_t>> download(std::string id, std::filesystem::path to);
    // GET /filetransfer/{id}/download with "Range: bytes=<offset>-", appended to `to` (which must
    // hold `offset` bytes). Returns the file's size. A range download does not mark the start.
    boost::asio::awaitable<result<std::uint64_t>> download_from(std::string id, std::filesystem::path to,
                                                                std::uint64_t offset);
    // POST /filetransfer/{id}/confirmdownload (any 2xx is success).
    boost::asio::awaitable<result<void>> confirm(std::string id);

    const config& settings() const noexcept;
    // Token exchanges made so far (to see the cache work).
    std::uint64_t exchanges() const;

    struct impl;

private:
    std::shared_ptr<impl> impl_{};
};

} // namespace kurer::altinn3

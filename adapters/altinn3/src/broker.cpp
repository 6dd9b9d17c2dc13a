#include <kurer/altinn3/broker.hpp>
#include <kurer/asio/offload.hpp>

#include <algorithm>
#include <regex>
#include <set>

namespace kurer::altinn3 {

using boost::asio::awaitable;

bool for_this_channel(const std::optional<std::string>& senders_reference, std::string_view own_channel) {
    if (!own_channel.empty())
        return senders_reference && *senders_reference == own_channel;
    if (!senders_reference)
        return true;
    static const std::regex channel_name("^[a-zA-Z0-9-_]{0,25}$");
    return !std::regex_match(*senders_reference, channel_name);
}

broker::broker(client& c, std::string organization, std::string message_channel,
               boost::asio::any_io_executor blocking)
    : client_(&c)
    , organization_(std::move(organization))
    , channel_(std::move(message_channel))
    , blocking_(std::move(blocking)) {}

awaitable<result<std::string>> broker::initiate(send_request request) {
    std::optional<std::string> checksum;
    if (!request.file.empty()) {
        auto work = [file = request.file] {
            return md5_file_hex(file);
        };
        auto md5 = co_await kurer::offload(blocking_, std::move(work));
        if (!md5)
            co_return md5.error();
        checksum = std::move(*md5);
    }
    initialize_request init;
    init.file_name = request.file_name;
    init.sender = request.sender;
    init.recipients.push_back(request.receiver);
    if (!request.senders_reference.empty())
        init.senders_reference = request.senders_reference;
    init.checksum = std::move(checksum);
    co_return co_await client_->initialize(std::move(init));
}

awaitable<result<upload_result>> broker::upload(std::string reference, std::filesystem::path file) {
    auto r = co_await client_->upload(reference, file);
    if (r)
        co_return upload_result::uploaded;
    if (r.error().code != errc::already_uploaded)
        co_return r.error();
    // BRO-00004 also answers a repeat after an upload that failed ("already been or attempted
    // to be uploaded"): only a transfer that got its file, of this size, counts as done.
    const auto first = r.error();
    auto o = co_await client_->overview(std::move(reference));
    if (!o)
        co_return o.error();
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    const bool has_file = o->status == "UploadProcessing" || o->status == "Published" ||
                          o->status == "AllConfirmedDownloaded" || o->status == "Purged";
    if (has_file && !ec && o->size == size)
        co_return upload_result::already_uploaded;
    co_return make_error(errc::already_uploaded,
                         first.message + "; the transfer is " + o->status + " with " +
                             std::to_string(o->size) +
                             " bytes, so the earlier upload did not land: a new transfer is needed");
}

awaitable<result<std::vector<available_file>>> broker::list_available() {
    auto waiting = co_await client_->list("Published", "Initialized");
    if (!waiting)
        co_return waiting.error();
    auto started = co_await client_->list("Published", "DownloadStarted");
    if (!started)
        co_return started.error();
    std::set<std::string> recovering(started->begin(), started->end());
    std::vector<std::string> ids = std::move(*waiting);
    for (const auto& id : *started)
        if (std::find(ids.begin(), ids.end(), id) == ids.end())
            ids.push_back(id);

    std::vector<available_file> out;
    for (const auto& id : ids) {
        auto o = co_await client_->overview(id);
        if (!o) {
            // Gone between the list and the overview (purged, say): the next poll decides.
            if (o.error().code == errc::file_transfer_not_found)
                continue;
            co_return o.error();
        }
        if (!for_this_channel(o->senders_reference, channel_))
            continue;
        out.push_back({.reference = o->id,
                       .senders_reference = o->senders_reference,
                       .sender = o->sender,
                       .size = o->size,
                       .created = o->created,
                       .download_started = recovering.contains(id)});
    }
    // ISO 8601 UTC strings of one writer sort as their times do.
    std::stable_sort(out.begin(), out.end(),
                     [](const available_file& a, const available_file& b) { return a.created < b.created; });
    co_return out;
}

awaitable<result<void>> broker::download(std::string reference, std::filesystem::path to) {
    auto r = co_await client_->download(reference, std::move(to));
    if (r)
        co_return result<void>{};
    if (r.error().code != errc::not_ready_for_download)
        co_return r.error();
    // BRO-00007 means "not yet" only while the upload is processed; a failed, cancelled or
    // purged transfer will never be ready, and retrying it until the deadline helps nobody.
    auto failure = r.error();
    auto o = co_await client_->overview(std::move(reference));
    if (o && (o->status == "Failed" || o->status == "Cancelled" || o->status == "Purged")) {
        failure.retryable = false;
        failure.message += "; the transfer is " + o->status;
    }
    co_return failure;
}

awaitable<result<void>> broker::confirm(std::string reference) {
    auto r = co_await client_->confirm(reference);
    if (r || r.error().code != errc::confirm_only_when_published)
        co_return r;
    // A repeat: the first confirm made this recipient DownloadConfirmed (and, as the only one,
    // the transfer AllConfirmedDownloaded). Anything else is the broker's refusal.
    const auto first = r.error();
    auto o = co_await client_->overview(std::move(reference));
    if (o) {
        const auto* me = o->recipient(organization_);
        if (me && me->status == "DownloadConfirmed")
            co_return result<void>{};
    }
    co_return first;
}

} // namespace kurer::altinn3

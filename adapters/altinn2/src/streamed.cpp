#include <kurer/altinn2/streamed.hpp>

namespace kurer::altinn2 {

result<mtom::message> write_upload_message(const upload_request& r, const std::filesystem::path& file,
                                           const mtom::writer_options& options) {
    const std::string content_id = mtom::make_content_id();
    auto root = write_upload_envelope(r, content_id);
    if (!root)
        return root.error();
    std::vector<mtom::attachment> attachments;
    attachments.push_back({content_id, "application/octet-stream", file});
    return mtom::write(std::move(*root), std::move(attachments), options);
}

result<mtom::message> write_download_request_message(const download_request& r,
                                                     const mtom::writer_options& options) {
    auto root = write_download_request(r);
    if (!root)
        return root.error();
    return mtom::write(std::move(*root), {}, options);
}

result<download_request> read_download_request_message(const mtom::parser& finished) {
    return read_download_request(finished.root());
}

result<upload_receipt> read_upload_message(const mtom::parser& finished) {
    return read_upload_response(finished.root());
}

result<downloaded_file> read_download_message(const mtom::parser& finished) {
    auto content_id = read_download_response(finished.root());
    if (!content_id)
        return content_id.error();
    const auto* part = finished.find_attachment(*content_id);
    if (part == nullptr)
        return make_error(errc::attachment_missing,
                          "the download response names cid:" + content_id->substr(0, 100) +
                              ", but no part of the body has that Content-ID",
                          retry::yes);
    return downloaded_file{*content_id, part->size};
}

result<received_upload> read_upload_request_message(const mtom::parser& finished) {
    auto envelope = read_upload_envelope(finished.root());
    if (!envelope)
        return envelope.error();
    received_upload out{std::move(envelope->headers), std::nullopt};
    if (envelope->attachment_content_id) {
        const auto* part = finished.find_attachment(*envelope->attachment_content_id);
        if (part == nullptr)
            return make_error(errc::attachment_missing,
                              "the upload names cid:" + envelope->attachment_content_id->substr(0, 100) +
                                  ", but no part of the body has that Content-ID",
                              retry::no);
        out.data = *part;
    }
    return out;
}

result<mtom::message> write_download_message(const std::filesystem::path& file,
                                             const mtom::writer_options& options) {
    const std::string content_id = mtom::make_content_id();
    auto root = write_download_response(content_id);
    if (!root)
        return root.error();
    std::vector<mtom::attachment> attachments;
    attachments.push_back({content_id, "application/octet-stream", file});
    return mtom::write(std::move(*root), std::move(attachments), options);
}

result<mtom::message> write_fault_message(const soap_fault& fault, const mtom::writer_options& options) {
    auto root = write_fault(fault);
    if (!root)
        return root.error();
    return mtom::write(std::move(*root), {}, options);
}

result<mtom::message> write_upload_response_message(const upload_receipt& receipt,
                                                    const mtom::writer_options& options) {
    auto root = write_upload_response(receipt);
    if (!root)
        return root.error();
    return mtom::write(std::move(*root), {}, options);
}

} // namespace kurer::altinn2

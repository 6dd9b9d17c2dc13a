// The streamed service's messages as MTOM bodies: codec.hpp's envelopes joined with
// mtom.hpp's framing. Client side: the upload request out, the upload receipt and the
// download in. Server side (the sandbox): the upload request in, the download and faults out.
#pragma once

#include <kurer/altinn2/codec.hpp>
#include <kurer/altinn2/mtom.hpp>

#include <filesystem>

namespace kurer::altinn2 {

// ---- client -------------------------------------------------------------------------------

// UploadFileStreamedBasic: the SOAP headers in the root part, `file` streamed as the one
// attachment.
result<mtom::message> write_upload_message(const upload_request& r, const std::filesystem::path& file,
                                           const mtom::writer_options& options = {});

// DownloadFileStreamedBasic as the MTOM encoder of the streamed binding expects it: a
// multipart whose only part is the envelope (what the reference's JAX-WS client sent).
result<mtom::message> write_download_request_message(const download_request& r,
                                                     const mtom::writer_options& options = {});

// The receipt in a finished upload response (MTOM or plain text/xml).
result<upload_receipt> read_upload_message(const mtom::parser& finished);

struct downloaded_file {
    std::string content_id;
    std::uint64_t size = 0;
};
// Checks a finished download response: its root names (xop:Include) the part the sink
// received. A fault in the root is returned as its typed error.
result<downloaded_file> read_download_message(const mtom::parser& finished);

// ---- server -------------------------------------------------------------------------------

// A DownloadFileStreamedBasic request read from a finished parser (MTOM or plain text/xml).
result<download_request> read_download_request_message(const mtom::parser& finished);

struct received_upload {
    upload_request headers;
    // The attachment the DataStream names; absent when the request carried no data for it.
    std::optional<mtom::received_part> data;
};
result<received_upload> read_upload_request_message(const mtom::parser& finished);

// DownloadFileStreamedBasicResponse with `file` streamed as its attachment.
result<mtom::message> write_download_message(const std::filesystem::path& file,
                                             const mtom::writer_options& options = {});
// A fault as the MTOM encoder sends it: a multipart with the fault envelope as its only part.
result<mtom::message> write_fault_message(const soap_fault& fault, const mtom::writer_options& options = {});
// An upload receipt the same way.
result<mtom::message> write_upload_response_message(const upload_receipt& receipt,
                                                    const mtom::writer_options& options = {});

} // namespace kurer::altinn2

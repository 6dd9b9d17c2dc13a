// MIME types of documents in the ASiC-E, as the reference derives them.
#pragma once

#include <string>
#include <string_view>

namespace kurer::dpo {

// The MIME type recorded for a document: the uploader's Content-Type, unless it is empty or
// application/octet-stream, in which case it is derived from the file extension with the
// reference's table (MimeTypeExtensionMapper), defaulting to application/pdf.
std::string document_mime_type(std::string_view file_name, std::string_view declared_content_type = {});

} // namespace kurer::dpo

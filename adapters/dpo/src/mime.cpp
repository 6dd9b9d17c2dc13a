#include <kurer/dpo/mime.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace kurer::dpo {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 20> by_extension{{
    {"pdf", "application/pdf"},
    {"html", "text/html"},
    {"txt", "text/plain"},
    {"xml", "text/xml"},
    {"doc", "application/msword"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"xls", "application/vnd.ms-excel"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"xltx", "application/vnd.openxmlformats-officedocument.spreadsheetml.template"},
    {"ppt", "application/vnd.ms-powerpoint"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"odf", "application/vnd.oasis.opendocument.formula"},
    {"odt", "application/vnd.oasis.opendocument.text"},
    {"fods", "application/vnd.oasis.opendocument.spreadsheet"},
    {"fodp", "application/vnd.oasis.opendocument.presentation"},
    {"fodg", "application/vnd.oasis.opendocument.graphics"},
    {"gif", "image/gif"},
    {"jpeg", "image/jpeg"},
    {"png", "image/png"},
    {"zip", "application/octet-stream"},
}};

} // namespace

std::string document_mime_type(std::string_view file_name, std::string_view declared_content_type) {
    if (!declared_content_type.empty() && declared_content_type != "application/octet-stream")
        return std::string(declared_content_type);
    const auto dot = file_name.rfind('.');
    if (dot != std::string_view::npos) {
        std::string ext(file_name.substr(dot + 1));
        std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
        for (const auto& [e, mime] : by_extension)
            if (e == ext)
                return std::string(mime);
    }
    return "application/pdf";
}

} // namespace kurer::dpo

#include <kurer/altinn2/operations.hpp>

#include <array>
#include <string>

namespace kurer::altinn2 {
namespace {

struct entry {
    operation op;
    std::string_view name;
    std::string_view action;
};

constexpr std::array<entry, 6> operations{{
    {operation::initiate_broker_service, "InitiateBrokerServiceBasic",
     "http://www.altinn.no/services/ServiceEngine/Broker/2015/06/IBrokerServiceExternalBasic/"
     "InitiateBrokerServiceBasic"},
    {operation::check_if_available_files, "CheckIfAvailableFilesBasic",
     "http://www.altinn.no/services/ServiceEngine/Broker/2015/06/IBrokerServiceExternalBasic/"
     "CheckIfAvailableFilesBasic"},
    {operation::get_available_files, "GetAvailableFilesBasic",
     "http://www.altinn.no/services/ServiceEngine/Broker/2015/06/IBrokerServiceExternalBasic/"
     "GetAvailableFilesBasic"},
    {operation::confirm_downloaded, "ConfirmDownloadedBasic",
     "http://www.altinn.no/services/ServiceEngine/Broker/2015/06/IBrokerServiceExternalBasic/"
     "ConfirmDownloadedBasic"},
    {operation::upload_file_streamed, "UploadFileStreamedBasic",
     "http://www.altinn.no/services/ServiceEngine/Broker/2015/06/IBrokerServiceExternalBasicStreamed/"
     "UploadFileStreamedBasic"},
    {operation::download_file_streamed, "DownloadFileStreamedBasic",
     "http://www.altinn.no/services/ServiceEngine/Broker/2015/06/IBrokerServiceExternalBasicStreamed/"
     "DownloadFileStreamedBasic"},
}};

const entry& find(operation op) noexcept {
    for (const auto& e : operations)
        if (e.op == op)
            return e;
    return operations.front();
}

} // namespace

std::string_view operation_name(operation op) noexcept {
    return find(op).name;
}
std::string_view soap_action(operation op) noexcept {
    return find(op).action;
}

std::string soap_action_header(operation op) {
    return "\"" + std::string(soap_action(op)) + "\"";
}

bool is_streamed(operation op) noexcept {
    return op == operation::upload_file_streamed || op == operation::download_file_streamed;
}

std::optional<operation> operation_from_soap_action(std::string_view header) noexcept {
    if (header.size() >= 2 && header.front() == '"' && header.back() == '"')
        header = header.substr(1, header.size() - 2);
    for (const auto& e : operations)
        if (e.action == header)
            return e.op;
    return std::nullopt;
}

} // namespace kurer::altinn2

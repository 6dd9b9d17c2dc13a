// The Altinn 2 broker operations DPO uses, with the service each belongs to and its SOAPAction.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kurer::altinn2 {

enum class operation {
    initiate_broker_service,  // BrokerServiceExternalBasic.svc
    check_if_available_files, // BrokerServiceExternalBasic.svc
    get_available_files,      // BrokerServiceExternalBasic.svc
    confirm_downloaded,       // BrokerServiceExternalBasic.svc
    upload_file_streamed,     // BrokerServiceExternalBasicStreamed.svc (MTOM)
    download_file_streamed,   // BrokerServiceExternalBasicStreamed.svc (MTOM)
};

// The WSDL operation name, e.g. "InitiateBrokerServiceBasic".
std::string_view operation_name(operation op) noexcept;
// The exact SOAPAction value (without the surrounding quotes the HTTP header carries).
std::string_view soap_action(operation op) noexcept;
// The SOAPAction HTTP header's value: the action in double quotes, as SOAP 1.1 writes it.
std::string soap_action_header(operation op);
bool is_streamed(operation op) noexcept;
// Which operation a SOAPAction header (quoted or not) asks for.
std::optional<operation> operation_from_soap_action(std::string_view header) noexcept;

} // namespace kurer::altinn2

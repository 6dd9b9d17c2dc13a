// The XML namespaces of the Altinn 2 broker services. Three of them differ by one letter
// (www / schemas / schema): keep them apart by name, never by retyping the URI.
#pragma once

#include <string_view>

namespace kurer::altinn2::ns {

// SOAP 1.1 envelope (the only SOAP version the Basic bindings speak).
inline constexpr std::string_view soap = "http://schemas.xmlsoap.org/soap/envelope/";
// SOAP 1.2 envelope: recognised only to refuse it with a clear error.
inline constexpr std::string_view soap12 = "http://www.w3.org/2003/05/soap-envelope";
// Operation wrappers and their direct children, upload headers, streamed payload and receipt.
inline constexpr std::string_view service = "http://www.altinn.no/services/ServiceEngine/Broker/2015/06";
// Data contracts: Manifest, RecipientList, BrokerServiceSearch, BrokerServiceAvailableFile...
inline constexpr std::string_view contracts =
    "http://schemas.altinn.no/services/ServiceEngine/Broker/2015/06";
// BrokerServicePoll (the children of CheckIfAvailableFilesBasic/pollParameters).
inline constexpr std::string_view poll = "http://schemas.altinn.no/services/ServiceEngine/Broker/2020/01";
// WCF string arrays (pollParameters/Recipients/string).
inline constexpr std::string_view arrays = "http://schemas.microsoft.com/2003/10/Serialization/Arrays";
// The AltinnFault SOAP fault detail.
inline constexpr std::string_view fault = "http://www.altinn.no/services/common/fault/2009/10";
// manifest.xml / recipients.xml inside the zip ("schema", singular). Not used on the wire.
inline constexpr std::string_view zip_manifest =
    "http://schema.altinn.no/services/ServiceEngine/Broker/2015/06";
inline constexpr std::string_view xsi = "http://www.w3.org/2001/XMLSchema-instance";
inline constexpr std::string_view xop = "http://www.w3.org/2004/08/xop/include";

} // namespace kurer::altinn2::ns

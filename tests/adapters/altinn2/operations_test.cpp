#include <kurer/altinn2/operations.hpp>

#include <boost/test/unit_test.hpp>

using namespace kurer::altinn2;

BOOST_AUTO_TEST_SUITE(operations)

BOOST_AUTO_TEST_CASE(soap_actions_name_service_interface_and_operation) {
    BOOST_TEST(soap_action(operation::get_available_files) ==
               "http://www.altinn.no/services/ServiceEngine/Broker/2015/06/IBrokerServiceExternalBasic/"
               "GetAvailableFilesBasic");
    BOOST_TEST(soap_action(operation::upload_file_streamed).find("IBrokerServiceExternalBasicStreamed/") !=
               std::string_view::npos);
    BOOST_TEST(is_streamed(operation::download_file_streamed));
    BOOST_TEST(!is_streamed(operation::confirm_downloaded));
}

BOOST_AUTO_TEST_CASE(dispatches_quoted_and_bare_soap_action_headers) {
    for (int i = 0; i <= static_cast<int>(operation::download_file_streamed); ++i) {
        const auto op = static_cast<operation>(i);
        const std::string quoted = soap_action_header(op);
        BOOST_TEST(quoted == "\"" + std::string(soap_action(op)) + "\"");
        BOOST_TEST((operation_from_soap_action(quoted) == op), operation_name(op));
        BOOST_TEST((operation_from_soap_action(soap_action(op)) == op));
    }
    BOOST_TEST(
        !operation_from_soap_action("\"http://www.altinn.no/services/2009/10/IAltinnContractBase/Test\"")
             .has_value());
}

BOOST_AUTO_TEST_SUITE_END()

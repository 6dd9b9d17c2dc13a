#include <kurer/dpo/mime.hpp>

#include <boost/test/unit_test.hpp>

using kurer::dpo::document_mime_type;

BOOST_AUTO_TEST_SUITE(mime)

BOOST_AUTO_TEST_CASE(declared_type_wins_unless_it_says_nothing) {
    BOOST_TEST(document_mime_type("arkivmelding.xml", "application/xml") == "application/xml");
    BOOST_TEST(document_mime_type("arkivmelding.xml", "application/octet-stream") == "text/xml");
    BOOST_TEST(document_mime_type("arkivmelding.xml") == "text/xml");
}

BOOST_AUTO_TEST_CASE(extension_table_matches_the_reference) {
    BOOST_TEST(document_mime_type("vedlegg.PDF") == "application/pdf");
    BOOST_TEST(document_mime_type("brev.docx") ==
               "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
    BOOST_TEST(document_mime_type("kart.png") == "image/png");
    BOOST_TEST(document_mime_type("pakke.zip") == "application/octet-stream");
    BOOST_TEST(document_mime_type("bilde.jpg") == "application/pdf"); // the reference maps jpeg, not jpg
    BOOST_TEST(document_mime_type("uten-endelse") == "application/pdf");
}

BOOST_AUTO_TEST_SUITE_END()

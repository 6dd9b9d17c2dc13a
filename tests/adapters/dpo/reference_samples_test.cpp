// The reference's sbd.json samples are where the SBD work starts; here only that they are
// there and say what the dossier says they say.
#include <kurer/testing/paths.hpp>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>

namespace {

boost::json::value read_json(const std::filesystem::path& path) {
    std::ifstream in(path);
    BOOST_TEST_REQUIRE(in.good(), path.string());
    std::stringstream buf;
    buf << in.rdbuf();
    return boost::json::parse(buf.str());
}

} // namespace

BOOST_AUTO_TEST_SUITE(reference_samples)

BOOST_AUTO_TEST_CASE(arkivmelding_sbd_names_its_business_message_after_its_type) {
    const auto sbd =
        read_json(kurer::testing::reference_data("broker/zip/sbd.json.arkivmelding.sample.json"));
    const auto& header = sbd.at("standardBusinessDocumentHeader");
    const auto type = header.at("documentIdentification").at("type").as_string();
    BOOST_TEST(type == "arkivmelding");
    BOOST_TEST(sbd.as_object().contains(type));
    BOOST_TEST(sbd.as_object().size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

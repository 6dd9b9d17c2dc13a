// The sandbox's Altinn 2 broker serves the real WSDLs on ?wsdl once it is told where they are,
// and takes SOAP POSTs at the ?wsdl URL the reference client posts to.
#include "broker_fixture.hpp"

#include <kurer/core/uuid.hpp>

#define BOOST_TEST_MODULE altinn2_sandbox_wsdl
#include <boost/test/unit_test.hpp>

namespace fs = std::filesystem;
using kurer::test::broker_fixture;
using kurer::test::org_a;
using kurer::test::org_b;
using kurer::test::run;

namespace {

kurer::http::response get(broker_fixture& f, const std::string& path) {
    kurer::http::request req;
    req.url = f.sb.base_url() + path;
    return run(f.io, f.http->send(std::move(req))).value();
}

} // namespace

BOOST_AUTO_TEST_CASE(serves_the_real_wsdls_when_told_where_they_are) {
    broker_fixture f;
    const std::string basic = "/ServiceEngineExternal/BrokerServiceExternalBasic.svc";
    const std::string streamed = "/ServiceEngineExternal/BrokerServiceExternalBasicStreamed.svc";

    // Not configured: a 404 that says how to configure it.
    auto none = get(f, basic + "?wsdl");
    BOOST_TEST(none.status == 404u);
    BOOST_TEST(none.body.find("wsdl_dir") != std::string::npos);

    const fs::path dir = kurer::testing::reference_data("broker/a2");
    f.altinn2_settings(R"({"wsdl_dir": ")" + dir.string() + R"("})");
    for (const auto& [path, file] : {std::pair{basic, "BrokerServiceExternalBasic.wsdl"},
                                     std::pair{streamed, "BrokerServiceExternalBasicStreamed.wsdl"}}) {
        auto r = get(f, path + "?wsdl");
        BOOST_TEST(r.status == 200u);
        BOOST_TEST(r.header("Content-Type").starts_with("text/xml"));
        BOOST_TEST((r.body == kurer::read_small_file(dir / file, 8 << 20).value()), path);
    }
    // GET without ?wsdl is not a WSDL request.
    BOOST_TEST(get(f, basic).status == 400u);

    // The reference client posts to its "...svc?wsdl" URL: that works as well.
    auto cfg = f.config_for(org_a);
    cfg.broker.basic_url += "?wsdl";
    cfg.broker.streamed_url += "?wsdl";
    auto a = f.client(cfg);
    const auto package = f.dir / "sbd.zip";
    kurer::test::write_zip_like(package, 1000);
    auto ref = run(f.io, a.initiate(org_a, kurer::random_uuid(), org_b));
    BOOST_TEST_REQUIRE(ref.has_value(), (ref ? "" : ref.error().describe()));
    auto up = run(f.io, a.upload(*ref, org_a, package));
    BOOST_TEST_REQUIRE(up.has_value(), (up ? "" : up.error().describe()));
    BOOST_TEST(run(f.io, f.client_for(org_b).check(org_b)).value());
}

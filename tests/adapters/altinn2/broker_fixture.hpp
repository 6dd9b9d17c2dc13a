// A kurer-sandbox child with three organisations and broker clients for them, for the Altinn 2
// client's integration tests.
#pragma once

#include "../http/run.hpp"

#include <kurer/altinn2/client.hpp>
#include <kurer/core/files.hpp>
#include <kurer/http/client.hpp>
#include <kurer/sandbox/child.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <memory>
#include <random>
#include <string>

namespace kurer::test {

inline constexpr const char* org_a = "910077473";
inline constexpr const char* org_b = "910075918";
inline constexpr const char* org_c = "910076787";

struct broker_fixture {
    testing::scratch_dir dir;
    boost::asio::io_context io;
    sandbox::child sb;
    std::shared_ptr<http::client> http;

    explicit broker_fixture(std::vector<std::string> serve_args = {})
        : sb(sandbox::child::start(
                 testing::executable("kurer-sandbox"), dir / "sb",
                 {.organizations = {org_a, org_b, org_c}, .serve_args = std::move(serve_args)})
                 .value()) {
        http::client_config hc;
        hc.ca_bundle = sb.dir() / "ca/ca.pem";
        http = std::make_shared<http::client>(http::client::create(io.get_executor(), hc).value());
    }

    // The broker section of the organisation's generated kurer.json, as the client's config.
    altinn2::client_config config_for(const std::string& org) const {
        auto text = read_small_file(sb.dir() / "orgs" / org / "kurer.json", 1 << 20).value();
        const auto v = boost::json::parse(text);
        const auto& a2 = v.at("broker").at("altinn2");
        altinn2::client_config c;
        c.broker.basic_url = a2.at("basic_url").as_string();
        c.broker.streamed_url = a2.at("streamed_url").as_string();
        c.broker.account.system_user = a2.at("system_user").as_string();
        c.broker.account.system_password = a2.at("system_password").as_string();
        c.broker.service.code = a2.at("service_code").as_string();
        c.broker.service.edition = static_cast<std::int32_t>(a2.at("service_edition").as_int64());
        c.organization = org;
        c.backoff = std::chrono::milliseconds(20);
        return c;
    }

    altinn2::broker_client client(const altinn2::client_config& c) const {
        return altinn2::broker_client::create(http, c).value();
    }
    altinn2::broker_client client_for(const std::string& org) const { return client(config_for(org)); }

    // A control request to the sandbox (POST JSON, DELETE, GET); the answer's body.
    std::string control(http::verb method, const std::string& path, std::string body = {}) {
        http::request req;
        req.method = method;
        req.url = sb.base_url() + path;
        if (!body.empty()) {
            req.headers.set("Content-Type", "application/json");
            req.body = http::body_source::from_string(std::move(body));
        }
        auto r = run(io, http->send(std::move(req)));
        BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().message));
        BOOST_TEST_REQUIRE(r->ok(), path << ": " << r->status << " " << r->body);
        return r->body;
    }
    void altinn2_settings(const std::string& json) { control(http::verb::post, "/sandbox/altinn2", json); }
    void add_fault(const std::string& json) { control(http::verb::post, "/sandbox/faults", json); }

    // How many requests the sandbox saw for "METHOD path".
    std::int64_t requests(const std::string& key) {
        const auto v = boost::json::parse(control(http::verb::get, "/sandbox/stats"));
        const auto* counts = v.as_object().if_contains("requests");
        const auto& o = counts ? counts->as_object() : v.as_object();
        const auto* n = o.if_contains(key);
        return n ? n->to_number<std::int64_t>() : 0;
    }
};

// A file that starts like a zip ("PK\3\4") followed by pseudo-random bytes: the broker only
// looks at the signature, and random bytes show any corruption on the way.
inline void write_zip_like(const std::filesystem::path& p, std::uint64_t size, unsigned seed = 1) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    std::mt19937_64 random(seed);
    std::string block(64 * 1024, '\0');
    std::uint64_t left = size;
    bool first = true;
    while (left > 0) {
        for (std::size_t i = 0; i < block.size(); i += 8) {
            const auto x = random();
            std::memcpy(block.data() + i, &x, 8);
        }
        if (first && block.size() >= 4) {
            block[0] = 'P';
            block[1] = 'K';
            block[2] = 3;
            block[3] = 4;
            first = false;
        }
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, block.size()));
        out.write(block.data(), static_cast<std::streamsize>(n));
        left -= n;
    }
}

} // namespace kurer::test

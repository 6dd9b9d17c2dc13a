// Test support: one kurer-sandbox (broker altinn3) per test executable, and per organisation a
// Maskinporten provider, an Altinn 3 client and its broker facade over real TLS.
#pragma once

#include "../http/run.hpp"

#include <kurer/altinn3/broker.hpp>
#include <kurer/altinn3/client.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/http/client.hpp>
#include <kurer/maskinporten/grant.hpp>
#include <kurer/maskinporten/token_provider.hpp>
#include <kurer/sandbox/child.hpp>
#include <kurer/testing/paths.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <random>
#include <thread>

namespace asio = boost::asio;
namespace http = kurer::http;
namespace mp = kurer::maskinporten;
namespace a3 = kurer::altinn3;
namespace sandbox = kurer::sandbox;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace kurer::test::altinn3 {

constexpr const char* sender_org = "910077473";
constexpr const char* receiver_org = "910075918";

struct sandbox_fixture {
    kurer::testing::scratch_dir dir;
    sandbox::child sb;

    sandbox_fixture()
        : sb(sandbox::child::start(kurer::testing::executable("kurer-sandbox"), dir / "sandbox",
                                   {.broker = "altinn3"})
                 .value()) {}
};

inline http::request request(http::verb method, std::string url) {
    http::request r;
    r.method = method;
    r.url = std::move(url);
    return r;
}

inline sandbox_fixture& shared() {
    static sandbox_fixture f;
    return f;
}

// One organisation's view: Maskinporten provider, Altinn 3 client and broker facade.
struct party {
    std::string org;
    std::unique_ptr<mp::token_provider> provider;
    std::unique_ptr<a3::client> client;
    std::unique_ptr<a3::broker> broker;
};

struct test_context {
    const sandbox::child* sb; // the shared sandbox unless a test brings its own
    asio::io_context io;
    http::client http;
    kurer::testing::scratch_dir scratch;

    explicit test_context(const sandbox::child* own = nullptr)
        : sb(own ? own : &shared().sb)
        , http(http::client::create(io.get_executor(), {.ca_bundle = sb->dir() / "ca/ca.pem"}).value()) {}

    std::string base() const { return sb->base_url(); }

    a3::config config(std::string resource = std::string(a3::dpo_resource)) const {
        return {.base_url = base() + "/broker/api/v1",
                .exchange_url = base() + "/authentication/api/v1/exchange/maskinporten",
                .resource_id = std::move(resource)};
    }

    party make_party(std::string org, std::string channel = {}, a3::config cfg = {}) {
        if (cfg.base_url.empty())
            cfg = config();
        const auto dir = sb->dir() / "orgs" / org;
        auto creds = mp::credentials::load(dir / "cert.pem", dir / "key.pem").value();
        party p;
        p.org = org;
        p.provider = std::make_unique<mp::token_provider>(
            mp::token_provider::create(
                http,
                {.token_url = base() + "/token", .audience = base() + "/", .client_id = "MOVE_IP_" + org},
                std::move(creds))
                .value());
        auto tokens = a3::system_user_tokens(
            *p.provider,
            {.organization = org, .external_ref = org + "_integrasjonspunkt_systembruker_" + org});
        p.client = std::make_unique<a3::client>(http, std::move(cfg), std::move(tokens));
        p.broker = std::make_unique<a3::broker>(*p.client, org, std::move(channel));
        return p;
    }

    template <class T>
    T run(asio::awaitable<T> work) {
        return kurer::test::run(io, std::move(work));
    }

    http::response raw(http::request r) { return run(http.send(std::move(r))).value(); }

    http::response control(http::verb method, std::string path, std::string body = {}) {
        auto r = request(method, base() + path);
        if (!body.empty()) {
            r.headers.set("Content-Type", "application/json");
            r.body = http::body_source::from_string(std::move(body));
        }
        return raw(std::move(r));
    }

    void switches(std::string json) {
        BOOST_TEST_REQUIRE(control(http::verb::post, "/sandbox/altinn3", json).status == 200u);
    }

    std::uint64_t requests_seen(const std::string& key) {
        const auto stats = boost::json::parse(control(http::verb::get, "/sandbox/stats").body);
        const auto* n = stats.at("requests").as_object().if_contains(key);
        return n ? static_cast<std::uint64_t>(n->to_number<std::int64_t>()) : 0;
    }

    fs::path write_file(std::string name, std::size_t size) {
        const auto path = scratch / name;
        std::ofstream out(path, std::ios::binary);
        std::mt19937 rng(static_cast<unsigned>(size));
        for (std::size_t i = 0; i < size; ++i)
            out.put(static_cast<char>(rng()));
        return path;
    }

    // Initialize + upload from `from` to `to`; returns the id.
    std::string send(party& from, std::string to, const fs::path& file,
                     std::string reference = kurer::random_uuid()) {
        auto id = run(from.broker->initiate({.sender = sender_of(from),
                                             .receiver = std::move(to),
                                             .senders_reference = std::move(reference),
                                             .file = file}));
        BOOST_TEST_REQUIRE(id.has_value(), id.error().message);
        auto up = run(from.broker->upload(*id, file));
        BOOST_TEST_REQUIRE(up.has_value(), up.error().message);
        BOOST_TEST((*up == a3::upload_result::uploaded));
        return *id;
    }

    static std::string sender_of(const party& p) { return p.org; }

    // Waits (with a deadline) until the broker has processed the upload.
    void wait_published(party& p, const std::string& id) {
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        for (;;) {
            auto o = run(p.client->overview(id));
            BOOST_TEST_REQUIRE(o.has_value(), o.error().message);
            if (o->status == "Published")
                return;
            BOOST_TEST_REQUIRE(o->status == "UploadProcessing");
            BOOST_TEST_REQUIRE((std::chrono::steady_clock::now() < deadline), "never published");
            std::this_thread::sleep_for(20ms); // the broker's processing is asynchronous by design
        }
    }
};

inline std::string read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

template <class T>
a3::errc code_of(const kurer::result<T>& r) {
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST_REQUIRE((r.error().code.category() == a3::altinn3_category()), r.error().message);
    return static_cast<a3::errc>(r.error().code.value());
}

} // namespace kurer::test::altinn3

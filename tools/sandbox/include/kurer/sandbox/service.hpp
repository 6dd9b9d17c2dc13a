// How a service plugs into the sandbox.
//
// A service is a set of routes on the sandbox's router (Maskinporten, the Service Registry, the
// Altinn 2 and Altinn 3 brokers, the control endpoints). Every request passes the request log
// and fault injection first, so a new service gets both without doing anything. To add one:
// implement `service`, add a line to make_services() in src/services.cpp.
//
//   class altinn3_service final : public service {
//   public:
//       std::string_view name() const override { return "altinn3"; }
//       void register_routes(http::router& r, context& ctx) override {
//           r.add(http::verb::post, "/broker/api/v1/filetransfer/{id}/upload",
//                 [&ctx](http::exchange ex) -> asio::awaitable<void> {
//                     auto caller = ctx.authority().verify_bearer(ex.header("Authorization"));
//                     ...
//                     auto n = co_await ex.read_body_to_file(ctx.broker_dir() / id, 1ull << 30);
//                     ...
//                 });
//       }
//   };
//
// Handlers run on the sandbox's single I/O thread, so services may keep plain in-memory state;
// CPU-heavy work (RSA, zip, XML) goes through ctx.blocking().
#pragma once

#include <kurer/core/log.hpp>
#include <kurer/http/server.hpp>
#include <kurer/sandbox/state.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kurer::sandbox {

class token_authority;
class settings;

class context {
public:
    virtual ~context() = default;

    virtual const std::filesystem::path& dir() const = 0; // the sandbox directory
    std::filesystem::path broker_dir() const { return dir() / "broker"; }
    virtual const state& current_state() const = 0;
    virtual std::string base_url() const = 0; // https://127.0.0.1:<port>
    // Issues and verifies Maskinporten access tokens (the exchange endpoint and broker APIs
    // verify the tokens clients bring).
    virtual token_authority& authority() = 0;
    virtual settings& switches() = 0;
    // The sandbox's clock (settings can skew it).
    virtual std::chrono::system_clock::time_point now() const = 0;
    virtual boost::asio::any_io_executor executor() const = 0;
    virtual boost::asio::any_io_executor blocking() const = 0; // a worker pool
    virtual void log(log_level level, std::string_view message) = 0;
};

class service {
public:
    virtual ~service() = default;
    virtual std::string_view name() const = 0;
    virtual void register_routes(http::router& router, context& ctx) = 0;
};

// Every service kurer-sandbox serves, in registration order.
std::vector<std::unique_ptr<service>> make_services();

// The built-in services.
std::unique_ptr<service> make_maskinporten_service();
std::unique_ptr<service> make_service_registry_service();

} // namespace kurer::sandbox

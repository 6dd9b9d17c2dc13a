// Fault injection, generic over every service: rules matched on path prefix (and method)
// that add latency, answer with an error instead of the service, or let the service answer and
// cut the connection after some bytes of it. Rules come from `serve --fault JSON` and from
// POST /sandbox/faults; paths under /sandbox/ are never faulted.
//
//   {"path_prefix": "/token", "method": "POST", "status": 503, "body": "down", "count": 2}
//   {"path_prefix": "/adressetjeneste/", "latency_ms": 1500, "rate": 0.5}
//   {"path_prefix": "/broker/api/v1/filetransfer", "reset_after_bytes": 100}
#pragma once

#include <kurer/core/error.hpp>
#include <kurer/http/server.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace kurer::sandbox {

struct fault_rule {
    std::string path_prefix = "/";
    std::optional<std::string> method;    // e.g. "POST"; any when absent
    std::chrono::milliseconds latency{0}; // applied first
    std::optional<unsigned> status;       // answer this instead of the service
    std::string body;                     // ... with this body
    std::string content_type = "text/plain; charset=utf-8";
    std::optional<std::uint64_t> reset_after_bytes; // the service answers; the connection dies after N bytes
    double rate = 1.0;                              // probability per matching request
    std::optional<std::uint64_t> count;             // applies to the next N matching requests only
    std::uint64_t applied = 0;

    static result<fault_rule> from_json(const boost::json::value& v);
    boost::json::object to_json() const;
};

class fault_injector {
public:
    explicit fault_injector(boost::asio::any_io_executor executor);

    // A rule object, an array of them, or {"rules": [...]}; appended after the existing rules.
    result<void> add(const boost::json::value& v);
    void clear();
    boost::json::array list() const;

    // The first live rule matching the request, after drawing its rate (consumes one of its count).
    std::optional<fault_rule> take(std::string_view method, std::string_view path);

    http::middleware middleware();

private:
    boost::asio::any_io_executor executor_;
    std::vector<fault_rule> rules_;
    std::mt19937_64 random_;
};

} // namespace kurer::sandbox

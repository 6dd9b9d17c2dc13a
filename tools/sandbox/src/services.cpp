#include <kurer/sandbox/service.hpp>

namespace kurer::sandbox {

std::unique_ptr<service> make_altinn2_service(); // altinn2_service.cpp
std::unique_ptr<service> make_altinn3_service(); // src/altinn3_service.cpp

// Every service kurer-sandbox serves. A new service (the Altinn brokers) adds its line here.
std::vector<std::unique_ptr<service>> make_services() {
    std::vector<std::unique_ptr<service>> out;
    out.push_back(make_maskinporten_service());
    out.push_back(make_service_registry_service());
    out.push_back(make_altinn2_service());
    out.push_back(make_altinn3_service());
    return out;
}

} // namespace kurer::sandbox

// The main of every test executable. A test that reads ../shared/protocol/data is registered
// with KURER_REQUIRES_REFERENCE_DATA=1; when that folder is missing it exits with 77, which
// CTest reports as skipped, after saying why.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace {

bool init_unit_test() {
    return true;
}

} // namespace

int main(int argc, char* argv[]) {
    if (const char* required = std::getenv("KURER_REQUIRES_REFERENCE_DATA"); required && *required == '1') {
        const char* dir = std::getenv("KURER_REFERENCE_DATA");
        if (dir == nullptr || !std::filesystem::is_directory(dir)) {
            std::cout << "skipped: this test reads the reference data in ../shared/protocol/data, and "
                      << (dir ? dir : "(KURER_REFERENCE_DATA unset)") << " is not a directory\n";
            return 77;
        }
    }
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}

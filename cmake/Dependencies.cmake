# Every third-party package kurer uses, declared once. All come from Debian 12's
# archive (tools/setup installs them); nothing is downloaded at build time.

find_package(Threads REQUIRED)
find_package(Boost 1.81.0 EXACT REQUIRED CONFIG COMPONENTS json url system unit_test_framework)
find_package(OpenSSL 3 REQUIRED)
find_package(RocksDB 7.8 REQUIRED CONFIG)
find_package(PkgConfig REQUIRED)
# libzip via pkg-config: Debian's CMake package names tools (zipcmp, ...) that libzip-dev does not install.
pkg_check_modules(LibZip REQUIRED IMPORTED_TARGET libzip>=1.7)
pkg_check_modules(Botan REQUIRED IMPORTED_TARGET botan-2>=2.19)
pkg_check_modules(XercesC REQUIRED IMPORTED_TARGET xerces-c>=3.2)
# Europe/Oslo from the system's tzdata (/usr/share/zoneinfo): Debian's date-tz is built with
# USE_SYSTEM_TZ_DB, and its target date::date-tz carries USE_OS_TZDB=1 (no download code).
find_package(date 3.0 REQUIRED CONFIG)
# CLI11 (libcli11-dev, header-only): the command line of every executable, through kurer::cli.
# Debian's package ships its CMake config (/usr/share/cmake/CLI11) with the target CLI11::CLI11.
find_package(CLI11 2.1 REQUIRED CONFIG)

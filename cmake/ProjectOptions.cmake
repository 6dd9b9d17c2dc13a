# Project-wide switches and the two INTERFACE targets every kurer target links PRIVATE:
#   kurer::warnings  the warning set (clean under -Wall -Wextra -Wpedantic)
#   kurer::options   sanitizers and hardening chosen by the options below

option(KURER_BUILD_TESTS "Build the test suite" ON)
option(KURER_WARNINGS_AS_ERRORS "Treat compiler warnings as errors" OFF)
option(KURER_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(KURER_SANITIZE_THREAD "Build with ThreadSanitizer (the tsan preset)" OFF)
if(KURER_SANITIZE AND KURER_SANITIZE_THREAD)
  message(FATAL_ERROR "KURER_SANITIZE and KURER_SANITIZE_THREAD cannot be combined: use two build trees")
endif()
set(KURER_REFERENCE_DATA "${PROJECT_SOURCE_DIR}/../shared/protocol/data"
    CACHE PATH "Reference samples (WSDLs, XSDs, fixtures) read by tests labelled reference-data")

add_library(kurer_warnings INTERFACE)
add_library(kurer::warnings ALIAS kurer_warnings)
target_compile_options(kurer_warnings INTERFACE -Wall -Wextra -Wpedantic)
# GCC 12 reports -Wrestrict inside libstdc++'s std::string when optimising (GCC bugs 105329,
# 105651): a false positive on any string concatenation, fixed in GCC 13. It also reports
# -Wmismatched-new-delete on coroutine frames whose promise has its own operator new/delete,
# as Asio's awaitables do (GCC bug 109224), seen in the sanitizer build.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(kurer_warnings INTERFACE -Wno-restrict -Wno-mismatched-new-delete)
endif()
if(KURER_WARNINGS_AS_ERRORS)
  target_compile_options(kurer_warnings INTERFACE -Werror)
endif()

add_library(kurer_options INTERFACE)
add_library(kurer::options ALIAS kurer_options)
target_compile_features(kurer_options INTERFACE cxx_std_20)
if(KURER_SANITIZE)
  target_compile_options(kurer_options INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(kurer_options INTERFACE -fsanitize=address,undefined)
  # The sanitizers' instrumentation defeats GCC's flow analysis: -Wmaybe-uninitialized then
  # fires on std::regex, std::function and variant-based results that are always initialised
  # (the GCC manual warns that these warnings depend on optimisation). The release build
  # keeps the warning.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(kurer_options INTERFACE -Wno-maybe-uninitialized)
  endif()
endif()
if(KURER_SANITIZE_THREAD)
  target_compile_options(kurer_options INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(kurer_options INTERFACE -fsanitize=thread)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC notes that TSan does not model std::atomic_thread_fence (libstdc++'s shared_ptr and
    # Asio use it); the races TSan reports are still real. Flow analysis as above.
    target_compile_options(kurer_options INTERFACE -Wno-tsan -Wno-maybe-uninitialized)
  endif()
endif()

# kurer_add_test(<name> SOURCES <files...> [LIBRARIES <targets...>] [LABELS <labels...>]
#                [REFERENCE_DATA] [TIMEOUT <seconds>] [RUN_SERIAL])
#
# Builds one Boost.Test executable (linked with the shared test main in
# tests/support) and registers it with CTest. REFERENCE_DATA adds the label
# `reference-data` and points the test at KURER_REFERENCE_DATA; when that folder
# is absent the test reports itself skipped (exit code 77) with a message.
function(kurer_add_test name)
  cmake_parse_arguments(arg "REFERENCE_DATA;RUN_SERIAL" "TIMEOUT" "SOURCES;LIBRARIES;LABELS" ${ARGN})
  add_executable(${name} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE kurer::testing ${arg_LIBRARIES} kurer::options kurer::warnings)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
  add_test(NAME ${name} COMMAND ${name} --log_level=unit_scope --report_level=short --color_output=false)
  set(labels ${arg_LABELS})
  set(env "KURER_BIN_DIR=${PROJECT_BINARY_DIR}/bin" "KURER_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  if(arg_REFERENCE_DATA)
    list(APPEND labels reference-data)
    list(APPEND env "KURER_REFERENCE_DATA=${KURER_REFERENCE_DATA}" "KURER_REQUIRES_REFERENCE_DATA=1")
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES
    LABELS "${labels}"
    ENVIRONMENT "${env}"
    TIMEOUT ${arg_TIMEOUT}
    SKIP_RETURN_CODE 77)
  if(arg_RUN_SERIAL)
    set_tests_properties(${name} PROPERTIES RUN_SERIAL TRUE)
  endif()
endfunction()

# kurer_add_smoke_test(<executable target> <args...>): the program runs and exits 0.
function(kurer_add_smoke_test target)
  add_test(NAME smoke.${target} COMMAND $<TARGET_FILE:${target}> ${ARGN})
  set_tests_properties(smoke.${target} PROPERTIES LABELS unit TIMEOUT 30
    PASS_REGULAR_EXPRESSION "${target} ${PROJECT_VERSION}")
endfunction()

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

# kurer_link_closure(<out-var> <target>): every target <target> is linked with, directly or
# through others (PUBLIC and INTERFACE dependencies, and the PRIVATE ones of static libraries,
# which CMake records as $<LINK_ONLY:...>), by their real names (aliases resolved). Plain library
# names and other generator expressions are not followed.
function(kurer_link_closure out target)
  set(seen)
  get_target_property(queue ${target} LINK_LIBRARIES)
  if(NOT queue)
    set(queue)
  endif()
  while(queue)
    list(POP_FRONT queue t)
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" t "${t}")
    if(NOT TARGET "${t}")
      continue()
    endif()
    get_target_property(real ${t} ALIASED_TARGET)
    if(real)
      set(t ${real})
    endif()
    if(t IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${t})
    get_target_property(deps ${t} INTERFACE_LINK_LIBRARIES)
    if(deps)
      list(APPEND queue ${deps})
    endif()
  endwhile()
  list(SORT seen)
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

# kurer_add_link_check(<name> TARGETS <executables...> ALLOWED_KURER <regex> FORBIDDEN <regex>
#                      FORBIDDEN_LIBRARIES <regex>)
#
# A CTest test (label unit) that fails when one of the executables would link a kurer target
# not matching ALLOWED_KURER, or any target matching FORBIDDEN (both judged on the CMake link
# closure, so a dependency added but unused still fails), or when the built executable loads a
# shared library matching FORBIDDEN_LIBRARIES (ldd). What it checked is written to
# <build>/<dir>/<name>.cmake.
function(kurer_add_link_check name)
  cmake_parse_arguments(arg "" "ALLOWED_KURER;FORBIDDEN;FORBIDDEN_LIBRARIES" "TARGETS" ${ARGN})
  set(content "")
  foreach(target IN LISTS arg_TARGETS)
    kurer_link_closure(closure ${target})
    string(APPEND content "list(APPEND KURER_CHECKED [[${target}]])\n"
                          "set(KURER_BINARY_${target} [[$<TARGET_FILE:${target}>]])\n"
                          "set(KURER_LINKS_${target} [[${closure}]])\n")
  endforeach()
  string(APPEND content "set(KURER_ALLOWED_KURER [[${arg_ALLOWED_KURER}]])\n"
                        "set(KURER_FORBIDDEN [[${arg_FORBIDDEN}]])\n"
                        "set(KURER_FORBIDDEN_LIBRARIES [[${arg_FORBIDDEN_LIBRARIES}]])\n")
  file(GENERATE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/${name}.cmake CONTENT "${content}")
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} -DMANIFEST=${CMAKE_CURRENT_BINARY_DIR}/${name}.cmake
                                -P ${PROJECT_SOURCE_DIR}/cmake/CheckLinks.cmake)
  set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT 30)
endfunction()

# Shared by the tests/install checks (cmake -P scripts): running a step, and building the
# consumer of tests/install/consumer with CMake (find_package) or with pkg-config alone.
#
# Every script takes -D WORK_DIR=... -D GENERATOR=... -D CXX_COMPILER=... and optionally
# -D CXX_FLAGS=... (the build's sanitizer flags) and -D LAUNCHER=... (e.g. ccache).

function(torsion_require)
  foreach(var ${ARGN})
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
      message(FATAL_ERROR "${CMAKE_SCRIPT_MODE_FILE}: -D ${var}=... is required")
    endif()
  endforeach()
endfunction()

# run(WHAT COMMAND...): runs COMMAND, fails the check if it fails.
function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install check: ${what} failed (${rc}): ${ARGN}")
  endif()
endfunction()

# run_output(VAR WHAT COMMAND...): runs COMMAND, fails if it fails, its stdout in VAR.
function(run_output out what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE output ERROR_VARIABLE error
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install check: ${what} failed (${rc}): ${ARGN}\n${output}\n${error}")
  endif()
  set(${out} "${output}" PARENT_SCOPE)
endfunction()

# consumer_with_cmake(PREFIX BUILD): configures, builds and runs tests/install/consumer
# against the torsion package in PREFIX alone, and checks that it was found there.
function(consumer_with_cmake prefix build)
  set(launcher)
  if(LAUNCHER)
    set(launcher -D CMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
  endif()
  run("configuring the find_package consumer" ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR}/consumer -B ${build}
      -G ${GENERATOR} -D CMAKE_CXX_COMPILER=${CXX_COMPILER} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" ${launcher}
      -D CMAKE_PREFIX_PATH=${prefix} -D CMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
      -D CMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
  run("building the find_package consumer" ${CMAKE_COMMAND} --build ${build})
  # The consumer must have found the package in the prefix, not elsewhere.
  file(STRINGS ${build}/CMakeCache.txt torsion_dir REGEX "^torsion_DIR:")
  string(FIND "${torsion_dir}" "${prefix}" in_prefix)
  if(in_prefix EQUAL -1)
    message(FATAL_ERROR "install check: find_package(torsion) did not use ${prefix}: ${torsion_dir}")
  endif()
  run("running the find_package consumer" ${build}/torsion_consumer)
endfunction()

# consumer_with_pkg_config(PC_DIR BUILD): compiles tests/install/consumer/main.cpp with
# `pkg-config --cflags --libs torsion torsion-testing` and nothing else, from PC_DIR
# alone, and runs it.
function(consumer_with_pkg_config pc_dir build)
  find_program(PKG_CONFIG pkg-config REQUIRED)
  file(MAKE_DIRECTORY ${build})
  set(ENV{PKG_CONFIG_PATH} ${pc_dir})
  run_output(found "finding torsion.pc" ${PKG_CONFIG} --path torsion)
  string(FIND "${found}" "${pc_dir}" in_dir)
  if(NOT in_dir EQUAL 0)
    message(FATAL_ERROR "install check: pkg-config found torsion at ${found}, not in ${pc_dir}")
  endif()
  run_output(cflags "pkg-config --cflags" ${PKG_CONFIG} --cflags torsion torsion-testing)
  run_output(libs "pkg-config --libs" ${PKG_CONFIG} --libs torsion torsion-testing)
  # A shared build's consumer finds the libraries where pkg-config said they are.
  run_output(libdir "pkg-config --variable=libdir" ${PKG_CONFIG} --variable=libdir torsion)
  string(APPEND libs " -Wl,-rpath,${libdir}")
  message(STATUS "pkg-config --cflags: ${cflags}")
  message(STATUS "pkg-config --libs: ${libs}")
  separate_arguments(cflags UNIX_COMMAND "${cflags}")
  separate_arguments(libs UNIX_COMMAND "${libs}")
  separate_arguments(extra UNIX_COMMAND "${CXX_FLAGS}")
  run("compiling the pkg-config consumer" ${CXX_COMPILER} ${extra} ${cflags}
      ${CMAKE_CURRENT_LIST_DIR}/consumer/main.cpp -o ${build}/torsion_consumer ${libs})
  run("running the pkg-config consumer" ${build}/torsion_consumer)
endfunction()

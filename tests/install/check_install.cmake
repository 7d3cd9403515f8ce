# cmake -D BUILD_DIR=... -D WORK_DIR=... -D GENERATOR=... -D CXX_COMPILER=...
#       [-D CXX_FLAGS=...] [-D LAUNCHER=...] [-D WITH=cmake|pkg-config] -P check_install.cmake
#
# Proves torsion is installable: `cmake --install` of BUILD_DIR into a fresh prefix, then
# the consumer of tests/install/consumer (which sets no C++ standard) is built and run
# against that prefix alone, through find_package (WITH=cmake, the default; CTest
# install.find_package_consumer) or through pkg-config (WITH=pkg-config; CTest
# install.pkg_config_consumer).
include(${CMAKE_CURRENT_LIST_DIR}/install_common.cmake)
torsion_require(BUILD_DIR WORK_DIR GENERATOR CXX_COMPILER)
if(NOT WITH)
  set(WITH cmake)
endif()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

run("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

if(WITH STREQUAL "cmake")
  consumer_with_cmake(${prefix} ${WORK_DIR}/consumer-build)
  message(STATUS "install check: ${prefix} works with find_package(torsion)")
elseif(WITH STREQUAL "pkg-config")
  file(GLOB_RECURSE pc_file ${prefix}/*/torsion.pc)
  if(NOT pc_file)
    message(FATAL_ERROR "install check: no torsion.pc installed under ${prefix}")
  endif()
  get_filename_component(pc_dir ${pc_file} DIRECTORY)
  consumer_with_pkg_config(${pc_dir} ${WORK_DIR}/consumer-build)
  message(STATUS "install check: ${prefix} works with pkg-config torsion")
else()
  message(FATAL_ERROR "check_install.cmake: WITH must be cmake or pkg-config, not '${WITH}'")
endif()

# cmake -D BUILD_DIR=... -D WORK_DIR=... -D GENERATOR=... -D CXX_COMPILER=...
#       [-D CXX_FLAGS=...] [-D LAUNCHER=...] -P check_deb.cmake
#
# Proves the Debian package: `cpack -G DEB` in BUILD_DIR makes libtorsion-dev_*.deb,
# whose control data is checked, which is unpacked into a temporary root (as dpkg -i
# would place its files, without touching this machine's /usr), and against which the
# consumer of tests/install/consumer is built with find_package and with pkg-config.
# Registered as the CTest install.deb.
include(${CMAKE_CURRENT_LIST_DIR}/install_common.cmake)
torsion_require(BUILD_DIR WORK_DIR GENERATOR CXX_COMPILER)
# cpack from the same CMake as this script.
get_filename_component(cmake_bin ${CMAKE_COMMAND} DIRECTORY)
set(CPACK ${cmake_bin}/cpack)
find_program(DPKG_DEB dpkg-deb REQUIRED)

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/package)

run("cpack -G DEB" ${CPACK} -G DEB --config ${BUILD_DIR}/CPackConfig.cmake -B ${WORK_DIR}/package)
file(GLOB deb ${WORK_DIR}/package/libtorsion-dev_*.deb)
list(LENGTH deb count)
if(NOT count EQUAL 1)
  message(FATAL_ERROR "install check: expected one libtorsion-dev_*.deb in ${WORK_DIR}/package, found: ${deb}")
endif()

run_output(package "reading the package name" ${DPKG_DEB} --field ${deb} Package)
run_output(depends "reading the package dependencies" ${DPKG_DEB} --field ${deb} Depends)
if(NOT package STREQUAL "libtorsion-dev" OR NOT depends MATCHES "libfmt-dev")
  message(FATAL_ERROR "install check: unexpected control data: Package '${package}', Depends '${depends}'")
endif()

set(root ${WORK_DIR}/root)
run("unpacking the package" ${DPKG_DEB} --extract ${deb} ${root})
foreach(expected usr/include/torsion/torsion.hpp usr/include/torsion/protocols/echo.hpp)
  if(NOT EXISTS ${root}/${expected})
    message(FATAL_ERROR "install check: the package has no /${expected}")
  endif()
endforeach()

consumer_with_cmake(${root}/usr ${WORK_DIR}/cmake-consumer)
file(GLOB_RECURSE pc_file ${root}/usr/*/torsion.pc)
if(NOT pc_file)
  message(FATAL_ERROR "install check: the package has no torsion.pc")
endif()
get_filename_component(pc_dir ${pc_file} DIRECTORY)
consumer_with_pkg_config(${pc_dir} ${WORK_DIR}/pkg-config-consumer)
message(STATUS "install check: ${deb} installs and is found by find_package and pkg-config")

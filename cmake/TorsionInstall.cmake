# `cmake --install` puts headers, libraries, a CMake package config and pkg-config files
# in the prefix, so that either `find_package(torsion)` followed by
# `target_link_libraries(app torsion::framework)` or `pkg-config --cflags --libs torsion`
# works. tests/install checks both, and the Debian package of cmake/TorsionPackage.cmake.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# What to install is what cmake/TorsionLibrary.cmake's torsion_add_library(... INSTALL)
# recorded: every public library and the include directory of its headers.
get_property(_torsion_install_targets GLOBAL PROPERTY TORSION_INSTALL_TARGETS)
get_property(_torsion_install_include_dirs GLOBAL PROPERTY TORSION_INSTALL_INCLUDE_DIRS)
list(REMOVE_DUPLICATES _torsion_install_include_dirs)
list(TRANSFORM _torsion_install_include_dirs APPEND /torsion)
install(TARGETS ${_torsion_install_targets}
        EXPORT torsionTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${_torsion_install_include_dirs} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT torsionTargets NAMESPACE torsion:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/torsion)

configure_package_config_file(cmake/torsionConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/torsionConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/torsion)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/torsionConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/torsionConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/torsionConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/torsion)

# pkg-config: torsion (framework and protocols), torsion-testing and torsion-tls (OpenSSL). The prefix is found
# from the .pc file's own place (${pcfiledir}), so the files stay true wherever the tree
# is installed or unpacked (`--prefix`, DESTDIR, the Debian package).
set(TORSION_PC_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH TORSION_PC_TO_PREFIX /${TORSION_PC_DIR} /)
string(REGEX REPLACE "/$" "" TORSION_PC_TO_PREFIX "${TORSION_PC_TO_PREFIX}")
# What the libraries link privately (fmt and threads are in the public lines): only a
# Linux build of the kqueue backend, against libkqueue.
set(TORSION_PC_LIBS_PRIVATE "")
if(TORSION_LIBKQUEUE_ROOT AND NOT TORSION_HAVE_KQUEUE)
  set(TORSION_PC_LIBS_PRIVATE "-L${TORSION_LIBKQUEUE_ROOT}/lib -lkqueue")
endif()
# The io_uring backend links liburing privately; a static libtorsion needs it at the
# consumer's link, so it is required like zlib (harmless for a shared build).
set(TORSION_PC_REQUIRES_EXTRA "")
if(TORSION_WITH_IO_URING)
  set(TORSION_PC_REQUIRES_EXTRA " liburing")
endif()
foreach(_pc torsion torsion-testing torsion-tls)
  configure_file(cmake/${_pc}.pc.in ${CMAKE_CURRENT_BINARY_DIR}/${_pc}.pc @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${_pc}.pc DESTINATION ${TORSION_PC_DIR})
endforeach()

# `cpack -G DEB` (run in the build directory) makes a Debian package of what
# `cmake --install` installs: headers, the libraries, the CMake package and the
# pkg-config files, under /usr. tests/install unpacks it and builds consumers against it.
set(CPACK_PACKAGE_NAME libtorsion-dev)
set(CPACK_PACKAGE_VENDOR "torsion")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_CONTACT "torsion developers <torsion@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
# The headers include fmt's, and the static libraries need fmt's at link time.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libfmt-dev, zlib1g-dev, libssl-dev")
if(TORSION_WITH_IO_URING)
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", liburing-dev")
endif()
if(BUILD_SHARED_LIBS)
  # dpkg-shlibdeps adds the C/C++ runtime the shared libraries need.
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()
include(CPack)

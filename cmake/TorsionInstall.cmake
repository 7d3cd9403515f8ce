# `cmake --install` puts headers, libraries and a package config in the prefix, so that
# `find_package(torsion)` followed by `target_link_libraries(app torsion::framework)` works.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS torsion_framework torsion_protocols torsion_http
        EXPORT torsionTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY framework/include/torsion protocols/include/torsion
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT torsionTargets NAMESPACE torsion:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/torsion)

configure_package_config_file(cmake/torsionConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/torsionConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/torsion)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/torsionConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/torsionConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/torsionConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/torsion)

# torsion_add_library: the one definition of a torsion library target, so that the
# framework, the protocols, HTTP, TLS, the testing helpers and an example's own library
# are built alike.
#
#   torsion_add_library(<target> [STATIC] [INSTALL EXPORT_NAME <name>] [OUTPUT_NAME <name>]
#                       [PUBLIC_INCLUDE_DIR <dir>] [PRIVATE_INCLUDE_DIRS <dir>...]
#                       SOURCES <file>...)
#
# Every target gets C++20 as a PUBLIC feature (the headers use coroutines and concepts,
# so a consumer compiles as C++20 whatever it sets itself) and torsion's warning set,
# PRIVATE and only in this build tree. Sanitizers are not set here: TORSION_SANITIZE
# instruments every target of the build (cmake/TorsionSanitizers.cmake).
#
# INSTALL marks a library of torsion's public API: it gets the alias torsion::<name>, the
# export name <name>, VERSION and SOVERSION (a shared build is libX.so.<version> with the
# soname libX.so.<major>.<minor>), its PUBLIC_INCLUDE_DIR also as the installed include
# directory, and it is added to what cmake/TorsionInstall.cmake installs and exports
# (the global properties TORSION_INSTALL_TARGETS and TORSION_INSTALL_INCLUDE_DIRS).
# Without INSTALL, a library of the build tree only (an example's parts).
function(torsion_add_library target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "STATIC;INSTALL" "EXPORT_NAME;OUTPUT_NAME;PUBLIC_INCLUDE_DIR"
                        "PRIVATE_INCLUDE_DIRS;SOURCES")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "torsion_add_library(${target}): unknown arguments ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "torsion_add_library(${target}): SOURCES is required")
  endif()
  if(arg_INSTALL AND NOT arg_EXPORT_NAME)
    message(FATAL_ERROR "torsion_add_library(${target}): INSTALL needs EXPORT_NAME")
  endif()

  if(arg_STATIC)
    add_library(${target} STATIC ${arg_SOURCES})
  else()
    add_library(${target} ${arg_SOURCES})
  endif()
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:torsion_warnings>)
  if(arg_PRIVATE_INCLUDE_DIRS)
    target_include_directories(${target} PRIVATE ${arg_PRIVATE_INCLUDE_DIRS})
  endif()

  if(arg_INSTALL)
    add_library(torsion::${arg_EXPORT_NAME} ALIAS ${target})
    if(NOT arg_OUTPUT_NAME)
      set(arg_OUTPUT_NAME ${target})
    endif()
    set_target_properties(${target} PROPERTIES EXPORT_NAME ${arg_EXPORT_NAME} OUTPUT_NAME ${arg_OUTPUT_NAME}
                                               VERSION ${PROJECT_VERSION} SOVERSION ${TORSION_SOVERSION})
    set_property(GLOBAL APPEND PROPERTY TORSION_INSTALL_TARGETS ${target})
    if(arg_PUBLIC_INCLUDE_DIR)
      target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${arg_PUBLIC_INCLUDE_DIR}>
                                                  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
      set_property(GLOBAL APPEND PROPERTY TORSION_INSTALL_INCLUDE_DIRS ${arg_PUBLIC_INCLUDE_DIR})
    endif()
  elseif(arg_PUBLIC_INCLUDE_DIR)
    target_include_directories(${target} PUBLIC ${arg_PUBLIC_INCLUDE_DIR})
  endif()
endfunction()

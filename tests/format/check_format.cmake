# cmake -D SOURCE_DIR=... -D CLANG_FORMAT=... -P check_format.cmake
#
# Every tracked C and C++ file of the library, the examples, the tests and the
# benchmarks must already be formatted by the repository's .clang-format:
# `clang-format --dry-run --Werror` on each; the check fails naming every file that
# differs (and how to fix it). The files are git's tracked ones; outside a git checkout,
# every such file under those folders. Registered as the CTest format.clang_format.
foreach(var SOURCE_DIR CLANG_FORMAT)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "check_format.cmake: -D ${var}=... is required")
  endif()
endforeach()

set(folders framework protocols examples tests bench)
set(patterns "*.c" "*.cc" "*.cpp" "*.h" "*.hpp")

set(files)
find_program(GIT git)
if(GIT AND EXISTS ${SOURCE_DIR}/.git)
  set(pathspecs)
  foreach(folder IN LISTS folders)
    foreach(pattern IN LISTS patterns)
      list(APPEND pathspecs ":(glob)${folder}/**/${pattern}")
    endforeach()
  endforeach()
  execute_process(COMMAND ${GIT} -C ${SOURCE_DIR} ls-files -- ${pathspecs}
                  OUTPUT_VARIABLE listed RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "format check: git ls-files failed in ${SOURCE_DIR}")
  endif()
  string(REPLACE "\n" ";" files "${listed}")
else()
  foreach(folder IN LISTS folders)
    foreach(pattern IN LISTS patterns)
      file(GLOB_RECURSE found RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/${folder}/${pattern})
      list(APPEND files ${found})
    endforeach()
  endforeach()
endif()
list(REMOVE_DUPLICATES files)
list(SORT files)
list(LENGTH files count)
if(count EQUAL 0)
  message(FATAL_ERROR "format check: found no C or C++ file under ${folders}")
endif()

# One clang-format run over all the files (one process per file is slow on a loaded
# machine); it names each file it would change in its diagnostics.
execute_process(COMMAND ${CLANG_FORMAT} --dry-run --Werror --style=file ${files}
                WORKING_DIRECTORY ${SOURCE_DIR} RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE errors)
set(differ)
string(REGEX MATCHALL "(^|\n)[^\n:]+:[0-9]+:[0-9]+: (error|warning):" places "${errors}")
foreach(place IN LISTS places)
  string(REGEX REPLACE "^\n?([^\n:]+):[0-9]+:[0-9]+: .*" "\\1" file "${place}")
  list(APPEND differ ${file})
endforeach()
list(REMOVE_DUPLICATES differ)
foreach(file IN LISTS differ)
  set(in_file "${places}")
  list(FILTER in_file INCLUDE REGEX "^\n?${file}:")
  list(LENGTH in_file changes)
  message("differs: ${file} (${changes} places)")
endforeach()
if(NOT rc EQUAL 0 AND NOT differ)
  message(FATAL_ERROR "format check: clang-format failed (${rc}):\n${errors}")
endif()

list(LENGTH differ bad)
if(bad GREATER 0)
  string(REPLACE ";" " " differ_list "${differ}")
  message(FATAL_ERROR "format check: ${bad} of ${count} files differ from .clang-format; fix with\n"
                      "  clang-format -i ${differ_list}")
endif()
message(STATUS "format check: all ${count} files match .clang-format")

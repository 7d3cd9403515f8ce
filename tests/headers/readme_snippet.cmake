# cmake -D README=README.md -D EXAMPLE=examples/readme_echo/main.cpp -P readme_snippet.cmake
#
# Fails unless the fenced code block that follows the line
#   <!-- snippet: examples/readme_echo/main.cpp -->
# in README is identical to EXAMPLE, which the normal build compiles: so the README's
# code is known to compile.
file(READ ${README} readme)
file(READ ${EXAMPLE} example)

set(marker "<!-- snippet: examples/readme_echo/main.cpp -->")
string(FIND "${readme}" "${marker}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "README.md has no line '${marker}' before the echo server's code block")
endif()
string(SUBSTRING "${readme}" ${at} -1 rest)
# The block: from the line after the opening ``` fence to the closing fence.
if(NOT rest MATCHES "\n```[a-z+]*\n")
  message(FATAL_ERROR "README.md: no fenced code block after '${marker}'")
endif()
string(FIND "${rest}" "${CMAKE_MATCH_0}" open)
string(LENGTH "${CMAKE_MATCH_0}" open_length)
math(EXPR start "${open} + ${open_length}")
string(SUBSTRING "${rest}" ${start} -1 rest)
string(FIND "${rest}" "```" close)
if(close EQUAL -1)
  message(FATAL_ERROR "README.md: the code block after '${marker}' is not closed")
endif()
string(SUBSTRING "${rest}" 0 ${close} snippet)

if(NOT snippet STREQUAL example)
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/readme_snippet.cpp "${snippet}")
  message(FATAL_ERROR "README.md's echo server differs from ${EXAMPLE}; README's version:\n${snippet}\n"
                      "make them identical (the example is what the build compiles)")
endif()
message(STATUS "README.md's echo server is ${EXAMPLE}, which the build compiles")

# cmake -D DOC=docs/testing.md -D ROOT=<source dir> -P doc_snippets.cmake
#
# Every ```cpp block of DOC must follow a line
#   <!-- snippet: PATH#NAME -->
# and be identical to the region of ROOT/PATH between the lines "// [guide:NAME]" and
# "// [guide:end]". PATH is a test source that the build compiles and CTest runs, so
# every example in the guide is known to compile and to pass.
cmake_minimum_required(VERSION 3.25)
file(READ ${DOC} doc)
set(marker "<!-- snippet: ")
set(fence "```cpp\n")
set(checked 0)
set(rest "${doc}")
while(TRUE)
  string(FIND "${rest}" "${marker}" at)
  if(at EQUAL -1)
    break()
  endif()
  string(LENGTH "${marker}" marker_length)
  math(EXPR spec_start "${at} + ${marker_length}")
  string(SUBSTRING "${rest}" ${spec_start} -1 rest)
  string(FIND "${rest}" " -->" spec_end)
  string(SUBSTRING "${rest}" 0 ${spec_end} spec)
  string(FIND "${spec}" "#" hash)
  if(hash EQUAL -1)
    message(FATAL_ERROR "${DOC}: snippet '${spec}' names no region (PATH#NAME)")
  endif()
  string(SUBSTRING "${spec}" 0 ${hash} path)
  math(EXPR name_start "${hash} + 1")
  string(SUBSTRING "${spec}" ${name_start} -1 name)

  # The block right after the marker.
  string(FIND "${rest}" "${fence}" open)
  string(FIND "${rest}" "${marker}" next_marker)
  if(open EQUAL -1 OR (NOT next_marker EQUAL -1 AND next_marker LESS open))
    message(FATAL_ERROR "${DOC}: no ```cpp block after the snippet marker '${spec}'")
  endif()
  math(EXPR block_start "${open} + 7")
  string(SUBSTRING "${rest}" ${block_start} -1 rest)
  string(FIND "${rest}" "```" close)
  string(SUBSTRING "${rest}" 0 ${close} snippet)
  string(SUBSTRING "${rest}" ${close} -1 rest)

  # The region in the source.
  if(NOT EXISTS ${ROOT}/${path})
    message(FATAL_ERROR "${DOC}: snippet source '${path}' does not exist")
  endif()
  file(READ ${ROOT}/${path} source)
  set(begin_line "// [guide:${name}]\n")
  string(FIND "${source}" "${begin_line}" region_at)
  if(region_at EQUAL -1)
    message(FATAL_ERROR "${path} has no line '// [guide:${name}]' for the snippet in ${DOC}")
  endif()
  string(LENGTH "${begin_line}" begin_length)
  math(EXPR region_start "${region_at} + ${begin_length}")
  string(SUBSTRING "${source}" ${region_start} -1 region)
  string(FIND "${region}" "// [guide:end]" region_end)
  string(SUBSTRING "${region}" 0 ${region_end} region)

  if(NOT snippet STREQUAL region)
    message(FATAL_ERROR "${DOC}: the snippet '${spec}' differs from its source; the guide has:\n${snippet}\n"
                        "make it identical to the region of ${path} (the code the build compiles)")
  endif()
  math(EXPR checked "${checked} + 1")
endwhile()

# No example may escape the check.
string(REGEX MATCHALL "```cpp\n" blocks "${doc}")
list(LENGTH blocks block_count)
if(NOT block_count EQUAL checked)
  message(FATAL_ERROR "${DOC}: ${block_count} ```cpp blocks, but only ${checked} follow a snippet marker")
endif()
if(checked EQUAL 0)
  message(FATAL_ERROR "${DOC}: no snippet markers found")
endif()
message(STATUS "${DOC}: ${checked} examples match their compiled sources")

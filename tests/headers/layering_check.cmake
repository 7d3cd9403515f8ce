# Checks the layering of framework/src by its #include lines; run by headers.layering.
#   -D SRC=<framework/src> -D INCLUDE=<framework/include>
# Each rule: files matching a glob must not include a header matching a regex.
set(_rules
  # glob (relative to SRC)     forbidden include                      why
  "backends/*"                 "\"(\\.\\./)?reactor_core\\.hpp\""     "a backend sees the reactor only as a LoopDriver"
  "*.?pp"                      "<asio[/.]"                            "only backends/asio_backend*.cpp include Asio"
  "thread_calls.*"             "backend\\.hpp\""                      "the waker needs only throwSystemError"
  "thread_pool.*"              "reactor_core\\.hpp\""                 "the pool needs only logUnhandled"
  "timer_queue.*"              "reactor_core\\.hpp\""                 "the timer queue is the reactor's and the test Clock's"
  "reactor_core.?pp"           "write_queue\\.hpp\""                  "the core owns the chunk pool, not the transports' queues")
set(_failures "")
list(LENGTH _rules _count)
math(EXPR _last "${_count} - 1")
foreach(_i RANGE 0 ${_last} 3)
  math(EXPR _j "${_i} + 1")
  math(EXPR _k "${_i} + 2")
  list(GET _rules ${_i} _glob)
  list(GET _rules ${_j} _forbidden)
  list(GET _rules ${_k} _why)
  file(GLOB_RECURSE _files RELATIVE ${SRC} ${SRC}/${_glob})
  foreach(_file IN LISTS _files)
    if(_glob STREQUAL "*.?pp" AND _file MATCHES "^backends/asio_backend[a-z_]*\\.(cpp|hpp)$")
      continue()  # the Asio backend's own files
    endif()
    file(STRINGS ${SRC}/${_file} _includes REGEX "^[ \t]*#[ \t]*include")
    foreach(_line IN LISTS _includes)
      if(_line MATCHES "${_forbidden}")
        string(APPEND _failures "  framework/src/${_file}: ${_line}  (${_why})\n")
      endif()
    endforeach()
  endforeach()
endforeach()
# Public headers reach nothing of src/: only <torsion/...> and system headers.
file(GLOB_RECURSE _public RELATIVE ${INCLUDE} ${INCLUDE}/*.hpp)
foreach(_file IN LISTS _public)
  file(STRINGS ${INCLUDE}/${_file} _includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(_line IN LISTS _includes)
    string(APPEND _failures "  framework/include/${_file}: ${_line}  (a public header includes only <...>)\n")
  endforeach()
endforeach()
if(_failures)
  message(FATAL_ERROR "Layering broken:\n${_failures}")
endif()

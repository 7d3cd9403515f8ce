# Compiles one snippet and checks the outcome; run by the compile_fail tests.
#   -D CXX=<compiler> -D SOURCE=<file> -D INCLUDES=<dir|dir|...> -D BREAK=ON|OFF
#   -D EXPECT=<regex the compiler's message must match when BREAK is ON>
# BREAK=OFF is the control: the snippet as written must compile, so that BREAK=ON can
# only fail for the one mistake it switches on.
set(_args -std=c++20 -fsyntax-only)
string(REPLACE "|" ";" _includes "${INCLUDES}")
foreach(_dir IN LISTS _includes)
  list(APPEND _args "-I${_dir}")
endforeach()
if(BREAK)
  list(APPEND _args -DTORSION_BREAK=1)
endif()
execute_process(COMMAND ${CXX} ${_args} ${SOURCE} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
if(BREAK)
  if(_rc EQUAL 0)
    message(FATAL_ERROR "${SOURCE} compiled with TORSION_BREAK, but the mistake must be a compile error")
  endif()
  if(NOT "${_out}${_err}" MATCHES "${EXPECT}")
    message(FATAL_ERROR "${SOURCE} failed to compile, but not with the expected error /${EXPECT}/:\n${_err}")
  endif()
else()
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "control: ${SOURCE} must compile without TORSION_BREAK:\n${_err}")
  endif()
endif()

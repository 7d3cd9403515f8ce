# Warnings for every torsion target; -Werror when TORSION_WERROR is on (CI turns it on).
add_library(torsion_warnings INTERFACE)
target_compile_options(torsion_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
  $<$<BOOL:${TORSION_WERROR}>:-Werror>)

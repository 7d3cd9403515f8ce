# TORSION_SANITIZE=address,undefined or thread instruments every target in the build tree.
if(TORSION_SANITIZE)
  set(_torsion_san_flags -fsanitize=${TORSION_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_compile_options(${_torsion_san_flags} -g)
  add_link_options(${_torsion_san_flags})
endif()

# CPack pre-build script: CPack strips the programs with a plain `strip`, which keeps
# the compiler's .comment and the .note sections; remove them as dh_strip does
# (lintian: binary-has-unneeded-section).
file(GLOB programs "${CPACK_TEMPORARY_INSTALL_DIRECTORY}${CPACK_PACKAGING_INSTALL_PREFIX}/bin/*")
foreach(program IN LISTS programs)
  execute_process(COMMAND "${CPACK_STRIP_PROGRAM}" --remove-section=.comment --remove-section=.note "${program}"
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "strip-notes: cannot strip ${program}")
  endif()
endforeach()
message(STATUS "strip-notes: ${programs}")

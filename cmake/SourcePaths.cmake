# stillontime_source_definitions(TARGET SOURCES <files>... DEFINITIONS <NAME="value">...)
#
# Absolute paths of the checkout or the build (where the examples are, which
# binary to start) are compiled only into the sources of TARGET that use them,
# never set on a whole target: a define on every object would make each of them
# differ between two checkouts of the same commit, and the compiler cache
# (cmake/Ccache.cmake) could reuse none of them.
function(stillontime_source_definitions target)
  cmake_parse_arguments(P "" "" "SOURCES;DEFINITIONS" ${ARGN})
  if(NOT P_SOURCES OR NOT P_DEFINITIONS)
    message(FATAL_ERROR "stillontime_source_definitions(${target}): SOURCES and DEFINITIONS are both required")
  endif()
  set_property(SOURCE ${P_SOURCES} TARGET_DIRECTORY ${target} APPEND PROPERTY COMPILE_DEFINITIONS ${P_DEFINITIONS})
endfunction()

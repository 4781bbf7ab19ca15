# Fails when a source of the generic layers (operator/kube, operator/runtime)
# names the product: the operator passes its names in (field manager, owner
# label, Lease, Event source, User-Agent, cache vocabulary), so these layers
# could serve another controller unchanged.
#
#   cmake -DROOTS=dir,dir -P no_product_names.cmake
#
# Case-insensitive. Forbidden: "stillontime" (the product, its API group
# stillontime.app and its binaries) and "sot" as a word (the resource's short
# name). One exception, by reason: the C++ namespace `sot` (`namespace sot`,
# `sot::`) is the whole repository's code namespace, not a name that reaches a
# cluster, a log or a metric; renaming it would touch every file of every
# library.
if(NOT ROOTS)
  message(FATAL_ERROR "ROOTS is required")
endif()
string(REPLACE "," ";" ROOTS "${ROOTS}")
set(files)
foreach(root IN LISTS ROOTS)
  if(NOT IS_DIRECTORY "${root}")
    message(FATAL_ERROR "${root} is not a directory")
  endif()
  file(GLOB_RECURSE found "${root}/*.h" "${root}/*.cpp" "${root}/*.txt" "${root}/*.cmake")
  list(APPEND files ${found})
endforeach()
list(LENGTH files count)
if(count EQUAL 0)
  message(FATAL_ERROR "no sources under ${ROOTS}")
endif()
set(problems 0)
foreach(f IN LISTS files)
  # One list element per line: semicolons and brackets would split or join
  # list elements, so they are masked first (they matter to no pattern here).
  file(READ "${f}" content)
  string(REPLACE ";" "," content "${content}")
  string(REPLACE "[" "(" content "${content}")
  string(REPLACE "]" ")" content "${content}")
  string(REPLACE "\n" ";" lines "${content}")
  set(n 0)
  foreach(line IN LISTS lines)
    math(EXPR n "${n} + 1")
    string(TOLOWER "${line}" lower)
    string(REGEX REPLACE "namespace sot([ :{]|$)" "namespace \\1" lower "${lower}")
    string(REGEX REPLACE "(^|[^a-z0-9_])sot::" "\\1" lower "${lower}")
    if(lower MATCHES "stillontime" OR lower MATCHES "(^|[^a-z0-9_])sot([^a-z0-9_]|$)")
      message("${f}:${n}: ${line}")
      math(EXPR problems "${problems} + 1")
    endif()
  endforeach()
endforeach()
if(problems GREATER 0)
  message(FATAL_ERROR "${problems} line(s) of the generic layers name the product")
endif()
message("checked ${count} files: no product names")

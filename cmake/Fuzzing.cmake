# libFuzzer builds are one cache variable away:
#   -DSTILLONTIME_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++
# Every library is then compiled with libFuzzer's coverage instrumentation plus
# ASan and UBSan, so a crash or undefined behaviour anywhere under a parser
# stops the fuzzer; the targets in test/fuzz/ link libFuzzer's main. The normal
# g++ build never sees any of this. scripts/fuzz.sh drives it.
option(STILLONTIME_FUZZ "Build the libFuzzer targets in test/fuzz (needs clang)" OFF)

if(STILLONTIME_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "STILLONTIME_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  if(NOT STILLONTIME_SANITIZE STREQUAL "")
    message(FATAL_ERROR "STILLONTIME_FUZZ brings its own sanitizers; leave STILLONTIME_SANITIZE empty")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

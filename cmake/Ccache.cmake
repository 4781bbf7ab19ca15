# Every tree compiles through ccache when it is installed (scripts/install-deps.sh
# installs it), with one cache for all of them under ~/.cache/stillontime/ccache.
# Paths are hashed relative to the source tree (base_dir) and the build
# directory is left out of the hash (hash_dir=false), so a second clone of the
# same commit, as CI makes, finds the objects the first one compiled; a fresh
# machine simply starts with an empty cache. -DSTILLONTIME_CCACHE=OFF compiles
# without it.
option(STILLONTIME_CCACHE "Compile through ccache when it is installed" ON)

if(STILLONTIME_CCACHE)
  find_program(STILLONTIME_CCACHE_PROGRAM ccache)
  if(STILLONTIME_CCACHE_PROGRAM)
    if(DEFINED ENV{STILLONTIME_CCACHE_DIR})
      set(stillontime_ccache_dir "$ENV{STILLONTIME_CCACHE_DIR}")
    else()
      set(stillontime_ccache_dir "$ENV{HOME}/.cache/stillontime/ccache")
    endif()
    # A Release and a sanitizer tree took 116 MB of cache (du -sh, 2026-11-30): 6 GB keeps many commits.
    set(CMAKE_CXX_COMPILER_LAUNCHER
        ${CMAKE_COMMAND} -E env CCACHE_DIR=${stillontime_ccache_dir} CCACHE_BASEDIR=${PROJECT_SOURCE_DIR}
        CCACHE_NOHASHDIR=true CCACHE_MAXSIZE=6G ${STILLONTIME_CCACHE_PROGRAM})
  endif()
endif()

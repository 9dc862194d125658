# Every third-party library comes from a Debian bookworm package (scripts/deps installs them).
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
pkg_check_modules(MARIADB REQUIRED IMPORTED_TARGET libmariadb)
pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
# Search's text analyzer (src/search): ICU for normalization and word breaks, Snowball's stemmers
# (libstemmer has no pkg-config file).
pkg_check_modules(ICU REQUIRED IMPORTED_TARGET icu-uc icu-i18n)
find_path(STEMMER_INCLUDE_DIR libstemmer.h REQUIRED)
find_library(STEMMER_LIBRARY stemmer REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)  # MD5 of nginx secure_link URLs (media/secure_link)
# The `reel` binary's allocator: pages allocate many small strings, and tcmalloc's per-thread
# caches served a listing page 25-38 % faster than glibc malloc (docs/benchmarks.md, section 8).
pkg_check_modules(TCMALLOC REQUIRED IMPORTED_TARGET libtcmalloc_minimal)
if(REEL_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(REEL_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

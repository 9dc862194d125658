# ASan+UBSan for every target of the build directory (REEL_SANITIZE, REEL_FUZZ): a sanitizer finds
# a bug only in the code it instruments, so the libraries are built with the same flags as the
# tests or fuzz targets that call them. Any UBSan report aborts, so a finding fails the run.
if(REEL_SANITIZE OR REEL_FUZZ)
  set(reel_sanitizers -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options(${reel_sanitizers})
  add_link_options(${reel_sanitizers})
  # GCC's flow analysis sees through the sanitizers' instrumentation badly and reports
  # -Wmaybe-uninitialized on std::optional<struct of strings> returned from coroutines (seen in
  # auth/session_store.cc at -O1); the normal build keeps the warning, and ASan checks the real thing.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
endif()
if(REEL_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "REEL_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  # Coverage feedback for libFuzzer in every library; fuzz/ links the fuzzer's main into each target.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

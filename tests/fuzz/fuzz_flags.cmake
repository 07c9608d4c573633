# Compiler flags of a CKPT_FUZZ build tree, set before any target exists so
# that the project's libraries get coverage and sanitizers too: a bug in
# them is what the fuzzers look for.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "CKPT_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang")
endif()
# fuzzer-no-link: coverage instrumentation everywhere, libFuzzer's main()
# only in the fuzz targets (tests/fuzz/CMakeLists.txt). UBSan findings abort
# like ASan's, so the fuzzer reports them as crashes.
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
add_link_options(-fsanitize=address,undefined)

# SPDX-License-Identifier: GPL-2.0-or-later
# The harnesses, named once for both builds: the libFuzzer build (fuzz/CMakeLists.txt, clang) and the
# replay build of the regression tests (tests/reliability/CMakeLists.txt, any compiler).
#   WMMP_FUZZ_CODEC_HARNESSES  need the codec only
#   WMMP_FUZZ_NODE_HARNESSES   drive an emulator node on the unit tests' fake environment
set(WMMP_FUZZ_CODEC_HARNESSES header body tlv health fragment decrypt message keys)
set(WMMP_FUZZ_NODE_HARNESSES platform terminal)
set(WMMP_FUZZ_HARNESSES ${WMMP_FUZZ_CODEC_HARNESSES} ${WMMP_FUZZ_NODE_HARNESSES})

# Where this file and the repository are, whichever project includes it.
set(WMMP_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
get_filename_component(WMMP_FUZZ_ROOT ${CMAKE_CURRENT_LIST_DIR} DIRECTORY)

# wmmp_fuzz_harness(<target> <harness> <extra sources...>): one executable of one harness.
function(wmmp_fuzz_harness target harness)
  add_executable(${target} ${WMMP_FUZZ_DIR}/fuzz_${harness}.c ${ARGN})
  target_include_directories(${target} PRIVATE ${WMMP_FUZZ_DIR})
  if(harness IN_LIST WMMP_FUZZ_NODE_HARNESSES)
    target_sources(${target} PRIVATE ${WMMP_FUZZ_ROOT}/tests/unit/fake_env.c)
    target_include_directories(${target} PRIVATE ${WMMP_FUZZ_ROOT}/tests/unit)
    target_link_libraries(${target} PRIVATE wmmp_emu_node wmmp_emu_storage wmmp_codec)
  else()
    target_link_libraries(${target} PRIVATE wmmp_codec)
  endif()
endfunction()

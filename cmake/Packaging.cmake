# SPDX-License-Identifier: GPL-2.0-or-later
# Installing and packaging (included at the end of the top-level CMakeLists.txt).
#
#   cmake --install BUILD [--prefix /usr/local]   the emulator programs into <prefix>/bin, their man pages into
#                                                 <prefix>/share/man/man1, the docs and example keys file into
#                                                 <prefix>/share/doc/wmmp-tools, and the plugin into Wireshark's
#                                                 global folder (plugin/CMakeLists.txt; an absolute path)
#   cmake --build BUILD --target install-user-plugin   only the plugin, into ~/.local/lib/wireshark/plugins/X.Y/epan
#                                                 (X.Y: the Wireshark release found at configure time)
#   cd BUILD && cpack -G DEB                      wmmp-tools_<version>_<arch>.deb: all of the above under /usr,
#                                                 dependencies computed by dpkg-shlibdeps
include(GNUInstallDirs)

set(WMMP_PROGRAMS wmmp-platform wmmp-terminal wmmp-emulate)
install(TARGETS ${WMMP_PROGRAMS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(WMMP_DOC_DIR ${CMAKE_INSTALL_DATAROOTDIR}/doc/wmmp-tools)
install(FILES README.md docs/PLUGIN.md docs/EMULATOR.md docs/PROTOCOL-NOTES.md docs/VISUALS.md
              captures/wmmp-keys.txt
        DESTINATION ${WMMP_DOC_DIR})

# Man pages, made at build time from each program's --help (docs/man/help-to-man.py), so that they never
# disagree with it. Not in sanitizer builds, whose programs would run under ASan during the build.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND AND NOT WMMP_SANITIZE AND NOT CMAKE_CROSSCOMPILING)
  set(name_wmmp-platform "WMMP M2M platform: accepts health testers over UDP and TCP, stores their records in SQLite")
  set(name_wmmp-terminal "WMMP health tester terminal (also N simulated terminals in load mode)")
  set(name_wmmp-emulate "WMMP terminal and platform on a virtual clock, writing reproducible captures")
  set(man_pages)
  foreach(prog IN LISTS WMMP_PROGRAMS)
    set(page ${CMAKE_BINARY_DIR}/man/${prog}.1)
    add_custom_command(
      OUTPUT ${page}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
      COMMAND ${Python3_EXECUTABLE} -B ${PROJECT_SOURCE_DIR}/docs/man/help-to-man.py $<TARGET_FILE:${prog}>
              "${name_${prog}}" ${page} --version ${PROJECT_VERSION}
              --see-also ${PROJECT_SOURCE_DIR}/docs/man/see-also.roff
      DEPENDS ${prog} ${PROJECT_SOURCE_DIR}/docs/man/help-to-man.py ${PROJECT_SOURCE_DIR}/docs/man/see-also.roff
      COMMENT "Man page ${prog}.1"
      VERBATIM)
    list(APPEND man_pages ${page})
  endforeach()
  add_custom_target(man-pages ALL DEPENDS ${man_pages})
  install(FILES ${man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

# The Debian package of the plugin and the emulator.
set(WMMP_PACKAGE_CONTACT "WMMP tools maintainers <wmmp-tools@example.invalid>"
    CACHE STRING "Maintainer field of the Debian package")
set(CPACK_PACKAGE_NAME wmmp-tools)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "WMMP tools")
set(CPACK_PACKAGE_CONTACT "${WMMP_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "WMMP-T 3.0 Wireshark plugin and M2M platform/terminal emulator")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
  "Open tooling for WMMP-T 3.0, the terminal-to-platform interface of China Mobile's Wireless M2M Protocol: "
  "the Wireshark ${WMMP_WS_RELEASE} dissector plugin wmmp.so (every command, typed TLVs, digests and decryption with your "
  "keys, fragments, request tracking, health records, statistics, firmware export) and the emulator "
  "programs wmmp-platform, wmmp-terminal and wmmp-emulate.")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)   # libwireshark (16 for 4.0, 18 for 4.4, 19 for 4.6), libglib2.0-0, libgcrypt20, libsqlite3-0, libc6
if(WMMP_BUILD_PLUGIN)
  # the plugin is for the release series it was built against only (its folder and ABI)
  math(EXPR next_minor "${Wireshark_MINOR_VERSION} + 1")
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "wireshark-common (>= ${WMMP_WS_RELEASE}), wireshark-common (<< ${Wireshark_MAJOR_VERSION}.${next_minor})")
  set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "tshark | wireshark")
endif()
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build/" "__pycache__")
include(CPack)

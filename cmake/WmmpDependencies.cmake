# SPDX-License-Identifier: GPL-2.0-or-later
# Finds every external dependency the standard way; a missing one stops configuration with a message that
# names the Debian 12 package to install.
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config")
endif()

# wmmp_require_pkg(<prefix> <pkg-config module> <Debian package>) -> imported target PkgConfig::<prefix>
function(wmmp_require_pkg prefix module debian_package)
  pkg_check_modules(${prefix} IMPORTED_TARGET GLOBAL ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR "${module} not found: apt-get install ${debian_package}")
  endif()
endfunction()

wmmp_require_pkg(GCRYPT libgcrypt libgcrypt20-dev)
wmmp_require_pkg(GLIB glib-2.0 libglib2.0-dev)
wmmp_require_pkg(PCAP libpcap libpcap-dev)
wmmp_require_pkg(SQLITE sqlite3 libsqlite3-dev)
if(WMMP_BUILD_TESTS)
  wmmp_require_pkg(CUNIT cunit libcunit1-dev)
endif()

if(WMMP_BUILD_PLUGIN)
  find_package(Wireshark CONFIG)
  if(NOT Wireshark_FOUND)
    message(FATAL_ERROR "Wireshark development files not found: apt-get install wireshark-dev libwireshark-dev "
                        "(or configure with -DWMMP_BUILD_PLUGIN=OFF)")
  endif()
  # The plugin's folder (plugins/X.Y/epan) and ABI belong to one major.minor release.
  set(WMMP_WS_RELEASE "${Wireshark_MAJOR_VERSION}.${Wireshark_MINOR_VERSION}")
  if(WMMP_WS_RELEASE VERSION_LESS 4.0 OR WMMP_WS_RELEASE VERSION_GREATER 4.6)
    message(WARNING "Wireshark ${Wireshark_VERSION} found; the plugin is built and tested against 4.0 to 4.6")
  endif()
  message(STATUS "Wireshark ${Wireshark_VERSION}: the plugin goes to plugins/${WMMP_WS_RELEASE}/epan")
endif()

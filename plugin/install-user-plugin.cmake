# SPDX-License-Identifier: GPL-2.0-or-later
# cmake -DPLUGIN=<wmmp.so> -DRELEASE=<X.Y> -P install-user-plugin.cmake
# Copies the plugin into the personal plugin folder of whoever runs the build step (HOME read now, not
# when the build was configured), which Wireshark reads for every user but root.
if(NOT DEFINED ENV{HOME} OR "$ENV{HOME}" STREQUAL "")
  message(FATAL_ERROR "install-user-plugin: HOME is not set")
endif()
set(dir "$ENV{HOME}/.local/lib/wireshark/plugins/${RELEASE}/epan")
file(MAKE_DIRECTORY "${dir}")
file(COPY "${PLUGIN}" DESTINATION "${dir}")
message(STATUS "wmmp.so -> ${dir}")

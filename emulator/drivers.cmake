# The drivers (GLib live loop with real sockets, offline virtual clock, load mode, faults, pcap recording,
# option parsing) in wmmp_emu beside the nodes, and the three programs that run them.
target_sources(wmmp_emu PRIVATE
  drv_cli.c
  drv_faults.c
  drv_fs.c
  drv_glib.c
  drv_hist.c
  drv_live.c
  drv_load.c
  drv_net.c
  drv_offline.c
  drv_pcap.c
  drv_scenarios.c
  drv_timerq.c
)

# --version prints the project's one version number (project(wmmp VERSION ...) in the top CMakeLists.txt)
set_property(SOURCE drv_cli.c APPEND PROPERTY COMPILE_DEFINITIONS WMMP_VERSION="${PROJECT_VERSION}")

add_executable(wmmp-platform wmmp_platform_main.c)
target_link_libraries(wmmp-platform PRIVATE wmmp_emu)

add_executable(wmmp-terminal wmmp_terminal_main.c)
target_link_libraries(wmmp-terminal PRIVATE wmmp_emu)

add_executable(wmmp-emulate wmmp_emulate_main.c)
target_link_libraries(wmmp-emulate PRIVATE wmmp_emu)

target_sources(wmmp_emu PRIVATE terminal.c health_gen.c spool.c)

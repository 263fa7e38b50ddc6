target_sources(wmmp_emu PRIVATE emu_env.c wmmp_link.c)

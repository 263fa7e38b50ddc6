target_sources(wmmp_emu PRIVATE platform.c record_store.c)

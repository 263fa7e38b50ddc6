#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The node library reaches sockets, clocks, files and the database only through emu_env and the storage
# interfaces (record_store.h, spool.h, emu_files.h): fails when one of its objects refers to a forbidden
# symbol itself. Run by ctest (emulator.node_isolation, label unit):
#   check-isolation.sh NM libwmmp_emu_node.a
set -eu
nm=${1:?usage: check-isolation.sh NM LIBRARY}
lib=${2:?usage: check-isolation.sh NM LIBRARY}

# Whole names (libc, POSIX) and prefixes (GLib's I/O and main loop, SQLite, libpcap).
forbidden_names='socket|socketpair|bind|listen|accept|accept4|connect|shutdown|send|sendto|sendmsg|sendmmsg|recv|recvfrom|recvmsg|recvmmsg|setsockopt|getsockopt|getsockname|getpeername|getaddrinfo|gethostbyname|poll|ppoll|select|pselect|epoll_create|epoll_create1|epoll_ctl|epoll_wait'
forbidden_names="$forbidden_names"'|fopen|fopen64|fdopen|freopen|fclose|fread|fwrite|fgets|fgetc|getc|fputs|fputc|putc|fprintf|vfprintf|printf|vprintf|puts|putchar|perror|fflush|fseek|ftell|fileno|tmpfile|open_memstream'
forbidden_names="$forbidden_names"'|open|open64|openat|creat|read|pread|write|pwrite|close|unlink|unlinkat|rename|renameat|remove|fsync|fdatasync|sync|ftruncate|truncate|lseek|fcntl|flock|dup|dup2|pipe|mkdir|rmdir|opendir|readdir|closedir|stat|lstat|fstat|access|chdir|ioctl|mmap'
forbidden_names="$forbidden_names"'|time|clock_gettime|gettimeofday|clock|sleep|usleep|nanosleep|alarm|timer_create|setitimer'
forbidden_names="$forbidden_names"'|rand|random|srand|srandom|drand48|getrandom|getentropy|fork|execve|execvp|system|popen|kill|signal|sigaction|exit|_exit|abort|getenv|setenv'
forbidden_prefixes='g_socket_|g_io_|g_main_|g_file_|g_dir_|g_mkdir|g_unix_|g_timeout_|g_idle_|g_source_|g_child_watch_|g_spawn_|g_usleep|g_get_monotonic_time|g_get_real_time|g_get_current_time|g_date_time_new_now|g_random_|g_rand_|g_getenv|g_print|g_printerr|sqlite3_|pcap_|gcry_'

undefined=$("$nm" -A -u -P "$lib" | awk '{ sub(/:$/, "", $1); print $1, $2 }')
bad=$(printf '%s\n' "$undefined" |
      grep -E " (($forbidden_names)(@.*)?|($forbidden_prefixes)[A-Za-z0-9_]*(@.*)?)\$" || true)
objects=$(printf '%s\n' "$undefined" | awk '{ print $1 }' | sort -u | wc -l)
symbols=$(printf '%s\n' "$undefined" | wc -l)
if [ -n "$bad" ]; then
    echo "node isolation: $lib refers to I/O it must reach through emu_env or the storage interfaces:"
    printf '%s\n' "$bad" | sed 's/^/  /'
    exit 1
fi
echo "node isolation: $objects objects, $symbols undefined symbols, none forbidden"
echo "external symbols the nodes use (allowed):"
printf '%s\n' "$undefined" | awk '{ print $2 }' | grep -vE '^(wmmp_|emu_|platform_|terminal_|health_gen_|wmmp_link_|__)' |
    sort -u | tr '\n' ' ' | fold -s -w 100 | sed 's/^/  /'
echo

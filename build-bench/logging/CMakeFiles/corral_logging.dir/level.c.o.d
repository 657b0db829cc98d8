logging/CMakeFiles/corral_logging.dir/level.c.o: \
 /work/wt/issue4/logging/level.c /usr/include/stdc-predef.h \
 /work/wt/issue4/logging/level.h \
 /usr/lib/gcc/x86_64-linux-gnu/12/include/stddef.h /usr/include/strings.h \
 /usr/include/features.h /usr/include/features-time64.h \
 /usr/include/x86_64-linux-gnu/bits/wordsize.h \
 /usr/include/x86_64-linux-gnu/bits/timesize.h \
 /usr/include/x86_64-linux-gnu/sys/cdefs.h \
 /usr/include/x86_64-linux-gnu/bits/long-double.h \
 /usr/include/x86_64-linux-gnu/gnu/stubs.h \
 /usr/include/x86_64-linux-gnu/gnu/stubs-64.h \
 /usr/include/x86_64-linux-gnu/bits/types/locale_t.h \
 /usr/include/x86_64-linux-gnu/bits/types/__locale_t.h

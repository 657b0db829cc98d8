"""check_headers.py HEADERS_DIR CC CXX: every public header of libcorral
stands alone, with nothing but the C library besides include/corral/ on
the include path, in strict C11 and in C++, where its functions keep their C
names (extern "C"); and <czmq.h> and <jansson.h> still mix with them in
either order (zloop_t and json_t are declared as those headers declare
them). The headers they pull in are include/corral/'s and the C
library's (<stdarg.h>, <stdbool.h>, <stddef.h>, <stdint.h>, <sys/types.h>
and what those include), nothing else."""
import glob
import os
import subprocess
import sys
import tempfile

C_FLAGS = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"]
CXX_FLAGS = ["-std=c++11", "-Wall", "-Wextra", "-Werror"]


def compile_source(compiler, flags, include, source, suffix, out):
    path = os.path.join(out, "probe" + suffix)
    with open(path, "w") as probe:
        probe.write(source)
    obj = os.path.join(out, "probe.o")
    result = subprocess.run([compiler, *flags, "-I", include, "-c", path, "-o", obj],
                            capture_output=True, text=True)
    if result.returncode != 0:
        print(f"--- {compiler} {' '.join(flags)}:\n{source}\n{result.stderr}")
        return None
    return obj


C_LIBRARY = ["stdarg.h", "stdbool.h", "stddef.h", "stdint.h", "sys/types.h"]


def dependencies(cc, include, source, out):
    """The files a translation unit includes (cc -M)."""
    path = os.path.join(out, "deps.c")
    with open(path, "w") as probe:
        probe.write(source)
    text = subprocess.run([cc, "-M", "-I", include, path], capture_output=True, text=True,
                          check=True).stdout.replace("\\\n", " ")
    return {os.path.realpath(p) for p in text.split(":", 1)[1].split() if p != path}


def main():
    headers_dir, cc, cxx = sys.argv[1:4]
    include = os.path.dirname(os.path.abspath(headers_dir))
    headers = sorted(os.path.basename(h) for h in glob.glob(os.path.join(headers_dir, "*.h")))
    failed = 0
    with tempfile.TemporaryDirectory() as out:
        for header in headers:
            source = f"#include <corral/{header}>\n#include <corral/{header}>\nint probe;\n"
            failed += compile_source(cc, C_FLAGS, include, source, ".c", out) is None
            failed += compile_source(cxx, CXX_FLAGS, include, source, ".cpp", out) is None
        # nothing but the C library's headers besides include/corral/
        allowed = dependencies(cc, include, "".join(f"#include <{h}>\n" for h in C_LIBRARY),
                               out)
        for header in headers:
            extra = sorted(d for d in dependencies(cc, include, f"#include <corral/{header}>\n",
                                                   out)
                           - allowed if not d.startswith(os.path.realpath(headers_dir) + "/"))
            if extra:
                shown = sorted(extra, key=lambda d: (d.count("/"), d))[:6]
                print(f"corral/{header} pulls in {len(extra)} headers outside the C "
                      f"library, such as {shown}")
                failed += 1
        # C++: the functions keep their C names
        every = "".join(f"#include <corral/{h}>\n" for h in headers)
        obj = compile_source(cxx, CXX_FLAGS, include,
                             every + "void *use(void) { return (void *) &corral_worker_new; }\n",
                             ".cpp", out)
        if obj:
            undefined = subprocess.run(["nm", "-u", obj], capture_output=True,
                                       text=True).stdout.split()
            if "corral_worker_new" not in undefined:
                print(f"C++ refers to corral_worker_new as {undefined}: no extern \"C\"?")
                failed += 1
        else:
            failed += 1
        # the forward declarations agree with czmq's and jansson's own
        flags = subprocess.run(["pkg-config", "--cflags", "libczmq", "jansson"],
                               capture_output=True, text=True, check=True).stdout.split()
        for order in (("<czmq.h>", "<jansson.h>", "<corral/plugin.h>"),
                      ("<corral/plugin.h>", "<czmq.h>", "<jansson.h>")):
            source = "".join(f"#include {h}\n" for h in order) + "int probe;\n"
            failed += compile_source(cc, ["-std=gnu11", "-Wall", "-Werror", *flags], include,
                                     source, ".c", out) is None
    print(f"{len(headers)} public headers: {'ok' if not failed else f'{failed} failures'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

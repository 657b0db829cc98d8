"""check_exports.py LIBRARY HEADERS_DIR: libcorral.so exports exactly the
functions include/corral/*.h declares with CORRAL_EXPORT.

Lists LIBRARY's defined dynamic symbols (nm -D --defined-only), prints
their count, and fails on any symbol that no public header declares (an
internal function, the generated protobuf-c code, a dependency's symbol
re-exported) and on any declared function the library does not export."""
import glob
import os
import re
import subprocess
import sys

# What the linker itself may define in a shared object's dynamic table.
LINKER_SYMBOLS = {"_init", "_fini", "_edata", "_end", "__bss_start"}


def exported(library):
    out = subprocess.run(["nm", "-D", "--defined-only", library], check=True,
                         capture_output=True, text=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def declared(headers):
    names = set()
    for header in sorted(glob.glob(os.path.join(headers, "*.h"))):
        text = re.sub(r"/\*.*?\*/", " ", open(header).read(), flags=re.S)
        text = re.sub(r"^#.*(\\\n.*)*$", " ", text, flags=re.M)     # directives
        # CORRAL_EXPORT <return type> [*]name(
        for match in re.finditer(r"\bCORRAL_EXPORT\b[^;(]*?\b([a-z_][a-z_0-9]*)\s*\(", text):
            names.add(match.group(1))
    return names


def main():
    library, headers = sys.argv[1:3]
    symbols = exported(library) - LINKER_SYMBOLS
    public = declared(headers)
    print(f"{os.path.basename(library)}: {len(symbols)} exported symbols, "
          f"{len(public)} functions declared in {headers}")
    stray = sorted(symbols - public)
    missing = sorted(public - symbols)
    for name in stray:
        print(f"  exported but not in a public header: {name}")
    for name in missing:
        print(f"  declared CORRAL_EXPORT but not exported: {name}")
    if not public:
        print("  no CORRAL_EXPORT declaration found: wrong headers directory?")
    return 1 if stray or missing or not public else 0


if __name__ == "__main__":
    sys.exit(main())

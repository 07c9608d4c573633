#!/usr/bin/env python3
"""plugin_boundary.py SOURCE_DIR: the plugin boundary (issue 7). Every
#include "..." in plugins/<kind>/ must name a file of that same kind's folder,
of the public API (libckpt/include) or of the image format (libckpt/image);
never the core's internals (libckpt/src), the tools' (launcher/,
coordinator/) or another kind's private headers. The build gives plugins only
those include directories; this also catches relative paths that would reach
around them. Prints each violation and exits 1 if there is any."""
import os
import re
import sys

root = os.path.abspath(sys.argv[1])
allowed_dirs = [os.path.join(root, "libckpt", "include"), os.path.join(root, "libckpt", "image")]
include = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
bad = []
plugins = os.path.join(root, "plugins")
for kind in sorted(os.listdir(plugins)):
    kind_dir = os.path.join(plugins, kind)
    if not os.path.isdir(kind_dir):
        continue
    for name in sorted(os.listdir(kind_dir)):
        if not name.endswith((".c", ".cpp", ".h")):
            continue
        path = os.path.join(kind_dir, name)
        for number, line in enumerate(open(path, encoding="utf-8"), 1):
            m = include.match(line)
            if not m:
                continue
            target = m.group(1)
            ok = False
            for base in [kind_dir] + allowed_dirs:
                resolved = os.path.normpath(os.path.join(base, target))
                ok |= os.path.isfile(resolved) and os.path.commonpath([resolved, base]) == base
            if not ok:
                bad.append(f"{path}:{number}: includes \"{target}\", which is not in plugins/{kind}/, "
                           "libckpt/include or libckpt/image")
for line in bad:
    print(line)
print(f"plugin boundary: {len(bad)} violation(s)")
sys.exit(1 if bad else 0)

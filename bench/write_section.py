"""Replaces (or appends) one marked section of BENCHMARKS.md.

Usage: write_section.py NAME < section-body.md
The body is wrapped in <!-- NAME:start --> / <!-- NAME:end --> markers and headed
by a line naming the machine it ran on.
"""
import datetime
import os
import platform
import re
import sys

name = sys.argv[1]
body = sys.stdin.read().strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem_kib = int(next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0"))
machine = (
    f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({cpu}), "
    f"{mem_kib // 1024 // 1024} GiB, {platform.system()} {platform.release()}; release build."
)
section = f"<!-- {name}:start -->\n{body.replace('{machine}', machine)}\n<!-- {name}:end -->"
path = "BENCHMARKS.md"
text = open(path).read() if os.path.exists(path) else (
    "# Benchmarks\n\nEvery figure here comes from a committed script; rerun it to refresh its section.\n"
)
pattern = re.compile(rf"<!-- {name}:start -->.*?<!-- {name}:end -->", re.S)
text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
open(path, "w").write(text)
print(section)

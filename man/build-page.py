#!/usr/bin/python3
# Builds one manual page: @VERSION@ in the scdoc source replaced, scdoc run,
# and ".nh" and ".ad l" repeated after ".TH". scdoc puts them before .TH,
# which resets hyphenation and adjustment in groff's man macros, so option
# names would otherwise be hyphenated ("--time-out") and lines justified.
#
# usage: build-page.py SCDOC VERSION SOURCE.scd OUTPUT
import re
import subprocess
import sys


def main():
    if len(sys.argv) != 5:
        print("usage: build-page.py SCDOC VERSION SOURCE.scd OUTPUT", file=sys.stderr)
        return 2
    scdoc, version, source, output = sys.argv[1:]
    with open(source, encoding="utf-8") as f:
        text = f.read().replace("@VERSION@", version)
    run = subprocess.run([scdoc], input=text.encode(), capture_output=True)
    if run.returncode != 0:
        sys.stderr.write(f"{source}: scdoc failed:\n" + run.stderr.decode(errors="replace"))
        return 1
    roff, n = re.subn(r"^(\.TH .*\n)", r"\1.nh\n.ad l\n", run.stdout.decode(), count=1, flags=re.M)
    if n != 1:
        print(f"{source}: no .TH line in scdoc's output", file=sys.stderr)
        return 1
    with open(output, "w", encoding="utf-8") as f:
        f.write(roff)
    return 0


if __name__ == "__main__":
    sys.exit(main())

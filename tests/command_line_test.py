#!/usr/bin/env python3
"""Every command's --help and its parsing agree, because both come from one option list.

  command_line_test.py BUILD_DIR

For pspdr, each command `pspdr --help` lists and each measure plugin:
- --help exits 0, starts with "usage: PROGRAM", keeps to 88 columns and lists its
  options under "options:";
- every option the usage line names is one the parser knows: given without its value
  (or with a bad one), it is never "unrecognized"; an option the help does not name is,
  with exit status 2 and nothing on standard output;
- "--opt=value" is the same as "--opt value", and a bad value names the option.
"""
import re
import subprocess
import sys
from pathlib import Path
from checks import check, finish

pspdr = str(Path(sys.argv[1]) / "cli/pspdr")


def run(*args):
    return subprocess.run([pspdr, *args], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def section(text, title):
    """The lines of the help's section TITLE (up to the next blank line at column 0)."""
    lines = text.split("\n")
    start = lines.index(title + ":") + 1
    end = next((i for i in range(start, len(lines)) if lines[i] == ""), len(lines))
    return lines[start:end]


def usage_options(text):
    """The options of the usage line, each with whether it takes a value."""
    usage = text.split("\n\n")[0]
    return [(m[0], bool(m[1])) for m in re.findall(r"\[(-{1,2}[\w-]+)( [^\]]+)?\]", usage)]


# What a command requires, given first so that the errors below are the ones looked for
# (a missing required option is reported before anything else, as argparse does).
REQUIRED = {"dissect": ["-i", "x.pcap"], "trace": ["-i", "x.pcap"], "synth": ["--flows", "1"]}


def check_program(words):
    name = "pspdr " + " ".join(words) if words else "pspdr"
    required = REQUIRED.get(" ".join(words), [])
    h = run(*words, "--help")
    check(h.returncode == 0 and h.stdout.startswith("usage: " + name + " "),
          f"{name} --help: exit {h.returncode}, usage first")
    wide = [line for line in h.stdout.splitlines() if len(line) > 88]
    check(not wide, f"{name} --help: no line wider than 88 columns {wide[:1]}")
    described = " ".join(section(h.stdout, "options"))
    options = usage_options(h.stdout) + [(required[0], True)] if required else \
        usage_options(h.stdout)
    check(len(options) >= 2, f"{name}: usage names its options {[o for o, _ in options]}")
    for opt, takes_value in options:
        check(re.search(r"(^|[ ,])" + re.escape(opt) + r"\b", described) is not None,
              f"{name}: {opt} is described under options:")
        if opt in ("-h", "--help", "--version", "--list-chains"):
            continue
        # Nothing is measured or captured: a value option without its value, or a flag
        # before an unknown option, fails on what follows it, never on it.
        p = run(*words, *required, opt) if takes_value else \
            run(*words, *required, opt, "--no-such-option")
        known = (": 1 required" in p.stderr if takes_value else
                 "unrecognized arguments: --no-such-option" in p.stderr)
        check(p.returncode == 2 and known, f"{name} {opt}: known ({p.stderr.strip()[:100]})")
    p = run(*words, *required, "--no-such-option")
    check(p.returncode == 2 and p.stdout == "" and
          p.stderr.startswith(name + ": unrecognized arguments: --no-such-option") and
          p.stderr.rstrip().endswith(f"(see {name} --help)") and p.stderr.count("\n") == 1,
          f"{name} --no-such-option: one line, exit 2 ({p.stderr.strip()})")
    return h.stdout


top = check_program([])
commands = [line.split()[0] for line in section(top, "Commands") if line.strip()]
check({"dissect", "filter", "measure", "metadata", "observe", "trace", "synth"} <= set(commands),
      f"pspdr --help lists the commands {commands}")
# generate is internal: its arguments come from pspdr measure.
helps = {c: check_program([c]) for c in commands if c != "generate"}

plugins = [line.split()[0] for line in section(helps["measure"], "Plugins") if line.strip()]
check(len(plugins) >= 9, f"pspdr measure --help lists the plugins {plugins}")
for plugin in plugins:
    help_text = check_program(["measure", plugin])
    check("Observer chains:" in help_text and "Spider model:" in help_text,
          f"pspdr measure {plugin} --help: its chains and model")

# The "=" form, as argparse takes it, and a bad value naming its option.
for args, message in [
    (["measure", "ecn", "--timeout=abc"], "pspdr measure ecn: bad --timeout 'abc'"),
    (["measure", "ecn", "--connect=nosuch"], "pspdr measure ecn: bad --connect 'nosuch' (http"),
    (["measure", "--workers=0", "ecn"], "pspdr measure: bad --workers '0' (1 to 100000)"),
    (["measure", "dscp", "--codepoint", "46", "64"], "pspdr measure dscp: bad --codepoint '64'"),
    (["observe", "--max-flows=0"], "pspdr observe: bad --max-flows '0'"),
    (["synth", "--seed", "1"], "pspdr synth: --flows is required"),
    (["trace", "-i", "x", "--format=xml"], "pspdr trace: bad --format 'xml' (pcap, json, none)"),
]:
    p = run(*args)
    check(p.returncode == 2 and p.stderr.startswith(message),
          f"{' '.join(args)}: exit {p.returncode}, {p.stderr.strip()}")
p = run("nosuch")
check(p.returncode == 2 and p.stderr.startswith("pspdr: unknown command 'nosuch'"),
      f"pspdr nosuch: {p.stderr.strip()}")
p = run()
check(p.returncode == 0 and p.stdout == top, "bare pspdr: its help, exit 0")

sys.exit(finish())

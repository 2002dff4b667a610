"""What the end-to-end test scripts share: a check that prints its outcome and keeps
the failures, the exit status they come to, and a runner for a lab of the test's own.

  from checks import check, finish, lab_runner
"""
import subprocess

failures = []


def check(ok, msg):
    print(("ok    " if ok else "FAIL  ") + msg, flush=True)
    if not ok:
        failures.append(msg)
    return ok


def finish(passed="all passed"):
    """The summary line; the exit status (1 when any check failed)."""
    print(f"{len(failures)} failed" if failures else passed, flush=True)
    return 1 if failures else 0


def lab_runner(source, name):
    """lab(*args): scripts/lab --name NAME ARGS, its standard output (raises on failure)."""
    cmd = [str(source / "scripts/lab"), "--name", name]

    def lab(*args):
        return subprocess.run(cmd + list(args), check=True, capture_output=True,
                              text=True).stdout
    return lab

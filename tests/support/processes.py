"""What the Python end-to-end tests read off running processes."""
import subprocess
from pathlib import Path


def process_status(pid):
    """/proc/PID/status as a dict ({} once the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def leftovers(program):
    """Processes whose command line names `program` (a path), still running."""
    ps = subprocess.run(["ps", "-eo", "pid=,stat=,args="], capture_output=True, text=True)
    return [l.strip() for l in ps.stdout.splitlines() if program in l and "ps -eo" not in l]

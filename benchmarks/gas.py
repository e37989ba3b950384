"""Print the gas of every governed and money-moving entry point, and each contract's size.

Run: ``.venv/bin/python -m benchmarks.gas`` (or ``make bench``). The figures come
from the Foundry gas tests in ``contracts/test/gas/`` (``gasleft()`` deltas
around each call, printed with ``console.log``) and from ``forge build --sizes``.
"""

from __future__ import annotations

import subprocess
import sys

from contracts.artifacts import DEPLOYABLE
from contracts.build import ROOT, forge_binary


def _run(*args: str) -> str:
    done = subprocess.run(
        [forge_binary(), *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(done.stdout[-2000:] + done.stderr[-2000:])
    return done.stdout


def main() -> None:
    print("$ forge test --match-path 'contracts/test/gas/*' -vv")
    output = _run("test", "--match-path", "contracts/test/gas/*", "-vv")
    seen: set[str] = set()
    in_logs = False
    for line in output.splitlines():
        figure = line.strip()
        if figure == "Logs:":
            in_logs = True
        elif not figure:
            in_logs = False
        elif in_logs and figure not in seen:  # the tests' console.log lines
            seen.add(figure)
            print(f"  {figure}")
    print("\n$ forge build --sizes --skip test  (deployable contracts)")
    sizes = _run("build", "--sizes", "--skip", "test", "--force")
    for line in sizes.splitlines():
        if any(f"| {name} " in line for name in DEPLOYABLE) or "Contract" in line:
            print(f"  {line.strip()}")


if __name__ == "__main__":
    main()

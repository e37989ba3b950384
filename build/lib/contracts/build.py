"""Compile the contracts with forge and write the committed artifacts.

``python -m contracts.build`` rewrites ``contracts/artifacts/*.json``;
``python -m contracts.build --check`` compiles into a scratch directory and
exits non-zero when the committed artifacts differ from what the sources give.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from contracts.artifacts import ARTIFACTS_DIR, DEPLOYABLE, SOURCES_DIR, sources_digest

ROOT = SOURCES_DIR.parent.parent


def forge_binary() -> str:
    """The forge executable: the npm package's native binary, else PATH."""
    for candidate in sorted((ROOT / "node_modules" / "@foundry-rs").glob("forge-*/bin/forge")):
        return str(candidate)
    found = shutil.which("forge")
    if found is None:
        raise SystemExit("forge not found: run `npm ci` (it installs @foundry-rs/forge)")
    return found


def compile_to(out_dir: Path) -> None:
    """Run ``forge build`` for the sources only (not the tests) into ``out_dir``."""
    subprocess.run(
        [forge_binary(), "build", "--skip", "test", "--out", str(out_dir), "--root", str(ROOT)],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )


def render(out_dir: Path, digest: str) -> dict[str, dict[str, Any]]:
    """The artifact documents for every deployable contract, from forge output."""
    documents: dict[str, dict[str, Any]] = {}
    for name in DEPLOYABLE:
        matches = list(out_dir.glob(f"*.sol/{name}.json"))
        if len(matches) != 1:
            raise SystemExit(f"expected one forge output for {name}, found {len(matches)}")
        forge_json = json.loads(matches[0].read_text())
        metadata = forge_json.get("metadata", {})
        documents[name] = {
            "contractName": name,
            "sourceName": matches[0].parent.name,
            "abi": forge_json["abi"],
            "bytecode": forge_json["bytecode"]["object"],
            "deployedBytecode": forge_json["deployedBytecode"]["object"],
            "compiler": {
                "version": metadata.get("compiler", {}).get("version"),
                "settings": {
                    key: metadata.get("settings", {}).get(key)
                    for key in ("optimizer", "evmVersion", "metadata", "remappings")
                },
            },
            "sourcesDigest": digest,
        }
    return documents


def dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if artifacts are stale")
    args = parser.parse_args(argv)
    digest = sources_digest()
    with tempfile.TemporaryDirectory() as scratch:
        compile_to(Path(scratch))
        documents = render(Path(scratch), digest)
    if args.check:
        stale = [
            name
            for name, document in documents.items()
            if not (ARTIFACTS_DIR / f"{name}.json").is_file()
            or (ARTIFACTS_DIR / f"{name}.json").read_text() != dump(document)
        ]
        if stale:
            print(
                f"stale artifacts: {', '.join(stale)}; run `python -m contracts.build`",
                file=sys.stderr,
            )
            return 1
        print(f"artifacts up to date ({len(documents)} contracts)")
        return 0
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    for name, document in documents.items():
        (ARTIFACTS_DIR / f"{name}.json").write_text(dump(document))
    print(f"wrote {len(documents)} artifacts to {ARTIFACTS_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""The code generators side by side: whole-process wall time and peak RSS (medians of
--runs runs, each a fresh process) of vssgen against velocitas-model-generator 0.9.0
(Python, C++, TypeScript models, each against vssgen's typed SDK of the same language; C++
against the Rust SDK, as vssgen has no C++ one) and vss-tools 6.1.0 `vspec export` (json,
protobuf), on the standard VSS tree and the CVIS multiple-trailers tree (15,057 nodes).
`vssgen generate` (the server crate, its .proto and the three SDKs) is timed too.

The peers are installed from PyPI at pinned versions into virtual environments under
--work; vssgen is this checkout's release build. Prints a Markdown table with every
peer's time against vssgen's for the same tree and output kind.

    python3 viss-bench/peers/generators.py [--runs 5] [--slow-runs 3] [--work DIR]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("VSS_SHARED", REPO.parent / "shared"))
PEERS = {
    "velocitas": "velocitas-model-generator==0.9.0",
    "vss-tools": "vss-tools==6.1.0",
}


def venv(work: Path, name: str) -> Path:
    """A virtual environment with the peer `name` installed; its bin directory."""
    home = work / f"{name}-venv"
    bin_dir = home / "bin"
    if not (bin_dir / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
    subprocess.run(
        [str(bin_dir / "pip"), "install", "-q", PEERS[name]], check=True
    )
    return bin_dir


def run_once(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run of `command`."""
    # stderr to a file, not a pipe: a tool that warns a lot would block on a full pipe that
    # nobody reads until it exits
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors
        )
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            errors.seek(0)
            text = errors.read().decode(errors="replace")
            raise SystemExit(f"failed ({code}): {' '.join(command)}\n{text[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024.0


def measure(command: list[str], runs: int) -> tuple[float, float]:
    """Median wall seconds and median peak RSS over `runs` fresh runs, each in an empty
    output directory."""
    times, peaks = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as out:
            filled = [part.replace("{out}", out) for part in command]
            elapsed, peak = run_once(filled, Path(out))
        times.append(elapsed)
        peaks.append(peak)
    return statistics.median(times), statistics.median(peaks)


def trees() -> list[dict]:
    standard = SHARED / "vss/spec"
    trailer = SHARED / (
        "vss/third-party/commercial-vehicle-information-specifications/spec/trees/Vehicle/Trailer"
    )
    return [
        {
            "name": "standard",
            "vspec": standard / "VehicleSignalSpecification.vspec",
            "units": standard / "units.yaml",
            "quantities": standard / "quantities.yaml",
            "json": SHARED / "vss/json/vss.json",
        },
        {
            "name": "CVIS multiple trailers",
            "vspec": trailer / "MultipleTrailersSignalSpecification.vspec",
            "units": trailer / "units.yaml",
            "quantities": trailer / "quantities.yaml",
            "json": SHARED / "vss/json/third-party/cvis-multiple-trailers.json",
        },
    ]


# The vssgen SDK a Velocitas model is set against, where the language differs.
SDK_FOR_MODEL = {"cpp": "rust"}


def cases(tree: dict, vssgen: Path, velocitas: Path, vss_tools: Path) -> list[tuple]:
    """(output kind, tool, command, slow) for one tree; `{out}` is the run's directory."""
    units = ["-u", str(tree["units"]), "-q", str(tree["quantities"])]
    json_in = str(tree["json"])
    vspec_in = str(tree["vspec"])
    rows = [
        ("server crate (from JSON)", "vssgen generate",
         [str(vssgen), "generate", "--json", json_in, "--out", "{out}/server",
          "--proto-lock-dir", "{out}"], False),
    ]
    for language in ["python", "cpp", "typescript"]:
        # vssgen's typed client SDK of the same tree; for Velocitas' C++ model, the Rust
        # SDK (vssgen has no C++ SDK: its compiled-language client is Rust)
        ours = SDK_FOR_MODEL.get(language, language)
        rows.append((f"{ours} SDK (from JSON)", "vssgen sdk",
                     [str(vssgen), "sdk", "--json", json_in, "--sdk", ours,
                      "--out", "{out}/sdk"], False))
        rows.append((f"{language} model (from JSON)", "velocitas gen-model",
                     [str(velocitas / "gen-model"), "-l", language, "-T", "{out}/model",
                      json_in], False))
    rows += [
        ("json (from vspec)", "vssgen export json",
         [str(vssgen), "export", "json", "-s", vspec_in, *units, "-o", "{out}/vss.json"], False),
        ("json (from vspec)", "vspec export json",
         [str(vss_tools / "vspec"), "export", "json", "-s", vspec_in, *units,
          "-o", "{out}/vss.json"], True),
        ("protobuf (from vspec)", "vssgen export proto",
         [str(vssgen), "export", "proto", "-s", vspec_in, *units, "-o", "{out}/vss.proto",
          "--proto-lock-dir", "{out}"], False),
        ("protobuf (from vspec)", "vspec export protobuf",
         [str(vss_tools / "vspec"), "export", "protobuf", "-s", vspec_in, *units,
          "-o", "{out}/vss.proto"], True),
    ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement")
    parser.add_argument("--slow-runs", type=int, default=3,
                        help="runs of vss-tools on the CVIS tree (about a minute each)")
    parser.add_argument("--work", type=Path, default=REPO / "target/generators")
    parser.add_argument("--tree", choices=["standard", "cvis", "both"], default="both")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    vssgen = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")) / "release/vssgen"
    print("=== build vssgen (release)", flush=True)
    # the package set side-by-side.sh builds: features unify the same way, so the release
    # artifacts are shared instead of built a second time
    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "viss-server",
                    "-p", "vssgen", "-p", "viss-bench"], cwd=REPO, check=True)
    print("=== install the peers from PyPI", flush=True)
    velocitas = venv(args.work, "velocitas")
    vss_tools = venv(args.work, "vss-tools")
    print("| tree | output | tool | median wall (s) | median peak RSS (MB) | vssgen is faster by |")
    print("| --- | --- | --- | --- | --- | --- |")
    for tree in trees():
        if args.tree == "standard" and tree["name"] != "standard":
            continue
        if args.tree == "cvis" and tree["name"] == "standard":
            continue
        ours = {}
        for output, tool, command, slow in cases(tree, vssgen, velocitas, vss_tools):
            runs = args.slow_runs if slow and tree["name"] != "standard" else args.runs
            wall, peak = measure(command, runs)
            kind = output.split(" ")[0]
            if tool.startswith("vssgen"):
                ours[kind] = wall
                ours.setdefault("server", wall)
                versus = "–"
            else:
                base = ours.get(SDK_FOR_MODEL.get(kind, kind), ours["server"])
                versus = f"{wall / base:.0f}×"
            print(f"| {tree['name']} | {output} | {tool} | {wall:.3f} (n={runs}) | "
                  f"{peak:.0f} | {versus} |", flush=True)


if __name__ == "__main__":
    main()

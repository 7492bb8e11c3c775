"""Turn a pytest-benchmark JSON of tests/benchmarks/test_update_speed.py into a Markdown table.

    python -m tests.benchmarks.report BENCHMARK_JSON [OUTPUT_MD]

Per shape and device: median ms of one SQL and one SAC update, SQL's MFLOP per update, its achieved GFLOP/s,
its efficiency against the same machine's 1-thread matmul rate, and the SQL/SAC ratio; then the machine the
numbers came from. Prints the table and, with OUTPUT_MD, writes it there.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def table(report: dict) -> str:
    rows: dict[tuple[str, str], dict[str, dict]] = {}
    matmul: dict[str, float] = {}
    for bench in report["benchmarks"]:
        info = bench["extra_info"]
        if info["algo"] == "matmul":
            matmul[info["device"]] = info["gflops"]
            continue
        rows.setdefault((info["shape"], info["device"]), {})[info["algo"]] = {"ms": bench["stats"]["median"] * 1e3, **info}
    machine = report["machine_info"]
    lines = [
        "# One gradient update: SQL (code preset) against SB3 SAC",
        "",
        f"Measured {report['datetime'][:10]} with `tox -e benchmarks` (pytest-benchmark medians of 200 updates, "
        "1 torch thread; tests/benchmarks/test_update_speed.py). Machine: "
        f"{machine.get('cpu', {}).get('brand_raw', machine.get('processor', '?'))}, "
        f"{machine.get('cpu', {}).get('count', '?')} cores, Python {machine.get('python_version', '?')}; "
        + ", ".join(f"1-thread {d} matmul {g:.0f} GFLOP/s" for d, g in sorted(matmul.items()))
        + ". Times move 15-30% between runs on shared machines; compare within one table.",
        "",
        "| shape | device | SQL ms | SAC ms | SQL / SAC | SQL MFLOP | SQL GFLOP/s | of matmul rate |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (shape, device), algos in rows.items():
        sql, sac = algos.get("sql"), algos.get("sac")
        if sql is None or sac is None:
            continue
        efficiency = f"{sql['gflops'] / matmul[device]:.0%}" if device in matmul else "-"
        lines.append(
            f"| {shape} | {device} | {sql['ms']:.2f} | {sac['ms']:.2f} | {sql['ms'] / sac['ms']:.2f} | "
            f"{sql['mflop']:.0f} | {sql['gflops']:.0f} | {efficiency} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    text = table(json.loads(Path(argv[0]).read_text()))
    print(text, end="")
    if len(argv) == 2:
        Path(argv[1]).parent.mkdir(parents=True, exist_ok=True)
        Path(argv[1]).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

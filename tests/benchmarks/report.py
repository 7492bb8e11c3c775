"""Turn a pytest-benchmark JSON of tests/benchmarks/test_update_speed.py into a Markdown table.

    python -m tests.benchmarks.report BENCHMARK_JSON [OUTPUT_MD]

Per shape and device: median ms of one SQL and one SAC update (alternating), the median per-update SQL/SAC
ratio, SQL's MFLOP per update, its achieved GFLOP/s and its efficiency against the same machine's 1-thread
matmul rate; and the machine the numbers came from. Prints the table and, with OUTPUT_MD, writes it there.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def table(report: dict) -> str:
    rows: list[dict] = []
    matmul: dict[str, float] = {}
    for bench in report["benchmarks"]:
        info = bench["extra_info"]
        if info["algo"] == "matmul":
            matmul[info["device"]] = info["gflops"]
        else:
            rows.append({"ms": bench["stats"]["median"] * 1e3, **info})
    machine = report["machine_info"]
    lines = [
        "# One gradient update: SQL (code preset) against SB3 SAC",
        "",
        f"Measured {report['datetime'][:10]} with `tox -e benchmarks` (medians of 200 SQL updates, "
        "each after one SAC update; SQL / SAC is the median of the per-update ratios; 1 torch thread; "
        "tests/benchmarks/test_update_speed.py). Machine: "
        f"{machine.get('cpu', {}).get('brand_raw', machine.get('processor', '?'))}, "
        f"{machine.get('cpu', {}).get('count', '?')} cores, Python {machine.get('python_version', '?')}; "
        + ", ".join(f"1-thread {d} matmul {g:.0f} GFLOP/s" for d, g in sorted(matmul.items()))
        + ". Times move 15-30% between runs on shared machines; compare within one table.",
        "",
        "Shapes: swimmer (obs 8, act 2), ant29 (obs 29, act 8) and ant105 (obs 105, act 8) "
        "at the `code` preset: batch 128, 2 x 128, 16 value particles, 8 + 8 SVGD particles; "
        "large: obs 8, act 2, batch 256, 16 value particles, 16 + 16 SVGD particles. "
        "SAC: SB3's, same batch and widths.",
        "",
        "| shape | device | SQL ms | SAC ms | SQL / SAC | SQL MFLOP | SQL GFLOP/s | of matmul rate |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        efficiency = f"{row['gflops'] / matmul[row['device']]:.0%}" if row["device"] in matmul else "-"
        lines.append(
            f"| {row['shape']} | {row['device']} | {row['ms']:.2f} | {row['sac_ms']:.2f} | "
            f"{row['sql_over_sac']:.2f} | {row['mflop']:.0f} | {row['gflops']:.0f} | {efficiency} |"
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

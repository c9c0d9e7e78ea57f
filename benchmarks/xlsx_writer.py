"""How fast ``crm.spreadsheets.write_workbook`` writes a long sheet, with openpyxl's lxml writer
and with its pure-Python fallback (``OPENPYXL_LXML=False``), each run in a fresh process, the
two interleaved.  Rows shaped like the round workbook's reports sheet (11 columns: text,
numbers, dates).

    python benchmarks/xlsx_writer.py --rows 91024 --repeat 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write(rows: int) -> float:
    sys.path.insert(0, ROOT)
    from crm.spreadsheets import write_workbook

    day = dt.date(2026, 11, 30)
    data = ((f"园区{i % 200}", f"南通重大项目{i}号", f"代办员{i % 900}", "已填报", "审批阶段",
             "用地规划许可", "完成用地预审材料报送，正在跟进规划许可", "跟进规划许可",
             i % 5000, day, "=SUM(A1)" if i % 1000 == 0 else "无")
            for i in range(rows))
    started = time.perf_counter()
    out = write_workbook([("报告", [f"列{i}" for i in range(11)], data, [12] * 11)])
    seconds = time.perf_counter() - started
    out.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=91_024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        import openpyxl.xml

        print(f"{write(args.rows):.3f} {openpyxl.xml.LXML}")
        return
    times: dict[str, list[float]] = {"lxml": [], "python": []}
    for _ in range(args.repeat):
        for name, flag in (("lxml", "True"), ("python", "False")):
            env = dict(os.environ, OPENPYXL_LXML=flag)
            out = subprocess.run([sys.executable, __file__, "--child", "--rows", str(args.rows)],
                                 env=env, capture_output=True, text=True, check=True).stdout
            seconds, used = out.split()
            assert used == flag, (name, used)
            times[name].append(float(seconds))
    load = open("/proc/loadavg").read().split()[:3]
    for name, values in times.items():
        print(f"{name:7} rows={args.rows} median={statistics.median(values):.2f}s "
              f"runs={[round(v, 2) for v in values]}")
    print(f"ratio python/lxml = {statistics.median(times['python']) / statistics.median(times['lxml']):.2f}"
          f"  load {' '.join(load)}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Print markdown tables of medians from a sigs_bench JSON file.

Usage: summarize.py RESULTS.json

Reads the Google Benchmark JSON written with --benchmark_repetitions=N and
--benchmark_report_aggregates_only=true and prints, from the *_median aggregates:
  1. emit: ns per emit with one thread, at 1/10/100 listeners, and the 2-thread/1-thread
     ratio of items/s (2.0 is perfect scaling) — the layout of design/PERFORMANCE.md —
     then the same from the fastest repetition (the "min" statistic), when present;
  2. emit in detail: items/s for 1 and 2 threads, the ratio, and allocations per emit;
  3. ratios between implementations at one thread (sigs/floor, boost/sigs, ...);
  4. writer: ns per add+remove with 10 listeners present, allocations per add+remove.
The cv columns are Google Benchmark's coefficient of variation over the repetitions.
Ratios are ratios of medians. Standard library only.
"""

import json
import re
import sys

IMPLS = ["floor", "floor_fnptr", "sigs", "boost_signals2", "sigcpp"]
COUNTS = [1, 10, 100]
UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}

EMIT_RE = re.compile(r"^emit/([^/]+)/(\d+)/.*threads:(\d+)$")
WRITER_RE = re.compile(r"^writer/([^/]+)(/.*)?$")


def load(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    emit, writer, errors, medians, cvs, fastest = {}, {}, [], set(), {}, {}
    for b in doc.get("benchmarks", []):
        run = b.get("run_name", b["name"])
        if b.get("error_occurred"):
            errors.append(f"{run}: {b.get('error_message', 'error')}")
            continue
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") == "min":
            # The fastest repetition's time (the "min" statistic sigs_bench registers). Only
            # the time is used: the same statistic applied to items/s gives the slowest rate.
            fastest[run] = b["real_time"] * UNIT_NS[b.get("time_unit", "ns")]
            continue
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") == "cv":
            # Coefficient of variation of the repetitions' real time: how noisy the run was.
            cvs[run] = b["real_time"]
            continue
        # The median aggregate; a run without repetitions has only its single iteration
        # entry, which is used unless a median for the same run appears.
        is_median = b.get("run_type") == "aggregate" and b.get("aggregate_name") == "median"
        if not is_median and b.get("run_type", "iteration") != "iteration":
            continue
        if not is_median and run in medians:
            continue
        if is_median:
            medians.add(run)
        ns = b["real_time"] * UNIT_NS[b.get("time_unit", "ns")]
        m = EMIT_RE.match(run)
        if m:
            impl, n, threads = m.group(1), int(m.group(2)), int(m.group(3))
            emit[(impl, n, threads)] = {
                "ns": ns,
                "ips": b.get("items_per_second"),
                "allocs": b.get("allocs_per_emit"),
                "run": run,
            }
            continue
        m = WRITER_RE.match(run)
        if m:
            writer[m.group(1)] = {"ns": ns, "allocs": b.get("allocs_per_op"), "run": run}
    for e in emit.values():
        e["cv"] = cvs.get(e["run"])
        e["min_ns"] = fastest.get(e.pop("run"))
    for w in writer.values():
        w["cv"] = cvs.get(w["run"])
        w["min_ns"] = fastest.get(w.pop("run"))
    return doc.get("context", {}), emit, writer, errors


def fmt_ns(v):
    if v is None:
        return "—"
    if v < 10:
        return f"{v:.2f}"
    if v < 100:
        return f"{v:.1f}"
    return f"{v:.0f}"


def fmt_rate(v):
    if v is None:
        return "—"
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= div:
            return f"{v / div:.3g} {suffix}/s"
    return f"{v:.3g} /s"


def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}"


def fmt_allocs(v):
    if v is None:
        return "—"
    return f"{v:.2f}".rstrip("0").rstrip(".") if v else "0"


def fmt_cv(v):
    return "—" if v is None else f"{100 * v:.0f}%"


def ns_of(emit, impl, n):
    e = emit.get((impl, n, 1))
    return e["ns"] if e else None


def scaling(emit, impl, n):
    one, two = emit.get((impl, n, 1)), emit.get((impl, n, 2))
    if not one or not two or not one["ips"] or not two["ips"]:
        return None
    return two["ips"] / one["ips"]


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    context, emit, writer, errors = load(argv[1])
    impls = [i for i in IMPLS if any(k[0] == i for k in emit)]
    impls += sorted({k[0] for k in emit} - set(impls))

    print(f"compiler: {context.get('compiler', '?')}, build: {context.get('build_type', '?')}, "
          f"{context.get('num_cpus', '?')} CPUs at {context.get('mhz_per_cpu', '?')} MHz, "
          f"date {context.get('date', '?')}")
    print()
    print("Emit, median ns per emit with 1 thread; 2-thr = items/s with 2 threads ÷ items/s with 1.")
    print()
    print("| impl | 1 listener | 10 | 100 | 2-thr (1 / 10 / 100) |")
    print("| --- | ---: | ---: | ---: | --- |")
    for impl in impls:
        cells = [fmt_ns(ns_of(emit, impl, n)) for n in COUNTS]
        sc = [scaling(emit, impl, n) for n in COUNTS]
        sc_txt = "—" if all(s is None for s in sc) else " / ".join(
            "—" if s is None else f"{s:.2f}" for s in sc)
        print(f"| {impl} | " + " | ".join(cells) + f" | {sc_txt} |")
    print()
    if any(e.get("min_ns") for e in emit.values()):
        print("Emit, fastest repetition (least disturbed by other load): ns per emit with 1 thread; "
              "2-thr from the fastest 1- and 2-thread repetitions.")
        print()
        print("| impl | 1 listener | 10 | 100 | 2-thr (1 / 10 / 100) |")
        print("| --- | ---: | ---: | ---: | --- |")
        for impl in impls:
            cells, sc = [], []
            for n in COUNTS:
                one, two = emit.get((impl, n, 1)), emit.get((impl, n, 2))
                cells.append(fmt_ns(one.get("min_ns") if one else None))
                # items/s is 1e9 / (real ns per iteration), so the ratio of rates is t1 / t2.
                sc.append(one["min_ns"] / two["min_ns"] if one and two and one.get("min_ns")
                          and two.get("min_ns") else None)
            sc_txt = "—" if all(x is None for x in sc) else " / ".join(
                "—" if x is None else f"{x:.2f}" for x in sc)
            print(f"| {impl} | " + " | ".join(cells) + f" | {sc_txt} |")
        print()
    print("Emit in detail (medians):")
    print()
    print("| case | ns/emit, 1 thr | items/s, 1 thr | items/s, 2 thr | 2 thr / 1 thr | allocs/emit | cv, 1 / 2 thr |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for impl in impls:
        for n in COUNTS:
            one, two = emit.get((impl, n, 1)), emit.get((impl, n, 2))
            if not one and not two:
                continue
            allocs = [x["allocs"] for x in (one, two) if x and x["allocs"] is not None]
            s = scaling(emit, impl, n)
            print(f"| emit/{impl}/{n} | {fmt_ns(one['ns'] if one else None)} | "
                  f"{fmt_rate(one['ips'] if one else None)} | {fmt_rate(two['ips'] if two else None)} | "
                  f"{'—' if s is None else f'{s:.2f}'} | "
                  f"{' / '.join(fmt_allocs(a) for a in allocs) if allocs else '—'} | "
                  f"{' / '.join(fmt_cv(x['cv']) for x in (one, two) if x)} |")
    print()
    pairs = [(a, b) for a, b in (("sigs", "floor"), ("sigs", "floor_fnptr"), ("boost_signals2", "sigs"),
                                 ("sigcpp", "sigs"), ("boost_signals2", "floor"))
             if a in impls and b in impls]
    if pairs:
        print("Ratios of median ns per emit, 1 thread (below 1 means the first is faster):")
        print()
        print("| ratio | 1 listener | 10 | 100 |")
        print("| --- | ---: | ---: | ---: |")
        for a, b in pairs:
            print(f"| {a} / {b} | " + " | ".join(
                fmt_ratio(ns_of(emit, a, n), ns_of(emit, b, n)) for n in COUNTS) + " |")
        print()
    if writer:
        print("Writer: one add and one remove with 10 listeners present (medians):")
        print()
        print("| impl | ns per add+remove | fastest | allocs per add+remove | cv |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for impl in [i for i in IMPLS if i in writer] + sorted(set(writer) - set(IMPLS)):
            w = writer[impl]
            print(f"| {impl} | {fmt_ns(w['ns'])} | {fmt_ns(w.get('min_ns'))} | {fmt_allocs(w['allocs'])} | "
                  f"{fmt_cv(w['cv'])} |")
        print()
    # The floor has nothing shared to contend on, so it scales ~2.0 whenever two CPUs are
    # free. If it did not, something else held a CPU and every 2-thread figure is suspect.
    floor_scaling = [x for x in (scaling(emit, "floor", n) for n in COUNTS) if x is not None]
    if floor_scaling and min(floor_scaling) < 1.6:
        print(f"WARNING: the floor scaled only {min(floor_scaling):.2f}x with 2 threads: another "
              "process held a CPU during this run, so the 2-thread figures are not meaningful. "
              "Run again on a quiet machine.")
        print()
    if errors:
        print("Failed cases:")
        for e in sorted(set(errors)):
            print(f"- {e}")
        print()
    print("(emit: 2 threads emit on the same signal; allocs/emit shown as 1 thr / 2 thr; cv is the "
          "coefficient of variation of the repetitions' times — above a few % the machine was busy.)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

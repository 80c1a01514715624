#!/usr/bin/env python3
"""Print markdown tables of medians from a sigs_bench JSON file.

Usage: summarize.py RESULTS.json [--plot DIR]

Reads the Google Benchmark JSON written with --benchmark_repetitions=N and
--benchmark_report_aggregates_only=true and prints, from the *_median aggregates:
  1. emit: ns per emit with one thread, at 1/10/100/1000 listeners, and the 2-thread/1-thread
     ratio of items/s (2.0 is perfect scaling) — the layout of docs/benchmarks.md —
     then the same from the fastest repetition (the "min" statistic), when present; 1,000
     distinct listener functions (distinct/*); sigs against its emit targets; each metrics
     level (bench_metrics.cpp) against metrics off: extra ns per listener call, 2-thread
     scaling, the aims of docs/observability.md;
  2. emit in detail: items/s for 1 and 2 threads, the ratio, and allocations per emit;
  3. ratios between implementations at one thread (sigs/floor, boost/sigs, ...);
  4. writer: ns per add+remove with 10 listeners present, allocations per add+remove;
     memory: heap bytes held per listener (1000 capture-less listeners), against 96;
     tail: percentiles of single emits timed one by one under a paced or flat-out writer;
  5. async (bench_async.cpp), when present: ns per async emit on the emitting thread (CPU
     and wall time) and allocations per emit (caller, workers) at 1/10/100 listeners;
     listener calls/s through the 2-thread pool; ratios sigs vs mutex_cv; the targets.
The cv columns are Google Benchmark's coefficient of variation over the repetitions.
Ratios are ratios of medians. Standard library only, except --plot.

--plot DIR also draws the emit results as SVG files in DIR (matplotlib, Debian's
python3-matplotlib): emit.svg, ns per emit against the listener count, one line per
implementation, log scales; scaling.svg, the 2-thread/1-thread throughput ratio of each
implementation at each listener count. docs/benchmarks.md shows the committed ones
(docs/img/).
"""

import json
import re
import sys

IMPLS = ["floor", "floor_fnptr", "sigs", "boost_signals2", "sigcpp"]
# Printed in the metrics table only, not beside the peers.
METRIC_IMPLS = {"sigs_counters", "sigs_sampled", "sigs_full"}
COUNTS = [1, 10, 100, 1000]
UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}

EMIT_RE = re.compile(r"^emit/([^/]+)/(\d+)/.*threads:(\d+)$")
ASYNC_IMPLS = ["sigs", "sigs_cache64", "mutex_cv", "loop"]
ASYNC_EMIT_RE = re.compile(r"^async_emit/([^/]+)/(\d+)(/.*)?$")
ASYNC_TP_RE = re.compile(r"^async_throughput/([^/]+)(/.*)?$")
ASYNC_TP_LISTENERS = 10    # listeners in async_throughput (bench_async.cpp)
# The project's targets for async emission (docs/benchmarks.md).
ASYNC_TARGET_CALLS = 2e6   # listener calls/s through a 2-thread pool (goal 10 M/s)
ASYNC_GOAL_CALLS = 10e6
ASYNC_TARGET_ALLOCS = 1.0  # allocations per async emit (goal 0 in steady state)
WRITER_RE = re.compile(r"^writer/([^/]+)(/.*)?$")
DISTINCT_RE = re.compile(r"^distinct/([^/]+)/(\d+)(/.*)?$")
MEMORY_RE = re.compile(r"^memory/([^/]+)/(\d+)(/.*)?$")
MEMORY_TARGET = 96  # bytes per capture-less listener, all included (docs/benchmarks.md)
TAIL_RE = re.compile(r"^tail/([^/]+)/([a-z_]+)(/.*)?$")
KEYED_RE = re.compile(r"^keyed/([^/]+)/([a-z_]+)/(\d+)$")
TAIL_TARGETS = {"paced": 1000.0, "flat_out": 5000.0}  # sigs' p99.9 in ns, per writer pace


def load_cases(path, pattern):
    """The cases whose name matches `pattern`, one per case: [(match, benchmark entry)], the
    median aggregate when the run has repetitions, else the single iteration entry."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    chosen = {}
    for b in doc.get("benchmarks", []):
        run = b.get("run_name", b["name"])
        m = pattern.match(run)
        if not m or b.get("error_occurred"):
            continue
        is_median = b.get("run_type") == "aggregate" and b.get("aggregate_name") == "median"
        if b.get("run_type") == "aggregate" and not is_median:
            continue
        if is_median or run not in chosen:
            chosen[run] = (m, b)
    return list(chosen.values())


def load_keyed(path):
    """keyed/<impl>/<op>/<n> cases: {(impl, op): {n: CPU ns per lookup}}."""
    out = {}
    for m, b in load_cases(path, KEYED_RE):
        ns = b["cpu_time"] * UNIT_NS[b.get("time_unit", "ns")]
        out.setdefault((m.group(1), m.group(2)), {})[int(m.group(3))] = ns
    return out


def load_tail(path):
    """tail/<impl>/<pace> cases: {(impl, pace): counters}."""
    keys = ("p50_ns", "p99_ns", "p999_ns", "max_ns", "writer_pairs_per_s")
    return {(m.group(1), m.group(2)): {k: b.get(k) for k in keys}
            for m, b in load_cases(path, TAIL_RE) if "p50_ns" in b}


def load_distinct(path):
    """distinct/<impl>/1000: {impl: median real ns per emit}."""
    return {m.group(1): b["real_time"] * UNIT_NS.get(b.get("time_unit", "ns"), 1.0)
            for m, b in load_cases(path, DISTINCT_RE)}


def load_memory(path):
    """memory/<impl>/<n> cases: {impl: (n, bytes per listener)}."""
    return {m.group(1): (int(m.group(2)), b["bytes_per_listener"])
            for m, b in load_cases(path, MEMORY_RE) if "bytes_per_listener" in b}


def print_tail(tail):
    print("Tail latency: single emits (10 listeners) timed one by one, with no writer, a writer "
          "paced at 100 k add+remove pairs/s, or one as fast as it can (timer cost included; "
          "floor shows it):")
    print()
    print("| impl | writer | p50 ns | p99 ns | p99.9 ns | max ns | writer pairs/s |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    paces = ["none", "paced", "flat_out"]
    impls = [i for i in IMPLS if any(k[0] == i for k in tail)] + sorted({k[0] for k in tail} - set(IMPLS))
    for impl in impls:
        for pace in paces:
            c = tail.get((impl, pace))
            if c is None:
                continue
            print(f"| {impl} | {pace} | {fmt_ns(c['p50_ns'])} | {fmt_ns(c['p99_ns'])} | {fmt_ns(c['p999_ns'])} | "
                  f"{fmt_ns(c['max_ns'])} | {fmt_rate(c['writer_pairs_per_s']) if c['writer_pairs_per_s'] else '—'} |")
    print()
    for pace, limit in TAIL_TARGETS.items():
        c = tail.get(("sigs", pace))
        if c is not None and c["p999_ns"] is not None:
            verdict = "met" if c["p999_ns"] <= limit else "not met"
            print(f"- sigs p99.9 with the {pace} writer <= {limit:.0f} ns: {c['p999_ns']:.0f} ns, {verdict}")
    print()


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


def count_header(first):
    """A table header: `first`, then one column per listener count."""
    return f"| {first} | " + " | ".join("1 listener" if n == 1 else str(n) for n in COUNTS) + " |"


EMIT_TARGET_PLUS_NS = 2.0   # sigs at 1 listener: within the floor + 2 ns
EMIT_TARGET_RATIO = 1.15    # sigs at 10/100/1000 listeners: within 1.15x the floor
DISTINCT_TARGET_RATIO = 1.5  # sigs with 1,000 distinct listener functions: within 1.5x
SCALING_TARGET = 1.9        # sigs with two emitting threads: at least 1.9x one thread


def print_emit_targets(emit, distinct):
    """sigs against the emit targets of docs/benchmarks.md, met or not."""
    if ns_of(emit, "sigs", 1) is None or ns_of(emit, "floor", 1) is None:
        return
    print("sigs against the emit targets (medians, 1 thread unless said):")
    print()
    s1, f1 = ns_of(emit, "sigs", 1), ns_of(emit, "floor", 1)
    print(f"- 1 listener: {s1:.2f} ns, floor {f1:.2f} ns, floor + {s1 - f1:.2f} ns "
          f"(target + {EMIT_TARGET_PLUS_NS:.0f}): {'met' if s1 - f1 <= EMIT_TARGET_PLUS_NS else 'not met'}")
    for n in COUNTS[1:]:
        s, f = ns_of(emit, "sigs", n), ns_of(emit, "floor", n)
        if s and f:
            print(f"- {n} listeners: {s / f:.2f}x the floor (target {EMIT_TARGET_RATIO}x): "
                  f"{'met' if s / f <= EMIT_TARGET_RATIO else 'not met'}")
    if "sigs" in distinct and "floor" in distinct:
        r = distinct["sigs"] / distinct["floor"]
        print(f"- 1,000 distinct functions: {r:.2f}x the floor (target {DISTINCT_TARGET_RATIO}x): "
              f"{'met' if r <= DISTINCT_TARGET_RATIO else 'not met'}")
    sc = [(n, scaling(emit, "sigs", n)) for n in COUNTS]
    sc = [(n, x) for n, x in sc if x is not None]
    if sc:
        print("- two threads over one: " + ", ".join(f"{x:.2f} at {n}" for n, x in sc) +
              f" (target {SCALING_TARGET}): {'met' if min(x for _, x in sc) >= SCALING_TARGET else 'not met'}")
    print()


# What metrics may cost (docs/observability.md): the extra ns per listener call of each
# level over emit/sigs (metrics off) at the same listener count, and the two-thread
# scaling with counters on.
METRIC_LEVELS = [("sigs_counters", "counters", 1.0), ("sigs_sampled", "sampled", 2.0), ("sigs_full", "full", 30.0)]
METRIC_COUNTS = [1, 10, 100]
METRICS_SCALING_TARGET = 1.8


def print_metrics(emit):
    """Each metrics level against emit/sigs (off), per listener call, met or not."""
    if not any(k[0] == "sigs_counters" for k in emit):
        return
    print("Metrics: extra ns per listener call over metrics off (medians, 1 thread), and 2-thread scaling:")
    print()
    print("| level | " + " | ".join(f"{n} listener{'s' if n > 1 else ''}" for n in METRIC_COUNTS) +
          " | aim | 2-thr (" + " / ".join(str(n) for n in METRIC_COUNTS) + ") |")
    print("| --- |" + " ---: |" * len(METRIC_COUNTS) + " --- | --- |")
    off_sc = [scaling(emit, "sigs", n) for n in METRIC_COUNTS]
    print("| off | " + " | ".join(f"{fmt_ns(ns_of(emit, 'sigs', n))} ns/emit" for n in METRIC_COUNTS) + " | — | " +
          " / ".join("—" if x is None else f"{x:.2f}" for x in off_sc) + " |")
    for impl, level, aim in METRIC_LEVELS:
        extra = []
        for n in METRIC_COUNTS:
            on, off = ns_of(emit, impl, n), ns_of(emit, "sigs", n)
            extra.append(None if on is None or off is None else (on - off) / n)
        worst = max((x for x in extra if x is not None), default=None)
        met = worst is not None and worst <= aim
        sc = [scaling(emit, impl, n) for n in METRIC_COUNTS]
        verdict = f"+{aim:g} ns: {'met' if met else 'not met'}"
        if level == "counters":
            ok = all(x is not None and x >= METRICS_SCALING_TARGET for x in sc)
            verdict += f"; 2-thr ≥ {METRICS_SCALING_TARGET}: {'met' if ok else 'not met'}"
        print(f"| {level} | " + " | ".join("—" if x is None else f"+{x:.2f}" for x in extra) + f" | {verdict} | " +
              " / ".join("—" if x is None else f"{x:.2f}" for x in sc) + " |")
    print()


def print_distinct(distinct):
    """distinct/*: ns per emit of 1,000 distinct listener functions."""
    print("1,000 distinct listener functions (distinct/*), median ns per emit, 1 thread:")
    print()
    print("| impl | ns per emit | / floor |")
    print("| --- | ---: | ---: |")
    for impl in [i for i in IMPLS if i in distinct] + sorted(set(distinct) - set(IMPLS)):
        print(f"| {impl} | {fmt_ns(distinct[impl])} | {fmt_ratio(distinct[impl], distinct.get('floor'))} |")
    print()


def print_emit(emit, impls):
    """The sync emit tables (sections 1-3 of the module docstring)."""
    print("Emit, median ns per emit with 1 thread; 2-thr = items/s with 2 threads ÷ items/s with 1.")
    print()
    print(count_header("impl") + " 2-thr (" + " / ".join(str(n) for n in COUNTS) + ") |")
    print("| --- |" + " ---: |" * len(COUNTS) + " --- |")
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
        print(count_header("impl") + " 2-thr (" + " / ".join(str(n) for n in COUNTS) + ") |")
        print("| --- |" + " ---: |" * len(COUNTS) + " --- |")
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
        print(count_header("ratio"))
        print("| --- |" + " ---: |" * len(COUNTS))
        for a, b in pairs:
            print(f"| {a} / {b} | " + " | ".join(
                fmt_ratio(ns_of(emit, a, n), ns_of(emit, b, n)) for n in COUNTS) + " |")
        print()


def load_async(path):
    """The async cases: {(impl, n): rec} for async_emit and {impl: rec} for async_throughput.

    rec has the median CPU and wall ns per iteration, items/s, allocs (caller) and wallocs
    (workers) per emit, the cv of both times, and the fastest repetition's times."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    runs = {}
    for b in doc.get("benchmarks", []):
        run = b.get("run_name", b["name"])
        if not (ASYNC_EMIT_RE.match(run) or ASYNC_TP_RE.match(run)) or b.get("error_occurred"):
            continue  # failures are listed by load()
        kind = b.get("aggregate_name") if b.get("run_type") == "aggregate" else "iteration"
        runs.setdefault(run, {}).setdefault(kind, b)  # without repetitions: the first run

    def ns(b, key):
        return None if b is None else b[key] * UNIT_NS[b.get("time_unit", "ns")]

    emit, tput = {}, {}
    for run, r in runs.items():
        med = r.get("median") or r.get("iteration")
        if med is None:
            continue
        cv, fastest = r.get("cv"), r.get("min")
        rec = {
            "cpu": ns(med, "cpu_time"),
            "real": ns(med, "real_time"),
            "ips": med.get("items_per_second"),
            "allocs": med.get("allocs_per_emit"),
            "wallocs": med.get("worker_allocs_per_emit"),
            "wcpu": med.get("worker_cpu_ns_per_call"),
            "cv_cpu": cv["cpu_time"] if cv else None,
            "cv_real": cv["real_time"] if cv else None,
            "min_cpu": ns(fastest, "cpu_time"),
            "min_real": ns(fastest, "real_time"),
        }
        m = ASYNC_EMIT_RE.match(run)
        if m:
            emit[(m.group(1), int(m.group(2)))] = rec
        else:
            tput[ASYNC_TP_RE.match(run).group(1)] = rec
    return emit, tput


def print_async(emit, tput):
    impls = [i for i in ASYNC_IMPLS if any(k[0] == i for k in emit) or i in tput]
    impls += sorted(({k[0] for k in emit} | set(tput)) - set(impls))

    def cells(impl, key, fmt):
        return " / ".join(fmt(emit[(impl, n)][key]) if (impl, n) in emit else "—" for n in COUNTS)

    if emit:
        print("Async emit, caller side: median ns per emit() on the emitting thread, its CPU time "
              "(the headline) and wall time, batches of emits drained with the timer paused; "
              "allocations per emit on the caller and on the workers.")
        print()
        print("| impl | CPU ns, 1 listener | 10 | 100 | wall ns (1 / 10 / 100) | fastest CPU ns | "
              "allocs/emit, caller | allocs/emit, workers | worker CPU ns per call | cv CPU |")
        print("| --- | ---: | ---: | ---: | --- | --- | --- | --- | --- | --- |")
        for impl in impls:
            if not any(k[0] == impl for k in emit):
                continue
            cpu = [fmt_ns(emit[(impl, n)]["cpu"]) if (impl, n) in emit else "—" for n in COUNTS]
            print(f"| {impl} | " + " | ".join(cpu) + f" | {cells(impl, 'real', fmt_ns)} | "
                  f"{cells(impl, 'min_cpu', fmt_ns)} | {cells(impl, 'allocs', fmt_allocs)} | "
                  f"{cells(impl, 'wallocs', fmt_allocs)} | {cells(impl, 'wcpu', fmt_ns)} | "
                  f"{cells(impl, 'cv_cpu', fmt_cv)} |")
        print()
    if tput:
        print("Async throughput: listener calls per second through the pool (10 listeners; "
              "a burst of emits, then drain, all timed on the wall clock).")
        print()
        print("| impl | listener calls/s | fastest | wall ns per listener call | "
              "worker CPU ns per call | caller CPU ns per emit | allocs/emit, caller / workers | cv |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for impl in impls:
            t = tput.get(impl)
            if not t:
                continue
            best = (t["ips"] * t["real"] / t["min_real"]
                    if t["ips"] and t["real"] and t["min_real"] else None)
            per_call = 1e9 / t["ips"] if t["ips"] else None
            # cpu is the emitting thread's CPU time per iteration of `burst` emits; the
            # burst is recovered from items/s: items per iteration = ips × real ns / 1e9.
            per_emit = None
            if t["ips"] and t["real"] and t["cpu"]:
                listener_calls = t["ips"] * t["real"] / 1e9
                per_emit = t["cpu"] / (listener_calls / ASYNC_TP_LISTENERS)
            print(f"| {impl} | {fmt_rate(t['ips'])} | {fmt_rate(best)} | {fmt_ns(per_call)} | "
                  f"{fmt_ns(t['wcpu'])} | {fmt_ns(per_emit)} | "
                  f"{fmt_allocs(t['allocs'])} / {fmt_allocs(t['wallocs'])} | {fmt_cv(t['cv_real'])} |")
        print()

    def ratio(a, b, key):
        x, y = emit.get(a), emit.get(b)
        return fmt_ratio(x[key] if x else None, y[key] if y else None)

    pairs = [(a, b) for a, b in (("mutex_cv", "sigs"), ("sigs", "loop"), ("sigs_cache64", "sigs"))
             if any(k[0] == a for k in emit) and any(k[0] == b for k in emit)]
    if pairs:
        print("Async ratios of medians (time ratios: above 1 means the second is faster; "
              "throughput: calls/s of the first ÷ the second).")
        print()
        print("| ratio | CPU ns 1 / 10 / 100 | wall ns 1 / 10 / 100 | throughput |")
        print("| --- | --- | --- | ---: |")
        for a, b in pairs:
            tp = fmt_ratio(tput[a]["ips"], tput[b]["ips"]) if a in tput and b in tput else "—"
            if (a, b) == ("mutex_cv", "sigs") and b in tput and a in tput:
                tp = fmt_ratio(tput[b]["ips"], tput[a]["ips"]) + " (sigs ÷ mutex_cv)"
            print(f"| {a} / {b} | "
                  + " / ".join(ratio((a, n), (b, n), "cpu") for n in COUNTS) + " | "
                  + " / ".join(ratio((a, n), (b, n), "real") for n in COUNTS) + f" | {tp} |")
        print()

    # The targets (docs/benchmarks.md), for sigs.
    lines = []
    t = tput.get("sigs")
    if t and t["ips"]:
        verdict = ("met, and the goal" if t["ips"] >= ASYNC_GOAL_CALLS else
                   "met" if t["ips"] >= ASYNC_TARGET_CALLS else
                   f"MISSED by {ASYNC_TARGET_CALLS / t['ips']:.2f}x")
        lines.append(f"- listener calls/s through a 2-thread pool >= 2 M/s (goal 10 M/s): "
                     f"{fmt_rate(t['ips'])}, {verdict}")
    allocs = [(e["allocs"] or 0) + (e["wallocs"] or 0) for k, e in emit.items() if k[0] == "sigs"]
    if allocs:
        worst = max(allocs)
        verdict = ("met, and the goal (0)" if worst == 0 else "met" if worst <= ASYNC_TARGET_ALLOCS
                   else "MISSED")
        lines.append(f"- allocations per async emit <= 1 (goal 0), caller + workers, worst of "
                     f"1/10/100 listeners: {fmt_allocs(worst)}, {verdict}")
    faster = []
    for n in COUNTS:
        s_, m_ = emit.get(("sigs", n)), emit.get(("mutex_cv", n))
        if s_ and m_:
            faster.append(f"{n}: CPU {m_['cpu'] / s_['cpu']:.2f}x, wall {m_['real'] / s_['real']:.2f}x")
    if faster:
        lines.append("- faster than mutex_cv per emit (mutex_cv ÷ sigs): " + "; ".join(faster))
    if "sigs" in tput and "mutex_cv" in tput and tput["mutex_cv"]["ips"]:
        s_, m_ = tput["sigs"], tput["mutex_cv"]
        line = (f"- faster than mutex_cv in throughput (sigs ÷ mutex_cv): calls/s "
                f"{s_['ips'] / m_['ips']:.2f}x")
        if s_.get("wcpu") and m_.get("wcpu"):
            line += f"; worker CPU per call {m_['wcpu'] / s_['wcpu']:.2f}x less"
        lines.append(line)
    if lines:
        print("Async targets (docs/benchmarks.md), sigs:")
        print()
        print("\n".join(lines))
        print()


LABELS = {
    "floor": "floor: std::function loop",
    "floor_fnptr": "floor: function pointer loop",
    "sigs": "sigs::sync_signal",
    "boost_signals2": "Boost.Signals2",
    "sigcpp": "libsigc++",
}


def plot(emit, impls, context, out_dir):
    """Draws emit.svg and scaling.svg into out_dir (see the module docstring)."""
    import os

    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    os.makedirs(out_dir, exist_ok=True)
    plt.rcParams["svg.hashsalt"] = "sigs"  # stable ids: a re-run without changes gives the same file
    plt.rcParams["svg.fonttype"] = "none"
    caption = f"{context.get('compiler', '')} {context.get('build_type', '')}, {context.get('date', '')[:10]}, medians"

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for impl in impls:
        points = [(n, ns_of(emit, impl, n)) for n in COUNTS if ns_of(emit, impl, n) is not None]
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=LABELS.get(impl, impl))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(COUNTS)
    ax.set_xticklabels([str(n) for n in COUNTS])
    ax.set_xlabel("listeners")
    ax.set_ylabel("ns per emit (one thread)")
    ax.set_title("Emit cost against listener count")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    fig.text(0.01, 0.01, caption, fontsize="x-small", alpha=0.7)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(os.path.join(out_dir, "emit.svg"), metadata={"Date": None})
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    shown = [i for i in impls if any(scaling(emit, i, n) is not None for n in COUNTS)]
    width = 0.8 / max(len(shown), 1)
    for k, impl in enumerate(shown):
        xs = [j + k * width for j, n in enumerate(COUNTS) if scaling(emit, impl, n) is not None]
        ys = [scaling(emit, impl, n) for n in COUNTS if scaling(emit, impl, n) is not None]
        ax.bar(xs, ys, width=width, label=LABELS.get(impl, impl))
    ax.axhline(2.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_xticks([j + width * (len(shown) - 1) / 2 for j in range(len(COUNTS))])
    ax.set_xticklabels([f"{n} listener{'s' if n > 1 else ''}" for n in COUNTS])
    ax.set_ylim(0, 2.6)
    ax.set_ylabel("throughput, 2 threads / 1 thread")
    ax.set_title("Two threads emitting on one signal (2.0 = perfect scaling)")
    ax.legend(fontsize="small", loc="upper center", ncol=2)
    fig.text(0.01, 0.01, caption, fontsize="x-small", alpha=0.7)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(os.path.join(out_dir, "scaling.svg"), metadata={"Date": None})
    plt.close(fig)


def main(argv):
    plot_dir = None
    if len(argv) == 4 and argv[2] == "--plot":
        plot_dir = argv[3]
        argv = argv[:2]
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    context, emit, writer, errors = load(argv[1])
    async_emit, async_tput = load_async(argv[1])
    impls = [i for i in IMPLS if any(k[0] == i for k in emit)]
    impls += sorted({k[0] for k in emit} - set(impls) - METRIC_IMPLS)

    print(f"compiler: {context.get('compiler', '?')}, build: {context.get('build_type', '?')}, "
          f"{context.get('num_cpus', '?')} CPUs at {context.get('mhz_per_cpu', '?')} MHz, "
          f"date {context.get('date', '?')}")
    print()
    distinct = load_distinct(argv[1])
    if emit:
        print_emit(emit, impls)
    if distinct:
        print_distinct(distinct)
    if emit:
        print_emit_targets(emit, distinct)
        print_metrics(emit)
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
    memory = load_memory(argv[1])
    if memory:
        print("Memory: heap held per listener, all included (container, blocks with their 8-byte "
              "allocator headers, copies still kept), capture-less unkeyed listeners:")
        print()
        print("| impl | listeners | bytes per listener |")
        print("| --- | ---: | ---: |")
        for impl in [i for i in IMPLS if i in memory] + sorted(set(memory) - set(IMPLS)):
            n, b = memory[impl]
            print(f"| {impl} | {n} | {b:.0f} |")
        print()
        if "sigs" in memory:
            b = memory["sigs"][1]
            verdict = "met" if b <= MEMORY_TARGET else "not met"
            print(f"- sigs bytes per listener <= {MEMORY_TARGET}: {b:.0f}, {verdict}")
            print()
    keyed = load_keyed(argv[1])
    if keyed:
        counts = sorted({n for v in keyed.values() for n in v})
        print("Keyed lookups: CPU ns per lookup of the middle key, by number of keyed listeners "
              "(flat when O(1); the target is within 2x from the fewest to the most):")
        print()
        print("| impl | lookup | " + " | ".join(str(n) for n in counts) + " | most / fewest |")
        print("| --- | --- | " + " | ".join("---:" for _ in counts) + " | ---: |")
        for (impl, op), by_n in sorted(keyed.items()):
            cells = " | ".join(fmt_ns(by_n.get(n)) for n in counts)
            lo, hi = by_n.get(counts[0]), by_n.get(counts[-1])
            ratio = f"{hi / lo:.2f}" if lo and hi else "—"
            print(f"| {impl} | {op} | {cells} | {ratio} |")
        print()
    tail = load_tail(argv[1])
    if tail:
        print_tail(tail)
    if async_emit or async_tput:
        print_async(async_emit, async_tput)
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
    if plot_dir is not None:
        if emit:
            plot(emit, impls, context, plot_dir)
            print(f"plots: {plot_dir}/emit.svg, {plot_dir}/scaling.svg")
        else:
            print("plots: no emit results in this file, nothing drawn", file=sys.stderr)
    if emit:
        print("(emit: 2 threads emit on the same signal; allocs/emit shown as 1 thr / 2 thr; cv is the "
              "coefficient of variation of the repetitions' times — above a few % the machine was busy.)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Compile time and peak memory of 7B/8B-sized models on this machine.

Synthesizes the Llama-2-7B (f16) and Llama-3-8B (bf16) checkpoints with
`qtc synth` (once; kept in --work), then compiles each for every recipe and
target, with the weights in a file of their own:

  cold  an empty kernel cache and no weights file yet;
  warm  the same command again: kernels from the cache, the weights file
        already there (compared, not rewritten);
  dummy --dummy-weights with the warm kernel cache (what a GPU benchmark of
        the model compiles: the recipe runs, no weights are written).

Every command runs under `flock LOCK` (so no build runs beside it) and
`/usr/bin/time -v`; the peak resident set is the kernel's (ru_maxrss, file
pages included), per stage from `qtc compile --stats-json`. A watchdog kills
a compile whose anonymous memory passes --rss-limit-gb, which is reported.
Writes RESULTS.json and RESULTS.md (bench/results/compile_scale.*).

  bench/compile_scale.py --work /path/with/40GB [--configs llama2-7b,llama3-8b]
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = {
    "llama2-7b": {"dtype": "f16"},
    "llama3-8b": {"dtype": "bf16"},
}


def run_measured(cmd, lock, rss_limit_kb):
    """Runs cmd under flock and time -v; returns (rc, wall_s, max_rss_kb, log, killed)."""
    full = ["flock", lock, "/usr/bin/time", "-v"] + cmd
    start = time.monotonic()
    proc = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    killed = {"value": False}

    def watch():
        while proc.poll() is None:
            try:
                kids = subprocess.run(["pgrep", "-f", "^" + re.escape(cmd[0])],
                                      capture_output=True, text=True).stdout.split()
                for pid in kids:
                    with open(f"/proc/{pid}/status") as f:
                        for line in f:
                            if line.startswith("RssAnon:"):
                                if int(line.split()[1]) > rss_limit_kb:
                                    killed["value"] = True
                                    os.kill(int(pid), 9)
            except (OSError, ValueError):
                pass
            time.sleep(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    log, _ = proc.communicate()
    wall = time.monotonic() - start
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", log)
    e = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", log)
    if e:  # the command's own wall time, without waiting for the lock
        parts = [float(p) for p in e.group(1).split(":")]
        wall = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    return proc.returncode, wall, int(m.group(1)) if m else 0, log, killed["value"]


def git(*args):
    return subprocess.run(["git", "-C", ROOT] + list(args), capture_output=True,
                          text=True).stdout.strip()


def machine():
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_bytes": mem,
            "kernel": platform.release()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", required=True, help="folder for checkpoints and outputs (outside the repo)")
    ap.add_argument("--qtc", default=os.path.join(ROOT, "build", "bin", "qtc"))
    ap.add_argument("--configs", default="llama2-7b,llama3-8b")
    ap.add_argument("--recipes", default="fp16,w4a16-rtn")
    ap.add_argument("--targets", default="host,sm_90")
    ap.add_argument("--lock", default="/tmp/qtc-build.lock")
    ap.add_argument("--rss-limit-gb", type=float, default=19.0)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "compile_scale"))
    ap.add_argument("--drop-caches", action="store_true",
                    help="empty the page cache (as root) before each cold run, so the "
                         "checkpoint is read from the disk; runs are marked page_cache=dropped")
    ap.add_argument("--append", action="store_true",
                    help="add these runs to the existing OUT.json instead of replacing it")
    args = ap.parse_args()
    limit_kb = int(args.rss_limit_gb * 1024 * 1024)

    results = {"machine": machine(), "commit": git("rev-parse", "--short", "HEAD"),
               "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
               "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "synth": [], "compiles": []}
    for config in args.configs.split(","):
        dtype = CONFIGS[config]["dtype"]
        ckpt = os.path.join(args.work, f"{config}-{dtype}")
        listing = subprocess.run([args.qtc, "synth", "--config", config, "--dtype", dtype, "--list"],
                                 capture_output=True, text=True, check=True).stdout
        total = int(re.search(r"([\d,]+) bytes as", listing).group(1).replace(",", ""))
        params = int(re.search(r"([\d,]+) parameters", listing).group(1).replace(",", ""))
        fp16_bytes = params * 2
        if not os.path.exists(os.path.join(ckpt, "config.json")):
            rc, wall, rss, log, _ = run_measured(
                [args.qtc, "synth", "--config", config, "--dtype", dtype, "-o", ckpt], args.lock, limit_kb)
            if rc != 0:
                sys.exit(f"qtc synth {config} failed:\n{log}")
            results["synth"].append({"config": config, "dtype": dtype, "bytes": total,
                                     "seconds": round(wall, 2), "peak_rss_bytes": rss * 1024})
            print(f"synth {config}: {wall:.1f} s, {rss * 1024 / 1e6:.0f} MB", flush=True)
        for recipe in args.recipes.split(","):
            for target in args.targets.split(","):
                name = f"{config}-{recipe}-{target}"
                out = os.path.join(args.work, "out")
                cache = os.path.join(args.work, "kernel-cache", name)
                shutil.rmtree(out, ignore_errors=True)
                shutil.rmtree(cache, ignore_errors=True)
                os.makedirs(out)
                base = [args.qtc, "compile", ckpt, "--recipe", recipe, "--target", target,
                        "--kernel-cache", cache]
                runs = [("cold", ["--weights-file", os.path.join(out, "model.weights")]),
                        ("warm", ["--weights-file", os.path.join(out, "model.weights")]),
                        ("dummy", ["--dummy-weights"])]
                for kind, extra in runs:
                    if args.drop_caches and kind == "cold":
                        subprocess.run(["sync"], check=True)
                        with open("/proc/sys/vm/drop_caches", "w") as f:
                            f.write("3\n")
                    stats_path = os.path.join(out, f"{kind}.stats.json")
                    cmd = base + extra + ["-o", os.path.join(out, f"{kind}.qtc"),
                                          "--stats-json", stats_path, "--quiet"]
                    rc, wall, rss, log, killed = run_measured(cmd, args.lock, limit_kb)
                    entry = {"config": config, "source_dtype": dtype, "recipe": recipe,
                             "target": target, "run": kind, "exit_code": rc,
                             "seconds": round(wall, 2), "peak_rss_bytes": rss * 1024,
                             "fp16_weight_bytes": fp16_bytes,
                             "rss_over_fp16_weights": round(rss * 1024 / fp16_bytes, 3),
                             "killed_by_watchdog": killed,
                             "page_cache": "dropped" if args.drop_caches and kind == "cold" else "as left"}
                    if rc == 0 and os.path.exists(stats_path):
                        with open(stats_path) as f:
                            entry["stats"] = json.load(f)
                    else:
                        entry["log_tail"] = log[-2000:]
                    results["compiles"].append(entry)
                    print(f"{name} {kind}: rc {rc}, {wall:.1f} s, peak RSS {rss * 1024 / 1e9:.2f} GB "
                          f"({entry['rss_over_fp16_weights']}x fp16 weights)", flush=True)
                shutil.rmtree(out, ignore_errors=True)

    if args.append and os.path.exists(args.out + ".json"):
        with open(args.out + ".json") as f:
            earlier = json.load(f)
        earlier["synth"] += results["synth"]
        earlier["compiles"] += results["compiles"]
        earlier.setdefault("appended", []).append(
            {"commit": results["commit"], "date": results["date"]})
        results = earlier
    with open(args.out + ".json", "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    write_markdown(results, args.out + ".md")


def write_markdown(results, path):
    m = results["machine"]
    lines = ["# Compile time and memory at 7B/8B scale", "",
             f"Machine: {m['cpus']} cores ({m['cpu']}), {m['memory_bytes'] / 2**30:.1f} GiB; "
             f"commit {results['commit']}{' (dirty tree)' if results['dirty'] else ''}; "
             f"{results['date']}. Generated by `bench/compile_scale.py` from compile_scale.json.", "",
             "Acceptance (issue 12): w4a16 cold <= 90 s, peak RSS <= 1.5x the fp16 weight bytes, "
             "warm kernel cache <= 20 s.", ""]
    if results["synth"]:
        lines += ["| synth | dtype | bytes | s | peak RSS MB |", "|---|---|---:|---:|---:|"]
        for s in results["synth"]:
            lines.append(f"| {s['config']} | {s['dtype']} | {s['bytes']:,} | {s['seconds']:.1f} | "
                         f"{s['peak_rss_bytes'] / 1e6:.0f} |")
        lines.append("")
    lines += ["`cold`: empty kernel cache, no weights file yet (page cache: `dropped` = emptied "
              "before the run, the checkpoint read from the disk; `as left` = whatever the runs "
              "before left cached); `warm`: the same command again; `dummy`: --dummy-weights, "
              "warm kernel cache.", "",
              "| config | recipe | target | run | page cache | s | peak RSS GB | x fp16 weights | kernels gen/cached | slowest stage |",
              "|---|---|---|---|---|---:|---:|---:|---|---|"]
    for c in results["compiles"]:
        st = c.get("stats")
        kernels = f"{st['kernels_generated']}/{st['kernels_cached']}" if st else "-"
        slow = "-"
        if st:
            top = max(st["stages"], key=lambda s: s["seconds"])
            label = top["name"].split(" (")[0].split(" /")[0].split(" for ")[0]
            slow = f"{label} {top['seconds']:.1f} s"
        status = "" if c["exit_code"] == 0 else (" (killed: memory)" if c["killed_by_watchdog"] else f" (exit {c['exit_code']})")
        lines.append(f"| {c['config']} | {c['recipe']} | {c['target']} | {c['run']}{status} | "
                     f"{c.get('page_cache', 'as left')} | "
                     f"{c['seconds']:.1f} | {c['peak_rss_bytes'] / 1e9:.2f} | {c['rss_over_fp16_weights']:.3f} | "
                     f"{kernels} | {slow} |")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

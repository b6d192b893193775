#!/usr/bin/env python3
# Copied into this repository from the team's shared benchmark kit (the side-by-side harness every
# labelstack speed claim is measured with), changed only in its usage line; keep it in step with that kit.
"""Label Studio and labelstack side by side: the same workload on both, in one run, as time ratios.

    python bench/side_by_side.py --labelstack "labelstack dev" --n 10000 [--rounds 2]

What it does:
  1. installs Label Studio (pinned, default 1.23.2) into its own venv under --home once (about a minute),
     and starts it on 127.0.0.1 with a known token (first start runs its migrations: ~45 s);
  2. starts labelstack with the command you give (`--port` and `LABELSTACK_ADMIN_TOKEN` are added);
  3. runs ls_workload.py (beside this file) against each, alternating, --rounds times, with --server-pid
     so peak RSS is reported;
  4. prints one table: each step's median for both and the ratio labelstack / Label Studio
     (below 1.0 = labelstack faster), and writes every raw JSON line to --out.

Both servers are stopped at the end (their process groups, by pid). Label Studio's Django dev server adds
~40 ms per request on kept-alive connections, so it is measured with --no-keepalive (as its own UI would
not pay that); labelstack with keep-alive unless --labelstack-no-keepalive.
Only the standard library is needed to run this script; the workload uses httpx or requests if present.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
LS_TOKEN = "sidebysidetoken0123456789abcdef0123456789"
LSK_TOKEN = "sidebysidelabelstack0123456789abcd"
STEPS = ["import_tasks_s", "import_with_predictions_s", "list_all_tasks_s", "list_page", "next_task",
         "submit_annotation", "get_project", "export_json_s", "delete_project_s"]


def wait_health(url: str, proc: subprocess.Popen, seconds: int) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited (rc={proc.returncode}) before {url}/health answered")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        time.sleep(1)
    raise SystemExit(f"{url}/health did not answer in {seconds} s")


def start_label_studio(home: Path, version: str, port: int) -> subprocess.Popen:
    venv = home / "venv"
    if not (venv / "bin" / "label-studio").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"label-studio=={version}"], check=True)
    data = home / "data"
    data.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ,
               LABEL_STUDIO_BASE_DATA_DIR=str(data), LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true",
               LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK="true", LATEST_VERSION_CHECK="false",
               COLLECT_ANALYTICS="false", SENTRY_DSN="", FRONTEND_SENTRY_DSN="")
    cmd = [str(venv / "bin" / "label-studio"), "start", "--no-browser", "--internal-host", "127.0.0.1",
           "--port", str(port), "--data-dir", str(data), "--username", "admin@example.com",
           "--password", "side-by-side-123", "--user-token", LS_TOKEN, "--enable-legacy-api-token",
           "--log-level", "WARNING"]
    log = open(home / "label-studio.log", "ab")
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=log, start_new_session=True)


def start_labelstack(command: str, port: int, log_path: Path) -> subprocess.Popen:
    env = dict(os.environ, LABELSTACK_ADMIN_TOKEN=LSK_TOKEN)
    log = open(log_path, "ab")
    return subprocess.Popen(command.split() + ["--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=log, stderr=log, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_workload(url: str, token: str, pid: int, n: int, keepalive: bool, label: str, out: Path) -> dict:
    cmd = [sys.executable, str(HERE / "ls_workload.py"), "--url", url, "--token", token, "--n", str(n),
           "--server-pid", str(pid), "--label", label, "--out", str(out)]
    if not keepalive:
        cmd.append("--no-keepalive")
    done = subprocess.run(cmd, capture_output=True, text=True)
    line = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "{}"
    result = json.loads(line)
    if not result.get("ok", False):
        print(f"{label}: FAILED {result.get('failed_step')}: {result.get('error', done.stderr[-500:])}")
    return result


def step_value(result: dict, step: str):
    value = result.get("timings", {}).get(step)
    if isinstance(value, dict):
        value = value.get("median_ms")
    return value


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--labelstack", default="labelstack dev", help="command that starts labelstack")
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--home", default=str(Path.home() / ".cache" / "labelstack-side-by-side"))
    ap.add_argument("--label-studio-version", default="1.23.2")
    ap.add_argument("--ls-port", type=int, default=18080)
    ap.add_argument("--labelstack-port", type=int, default=18090)
    ap.add_argument("--labelstack-no-keepalive", action="store_true")
    ap.add_argument("--out", default="side_by_side.jsonl")
    args = ap.parse_args()
    home = Path(args.home)
    home.mkdir(parents=True, exist_ok=True)
    out = Path(args.out)
    ls_url, lsk_url = f"http://127.0.0.1:{args.ls_port}", f"http://127.0.0.1:{args.labelstack_port}"
    ls = start_label_studio(home, args.label_studio_version, args.ls_port)
    lsk = start_labelstack(args.labelstack, args.labelstack_port, home / "labelstack.log")
    results: dict[str, list[dict]] = {"Label Studio": [], "labelstack": []}
    try:
        wait_health(ls_url, ls, 300)
        wait_health(lsk_url, lsk, 300)
        for r in range(1, args.rounds + 1):
            results["Label Studio"].append(run_workload(ls_url, LS_TOKEN, ls.pid, args.n, False,
                                                        f"round {r} Label Studio", out))
            results["labelstack"].append(run_workload(lsk_url, LSK_TOKEN, lsk.pid, args.n,
                                                      not args.labelstack_no_keepalive,
                                                      f"round {r} labelstack", out))
    finally:
        stop(lsk)
        stop(ls)
    print(f"\nN={args.n}, {args.rounds} round(s) each; medians; ratio = labelstack / Label Studio\n")
    print(f"| step | Label Studio | labelstack | ratio |\n|---|---:|---:|---:|")
    worst = 0.0
    for step in STEPS + ["peak_rss_mib"]:
        if step == "peak_rss_mib":
            pick = lambda res: (res.get("server_mem_end") or {}).get("peak_rss_mib")  # noqa: E731
        else:
            pick = lambda res, s=step: step_value(res, s)  # noqa: E731
        a = [v for v in map(pick, results["Label Studio"]) if v is not None]
        b = [v for v in map(pick, results["labelstack"]) if v is not None]
        if not a or not b:
            print(f"| {step} | {'—' if not a else round(statistics.median(a), 3)} | "
                  f"{'—' if not b else round(statistics.median(b), 3)} | — |")
            continue
        ma, mb = statistics.median(a), statistics.median(b)
        ratio = mb / ma if ma else float("inf")
        if step != "peak_rss_mib":
            worst = max(worst, ratio)
        print(f"| {step} | {ma:.3f} | {mb:.3f} | {ratio:.2f} |")
    ok = all(r.get("ok") for rs in results.values() for r in rs)
    print(f"\nworst time ratio {worst:.2f}; all runs ok: {ok}; raw lines in {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# Copied unchanged into this repository from the team's shared benchmark kit (the side-by-side harness
# every labelstack speed claim is measured with); keep it in step with that kit rather than editing here.
"""Label Studio REST API workload: one labeling-project life cycle, timed.

Speaks only Label Studio's public REST API, so the same run can be pointed at a
real Label Studio (the reference) and at any server that claims compatibility,
and the two JSON lines compared.

Steps (each timed):
  1. create a project with a text-classification config (Text + Choices);
  2. import N tasks {"data": {"text": ...}} in ONE POST /api/projects/{id}/import;
  3. import the same N again, each task carrying one prediction (choices);
  4. list every task with GET /api/tasks/?project=..&page=..&page_size=100;
  5. 200x: GET /api/projects/{id}/next/ then POST /api/tasks/{tid}/annotations/;
  6. 200x: GET /api/projects/{id}/;
  7. GET /api/projects/{id}/export?exportType=JSON&download_all_tasks=true,
     checking it holds every task (2N: both imports land in the same project);
  8. DELETE /api/projects/{id}/.

Progress goes to stderr; stdout gets exactly one JSON line (also on failure,
with "ok": false and the step that failed). Exit status 0 on success, 1 on a
failed step, 2 on bad arguments.

Only the standard library plus httpx (preferred) or requests is needed.

Examples:
  python ls_workload.py --url http://127.0.0.1:8080 --token $LS_TOKEN --n 10000
  python ls_workload.py --url https://ls.example.com --token $PAT --auth-scheme Bearer
      (a Label Studio personal access token is a JWT *refresh* token: it is
       exchanged at /api/token/refresh/ for a 5-minute access token, renewed
       as needed; any other Bearer token is sent as it is)
  python ls_workload.py ... --server-pid 1234   (reports the server's peak RSS
       from /proc when the server runs on this machine)
  python ls_workload.py ... --no-keepalive      (one connection per request: use it
       against `label-studio start`, whose Django dev server adds ~40 ms to each
       request on a kept-alive connection)
"""
from __future__ import annotations

import argparse
import base64
import datetime as _dt
import json
import math
import os
import random
import statistics
import sys
import time
from typing import Any
from urllib.parse import urlencode

try:  # prefer httpx (keep-alive, HTTP/1.1), fall back to requests
    import httpx as _httpx

    _requests = None
except ImportError:  # pragma: no cover - depends on the environment
    _httpx = None
    try:
        import requests as _requests
    except ImportError:
        _requests = None

LABEL_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single" showInLine="true">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
    <Choice value="Neutral"/>
  </Choices>
</View>"""
CHOICES = ["Positive", "Negative", "Neutral"]
WORDS = (
    "the service was quick and friendly but the food arrived cold and the room "
    "felt noisy while prices seemed fair for a weekend visit with family friends "
    "delivery late package damaged support helpful refund processed smoothly again"
).split()


class StepError(Exception):
    """A workload step failed; carries enough context to act on."""

    def __init__(self, step: str, message: str, *, method: str = "", url: str = "",
                 status: int | None = None, body: str = ""):
        self.step, self.method, self.url, self.status, self.body = step, method, url, status, body
        detail = f"{method} {url} -> HTTP {status}" if status is not None else f"{method} {url}".strip()
        super().__init__(f"[{step}] {message}" + (f" ({detail})" if detail else "")
                         + (f": {body[:500]}" if body else ""))


class TransportError(Exception):
    """No HTTP response at all (connection refused, timeout, TLS)."""


def _jwt_payload(token: str) -> dict | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        pad = "=" * (-len(parts[1]) % 4)
        return json.loads(base64.urlsafe_b64decode(parts[1] + pad))
    except (ValueError, json.JSONDecodeError):
        return None


class Client:
    """A thin keep-alive HTTP client with Label Studio auth and clear errors."""

    def __init__(self, base_url: str, token: str, scheme: str, timeout: float, verify: bool = True,
                 keepalive: bool = True):
        if _httpx is None and _requests is None:
            raise SystemExit("ls_workload.py needs httpx or requests: pip install httpx")
        self.base = base_url.rstrip("/")
        self.scheme = scheme
        self.token = token
        self.timeout = timeout
        self._access: str | None = None
        self._access_exp = 0.0
        # Django's development server (what `label-studio start` runs) adds ~40 ms to every
        # request on a kept-alive connection; --no-keepalive measures the server, not that.
        self.extra_headers = {} if keepalive else {"Connection": "close"}
        payload = _jwt_payload(token) if scheme == "Bearer" else None
        self._refresh = token if (payload or {}).get("token_type") == "refresh" else None
        if _httpx is not None:
            self._s = _httpx.Client(timeout=timeout, verify=verify, follow_redirects=False)
            self.lib = f"httpx {_httpx.__version__}"
        else:
            self._s = _requests.Session()
            self._s.verify = verify
            self.lib = f"requests {_requests.__version__}"

    # -- auth -------------------------------------------------------------
    def _auth_header(self, step: str) -> str:
        if self.scheme == "Token":
            return f"Token {self.token}"
        if self._refresh is None:
            return f"Bearer {self.token}"
        if self._access is None or time.time() > self._access_exp - 30:
            self._exchange_refresh(step)
        return f"Bearer {self._access}"

    def _exchange_refresh(self, step: str) -> None:
        url = self.base + "/api/token/refresh/"
        try:
            status, body = self._send("POST", url, {"Content-Type": "application/json", **self.extra_headers},
                                      json.dumps({"refresh": self._refresh}).encode(), None)
        except TransportError as exc:
            raise StepError(step, f"no HTTP response: {exc}", method="POST", url=url) from exc
        if status != 200:
            raise StepError(step, "could not exchange the personal access token for an access token",
                            method="POST", url=url, status=status, body=body.decode(errors="replace"))
        self._access = json.loads(body)["access"]
        exp = (_jwt_payload(self._access) or {}).get("exp")
        self._access_exp = float(exp) if exp else time.time() + 240

    # -- transport --------------------------------------------------------
    def _send(self, method, url, headers, data, params):
        try:
            if _httpx is not None:
                r = self._s.request(method, url, headers=headers, content=data, params=params)
            else:
                r = self._s.request(method, url, headers=headers, data=data, params=params,
                                    timeout=self.timeout, allow_redirects=False)
        except Exception as exc:  # network errors, timeouts
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        return r.status_code, r.content

    def call(self, step: str, method: str, path: str, *, params: dict | None = None,
             body: Any = None, raw: bytes | None = None, expect: tuple[int, ...] = (200,)):
        """Send one request; return (status, parsed JSON or bytes, seconds)."""
        url = self.base + path
        headers = {"Accept": "application/json", **self.extra_headers}
        data = raw
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            headers["Authorization"] = self._auth_header(step)
            t0 = time.perf_counter()
            try:
                status, content = self._send(method, url, headers, data, params)
            except TransportError as exc:
                raise StepError(step, f"no HTTP response: {exc}", method=method, url=url) from exc
            dt = time.perf_counter() - t0
            if status == 401 and self._refresh is not None and attempt == 1:
                self._access = None  # access token expired early: renew once and retry
                continue
            break
        if status not in expect:
            hint = ""
            if status == 401:
                hint = (" — authentication failed: check --token/--auth-scheme (recent Label Studio, e.g. "
                        "1.23, rejects legacy 'Token' keys unless legacy tokens are enabled for the "
                        "organization: LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true at first start, or "
                        "POST /api/jwt/settings; a personal access token needs --auth-scheme Bearer)")
            elif status in (301, 302, 307, 308):
                hint = " — server redirected (trailing slash or http->https?)"
            raise StepError(step, f"unexpected status (wanted {'/'.join(map(str, expect))}){hint}",
                            method=method, url=url + (f"?{urlencode(params)}" if params else ""), status=status,
                            body=content.decode(errors="replace"))
        ctype_json = content[:1] in (b"{", b"[")
        if ctype_json:
            try:
                return status, json.loads(content), dt
            except json.JSONDecodeError:
                pass
        return status, content, dt

    def close(self):
        self._s.close()


# -- helpers ---------------------------------------------------------------

def pct(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    s = sorted(samples)
    return s[max(0, math.ceil(q / 100 * len(s)) - 1)]


def summary(samples: list[float]) -> dict:
    if not samples:
        return {}
    return {"n": len(samples), "median_ms": round(statistics.median(samples) * 1000, 2),
            "p95_ms": round(pct(samples, 95) * 1000, 2), "max_ms": round(max(samples) * 1000, 2),
            "mean_ms": round(statistics.fmean(samples) * 1000, 2)}


def make_tasks(n: int, seed: int, with_predictions: bool) -> list[dict]:
    rng = random.Random(seed)
    tasks = []
    for i in range(n):
        text = f"Review {i}: " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 24)))
        task: dict[str, Any] = {"data": {"text": text}}
        if with_predictions:
            task["predictions"] = [{
                "model_version": "workload-v1",
                "score": round(rng.random(), 4),
                "result": [{"from_name": "sentiment", "to_name": "text", "type": "choices",
                            "value": {"choices": [rng.choice(CHOICES)]}}],
            }]
        tasks.append(task)
    return tasks


def proc_mem(pid: int) -> dict | None:
    """Peak (VmHWM) and current (VmRSS) RSS of pid and its descendants, in MiB."""
    def read(p):
        out = {}
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    k, _, v = line.partition(":")
                    if k in ("VmHWM", "VmRSS"):
                        out[k] = int(v.split()[0]) / 1024
        except OSError:
            return None
        return out

    def children(p):
        kids = []
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as fh:
                    kids += [int(c) for c in fh.read().split()]
        except OSError:
            pass
        return kids

    root = read(pid)
    if root is None:
        return None
    pids, stack = [pid], children(pid)
    while stack:
        c = stack.pop()
        pids.append(c)
        stack += children(c)
    per = {p: read(p) for p in pids}
    per = {p: m for p, m in per.items() if m}
    return {"pids": sorted(per), "peak_rss_mib": round(sum(m.get("VmHWM", 0) for m in per.values()), 1),
            "rss_mib": round(sum(m.get("VmRSS", 0) for m in per.values()), 1)}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- the workload ------------------------------------------------------------

def run(args, c: Client, out: dict) -> None:
    t = out["timings"]
    n = args.n
    label = ("Token" if args.auth_scheme == "Token" else "Bearer")

    # 0. preflight: auth and reachability, no side effects
    _, body, _ = c.call("preflight", "GET", "/api/projects/", params={"page_size": 1})
    if not isinstance(body, dict):
        raise StepError("preflight", "GET /api/projects/ did not return a JSON object", body=str(body)[:200])
    try:
        _, ver, _ = c.call("version", "GET", "/api/version/")
        out["server_version"] = ver.get("release") if isinstance(ver, dict) else None
    except StepError:
        out["server_version"] = None
    if args.server_pid:
        out["server_mem_start"] = proc_mem(args.server_pid)
    log(f"auth ok ({label}); server version {out['server_version']}")

    # 1. create project
    title = f"workload {_dt.datetime.now().strftime('%Y%m%d-%H%M%S')} n={n}"
    _, proj, dt = c.call("create_project", "POST", "/api/projects/",
                         body={"title": title, "label_config": LABEL_CONFIG}, expect=(201,))
    pid = proj.get("id") if isinstance(proj, dict) else None
    if not isinstance(pid, int):
        raise StepError("create_project", "response has no integer 'id'", body=str(proj)[:300])
    out["project_id"] = pid
    t["create_project_s"] = round(dt, 4)
    log(f"project {pid} created in {dt:.3f}s")

    def do_import(step: str, tasks: list[dict], expect_predictions: int) -> None:
        raw = json.dumps(tasks, separators=(",", ":")).encode()
        t0 = time.perf_counter()
        _, res, _ = c.call(step, "POST", f"/api/projects/{pid}/import", raw=raw, expect=(200, 201))
        if isinstance(res, dict) and "import" in res and "task_count" not in res:
            # async import (Label Studio Enterprise-style): poll until done
            iid = res["import"]
            while True:
                _, st, _ = c.call(step, "GET", f"/api/projects/{pid}/imports/{iid}/")
                if st.get("status") in ("completed", "failed"):
                    res = st
                    break
                if time.perf_counter() - t0 > args.timeout:
                    raise StepError(step, f"async import {iid} not finished after {args.timeout}s")
                time.sleep(0.5)
            if res.get("status") == "failed":
                raise StepError(step, f"async import failed: {res.get('error')}")
        elapsed = time.perf_counter() - t0
        if not isinstance(res, dict):
            raise StepError(step, "import response is not a JSON object", body=str(res)[:300])
        if res.get("task_count") != len(tasks):
            raise StepError(step, f"task_count {res.get('task_count')} != {len(tasks)} sent",
                            body=json.dumps(res)[:300])
        if expect_predictions and res.get("prediction_count") not in (None, expect_predictions):
            raise StepError(step, f"prediction_count {res.get('prediction_count')} != {expect_predictions}")
        t[f"{step}_s"] = round(elapsed, 3)
        t[f"{step}_tasks_per_s"] = round(len(tasks) / elapsed, 1)
        out["payload_bytes"][step] = len(raw)
        out["server_reported"][step] = {k: res.get(k) for k in
                                        ("task_count", "annotation_count", "prediction_count", "duration")}
        log(f"{step}: {len(tasks)} tasks ({len(raw) / 1e6:.1f} MB) in {elapsed:.2f}s")

    # 2./3. imports
    do_import("import_tasks", make_tasks(n, args.seed, False), 0)
    do_import("import_with_predictions", make_tasks(n, args.seed + 1, True), n)
    expected_total = 2 * n

    # 4. list all tasks, page by page
    page, listed, page_times, ids = 1, 0, [], set()
    t0 = time.perf_counter()
    while True:
        status, res, dt = c.call("list_tasks", "GET", "/api/tasks/",
                                 params={"project": pid, "page": page, "page_size": args.page_size},
                                 expect=(200, 404))
        if status == 404:  # page past the end (DRF pagination)
            break
        page_times.append(dt)
        items = res.get("tasks", res.get("results")) if isinstance(res, dict) else res
        if not isinstance(items, list):
            raise StepError("list_tasks", "page has neither 'tasks' nor 'results' list", body=str(res)[:300])
        listed += len(items)
        ids.update(x["id"] for x in items)
        total = res.get("total", res.get("count")) if isinstance(res, dict) else None
        if len(items) < args.page_size or (total is not None and listed >= total):
            break
        page += 1
    t["list_all_tasks_s"] = round(time.perf_counter() - t0, 3)
    t["list_page"] = summary(page_times)
    out["checks"]["listed_tasks"] = listed
    out["checks"]["listed_unique_ids"] = len(ids)
    if len(ids) != expected_total:
        raise StepError("list_tasks", f"listed {len(ids)} unique tasks, expected {expected_total}")
    log(f"listed {listed} tasks in {page} pages, {t['list_all_tasks_s']}s")

    # 5. label stream: next + submit
    next_times, submit_times, seen = [], [], set()
    for i in range(args.label_count):
        _, task, dt = c.call("next_task", "GET", f"/api/projects/{pid}/next/")
        next_times.append(dt)
        tid = task.get("id") if isinstance(task, dict) else None
        if not isinstance(tid, int):
            raise StepError("next_task", "next task has no integer 'id'", body=str(task)[:300])
        seen.add(tid)
        ann = {"result": [{"from_name": "sentiment", "to_name": "text", "type": "choices",
                           "value": {"choices": [CHOICES[i % 3]]}}],
               "lead_time": 1.5, "project": pid}
        _, a, dt = c.call("submit_annotation", "POST", f"/api/tasks/{tid}/annotations/",
                          body=ann, expect=(200, 201))
        submit_times.append(dt)
        if not isinstance(a, dict) or "id" not in a:
            raise StepError("submit_annotation", "annotation response has no 'id'", body=str(a)[:300])
    t["next_task"] = summary(next_times)
    t["submit_annotation"] = summary(submit_times)
    out["checks"]["distinct_next_tasks"] = len(seen)
    log(f"next: median {t['next_task'].get('median_ms')} ms, submit: median "
        f"{t['submit_annotation'].get('median_ms')} ms, {len(seen)} distinct tasks")

    # 6. project detail
    proj_times, p = [], None
    for _ in range(args.get_count):
        _, p, dt = c.call("get_project", "GET", f"/api/projects/{pid}/")
        proj_times.append(dt)
    t["get_project"] = summary(proj_times)
    if isinstance(p, dict):
        out["checks"]["project_counters"] = {k: p.get(k) for k in (
            "task_number", "num_tasks_with_annotations", "total_annotations_number",
            "total_predictions_number") if k in p}

    # 7. export
    t0 = time.perf_counter()
    _, exp, _ = c.call("export", "GET", f"/api/projects/{pid}/export",
                       params={"exportType": "JSON", "download_all_tasks": "true"})
    t["export_json_s"] = round(time.perf_counter() - t0, 3)
    if isinstance(exp, (bytes, bytearray)):
        try:
            exp = json.loads(exp)
        except json.JSONDecodeError as e:
            raise StepError("export", f"export is not JSON: {e}", body=exp[:200].decode(errors="replace"))
    if not isinstance(exp, list):
        raise StepError("export", "export JSON is not a list of tasks", body=str(exp)[:300])
    out["checks"]["export_tasks"] = len(exp)
    out["checks"]["export_tasks_with_annotations"] = sum(1 for x in exp if x.get("annotations"))
    out["checks"]["export_tasks_with_predictions"] = sum(1 for x in exp if x.get("predictions"))
    out["payload_bytes"]["export"] = len(json.dumps(exp, separators=(",", ":")))
    if len(exp) != expected_total:
        raise StepError("export", f"export holds {len(exp)} tasks, expected {expected_total}")
    if out["checks"]["export_tasks_with_annotations"] != args.label_count:
        raise StepError("export", f"export holds {out['checks']['export_tasks_with_annotations']} "
                                  f"annotated tasks, expected {args.label_count}")
    log(f"export: {len(exp)} tasks in {t['export_json_s']}s")
    if args.server_pid:
        out["server_mem_before_delete"] = proc_mem(args.server_pid)

    # 8. delete
    if not args.keep_project:
        _, _, dt = c.call("delete_project", "DELETE", f"/api/projects/{pid}/", expect=(200, 204))
        t["delete_project_s"] = round(dt, 3)
        out["project_deleted"] = True
        log(f"project {pid} deleted in {dt:.2f}s")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--url", required=True, help="server base URL, e.g. http://127.0.0.1:8080")
    ap.add_argument("--token", default=os.environ.get("LS_TOKEN") or os.environ.get("LABEL_STUDIO_API_KEY"),
                    help="API token (default: $LS_TOKEN or $LABEL_STUDIO_API_KEY)")
    ap.add_argument("--auth-scheme", choices=("Token", "Bearer"), default="Token",
                    help="'Token <key>' (legacy key) or 'Bearer <jwt>' (PAT refresh token is exchanged)")
    ap.add_argument("--n", type=int, default=10_000, help="tasks per import (default 10000)")
    ap.add_argument("--label-count", type=int, default=200, help="next+submit rounds (default 200)")
    ap.add_argument("--get-count", type=int, default=200, help="GET project rounds (default 200)")
    ap.add_argument("--page-size", type=int, default=100)
    ap.add_argument("--timeout", type=float, default=900, help="per-request timeout, seconds")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--server-pid", type=int, help="local server pid: report its peak RSS from /proc")
    ap.add_argument("--keep-project", action="store_true", help="do not delete the project at the end")
    ap.add_argument("--label", default="", help="free-text tag copied into the JSON line")
    ap.add_argument("--out", help="also append the JSON line to this file")
    ap.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")
    ap.add_argument("--no-keepalive", action="store_true",
                    help="send 'Connection: close' (one TCP connection per request); use it against "
                         "`label-studio start`, whose dev server adds ~40 ms per kept-alive request")
    args = ap.parse_args(argv)
    if not args.token:
        ap.error("--token is required (or set LS_TOKEN)")
    if args.n < 1 or args.label_count < 0 or args.get_count < 0 or args.page_size < 1:
        ap.error("--n and --page-size must be >= 1; counts must be >= 0")
    if args.label_count > 2 * args.n:
        ap.error("--label-count cannot exceed the 2*N tasks imported")

    out: dict[str, Any] = {
        "tool": "ls_workload", "label": args.label, "url": args.url, "n": args.n,
        "auth_scheme": args.auth_scheme, "keepalive": not args.no_keepalive, "label_count": args.label_count, "get_count": args.get_count,
        "page_size": args.page_size, "started_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "host_cpus": os.cpu_count(), "timings": {}, "checks": {}, "payload_bytes": {}, "server_reported": {},
        "ok": False,
    }
    c = Client(args.url, args.token, args.auth_scheme, args.timeout, verify=not args.insecure,
               keepalive=not args.no_keepalive)
    out["http_client"] = c.lib
    t_all = time.perf_counter()
    rc = 0
    try:
        run(args, c, out)
        out["ok"] = True
    except StepError as e:
        out["error"] = str(e)
        out["failed_step"] = e.step
        log(f"FAILED: {e}")
        rc = 1
        pid = out.get("project_id")
        if pid and not args.keep_project and not out.get("project_deleted"):
            try:  # best-effort cleanup so a failed run leaves nothing behind
                c.call("cleanup", "DELETE", f"/api/projects/{pid}/", expect=(200, 204, 404))
                out["project_deleted"] = True
            except StepError as e2:
                log(f"cleanup failed too: {e2}")
    except KeyboardInterrupt:
        out["error"] = "interrupted"
        rc = 130
    finally:
        out["total_s"] = round(time.perf_counter() - t_all, 2)
        if args.server_pid:
            out["server_mem_end"] = proc_mem(args.server_pid)
        c.close()
        line = json.dumps(out, separators=(",", ":"))
        print(line, flush=True)
        if args.out:
            with open(args.out, "a") as fh:
                fh.write(line + "\n")
    return rc


if __name__ == "__main__":
    sys.exit(main())

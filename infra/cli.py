"""`labelstack` command line: `labelstack dev` runs the whole platform locally."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"


def _dev(args: argparse.Namespace) -> int:
    import uvicorn

    from infra.local_stack import LocalStack

    stack = LocalStack(host=args.host)
    endpoint = stack.start()
    try:
        from functions.api.app import create_app
        from functions.services import identity

        email = os.environ.get("LABELSTACK_ADMIN_EMAIL", "admin@localhost")
        admin, token = identity.ensure_admin(email, os.environ.get("LABELSTACK_ADMIN_TOKEN") or None)
        app = create_app()
        if (WEB_ROOT / "index.html").exists():
            from fastapi.staticfiles import StaticFiles

            app.mount("/", StaticFiles(directory=WEB_ROOT, html=True), name="web")
        demo_note = ""
        if args.demo:
            from infra.demo import load_demo

            demo_note = f"\n  demo project:  {load_demo(admin)}"
        url = f"http://{args.host}:{args.port}"
        print(f"labelstack is running\n  url:           {url}\n  admin:         {admin.email}\n"
              f"  admin token:   {token}\n  aws emulator:  {endpoint}{demo_note}\n"
              f"Try: curl -H 'Authorization: Token {token}' {url}/api/projects\nCtrl-C stops it.",
              flush=True)
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    finally:
        stack.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labelstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    dev = commands.add_parser("dev", help="run the API and the AWS emulator on this machine")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8080)
    dev.add_argument("--demo", action="store_true", help="load a demo project")
    dev.add_argument("--log-level", default="warning")
    dev.set_defaults(run=_dev)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())

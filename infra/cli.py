"""`labelstack` command line: `labelstack dev` runs the whole platform locally."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"


def _dev(args: argparse.Namespace) -> int:
    import uvicorn

    from infra.delivery_pump import DeliveryPump
    from infra.event_pump import EventPump
    from infra.local_stack import BUILTIN_ENDPOINT, LocalStack, ModelServer

    # Only the API and the UI follow --host; the emulator and the model server stay on loopback.
    stack = LocalStack()
    endpoint = stack.start()
    model_server = ModelServer(port=args.ml_port)
    # The events Lambda's stream trigger, locally: annotation changes reach the same subscribers.
    event_pump, delivery_pump = EventPump(), DeliveryPump()
    try:
        model_url = model_server.start()
        from functions.services import training
        from infra.local_training import LocalTrainingRunner

        # No Step Functions locally: the same training steps run in order in this process.
        training.use_local_runner(LocalTrainingRunner(model_server.model_dir))
        event_pump.start()
        delivery_pump.start()  # the deliveries Lambda's queue trigger: webhooks go out
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

            demo_note = f"\n  demo project:  {load_demo(admin, model_url)}"
        url = f"http://{args.host}:{args.port}"
        print(
            f"labelstack is running\n  url:           {url}\n  admin:         {admin.email}\n"
            f"  admin token:   {token}\n  aws emulator:  {endpoint}\n"
            f"  ml backend:    {model_url} (kind http), or SageMaker endpoint {BUILTIN_ENDPOINT}"
            f" (kind sagemaker){demo_note}\n"
            f"Try: curl -H 'Authorization: Token {token}' {url}/api/projects\nCtrl-C stops it.",
            flush=True,
        )
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    finally:
        delivery_pump.stop()
        event_pump.stop()
        model_server.stop()
        stack.stop()
    return 0


def _create_admin(args: argparse.Namespace) -> int:
    """The first admin of a deployed installation: written straight to its tables with the caller's AWS
    credentials (the stack's `TablePrefix` output names them), so no API call precedes the first user."""
    from infra.local_stack import apply_settings

    env = {"LABELSTACK_TABLE_PREFIX": args.table_prefix}
    if args.region:
        env.update(AWS_REGION=args.region, AWS_DEFAULT_REGION=args.region)
    apply_settings(env)
    from functions.services import identity

    admin, token = identity.ensure_admin(args.email)
    print(
        f"admin:        {admin.email} (user {admin.id})\napi token:    {token}\n"
        f"Sign in with it, or: curl -H 'Authorization: Token {token}' <ApiUrl>/projects",
        flush=True,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labelstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    dev = commands.add_parser("dev", help="run the API and the AWS emulator on this machine")
    dev.add_argument(
        "--host",
        default="127.0.0.1",
        help="address of the API and web UI (the AWS emulator and the model server stay on 127.0.0.1)",
    )
    dev.add_argument("--port", type=int, default=8080)
    dev.add_argument("--demo", action="store_true", help="load a demo project")
    dev.add_argument(
        "--ml-port", type=int, default=None, help="port of the built-in model server (default: a free one)"
    )
    dev.add_argument("--log-level", default="warning")
    dev.set_defaults(run=_dev)
    admin = commands.add_parser(
        "create-admin",
        help="create the first admin of a deployed installation "
        "(or give an existing one a new API token) and print the token",
    )
    admin.add_argument("--email", required=True)
    admin.add_argument("--table-prefix", required=True, help="the stack's TablePrefix output")
    admin.add_argument("--region", help="the stack's region (default: the AWS CLI's)")
    admin.set_defaults(run=_create_admin)
    ml = commands.add_parser("ml", help="model servers (ml_endpoints)")
    ml_commands = ml.add_subparsers(dest="ml_command", required=True)
    from ml_endpoints.__main__ import add_serve_arguments, serve

    ml_serve = ml_commands.add_parser("serve", help="run a model server: Label Studio ML backend + SageMaker")
    add_serve_arguments(ml_serve)
    ml_serve.set_defaults(run=lambda a: serve(a.model, a.host, a.port, a.model_dir, a.log_level))
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())

"""`labelstack` command line: `labelstack dev` runs the whole platform locally."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _dev(args: argparse.Namespace) -> int:
    import uvicorn

    from functions.store.sqlite.database import NewerSchema
    from infra.delivery_pump import DeliveryPump
    from infra.event_pump import EventPump
    from infra.local_stack import BUILTIN_ENDPOINT, LocalStack, ModelServer, default_data_dir

    if args.workers > 1 and args.engine != "sqlite":
        print(
            "labelstack: --workers needs the sqlite engine (the emulator's tables live in this process)",
            file=sys.stderr,
        )
        return 2

    # Only the API and the UI follow --host; the emulator and the model server stay on loopback.
    data_dir = None
    if args.engine == "sqlite":
        data_dir = Path(args.data_dir).expanduser().resolve() if args.data_dir else default_data_dir()
        if args.reset and data_dir.exists():
            _reset(data_dir)
    stack = LocalStack(engine="sqlite" if args.engine == "sqlite" else "dynamodb", data_dir=data_dir)
    try:
        endpoint = stack.start()
    except NewerSchema as exc:
        print(f"labelstack: {exc}", file=sys.stderr)
        return 2
    if data_dir is not None:
        from functions.services.importing import clear_interrupted

        # Jobs run on this process's threads: any still unfinished was cut off by the last stop.
        if cleared := clear_interrupted():
            print(f"labelstack: {cleared} import(s) cut off by the last stop were marked failed", flush=True)
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
        from functions.services import identity
        from infra import serve_workers

        email = os.environ.get("LABELSTACK_ADMIN_EMAIL", "admin@localhost")
        admin, token = identity.ensure_admin(email, os.environ.get("LABELSTACK_ADMIN_TOKEN") or None)
        demo_note = ""
        if args.demo:
            from infra.demo import load_demo

            demo_note = f"\n  demo project:  {load_demo(admin, model_url)}"
        url = f"http://{args.host}:{args.port}"
        stored = (
            f"{data_dir} (sqlite; back it up with: labelstack backup DEST --data-dir {data_dir})"
            if data_dir
            else "in memory only (--engine emulator): everything is gone when this stops"
        )
        print(
            f"labelstack is running\n  url:           {url}\n  admin:         {admin.email}\n"
            f"  admin token:   {token}\n  data:          {stored}\n  aws emulator:  {endpoint}\n"
            f"  ml backend:    {model_url} (kind http), or SageMaker endpoint {BUILTIN_ENDPOINT}"
            f" (kind sagemaker){demo_note}\n"
            f"Try: curl -H 'Authorization: Token {token}' {url}/api/projects\nCtrl-C stops it.",
            flush=True,
        )
        if args.workers > 1:
            # Each worker process builds its app from what this process put in the environment (the
            # store's settings, the model server's URL) and serves the same socket; the pumps, the
            # model server and the job clean-up stay here, once.
            os.environ.update(
                {
                    serve_workers.MODEL_DIR: str(model_server.model_dir),
                    serve_workers.THREADS: str(args.threads),
                }
            )
            uvicorn.run(
                "infra.serve_workers:worker_app",
                factory=True,
                workers=args.workers,
                host=args.host,
                port=args.port,
                log_level=args.log_level,
            )
        else:
            uvicorn.run(
                serve_workers.build_app(args.threads),
                host=args.host,
                port=args.port,
                log_level=args.log_level,
            )
    finally:
        delivery_pump.stop()
        event_pump.stop()
        model_server.stop()
        stack.stop()
    return 0


def _reset(data_dir: Path) -> None:
    """Empty a data directory, refusing one that does not look like labelstack's."""
    import shutil

    from functions.store.sqlite.database import FILE_NAME

    known = {FILE_NAME, f"{FILE_NAME}-wal", f"{FILE_NAME}-shm", "files", "secret.key"}
    strangers = sorted(p.name for p in data_dir.iterdir() if p.name not in known)
    if strangers:
        raise SystemExit(
            f"labelstack: not resetting {data_dir}: it holds files labelstack did not write "
            f"({', '.join(strangers[:5])})"
        )
    for path in data_dir.iterdir():
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def _backup(args: argparse.Namespace) -> int:
    """A consistent copy of a data directory, also while `labelstack dev` writes to it."""
    import shutil

    from functions.store.sqlite.database import FILE_NAME, open_database
    from infra.local_stack import default_data_dir

    source = Path(args.data_dir).expanduser().resolve() if args.data_dir else default_data_dir()
    if not (source / FILE_NAME).exists():
        print(f"labelstack: {source} holds no labelstack data", file=sys.stderr)
        return 2
    destination = Path(args.destination).expanduser().resolve()
    if destination.exists() and any(destination.iterdir()):
        print(f"labelstack: {destination} is not empty; give a new directory", file=sys.stderr)
        return 2
    destination.mkdir(parents=True, exist_ok=True)
    # The database first: a file it names is never deleted while it still names it, so copying the files
    # afterwards finds every one of them (and perhaps a few newer ones, which nothing names yet).
    open_database(source).backup(destination / FILE_NAME)
    for name in ("files",):
        if (source / name).is_dir():
            shutil.copytree(source / name, destination / name)
    if (source / "secret.key").exists():
        shutil.copy2(source / "secret.key", destination / "secret.key")
    print(f"backed up {source} to {destination}", flush=True)
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


def _add_store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine",
        choices=("sqlite", "emulator"),
        default="sqlite",
        help="sqlite: data kept in --data-dir (default); emulator: every table in the AWS emulator's memory, "
        "lost at exit (for parity checks with the AWS engine)",
    )
    parser.add_argument("--data-dir", help="where the data lives (default: ~/.local/share/labelstack)")
    parser.add_argument("--reset", action="store_true", help="start with an empty data directory")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labelstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    dev = commands.add_parser("dev", help="run the whole platform on this machine")
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
    dev.add_argument("--threads", type=int, default=8, help="threads serving requests (default 8)")
    dev.add_argument("--workers", type=int, default=1, help="processes serving requests (default 1)")
    _add_store_arguments(dev)
    dev.set_defaults(run=_dev)
    serve = commands.add_parser(
        "serve",
        help="run labelstack on one server for a team: the sqlite engine in --data-dir "
        "(give --host to listen beyond this machine)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address of the API and web UI")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--ml-port", type=int, default=None, help="port of the built-in model server")
    serve.add_argument("--log-level", default="warning")
    serve.add_argument(
        "--threads", type=int, default=8, help="threads serving requests, per process (default 8)"
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes serving requests (default 1; up to one per core lets more annotators label at once)",
    )
    serve.add_argument("--data-dir", required=True, help="where the data lives (created if missing)")
    serve.set_defaults(run=_dev, demo=False, engine="sqlite", reset=False)
    backup = commands.add_parser("backup", help="copy a data directory consistently, also while it is in use")
    backup.add_argument("destination", help="a new or empty directory")
    backup.add_argument("--data-dir", help="the data directory (default: the one `labelstack dev` uses)")
    backup.set_defaults(run=_backup)
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

"""`python -m emulator`: serve the AEP emulator on a loopback port.

    python -m emulator --port 8765 --data-dir .emulator [--token-ttl 60] [--latency-ms 5]
                       [--read-latency-ms 80 --write-latency-ms 400 --latency-jitter lognormal:0.3]
                       [--fault 503:0.2:writes] [--fault-seed 7] [--client id:secret:org]
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import signal
import sys

import uvicorn

from . import config
from .app import create_app
from .faults import parse_cli_fault


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: only localhost is known to be this machine
        return False


def _client(value: str) -> tuple[str, tuple[str, str]]:
    parts = value.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise argparse.ArgumentTypeError("expected CLIENT_ID:SECRET:ORG_ID")
    return parts[0], (parts[1], parts[2])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m emulator", description="Local Adobe Experience Platform emulator")
    p.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--data-dir", default=".emulator", help="directory for the SQLite database")
    p.add_argument("--token-ttl", type=int, default=config.DEFAULT_TOKEN_TTL, help="IMS token lifetime, seconds")
    p.add_argument("--latency-ms", type=float, default=0.0, help="latency added to every API request")
    p.add_argument("--read-latency-ms", type=float, help="latency of reads (GET/HEAD), instead of --latency-ms's")
    p.add_argument("--write-latency-ms", type=float, help="latency of writes (POST/PUT/PATCH/DELETE)")
    p.add_argument("--latency-jitter", metavar="DIST[:PARAM]",
                   help="seeded jitter on every latency: uniform[:spread], normal[:sd] or lognormal[:sigma]")
    p.add_argument("--fault", action="append", default=[], metavar="SPEC",
                   help="fault rule: FAULT[:PROB[:reads|writes|all[:ROUTE_REGEX]]] or a JSON rule; repeatable")
    p.add_argument("--faults-json", help="a whole fault configuration as JSON (see emulator/faults.py)")
    p.add_argument("--fault-seed", type=int, help="seed for probabilistic faults")
    p.add_argument("--retry-after", type=int, help="Retry-After seconds on injected 429/503 (default 1)")
    p.add_argument("--client", action="append", default=[], type=_client, metavar="ID:SECRET:ORG",
                   help="an extra IMS client, e.g. for a second org; repeatable")
    p.add_argument("--log-level", default="warning")
    return p.parse_args(argv)


def fault_config(args: argparse.Namespace) -> dict:
    """The fault configuration the CLI flags describe."""
    cfg = json.loads(args.faults_json) if args.faults_json else {}
    cfg.setdefault("rules", [])
    cfg["rules"] += [parse_cli_fault(f) for f in args.fault]
    if args.latency_ms:
        cfg["latency_ms"] = args.latency_ms
    model = dict(cfg.get("latency") or {})
    if args.read_latency_ms is not None:
        model["reads_ms"] = args.read_latency_ms
    if args.write_latency_ms is not None:
        model["writes_ms"] = args.write_latency_ms
    if args.latency_jitter:
        dist, _, param = args.latency_jitter.partition(":")
        key = {"uniform": "spread", "normal": "sd", "lognormal": "sigma"}.get(dist, "spread")
        model["jitter"] = {"distribution": dist, **({key: float(param)} if param else {})}
    if model:
        cfg["latency"] = model
    if args.fault_seed is not None:
        cfg["seed"] = args.fault_seed
    if args.retry_after is not None:
        cfg["retry_after"] = args.retry_after
    return cfg


def main(argv: list[str] | None = None) -> int:
    """Start uvicorn in this process; SIGTERM/SIGINT stop it cleanly."""
    args = parse_args(argv)
    if not _loopback(args.host):
        print(f"refusing to bind {args.host}: the emulator has dev-only credentials and listens on loopback only",
              file=sys.stderr)
        return 2
    app = create_app(args.data_dir, token_ttl=args.token_ttl, clients=dict(args.client), faults=fault_config(args))
    base = f"http://{'[' + args.host + ']' if ':' in args.host else args.host}:{args.port}"
    print(f"AEP emulator: {base}\n"
          f"  data dir:      {args.data_dir}\n"
          f"  client id:     {config.DEV_CLIENT_ID}\n"
          f"  client secret: the dev stack's aep:clientSecret (pulumi config get aep:clientSecret --stack dev)\n"
          f"  org id:        {config.DEV_ORG_ID}\n"
          f"  IMS token URL: {base}/ims/token/v3", flush=True)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal under the handler
    # that was installed before it ran: make that an exit with status 0, so a stop is a clean exit.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_cleanly)
    try:
        # loop/http "auto" pick uvloop and httptools when installed, else asyncio and h11.
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False,
                    loop="auto", http="auto", proxy_headers=False, server_header=False, lifespan="off",
                    timeout_graceful_shutdown=5)
    finally:
        app.state.store.close()
    return 0


def _exit_cleanly(_signum, _frame) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    sys.exit(main())

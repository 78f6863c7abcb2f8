"""``pfdo-stack``: run the PFDO platform locally without Docker.

    pfdo-stack up            prerequisites, Kafka, PostgreSQL, token issuer, services, gateway
    pfdo-stack down          stop everything this stack started (reverse order)
    pfdo-stack status        part, pid, port, up/down
    pfdo-stack logs [part]   last lines of a part's log (-f to follow)
    pfdo-stack infra-up      only Kafka + PostgreSQL
    pfdo-stack infra-down    stop Kafka + PostgreSQL
    pfdo-stack env           shell exports for the running stack (eval "$(pfdo-stack env)")
    pfdo-stack prereqs       check (--install: install) Java, Maven, PostgreSQL, nginx
    pfdo-stack fetch         download the Kafka broker jars into the cache (once)
    pfdo-stack kafka-stop N [--kill]   stop (SIGKILL: crash) Kafka node N of a cluster
    pfdo-stack kafka-start N           start Kafka node N again and wait until it is ready

``up``/``infra-up`` ``--kafka-brokers 3`` (or PFDO_KAFKA_BROKERS=3) run Kafka as a 3-node KRaft
cluster (topics with replication factor 3, min.insync.replicas 2); later commands find it.

``--config tests`` (or PFDO_STACK_CONFIG=tests) selects the test stack (other ports and folder).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from .config import StackConfig
from .proc import StackError, tail
from .stack import Stack


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pfdo-stack", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=os.environ.get("PFDO_STACK_CONFIG", "dev"), choices=["dev", "tests"],
                   help="which stack: dev (default ports) or tests (test ports, .work/test-stack)")
    sub = p.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="start the whole stack")
    up.add_argument("--allow-missing", action="store_true", help="skip services whose package is not importable")
    up.add_argument("--no-install", action="store_true", help="never apt-get install prerequisites")
    up.add_argument("--only", nargs="+", metavar="SERVICE", help="start only these services (plus auth)")
    up.add_argument("--demo-size", default=os.environ.get("PFDO_DEMO_SIZE", "small"),
                    choices=["none", "small", "medium", "large"], help="demo region to load (default small)")
    up.add_argument("--kafka-brokers", type=int, metavar="N", help="Kafka nodes: 1 (default) or 3 (cluster mode)")
    sub.add_parser("down", help="stop the whole stack")
    sub.add_parser("status", help="show what runs")
    logs = sub.add_parser("logs", help="show logs")
    logs.add_argument("part", nargs="?", help="kafka, postgres, gateway, auth, registry, navigator, billing, ratings")
    logs.add_argument("-n", type=int, default=50, help="lines (default 50)")
    logs.add_argument("-f", "--follow", action="store_true")
    iu = sub.add_parser("infra-up", help="start Kafka and PostgreSQL only")
    iu.add_argument("--no-install", action="store_true")
    iu.add_argument("--kafka-brokers", type=int, metavar="N", help="Kafka nodes: 1 (default) or 3 (cluster mode)")
    ks = sub.add_parser("kafka-stop", help="stop one node of the Kafka cluster (fault tests)")
    ks.add_argument("node", type=int, help="node id, 1..N")
    ks.add_argument("--kill", action="store_true", help="SIGKILL (a crash) instead of a controlled shutdown")
    kst = sub.add_parser("kafka-start", help="start one node of the Kafka cluster again")
    kst.add_argument("node", type=int, help="node id, 1..N")
    sub.add_parser("infra-down", help="stop Kafka and PostgreSQL")
    sub.add_parser("env", help="print shell exports for the stack")
    sub.add_parser("fetch", help="download the Kafka jars into the cache (no-op when cached)")
    pr = sub.add_parser("prereqs", help="check prerequisites")
    pr.add_argument("--install", action="store_true", help="install missing ones (root on Debian)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = StackConfig.named(args.config)
    if getattr(args, "kafka_brokers", None):
        if args.kafka_brokers < 1:
            print("pfdo-stack: --kafka-brokers must be 1 or more", file=sys.stderr)
            return 2
        config = config.replace(kafka_brokers=args.kafka_brokers)
    stack = Stack(config)
    try:
        return _run(args, stack)
    except StackError as exc:
        print(f"pfdo-stack: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace, stack: Stack) -> int:
    if args.cmd == "up":
        skipped = stack.up(
            install=not args.no_install, allow_missing=args.allow_missing, only=args.only, demo_size=args.demo_size
        )
        print()
        print(f"PFDO stack '{stack.config.name}' is up ({stack.config.stack_dir})")
        for label, url in stack.urls():
            print(f"  {label:<20} {url}")
        if skipped:
            print(f"  skipped (not importable yet): {', '.join(skipped)}")
        print("  logs: pfdo-stack logs <part>   env: eval \"$(pfdo-stack env)\"   stop: pfdo-stack down")
        return 0
    if args.cmd == "down":
        left = stack.down()
        if left:
            print(f"pfdo-stack: still running after down: {', '.join(left)}", file=sys.stderr)
            return 1
        print(f"PFDO stack '{stack.config.name}' is down; no process left")
        return 0
    if args.cmd == "infra-up":
        stack.infra_up(install=not args.no_install)
        print(f"kafka     {stack.config.kafka_bootstrap}" + (
            f"  ({stack.config.kafka_brokers} KRaft nodes)" if stack.config.kafka_brokers > 1 else ""))
        print(f"postgres  postgresql://pfdo@{stack.config.host}:{stack.config.pg_port}/<db>")
        return 0
    if args.cmd == "infra-down":
        left = stack.infra_down()
        if left:
            print(f"pfdo-stack: still running: {', '.join(left)}", file=sys.stderr)
            return 1
        print("kafka and postgres stopped")
        return 0
    if args.cmd == "status":
        rows = stack.status()
        print(f"stack '{stack.config.name}' in {stack.config.stack_dir}")
        print(f"{'PART':<11} {'PID':>8} {'PORT':>6}  STATE")
        for r in rows:
            print(f"{r.name:<11} {r.pid or '-':>8} {r.port:>6}  {r.state}")
        return 0 if all(r.state == "up" for r in rows) else 3
    if args.cmd == "logs":
        files = stack.log_files(args.part)
        if not files:
            print("no logs yet", file=sys.stderr)
            return 1
        if args.follow:
            os.execvp("tail", ["tail", "-n", str(args.n), "-F", *map(str, files)])
        for f in files:
            print(f"==> {f} <==")
            print(tail(f, args.n))
        return 0
    if args.cmd == "env":
        for k, v in stack.env().items():
            print(f"export {k}={shlex.quote(v)}")
        return 0
    if args.cmd in ("kafka-stop", "kafka-start"):
        from .kafka_cluster import KafkaCluster

        if not isinstance(stack.kafka, KafkaCluster):
            raise StackError("no Kafka cluster runs in this stack (start one with `up --kafka-brokers 3`)")
        if args.cmd == "kafka-stop":
            stack.kafka.stop_node(args.node, kill=args.kill)
        else:
            stack.kafka.start_node(args.node)
        print(f"kafka nodes running: {stack.kafka.running_nodes()} of 1..{stack.kafka.size}")
        return 0
    if args.cmd == "fetch":
        from .kafka import KAFKA_VERSION, ensure_jars

        print(f"kafka {KAFKA_VERSION} jars: {ensure_jars(stack.config)}")
        return 0
    if args.cmd == "prereqs":
        from . import prereqs

        if args.install:
            prereqs.ensure(install=True)
        return prereqs.report()
    raise AssertionError(args.cmd)


if __name__ == "__main__":
    sys.exit(main())

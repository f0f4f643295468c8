"""Benchmark: a whole-process `opsctl deploy` against a bare boto3 script process (issue 19, item 3).

Both run as fresh processes, interleaved, against the same moto server and
demo bot on 127.0.0.1 (in this script's process): `python -m opsctl deploy`
with trivial checklists (one manual item each, confirmed with `--confirm`)
and a hand-written boto3 script making the same ECS calls in the same order.
opsctl's calls are recorded on the server side during a warm-up run and
compared with the script's, so the two cannot drift apart unnoticed. The
opsctl figure includes what a user waits for: interpreter start, imports,
config, lock, the runbook engine, the fsynced audit log, the caller-identity
call, the baseline step against the bot, and interpreter exit.
Target: opsctl <= 2x the bare script.

    python benchmarks/deploy_process.py [--rounds 15] [--importtime FILE] [--compare DIR]

``--compare DIR`` also times the opsctl found in DIR (a copy of another tree,
put first on PYTHONPATH) in the same rounds: before/after figures from one run.

``--importtime FILE`` also writes ``python -X importtime`` output of one
deploy to FILE (to see what a deploy imports; sort by the second column).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

TARGET = 2.0
CLUSTER = "hvb-bench"
SERVICE = "bot"
FAMILY = "hvb"
PYCACHE = Path(tempfile.gettempdir()) / "opsctl-bench-pycache"
TRIVIAL = "title: {title}\nitems:\n  - {{id: ok, title: Trivially done, uses: manual}}\n"

# The bare script: what someone would write to do opsctl's ECS calls by hand, nothing else.
# opsctl's sequence: plan = DescribeServices + DescribeTaskDefinition; deploy = the same two +
# ListTaskDefinitions (is a matching revision already registered? resume safety) +
# RegisterTaskDefinition + UpdateService + DescribeServices until stable.
BARE_SCRIPT = f"""
import sys
import boto3

endpoint, image = sys.argv[1], sys.argv[2]
client = boto3.client("ecs", endpoint_url=endpoint, region_name="eu-west-1")
for _ in range(2):
    service = client.describe_services(cluster="{CLUSTER}", services=["{SERVICE}"])["services"][0]
    current = client.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
client.list_task_definitions(familyPrefix="{FAMILY}", sort="DESC")
keep = ("family", "containerDefinitions", "networkMode", "cpu", "memory")
spec = {{k: v for k, v in current.items() if k in keep}}
spec["containerDefinitions"] = [{{**c, "image": image}} for c in spec["containerDefinitions"]]
new = client.register_task_definition(**spec)["taskDefinition"]["taskDefinitionArn"]
breaker = {{"deploymentCircuitBreaker": {{"enable": True, "rollback": True}}}}
client.update_service(cluster="{CLUSTER}", service="{SERVICE}", taskDefinition=new, deploymentConfiguration=breaker)
while True:
    service = client.describe_services(cluster="{CLUSTER}", services=["{SERVICE}"])["services"][0]
    if service["taskDefinition"] == new and service["runningCount"] == service["desiredCount"]:
        break
"""


class CallLog:
    """The AWS operations the moto server answered, in order (a WSGI middleware records them)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def wrap(self, app: Any) -> Any:
        def middleware(environ: dict[str, Any], start_response: Any) -> Any:
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            name = target.rsplit(".", 1)[-1] if target else _query_action(environ)
            if name:
                with self._lock:
                    self.calls.append(name)
            return app(environ, start_response)

        return middleware

    def take(self) -> list[str]:
        with self._lock:
            calls, self.calls = self.calls, []
        return calls


def _query_action(environ: dict[str, Any]) -> str:
    """The Action of a query-protocol call (STS): read the form body and put it back for moto."""
    import io
    from urllib.parse import parse_qs

    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
    return f"sts:{action}" if action else ""


def start_moto(calls: CallLog) -> tuple[Any, str]:
    """moto in server mode on 127.0.0.1 (a thread of this process), every request recorded."""
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            """No line per request on this script's output."""

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", 0, calls.wrap(app), threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def environment(endpoint: str) -> dict[str, str]:
    """Fake credentials, no config files, no metadata service: nothing but 127.0.0.1 is reached."""
    from opsctl.sandbox.aws import sandbox_variables

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(sandbox_variables(endpoint))
    env.update(MOTO_ECS_SERVICE_RUNNING="1", OPSCTL_ACTOR="bench@hvb.example", NO_COLOR="1")
    # Byte code cached as an installed package has it (pip compiles on install), outside the checkout.
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


def write_project(root: Path, endpoint: str, bot_url: str) -> Path:
    import yaml

    from opsctl.sandbox.aws import create_ecs_service

    service = create_ecs_service(endpoint, image="hvb:1.0.0", cluster=CLUSTER, service=SERVICE, family=FAMILY)
    config = {
        "service": "hvb",
        "state_dir": ".opsctl",
        "environments": {
            "bench": {
                "platform": service.platform_config(poll_interval="0.05s"),
                "health": {"base_url": bot_url, "timeout": "2s"},
                # The pre-flight families read a registry, IAM, Secrets Manager and CloudWatch Logs:
                # not ECS calls, so not in the bare script either.
                "verify": {"image": False, "roles": False, "secrets": False, "logs": False},
            }
        },
    }
    (root / "opsctl.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (root / "checklists").mkdir()
    for name in ("pre-deploy", "post-deploy"):
        (root / "checklists" / f"{name}.yaml").write_text(TRIVIAL.format(title=f"Trivial {name}"))
    (root / "bare.py").write_text(BARE_SCRIPT)
    return root / "opsctl.yaml"


def opsctl_argv(image: str, *, importtime: bool = False) -> list[str]:
    flags = ["-X", "importtime"] if importtime else []
    return [sys.executable, *flags, "-m", "opsctl", "deploy", "bench", "--image", image, "--confirm", "ok", "--json"]


def timed(argv: list[str], env: dict[str, str], cwd: Path, stderr: Any = subprocess.DEVNULL) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=stderr, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:6])} ... exited {done.returncode}: {done.stdout.decode()[-2000:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def ecs_only(calls: list[str]) -> list[str]:
    return [c for c in calls if not c.startswith("sts:")]


Runs = list[tuple[float, float]]  # (wall, CPU) seconds per process


def check_calls(calls: CallLog, env: dict[str, str], root: Path, bare: list[str]) -> None:
    """Warm up (OS file cache, byte code, moto's first requests) and compare the two call sequences."""
    calls.take()
    timed(opsctl_argv("hvb:1.1.0"), env, root)
    tool_calls = calls.take()
    timed([*bare, "hvb:1.2.0"], env, root)
    bare_calls = calls.take()
    print(f"opsctl calls: {', '.join(tool_calls)}")
    print(f"bare calls:   {', '.join(bare_calls)}")
    if ecs_only(tool_calls) != bare_calls:
        print("WARNING: the ECS call sequences differ; the comparison is not like for like")


def measure(args: argparse.Namespace, env: dict[str, str], root: Path, bare: list[str]) -> tuple[Runs, Runs, Runs]:
    """(bare, opsctl, opsctl of --compare) over the rounds, alternating so a busy moment hits all alike."""
    other_env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [args.compare, env.get("PYTHONPATH")]))}
    if args.compare:
        timed(opsctl_argv("hvb:1.4.0"), other_env, root)
    bare_runs: Runs = []
    tool_runs: Runs = []
    other_runs: Runs = []
    for i in range(args.rounds):
        bare_runs.append(timed([*bare, f"hvb:2.{i}.0"], env, root))
        tool_runs.append(timed(opsctl_argv(f"hvb:3.{i}.0"), env, root))
        if args.compare:
            other_runs.append(timed(opsctl_argv(f"hvb:4.{i}.0"), other_env, root))
    return bare_runs, tool_runs, other_runs


def median(runs: Runs, index: int) -> float:
    return statistics.median(run[index] for run in runs)


def report(args: argparse.Namespace, bare_runs: Runs, tool_runs: Runs, other_runs: Runs) -> int:
    tool, base = median(tool_runs, 0), median(bare_runs, 0)
    ratio = tool / base
    print(f"rounds:               {args.rounds} each (load average at the end: {os.getloadavg()[0]:.1f})")
    print(f"bare boto3 script:    median {base * 1000:7.1f} ms wall, {median(bare_runs, 1) * 1000:7.1f} ms CPU")
    print(f"opsctl deploy:        median {tool * 1000:7.1f} ms wall, {median(tool_runs, 1) * 1000:7.1f} ms CPU")
    if other_runs:
        other, other_cpu = median(other_runs, 0), median(other_runs, 1)
        print(f"opsctl of {args.compare}: median {other * 1000:7.1f} ms wall, {other_cpu * 1000:7.1f} ms CPU")
        print(f"its ratio (wall):     {other / base:.2f}x")
    print(f"CPU ratio:            {median(tool_runs, 1) / median(bare_runs, 1):.2f}x")
    print(f"ratio (wall):         {ratio:.2f}x (target <= {TARGET}x): {'OK' if ratio <= TARGET else 'TOO SLOW'}")
    return 0 if ratio <= TARGET else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="rounds of each process (default 15)")
    parser.add_argument("--importtime", metavar="FILE", help="write -X importtime of one deploy to FILE")
    parser.add_argument("--compare", metavar="DIR", help="also time the opsctl of another tree (a folder with opsctl/)")
    args = parser.parse_args()

    from opsctl.sandbox.bot import BotServer

    calls = CallLog()
    server, endpoint = start_moto(calls)
    bot = BotServer(version="1.0.0").start()
    try:
        os.environ.update(environment(endpoint))
        root = Path(tempfile.mkdtemp(prefix="opsctl-deploy-process-"))
        write_project(root, endpoint, bot.url)
        env = environment(endpoint)
        bare = [sys.executable, str(root / "bare.py"), endpoint]
        check_calls(calls, env, root, bare)
        if args.importtime:
            with open(args.importtime, "w") as sink:
                timed(opsctl_argv("hvb:1.3.0", importtime=True), env, root, stderr=sink)
        runs = measure(args, env, root, bare)
    finally:
        bot.stop()
        server.shutdown()
    return report(args, *runs)


if __name__ == "__main__":
    sys.exit(main())

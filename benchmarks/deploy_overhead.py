"""Benchmark: a full `opsctl deploy` against moto (instant stability) vs a bare boto3 script.

Both make the same AWS calls against the same moto server in this process:
describe the service and its task definition, register a revision with the
new image, update the service, describe until stable. opsctl adds config
loading, the lock, the runbook engine, the audit log (fsynced) and the
plan diff. The gates and verification are replaced by a project runbook of
just `plan` + `deploy`, so the figure is the engine's overhead, not the
bot's latency. Target: <= 1.5x.

Run: python benchmarks/deploy_overhead.py [rounds]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import yaml
from moto.server import ThreadedMotoServer

RUNBOOK = """title: Deploy (benchmark)
change_type: standard
steps:
  - {id: plan, title: Plan, uses: platform.plan}
  - {id: deploy, title: Deploy, uses: platform.deploy}
"""


def setup_moto() -> tuple[ThreadedMotoServer, str]:
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="eu-west-1",
        MOTO_ECS_SERVICE_RUNNING="1",
    )
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    endpoint = f"http://127.0.0.1:{port}"
    ecs = boto3.client("ecs", endpoint_url=endpoint, region_name="eu-west-1")
    ecs.create_cluster(clusterName="hvb-bench")
    arn = ecs.register_task_definition(
        family="hvb", containerDefinitions=[{"name": "bot", "image": "hvb:1.0.0", "memory": 256}]
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster="hvb-bench", serviceName="bot", taskDefinition=arn, desiredCount=1)
    return server, endpoint


def bare_deploy(endpoint: str, image: str) -> None:
    """A hand-written script making the same AWS calls as opsctl, in the same order, with no engine.

    opsctl's sequence (counted with a botocore before-call hook): plan = DescribeServices +
    DescribeTaskDefinition; deploy = DescribeServices + DescribeTaskDefinition + ListTaskDefinitions
    (is a matching revision already registered? resume safety) + RegisterTaskDefinition +
    UpdateService + DescribeServices until stable. Like a script run from a shell, it makes its client.
    """
    client: Any = boto3.client("ecs", endpoint_url=endpoint, region_name="eu-west-1")
    for _ in range(2):  # plan, then deploy, each read the service and its task definition
        service = client.describe_services(cluster="hvb-bench", services=["bot"])["services"][0]
        current = client.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    client.list_task_definitions(familyPrefix="hvb", sort="DESC")
    keep = ("family", "containerDefinitions", "networkMode", "cpu", "memory")
    spec = {k: v for k, v in current.items() if k in keep}
    spec["containerDefinitions"] = [{**c, "image": image} for c in spec["containerDefinitions"]]
    new = client.register_task_definition(**spec)["taskDefinition"]["taskDefinitionArn"]
    breaker = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    client.update_service(cluster="hvb-bench", service="bot", taskDefinition=new, deploymentConfiguration=breaker)
    while True:
        service = client.describe_services(cluster="hvb-bench", services=["bot"])["services"][0]
        if service["taskDefinition"] == new and service["runningCount"] == service["desiredCount"]:
            return


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    server, endpoint = setup_moto()
    try:
        from opsctl.runs import RunOptions, execute
        from opsctl.workspace import Workspace

        project = Path(tempfile.mkdtemp(prefix="opsctl-bench-"))
        (project / "runbooks").mkdir()
        (project / "runbooks" / "deploy.yaml").write_text(RUNBOOK)
        config = {
            "service": "hvb",
            "environments": {
                "bench": {
                    "platform": {
                        "kind": "ecs",
                        "region": "eu-west-1",
                        "cluster": "hvb-bench",
                        "service": "bot",
                        "container": "bot",
                        "endpoint_url": endpoint,
                        "poll_interval": "0.001s",
                    }
                }
            },
        }
        (project / "opsctl.yaml").write_text(yaml.safe_dump(config))

        bare: list[float] = []
        tool: list[float] = []
        for i in range(rounds):  # interleaved, so drift in moto's speed hits both alike
            start = time.perf_counter()
            bare_deploy(endpoint, f"hvb:2.{i}.0")
            bare.append(time.perf_counter() - start)
            start = time.perf_counter()
            ws = Workspace.load(str(project / "opsctl.yaml"), actor="bench")
            result = execute(ws, "deploy", "bench", {"image": f"hvb:3.{i}.0", "timeout": 60}, RunOptions())
            tool.append(time.perf_counter() - start)
            assert result.status == "succeeded", result.summary
        b, t = statistics.median(bare), statistics.median(tool)
        print(f"bare boto3 deploy : median {b * 1000:7.1f} ms over {rounds} rounds")
        print(f"opsctl deploy     : median {t * 1000:7.1f} ms over {rounds} rounds")
        print(f"ratio             : {t / b:.2f}x (target <= 1.5x)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()

"""Discover an ECS service: its region, containers, target group health check and load balancer.

Reads only: DescribeServices, DescribeTaskDefinition, DescribeTargetGroups,
DescribeLoadBalancers and DescribeListeners, through :mod:`opsctl.aws.client`
(so ``AWS_ENDPOINT_URL`` and profiles behave as everywhere else in opsctl).
"""

from __future__ import annotations

from typing import Any

from opsctl.errors import BadInput
from opsctl.setup.model import Discovered
from opsctl.setup.targets import Target

DEFAULT_HEALTH_PATH = "/health"


def discover_ecs(target: Target, *, region: str | None = None, profile: str | None = None) -> Discovered:
    """What ``target`` (CLUSTER/SERVICE) runs and where it answers; BadInput when it does not exist."""
    from botocore.exceptions import BotoCoreError, ClientError, NoRegionError

    from opsctl.aws.client import aws_client
    from opsctl.aws.errors import aws_problem

    cluster, service = target.parts
    what = f"reading ECS service {cluster}/{service}"
    try:
        ecs = aws_client("ecs", region=region, profile=profile)
        found = ecs.describe_services(cluster=cluster, services=[service])
        live = [s for s in found.get("services", []) if s.get("status") != "INACTIVE"]
        if not live:
            where = ecs.meta.region_name
            raise BadInput(f"ECS service {service} not found in cluster {cluster} ({where}); check --ecs and --region")
        svc = live[0]
        task = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
        balancer = _balancer(aws_client("elbv2", region=region, profile=profile), svc.get("loadBalancers") or [])
        resolved_region = str(ecs.meta.region_name)
    except NoRegionError:
        raise BadInput(f"{what}: no AWS region: pass --region, or set AWS_REGION / AWS_DEFAULT_REGION") from None
    except (BotoCoreError, ClientError) as exc:
        raise aws_problem(exc, what, "AWS") from None
    return _discovered(target, svc, task, balancer, resolved_region)


def _balancer(elb: Any, attached: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first attached target group, its load balancer and whether that listens on HTTPS (None: no LB)."""
    with_group = [lb for lb in attached if lb.get("targetGroupArn")]
    if not with_group:
        return None
    group = elb.describe_target_groups(TargetGroupArns=[with_group[0]["targetGroupArn"]])["TargetGroups"][0]
    found: dict[str, Any] = {"container": with_group[0].get("containerName"), "group": group, "lb": None}
    arns = group.get("LoadBalancerArns") or []
    if arns:
        found["lb"] = elb.describe_load_balancers(LoadBalancerArns=arns[:1])["LoadBalancers"][0]
        found["listeners"] = elb.describe_listeners(LoadBalancerArn=arns[0]).get("Listeners", [])
    return found


def _discovered(
    target: Target, svc: dict[str, Any], task: dict[str, Any], balancer: dict[str, Any] | None, region: str
) -> Discovered:
    cluster_arn = str(svc.get("clusterArn") or target.parts[0])
    cluster = cluster_arn.rsplit("/", 1)[-1]
    service = str(svc.get("serviceName") or target.parts[1])
    containers = [c for c in task.get("containerDefinitions", []) if c.get("name")]
    names = [str(c["name"]) for c in containers]
    container, why = _container(containers, balancer)
    family = f"{task.get('family')}:{task.get('revision')}"
    notes = [f"ECS service {cluster}/{service} in {region}; task definition {family} has: {', '.join(names)}"]
    notes.append(f"container: {container} ({why})")
    image = next((str(c.get("image")) for c in containers if c["name"] == container), None)
    platform: dict[str, Any] = {
        "kind": "ecs",
        "region": region,
        "cluster": cluster,
        "service": service,
        "container": container,
    }
    health, more_notes, suggestions = _health(balancer)
    return Discovered(
        kind="ecs",
        target=target.text,
        service=service,
        name_hint=f"{cluster} {service}",
        platform=platform,
        health=health,
        image=image,
        notes=(*notes, *more_notes),
        suggestions=suggestions,
    )


def _container(containers: list[dict[str, Any]], balancer: dict[str, Any] | None) -> tuple[str, str]:
    """The container whose image a deploy replaces, and why that one."""
    names = [str(c["name"]) for c in containers]
    if not names:
        raise BadInput("the service's task definition has no containers")
    behind = balancer.get("container") if balancer else None
    if behind in names:
        return str(behind), "the one behind the load balancer"
    if len(names) == 1:
        return names[0], "the only one"
    essential = [str(c["name"]) for c in containers if c.get("essential", True)]
    if len(essential) == 1:
        return essential[0], "the only essential one"
    return names[0], f"the first of {len(names)}; change it if the bot runs in another"


def _health(balancer: dict[str, Any] | None) -> tuple[dict[str, Any] | None, list[str], tuple[str, ...]]:
    """health: (base_url from the load balancer's DNS, the target group's check path), notes, suggestions."""
    if balancer is None:
        return None, ["no load balancer is attached: set health.base_url to where the bot answers"], ()
    group = balancer["group"]
    path = str(group.get("HealthCheckPath") or DEFAULT_HEALTH_PATH)
    notes = [f"target group {group.get('TargetGroupName')} checks {path}"]
    lb = balancer.get("lb")
    if lb is None:
        return None, [*notes, "the target group has no load balancer: set health.base_url"], ()
    scheme, port = _listening(balancer.get("listeners") or [])
    default_port = 443 if scheme == "https" else 80
    url = f"{scheme}://{lb['DNSName']}" + ("" if port in (None, default_port) else f":{port}")
    health: dict[str, Any] = {"base_url": url}
    if path != DEFAULT_HEALTH_PATH:
        health["paths"] = {"health": path}
    notes.append(f"load balancer {lb.get('LoadBalancerName')} ({lb.get('Scheme', 'internet-facing')}) at {url}")
    lb_dim = str(lb.get("LoadBalancerArn", "")).partition(":loadbalancer/")[2]
    tg_dim = str(group.get("TargetGroupArn", "")).rpartition(":")[2]
    suggestions = (
        "ALB metrics and alarms for SLOs (CloudWatch):",
        f"cloudwatch: {{load_balancer: {lb_dim}, target_group: {tg_dim}}}",
    )
    return health, notes, suggestions if lb_dim and tg_dim else ()


def _listening(listeners: list[dict[str, Any]]) -> tuple[str, int | None]:
    """https when a listener speaks HTTPS (its port), else http on the first listener's port."""
    for listener in listeners:
        if listener.get("Protocol") == "HTTPS":
            return "https", int(listener.get("Port") or 443)
    return "http", int(listeners[0].get("Port") or 80) if listeners else None

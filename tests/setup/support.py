"""An ECS service behind an application load balancer on moto: what ``opsctl init --ecs`` discovers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.support.moto_server import EcsService, MotoServer, create_ecs_service


@dataclass(frozen=True)
class BalancedService:
    service: EcsService
    dns: str
    load_balancer_arn: str
    target_group_arn: str


def create_balanced_service(
    server: MotoServer,
    *,
    cluster: str = "hvb-staging",
    health_path: str = "/health",
    https: bool = False,
    sidecars: tuple[dict[str, Any], ...] = (
        {"name": "envoy", "image": "envoy:1.29", "memory": 128, "essential": True},
    ),
) -> BalancedService:
    """A VPC, an ALB with a listener and a target group checking ``health_path``, and an ECS service behind it."""
    ec2 = server.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{server.region}{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate("ab")
    ]
    elb = server.client("elbv2")
    lb = elb.create_load_balancer(Name=f"{cluster}-lb", Subnets=subnets, Scheme="internet-facing", Type="application")
    lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    group = elb.create_target_group(
        Name=f"{cluster}-tg",
        Protocol="HTTP",
        Port=8080,
        VpcId=vpc,
        TargetType="ip",
        HealthCheckPath=health_path,
    )["TargetGroups"][0]
    listener: dict[str, Any] = {"Protocol": "HTTP", "Port": 80}
    if https:
        certificate = server.client("acm").request_certificate(DomainName="bot.example.com")["CertificateArn"]
        listener = {"Protocol": "HTTPS", "Port": 443, "Certificates": [{"CertificateArn": certificate}]}
    elb.create_listener(
        LoadBalancerArn=lb_arn,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}],
        **listener,
    )
    service = create_ecs_service(server, cluster=cluster, sidecars=sidecars)
    ecs = server.client("ecs")
    # moto keeps a service's load balancers as given at creation: make the service again with one.
    ecs.delete_service(cluster=cluster, service=service.service, force=True)
    ecs.create_service(
        cluster=cluster,
        serviceName=f"{service.service}",
        taskDefinition=service.task_definition_arn,
        desiredCount=1,
        loadBalancers=[{"targetGroupArn": group["TargetGroupArn"], "containerName": "bot", "containerPort": 8080}],
    )
    return BalancedService(service, lb["LoadBalancers"][0]["DNSName"], lb_arn, group["TargetGroupArn"])

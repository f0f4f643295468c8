"""``opsctl lock init`` for the DynamoDB lock: create the table with TTL, or print its CloudFormation."""

from __future__ import annotations

from opsctl.aws.client import aws_client
from opsctl.aws.errors import aws_problem, error_code
from opsctl.config import Locks
from opsctl.locks.dynamo_table import KEY, TTL_ATTRIBUTE


def create_table(config: Locks) -> str:
    """``opsctl lock init``: create the table (on demand billing) and turn on TTL; says what it did."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = aws_client("dynamodb", region=config.region, endpoint_url=config.endpoint_url)
    try:
        try:
            client.create_table(
                TableName=config.table,
                BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": KEY, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": KEY, "AttributeType": "S"}],
            )
            done = f"created DynamoDB table {config.table}"
        except ClientError as exc:
            if error_code(exc) != "ResourceInUseException":
                raise
            done = f"DynamoDB table {config.table} already exists"
        client.get_waiter("table_exists").wait(TableName=config.table, WaiterConfig={"Delay": 2, "MaxAttempts": 60})
        ttl = client.describe_time_to_live(TableName=config.table)["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            client.update_time_to_live(
                TableName=config.table, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
            )
    except (BotoCoreError, ClientError) as exc:
        raise aws_problem(exc, f"creating table {config.table}", "DynamoDB") from None
    return f"{done}; TTL on {TTL_ATTRIBUTE} tidies old items (expiry itself is decided by expires_at)"


def table_snippet(config: Locks) -> str:
    """CloudFormation for the table, and the IAM statement opsctl's users need on it."""
    return f"""\
# CloudFormation: the opsctl deploy lock table
Resources:
  OpsctlLocks:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: {config.table}
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {{AttributeName: {KEY}, AttributeType: S}}
      KeySchema:
        - {{AttributeName: {KEY}, KeyType: HASH}}
      TimeToLiveSpecification: {{AttributeName: {TTL_ATTRIBUTE}, Enabled: true}}
      PointInTimeRecoverySpecification: {{PointInTimeRecoveryEnabled: true}}
# IAM policy statement for every opsctl user and CI role
#   - Effect: Allow
#     Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem]
#     Resource: !GetAtt OpsctlLocks.Arn
"""

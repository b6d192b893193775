"""Data: the DynamoDB tables, built from the PynamoDB models, and the S3 buckets."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from functions.store.models import TableSpec, table_specs
from infra.aws.buckets import private_bucket
from infra.aws.stage import Stage

_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}
_PROJECTIONS = {
    "ALL": dynamodb.ProjectionType.ALL,
    "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
    "INCLUDE": dynamodb.ProjectionType.INCLUDE,
}
_STREAMS = {
    "NEW_AND_OLD_IMAGES": dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    "NEW_IMAGE": dynamodb.StreamViewType.NEW_IMAGE,
    "OLD_IMAGE": dynamodb.StreamViewType.OLD_IMAGE,
    "KEYS_ONLY": dynamodb.StreamViewType.KEYS_ONLY,
}


# What PynamoDB calls: item reads and writes, batches, queries, and DescribeTable (`Model.exists`).
TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:DescribeTable",
)
OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")


def _attribute(key: tuple[str, str] | None) -> dynamodb.Attribute | None:
    return dynamodb.Attribute(name=key[0], type=_TYPES[key[1]]) if key else None


class Data(Construct):
    """Every table in `functions.store.models.ALL_MODELS` (named `<stage prefix><table>`), the files bucket
    (uploads, background-import bodies, export snapshots) and the artifacts bucket (training data and models).

    `tables` maps each model's short table name to its table; the Lambdas get the prefix, not the names.
    """

    def __init__(self, scope: Construct, construct_id: str, *, stage: Stage, access_logs: s3.IBucket):
        super().__init__(scope, construct_id)
        self.table_prefix = stage.resource_prefix
        self.tables: dict[str, dynamodb.Table] = {
            spec.short_name: self._table(spec, stage) for spec in table_specs()
        }
        # Browsers read uploaded media from the files bucket through presigned URLs our /data/upload/
        # redirects to, and the Label Studio Frontend fetches audio (for its waveform): a CORS rule lets
        # it. Any origin, since after the redirect the browser sends `Origin: null`; the presigned URL is
        # the only credential, and no cookie goes with it.
        self.files_bucket = self._bucket(
            "Files",
            stage,
            access_logs,
            "files/",
            cors=[
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.GET, s3.HttpMethods.HEAD],
                    allowed_origins=["*"],
                    allowed_headers=["Range"],
                    exposed_headers=["Content-Length", "Content-Range", "Accept-Ranges"],
                    max_age=3600,
                )
            ],
        )
        self.artifacts_bucket = self._bucket("Artifacts", stage, access_logs, "artifacts/")

    def _table(self, spec: TableSpec, stage: Stage) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            f"{spec.short_name.capitalize()}Table",
            table_name=f"{self.table_prefix}{spec.short_name}",
            partition_key=_attribute(spec.hash_key),
            sort_key=_attribute(spec.range_key),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            stream=_STREAMS[spec.stream_view] if spec.stream_view else None,
            time_to_live_attribute=spec.ttl_attribute,
            removal_policy=stage.removal_policy,
        )
        for index in spec.indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=_attribute(index.hash_key),
                sort_key=_attribute(index.range_key),
                projection_type=_PROJECTIONS[index.projection],
                non_key_attributes=list(index.non_key_attributes) or None,
            )
        return table

    def _bucket(
        self, construct_id: str, stage: Stage, access_logs: s3.IBucket, log_prefix: str, **props
    ) -> s3.Bucket:
        return private_bucket(
            self,
            construct_id,
            stage,
            **props,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=log_prefix,
            lifecycle_rules=[
                s3.LifecycleRule(
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
        )

    def grant_read_write(self, grantee: iam.IGrantable) -> None:
        """What the app's functions need, named one by one: the items of every table and index, and the
        objects of the files bucket. `dynamodb:Scan` is left out on purpose: no request path scans."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(TABLE_ACTIONS),
            resource_arns=[arn for spec in table_specs() for arn in self._table_and_index_arns(spec)],
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(OBJECT_ACTIONS),
            resource_arns=[self.files_bucket.arn_for_objects("*")],
        )
        iam.Grant.add_to_principal(
            grantee=grantee, actions=["s3:ListBucket"], resource_arns=[self.files_bucket.bucket_arn]
        )

    def _table_and_index_arns(self, spec: TableSpec) -> list[str]:
        arn = self.tables[spec.short_name].table_arn
        return [arn, *(f"{arn}/index/{index.name}" for index in spec.indexes)]

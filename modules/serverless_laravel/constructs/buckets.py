"""A private S3 bucket with the defaults every bucket of the app gets: no public access,
encryption at rest, TLS-only access, owner-enforced objects, versioning."""

from __future__ import annotations

from .. import cdk
from ..cdk import Construct
from ..checks import check_bucket_prefix, check_choice, check_optional_bool, check_optional_int
from ..errors import config_error
from .iam import (
    Grantable,
    PolicyStatement,
    deny_insecure_transport,
    grant_sid,
    policy_document,
    statement_struct,
)
from .stack import is_ephemeral

OWNERSHIP: tuple[str, ...] = ("BucketOwnerEnforced", "BucketOwnerPreferred")


class PrivateBucket(Construct):
    """An S3 bucket nothing outside the account can read; ``grant_*`` opens exact paths to roles."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket_prefix: str,
        kms_key_arn: str | None = None,
        versioned: bool = True,
        force_destroy: bool | None = None,
        noncurrent_version_days: int = 30,
        object_ownership: str = "BucketOwnerEnforced",
        expire_after_days: int | None = None,
    ) -> None:
        """``object_ownership``: ``BucketOwnerEnforced`` (ACLs off, the default) or
        ``BucketOwnerPreferred``, only for log buckets of services that still deliver through
        ACLs (CloudFront standard logs). ``expire_after_days``: delete objects after that many
        days (1..3650; default never), for logs. ``force_destroy``: empty the bucket on
        destroy (default: only in an ephemeral ``LaravelStack``)."""
        check_bucket_prefix("PrivateBucket", bucket_prefix)
        check_optional_bool("PrivateBucket", "force_destroy", force_destroy)
        check_choice("PrivateBucket", "object_ownership", object_ownership, OWNERSHIP)
        check_optional_int("PrivateBucket", "expire_after_days", expire_after_days, 1, 3650,
                           "pass the days objects are kept, e.g. 90")
        if noncurrent_version_days < 1:
            raise config_error(
                "PrivateBucket", "noncurrent_version_days", noncurrent_version_days,
                "must be at least 1", "pass the days old versions are kept, e.g. 30",
            )
        super().__init__(scope, id)
        if force_destroy is None:
            force_destroy = is_ephemeral(self)
        self.bucket = cdk.aws("s3_bucket").S3Bucket(
            self, "bucket", bucket_prefix=bucket_prefix, force_destroy=force_destroy
        )
        cdk.aws("s3_bucket_public_access_block").S3BucketPublicAccessBlock(
            self,
            "public-access-block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        cdk.aws("s3_bucket_ownership_controls").S3BucketOwnershipControls(
            self, "ownership", bucket=self.bucket.id,
            rule={"object_ownership": object_ownership},
        )
        sse = {"sse_algorithm": "aws:kms", "kms_master_key_id": kms_key_arn} if kms_key_arn \
            else {"sse_algorithm": "AES256"}
        sse_module = "s3_bucket_server_side_encryption_configuration"
        cdk.aws(sse_module).S3BucketServerSideEncryptionConfigurationA(
            self, "encryption", bucket=self.bucket.id,
            rule=[cdk.struct(sse_module, "S3BucketServerSideEncryptionConfigurationRuleA",
                             apply_server_side_encryption_by_default=sse,
                             bucket_key_enabled=bool(kms_key_arn))],
        )
        if versioned:
            cdk.aws("s3_bucket_versioning").S3BucketVersioningA(
                self, "versioning", bucket=self.bucket.id,
                versioning_configuration={"status": "Enabled"},
            )
        if versioned or expire_after_days is not None:
            self._lifecycle(noncurrent_version_days if versioned else None, expire_after_days)
        # Object events to the account's default EventBridge bus: no charge until a rule
        # matches, and an alert on, say, deletions in the storage bucket is one rule away.
        cdk.aws("s3_bucket_notification").S3BucketNotification(
            self, "events", bucket=self.bucket.id, eventbridge=True,
        )
        self._policy_statements: list[dict[str, object]] = [
            deny_insecure_transport("s3:*", [self.bucket.arn, f"{self.bucket.arn}/*"])
        ]
        self._policy_document = policy_document(
            self, "policy-document", self._policy_statements
        )
        cdk.aws("s3_bucket_policy").S3BucketPolicy(
            self, "policy", bucket=self.bucket.id, policy=self._policy_document.json
        )
        self.kms_key_arn = kms_key_arn

    def _lifecycle(self, noncurrent_version_days: int | None,
                   expire_after_days: int | None) -> None:
        """Old versions (and, for logs, current objects) expire; abandoned multipart uploads
        are cleaned up."""
        module = "s3_bucket_lifecycle_configuration"
        noncurrent = None if noncurrent_version_days is None else [cdk.struct(
            module, "S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration",
            noncurrent_days=noncurrent_version_days)]
        expiration = None if expire_after_days is None else [cdk.struct(
            module, "S3BucketLifecycleConfigurationRuleExpiration", days=expire_after_days)]
        rule = cdk.struct(
            module, "S3BucketLifecycleConfigurationRule",
            id="expire-noncurrent-versions" if expire_after_days is None else "expire-objects",
            status="Enabled",
            filter=[cdk.struct(module, "S3BucketLifecycleConfigurationRuleFilter", prefix="")],
            noncurrent_version_expiration=noncurrent,
            expiration=expiration,
            abort_incomplete_multipart_upload=[cdk.struct(
                module, "S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload",
                days_after_initiation=7)],
        )
        cdk.aws(module).S3BucketLifecycleConfiguration(
            self, "lifecycle", bucket=self.bucket.id, rule=[rule]
        )

    def add_to_resource_policy(self, statement: dict[str, object]) -> None:
        """Add a statement (a policy-document block) to the bucket policy."""
        self._policy_statements.append(statement)
        self._policy_document.put_statement(
            [statement_struct(block) for block in self._policy_statements]
        )

    @property
    def name(self) -> str:
        return self.bucket.bucket

    @property
    def arn(self) -> str:
        return self.bucket.arn

    def grant_read(self, grantee: Grantable, prefix: str = "") -> None:
        """Let ``grantee`` read objects (under ``prefix``)."""
        grantee.add_to_role_policy(PolicyStatement(
            sid=grant_sid("Read", self),
            actions=("s3:GetObject",),
            resources=(f"{self.arn}/{prefix}*",),
        ))
        self._grant_kms(grantee, "Read", ("kms:Decrypt",))

    def grant_read_write(self, grantee: Grantable, prefix: str = "") -> None:
        """Let ``grantee`` list, read, write and delete objects (under ``prefix``)."""
        grantee.add_to_role_policy(PolicyStatement(
            sid=grant_sid("List", self), actions=("s3:ListBucket",), resources=(self.arn,),
        ))
        grantee.add_to_role_policy(PolicyStatement(
            sid=grant_sid("ReadWrite", self),
            actions=("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
            resources=(f"{self.arn}/{prefix}*",),
        ))
        self._grant_kms(grantee, "ReadWrite", ("kms:Decrypt", "kms:GenerateDataKey"))

    def _grant_kms(self, grantee: Grantable, access: str, actions: tuple[str, ...]) -> None:
        if self.kms_key_arn:
            grantee.add_to_role_policy(PolicyStatement(
                sid=grant_sid(f"Key{access}", self),
                actions=actions,
                resources=(self.kms_key_arn,),
            ))

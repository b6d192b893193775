"""Web: the static UI in S3 behind CloudFront, with the API routed on the same domain.

One origin for the browser means no CORS and a session cookie that is first-party. The API paths are
forwarded uncached with every viewer header but Host (API Gateway routes by its own host name).
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from functions.api.middleware import CONTENT_SECURITY_POLICY
from infra.aws.buckets import private_bucket
from infra.aws.stage import Stage

# What CloudFront sends to the API instead of S3: Label Studio's API and the paths outside /api that
# its clients call (`/health`, the presign redirect ML backends use to fetch media, and uploaded media,
# which the API checks membership for and redirects to a presigned URL of).
API_PATHS = ("/api/*", "/health", "/tasks/*/presign*", "/data/upload/*")
SITE_EXCLUDES = ("node_modules", "package.json", "package-lock.json", "vendor.mjs", ".gitignore")


class Web(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: Stage,
        api_domain: str,
        access_logs: s3.IBucket,
        site_dir: Path | None = None,
    ):
        super().__init__(scope, construct_id)
        self._domain_name = stage.domain_name
        self.bucket = private_bucket(
            self, "Site", stage, server_access_logs_bucket=access_logs, server_access_logs_prefix="web/"
        )
        api_origin = origins.HttpOrigin(
            api_domain, protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY
        )
        api_behavior = cloudfront.BehaviorOptions(
            origin=api_origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        )
        custom_domain = {}
        if stage.domain_name:
            custom_domain = {
                "domain_names": [stage.domain_name],
                "certificate": acm.Certificate.from_certificate_arn(
                    self, "Certificate", stage.certificate_arn
                ),
                "minimum_protocol_version": cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            }
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"labelstack {stage.name}",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                response_headers_policy=self._security_headers(),
            ),
            additional_behaviors=dict.fromkeys(API_PATHS, api_behavior),
            enable_logging=True,
            log_bucket=access_logs,
            log_file_prefix="cloudfront/",
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            **custom_domain,
        )
        if site_dir is not None:
            s3deploy.BucketDeployment(
                self,
                "Deploy",
                # The site is web/ as served locally; npm's install folder and files stay behind (the one
                # third-party bundle the pages load is copied to web/vendor/ by `npm ci`).
                sources=[s3deploy.Source.asset(str(site_dir), exclude=list(SITE_EXCLUDES))],
                destination_bucket=self.bucket,
                distribution=self.distribution,
            )

    def _security_headers(self) -> cloudfront.ResponseHeadersPolicy:
        """The headers the app sends with every response locally (functions/api/middleware.py), so the
        deployed pages run under the same Content-Security-Policy, frame-ancestors included."""
        headers = cloudfront.ResponseSecurityHeadersBehavior
        return cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            security_headers_behavior=headers(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=CONTENT_SECURITY_POLICY, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.SAME_ORIGIN, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365), include_subdomains=True, override=True
                ),
            ),
        )

    @property
    def url(self) -> str:
        return f"https://{self._domain_name or self.distribution.distribution_domain_name}"

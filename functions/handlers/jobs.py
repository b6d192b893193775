"""The jobs Lambda: runs one background job (a large import, a project's clean-up) per invocation."""

from aws_lambda_powertools import Logger

from functions.services import jobs

logger = Logger(service="labelstack-jobs")


@logger.inject_lambda_context
def handler(event, context):
    jobs.run(event["job"], event["payload"])
    return {"ok": True}

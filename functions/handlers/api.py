"""The API Lambda: the FastAPI app behind API Gateway's HTTP API, through Mangum."""

from aws_lambda_powertools import Logger
from mangum import Mangum

from functions.api.app import create_app

logger = Logger(service="labelstack-api")
_asgi = Mangum(create_app(), lifespan="off")


@logger.inject_lambda_context
def handler(event, context):
    return _asgi(event, context)

"""The route class every router uses: Label Studio's JSON parsing and exactly the keys a route returns.

Two things differ from FastAPI's defaults, both to keep answering as Label Studio does:
- A response keeps exactly the keys the route returned (`response_model_exclude_unset`): a response model
  documents and checks the answer, it never adds a field the route left out (a sagemaker-only field on
  an `http` backend, `task_ids` on an import that did not ask for them).
- JSON bodies come from `middleware.JsonBodyCheck`, which parsed and checked them before any route (depth,
  NaN and Infinity, lone surrogates: a 400 naming the field); `bodies.parse_json` reads any other.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from functions.api.bodies import ABSENT, PARSED_JSON, parse_json


class _LabelStudioRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            checked = self.scope.get(PARSED_JSON, ABSENT)
            self._json = parse_json(await self.body()) if checked is ABSENT else checked
        return self._json


class LabelStudioRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        kwargs["response_model_exclude_unset"] = True
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def with_label_studio_json(request: Request) -> Response:
            return await handle(_LabelStudioRequest(request.scope, request.receive))

        return with_label_studio_json

"""`/files/{key}`: the files directory's presigned URLs (the sqlite store engine), the local stand-in for
the files bucket's presigned S3 URLs. The signature is the credential: no user is asked for."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from functions.store import blobs

router = APIRouter()


@router.get("/files/{key:path}", include_in_schema=False)
def serve(key: str, request: Request):
    query = request.query_params
    found = blobs.open_signed(key, query.get("expires"), query.get("signature"), query.get("download"))
    return FileResponse(
        found.path,
        media_type=found.content_type,
        headers={"Content-Disposition": found.content_disposition, "X-Content-Type-Options": "nosniff"},
    )

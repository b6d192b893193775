"""Importing tasks, and exporting them: the one-request export, its formats, and export snapshots."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from functions.api.schemas.common import RequestBody, ResponseBody, Timestamp, optional
from functions.api.schemas.users import UserSimple


class ImportTask(RequestBody):
    """One task of an import. Without `data`, the object itself is the task's data (Label Studio's flat
    form: `{"text": "..."}`)."""

    data: dict[str, Any] = optional("The task's data: the fields the label config reads.")
    meta: dict[str, Any] = optional()
    annotations: list[dict[str, Any]] = optional(
        "Annotations to import with the task: `{result, lead_time, ...}`."
    )
    predictions: list[dict[str, Any]] = optional(
        "Predictions to import with the task: `{result, score, model_version}`."
    )


def import_request_body() -> dict[str, Any]:
    """The import's requestBody for OpenAPI. FastAPI cannot declare a body that is JSON or a multipart
    upload, so the route reads it itself and this describes it."""
    task = ImportTask.model_json_schema()
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [{"type": "array", "items": task}, task],
                    "description": "A list of tasks, or one task.",
                }
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": (
                                "Task files: JSON, JSONL, CSV, TSV or TXT (one task a line); HTML or XML "
                                "(one task of its text); or media, one task each, its data the file's "
                                "URL: images (BMP, GIF, JPEG, PNG, SVG, WebP), audio (FLAC, M4A, MP3, "
                                "OGG, WAV), video (MP4, WebM), PDF."
                            ),
                        }
                    },
                    "additionalProperties": {"type": "string", "format": "binary"},
                }
            },
        },
    }


class ImportResult(ResponseBody):
    """A finished import's counts; a background one answers its `import` id instead of them."""

    task_count: int | None = None
    annotation_count: int | None = None
    prediction_count: int | None = None
    duration: float | None = Field(None, description="Seconds.")
    file_upload_ids: list[int] = Field(description="The uploads of the media files among the files.")
    could_be_tasks_list: bool = Field(description="Whether a file was CSV, TSV or TXT.")
    found_formats: list[Any] | dict[str, int] = Field(
        description='Uploaded files by extension, e.g. {".png": 2}; [] for a JSON body.'
    )
    data_columns: list[str] = Field(description="The data keys the files' tasks have in common.")
    task_ids: list[int] | None = Field(None, description="With `return_task_ids=true`: the new tasks' ids.")
    import_: int | None = Field(
        None,
        alias="import",
        description="A large import runs in the background: poll /api/projects/{id}/imports/{import}.",
    )


class ImportStatus(ResponseBody):
    id: int
    project: int
    status: str = Field(description="created, in_progress, completed or failed.")
    error: str | None
    task_count: int
    annotation_count: int
    prediction_count: int
    duration: float | None
    created_at: Timestamp
    finished_at: Timestamp | None
    task_ids: list[int] = Field(description="The new tasks' ids, once completed.")


class ExportFormat(ResponseBody):
    name: str = Field(description="What to ask for as `exportType`.")
    title: str
    description: str
    link: str
    tags: list[str] | None = None
    disabled: bool | None = Field(
        None, description="true when this project cannot be exported so (see disabled_reason)."
    )
    disabled_reason: str | None = Field(
        None,
        description="labelstack: why a disabled format is unavailable: the labeling interface does not "
        "fit it, or it needs the media files, which exports here do not bundle.",
    )


class ExportRequest(RequestBody):
    title: str | None = Field(None, description="At most 2,048 characters.")
    task_filter_options: dict[str, Any] | None = None
    annotation_filter_options: dict[str, Any] | None = None
    serialization_options: dict[str, Any] | None = None


class ConvertedFormat(ResponseBody):
    export_type: str
    status: str


class ExportSnapshot(ResponseBody):
    title: str
    id: int
    created_by: UserSimple | None
    created_at: Timestamp
    finished_at: Timestamp | None
    status: str = Field(description="created, in_progress, completed or failed.")
    md5: str | None
    counters: dict[str, int]
    converted_formats: list[ConvertedFormat]
    task_filter_options: dict[str, Any] | None = None
    annotation_filter_options: dict[str, Any] | None = None
    serialization_options: dict[str, Any] | None = None


class ConvertRequest(RequestBody):
    export_type: str | None = Field(None, description="A format name from /export/formats.")


class ConvertedSnapshot(ResponseBody):
    id: int
    export_type: str | None
    converted_formats: list[ConvertedFormat]


class PredictionsImported(ResponseBody):
    created: int = Field(description="How many predictions were stored.")


class FileUpload(ResponseBody):
    """A file uploaded into a project (Label Studio's FileUpload)."""

    id: int
    file: str = Field(description="Where it is kept: upload/<project>/<name>; served at /data/<file>.")
    size: int | None = Field(description="Bytes.")

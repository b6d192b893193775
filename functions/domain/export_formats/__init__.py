"""Label Studio's export formats, converted from its JSON export as label-studio-sdk's `Converter` does it
(the converter Label Studio itself runs), output for output, but streamed.

`tasks` is a factory returning a fresh iterable of tasks in the JSON export's shape (`id`, `data`,
`annotations` with `completed_by` as a user id, ...). Formats that need totals before their first byte
(CSV's header, COCO's categories, YOLO's label files) call it more than once and expect the same tasks in
the same order each time; memory stays at one task plus the labels/columns, never all tasks.

Not supported: formats that need the media (`*_WITH_IMAGES`, brush masks, ASR manifests, DocLang) and VOC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

from functions.domain.export_formats.catalogue import FORMAT_NAMES, FORMATS, data_keys, formats_for_config
from functions.domain.export_formats.catalogue import supported_formats as _supported_formats
from functions.domain.export_formats.coco import write_coco
from functions.domain.export_formats.conll import write_conll
from functions.domain.export_formats.tabular import write_csv, write_json, write_json_min
from functions.domain.export_formats.yolo import write_yolo
from functions.domain.label_config import LabelConfig

__all__ = [
    "FORMATS",
    "WRITABLE_FORMATS",
    "ExportFile",
    "available_formats",
    "export_file_for",
    "formats_for_config",
    "write_export",
]


@dataclass(frozen=True)
class ExportFile:
    """What was written: Label Studio names the download `<name>.<extension>` and sends `content_type`."""

    content_type: str
    extension: str


# Label Studio serves a single output file as `application/<its extension, dot included>` (the capture in
# shared/reference/ls-samples/INDEX.json shows "application/.json" and "application/.csv"), and anything
# else as a zip. TSV is still written to "result.csv" by the SDK, hence its ".csv".
_JSON = ExportFile("application/.json", "json")
_CSV = ExportFile("application/.csv", "csv")
_ZIP = ExportFile("application/zip", "zip")
_FILES = {
    "JSON": _JSON,
    "JSON_MIN": _JSON,
    "CSV": _CSV,
    "TSV": _CSV,
    "CONLL2003": ExportFile("application/.conll", "conll"),
    "COCO": _ZIP,
    "YOLO": _ZIP,
    "YOLO_OBB": _ZIP,
}

WRITABLE_FORMATS: tuple[str, ...] = tuple(_FILES)


NOT_PRODUCED = "Needs the media files, which this server's exports do not bundle."
DOES_NOT_FIT = "Does not fit this project's labeling interface."
NO_DATA_KEY = "Needs an object tag (Text, Image, ...) that reads task data in the labeling interface."


def unavailable_reason(name: str, config: LabelConfig) -> str | None:
    """Why this server cannot write the format `name` (a catalogue name) for `config`; None if it can.
    What `write_export` refuses and what the formats list marks disabled are the same rules."""
    if name not in _FILES:
        return NOT_PRODUCED
    if name not in _supported_formats(config.parsed):
        return DOES_NOT_FIT
    if name not in ("JSON", "JSON_MIN", "CSV", "TSV") and not data_keys(config.parsed):
        return NO_DATA_KEY
    return None


def available_formats(config: LabelConfig) -> list[dict]:
    """Label Studio's catalogue for a project (`formats_for_config`), with what this server cannot
    write for it disabled too and each disabled format's `disabled_reason`; enabled ones first."""
    formats = []
    for info in formats_for_config(config):
        reason = unavailable_reason(info["name"], config)
        if reason is not None:
            info = {**info, "disabled": True, "disabled_reason": reason}
        formats.append(info)
    return sorted(formats, key=lambda f: f.get("disabled", False))


def write_export(
    export_type: str, tasks: Callable[[], Iterable[dict]], config: LabelConfig, out: IO[bytes]
) -> ExportFile:
    """Write the `export_type` export of `tasks` to `out`. ValueError (before anything is written) for an
    unknown type, one this server does not produce, or one the project's labeling config does not support."""
    name = export_type.upper() if isinstance(export_type, str) else ""
    if name not in FORMAT_NAMES:
        raise ValueError(f"Unknown export type {export_type!r}; expected one of {', '.join(FORMAT_NAMES)}")
    reason = unavailable_reason(name, config)
    if reason == NOT_PRODUCED:
        raise ValueError(
            f"Export type {name} is not available on this server; available: {', '.join(WRITABLE_FORMATS)}"
        )
    if reason == DOES_NOT_FIT:
        raise ValueError(
            f"Export type {name} does not fit this project's labeling config "
            "(see GET /api/projects/{id}/export/formats)"
        )
    if reason is not None:
        raise ValueError(f"Export type {name} needs an object tag reading task data in the labeling config")
    parsed = config.parsed

    if name == "JSON":
        write_json(tasks, out)
    elif name == "JSON_MIN":
        write_json_min(tasks, parsed, out)
    elif name in ("CSV", "TSV"):
        write_csv(tasks, parsed, out, delimiter="," if name == "CSV" else "\t")
    else:
        # These are enabled only for configs with a single data key (see catalogue.supported_formats).
        data_key = data_keys(parsed)[0]
        if name == "CONLL2003":
            write_conll(tasks, parsed, data_key, out)
        elif name == "COCO":
            write_coco(tasks, parsed, data_key, out)
        else:
            write_yolo(tasks, parsed, data_key, out, obb=name == "YOLO_OBB")
    return _FILES[name]


def export_file_for(export_type: str) -> ExportFile:
    """What a writable export type produces (KeyError for one this server does not write)."""
    return _FILES[export_type.upper()]

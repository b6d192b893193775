"""Label Studio's JSON shapes for our records (matching `shared/reference/ls-samples/`).

Clients such as `label-studio-sdk` read these field names, so this module is the one place that knows them.
Fields Label Studio has and labelstack has no use for (comments, drafts) are present with their empty value.
"""

from __future__ import annotations

from datetime import datetime
from typing import overload

from functions.domain.records import Annotation, Prediction, Project, Task, User, utcnow

_NBSP = "\u00a0"


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def time_ago(moment: datetime) -> str:
    """Django's `timesince` wording, as Label Studio shows it ("0 minutes", "3 hours")."""
    seconds = max(0, int((utcnow() - moment).total_seconds()))
    for unit, size in (
        ("year", 31_536_000),
        ("month", 2_592_000),
        ("week", 604_800),
        ("day", 86_400),
        ("hour", 3_600),
    ):
        if seconds >= size:
            count = seconds // size
            return f"{count}{_NBSP}{unit}{'s' if count != 1 else ''}"
    minutes = seconds // 60
    return f"{minutes}{_NBSP}minute{'s' if minutes != 1 else ''}"


def author(annotation: Annotation, users: dict[int, User]) -> User | None:
    """Who wrote `annotation`, out of `users`; one imported without `completed_by` has nobody."""
    return None if annotation.completed_by is None else users.get(annotation.completed_by)


@overload
def user_brief(user: User) -> dict: ...
@overload
def user_brief(user: None) -> None: ...
@overload
def user_brief(user: User | None) -> dict | None: ...
def user_brief(user: User | None) -> dict | None:
    if user is None:
        return None
    return {
        "id": user.id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "avatar": None,
    }


def user_json(user: User) -> dict:
    return {
        "id": user.id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
        "email": user.email,
        "last_activity": iso(user.last_activity),
        "avatar": None,
        "initials": (user.email[:2] if user.email else ""),
        "phone": "",
        "active_organization": 1,
        "allow_newsletters": None,
        "date_joined": iso(user.created_at),
        "role": user.role,
        "is_active": user.is_active,
    }


def project_json(project: Project, parsed_label_config: dict, created_by: User | None) -> dict:
    labeled = project.finished_task_number
    return {
        "id": project.id,
        "title": project.title,
        "description": project.description,
        "label_config": project.label_config,
        "expert_instruction": project.expert_instruction,
        "show_instruction": project.show_instruction,
        "show_skip_button": project.show_skip_button,
        "enable_empty_annotation": project.enable_empty_annotation,
        "show_annotation_history": project.show_annotation_history,
        "organization": 1,
        "color": project.color,
        "maximum_annotations": project.maximum_annotations,
        "is_published": project.is_published,
        "model_version": project.model_version,
        "is_draft": project.is_draft,
        "created_by": user_brief(created_by) or {"id": project.created_by},
        "created_at": iso(project.created_at),
        "min_annotations_to_start_training": project.min_annotations_to_start_training,
        "start_training_on_annotation_update": project.start_training_on_annotation_update,
        "show_collab_predictions": project.show_collab_predictions,
        "num_tasks_with_annotations": project.num_tasks_with_annotations,
        "task_number": project.task_number,
        "useful_annotation_number": project.total_annotations_number - project.ground_truth_number,
        "ground_truth_number": project.ground_truth_number,
        "skipped_annotations_number": project.skipped_annotations_number,
        "total_annotations_number": project.total_annotations_number,
        "total_predictions_number": project.total_predictions_number,
        "sampling": project.sampling,
        "show_ground_truth_first": project.show_ground_truth_first,
        "annotator_evaluation_enabled": False,
        "show_overlap_first": project.show_overlap_first,
        "overlap_cohort_percentage": project.overlap_cohort_percentage,
        "task_data_login": None,
        "task_data_password": None,
        "control_weights": project.control_weights,
        "parsed_label_config": parsed_label_config,
        "evaluate_predictions_automatically": project.evaluate_predictions_automatically,
        "config_has_control_tags": bool(parsed_label_config),
        "skip_queue": project.skip_queue,
        "reveal_preannotations_interactively": project.reveal_preannotations_interactively,
        "pinned_at": None,
        "finished_task_number": labeled,
        "queue_total": project.task_number,
        "queue_done": labeled,
        "config_suitable_for_bulk_annotation": True,
        "state": None,
    }


def project_hook_json(project: Project, parsed_label_config: dict) -> dict:
    """The project as Label Studio puts it into webhook payloads and START_TRAINING (its
    `ProjectWebhookSerializer`: every Project column, `created_by` as an id, plus the counters; captured
    in `ls-samples/ml_backend_requests.json`). What labelstack does not keep is null; the project's
    invite `token` is not sent."""
    return {
        "id": project.id,
        "title": project.title,
        "description": project.description,
        "label_config": project.label_config,
        "parsed_label_config": parsed_label_config,
        "label_config_hash": None,
        "expert_instruction": project.expert_instruction,
        "show_instruction": project.show_instruction,
        "show_skip_button": project.show_skip_button,
        "enable_empty_annotation": project.enable_empty_annotation,
        "show_annotation_history": project.show_annotation_history,
        "organization": 1,
        "color": project.color,
        "maximum_annotations": project.maximum_annotations,
        "is_published": project.is_published,
        "model_version": project.model_version,
        "is_draft": project.is_draft,
        "created_by": project.created_by,
        "created_at": iso(project.created_at),
        "updated_at": None,
        "min_annotations_to_start_training": project.min_annotations_to_start_training,
        "show_collab_predictions": project.show_collab_predictions,
        "sampling": project.sampling,
        "skip_queue": project.skip_queue,
        "show_ground_truth_first": project.show_ground_truth_first,
        "show_overlap_first": project.show_overlap_first,
        "overlap_cohort_percentage": project.overlap_cohort_percentage,
        "annotator_evaluation_enabled": False,
        "task_data_login": None,
        "task_data_password": None,
        "control_weights": project.control_weights,
        "evaluate_predictions_automatically": project.evaluate_predictions_automatically,
        "reveal_preannotations_interactively": project.reveal_preannotations_interactively,
        "data_types": {
            source["value"]: source["type"]
            for control in parsed_label_config.values()
            for source in control.get("inputs", [])
        },
        "result_count": 0,
        "custom_task_lock_ttl": None,
        "token": None,
        "pinned_at": None,
        "deleted_at": None,
        "deleted_by": None,
        "purge_at": None,
        "search_vector": None,
        "task_number": project.task_number,
        "finished_task_number": project.finished_task_number,
        "total_predictions_number": project.total_predictions_number,
        "total_annotations_number": project.total_annotations_number,
        "num_tasks_with_annotations": project.num_tasks_with_annotations,
        "useful_annotation_number": project.total_annotations_number - project.ground_truth_number,
        "ground_truth_number": project.ground_truth_number,
        "skipped_annotations_number": project.skipped_annotations_number,
    }


def annotation_json(
    annotation: Annotation, completed_by: User | None = None, *, expand_user: bool = False
) -> dict:
    """An annotation as the API returns it; `expand_user` gives `completed_by` as an object (task views)."""
    user_value: int | dict | None = annotation.completed_by
    if expand_user and completed_by is not None:
        user_value = {**user_brief(completed_by), "initials": completed_by.email[:2]}
    return {
        "id": annotation.id,
        "result": annotation.result,
        "created_username": f" {completed_by.email}, {completed_by.id}" if completed_by else "",
        "created_ago": time_ago(annotation.created_at),
        "completed_by": user_value,
        "was_cancelled": annotation.was_cancelled,
        "ground_truth": annotation.ground_truth,
        "created_at": iso(annotation.created_at),
        "updated_at": iso(annotation.updated_at),
        "draft_created_at": None,
        "lead_time": annotation.lead_time,
        "import_id": annotation.import_id,
        "last_action": annotation.last_action,
        "bulk_created": False,
        "task": annotation.task_id,
        "project": annotation.project_id,
        "updated_by": annotation.updated_by,
        "parent_prediction": annotation.parent_prediction,
        "parent_annotation": annotation.parent_annotation,
        "last_created_by": None,
        # labelstack's additions: the version to send back with a change (a stale one is a 409), and the
        # latest review.
        "version": annotation.version,
        "review_status": annotation.review_status,
        "reviewed_by": annotation.reviewed_by,
        "reviewed_at": iso(annotation.reviewed_at),
    }


def prediction_json(prediction: Prediction) -> dict:
    return {
        "id": prediction.id,
        "result": prediction.result,
        "model_version": prediction.model_version,
        "created_ago": time_ago(prediction.created_at),
        "score": prediction.score,
        "cluster": prediction.cluster,
        "neighbors": None,
        "mislabeling": 0.0,
        "created_at": iso(prediction.created_at),
        "updated_at": iso(prediction.updated_at),
        "model": prediction.model,
        "model_run": None,
        "task": prediction.task_id,
        "project": prediction.project_id,
    }


def _task_common(task: Task) -> dict:
    return {
        "data": task.data,
        "meta": task.meta,
        "created_at": iso(task.created_at),
        "updated_at": iso(task.updated_at),
        "is_labeled": task.is_labeled,
        "overlap": task.overlap,
        "inner_id": task.inner_id,
        "total_annotations": task.total_annotations,
        "cancelled_annotations": task.cancelled_annotations,
        "total_predictions": task.total_predictions,
        "comment_count": 0,
        "unresolved_comment_count": 0,
        "last_comment_updated_at": None,
        "project": task.project_id,
        "file_upload": None,
        "comment_authors": [],
    }


def task_json(task: Task) -> dict:
    """A task without its annotations (create/patch responses)."""
    return {"id": task.id, **_task_common(task), "updated_by": task.updated_by}


def task_detail_json(
    task: Task,
    annotations: list[Annotation],
    predictions: list[Prediction],
    users: dict[int, User],
    *,
    list_fields: bool = False,
) -> dict:
    """A task with its annotations and predictions (GET /api/tasks/{id}, task lists with fields=all)."""
    finished = [a for a in annotations if not a.was_cancelled]
    lead_times = [a.lead_time for a in finished if a.lead_time is not None]
    scores = [p.score for p in predictions if p.score is not None]
    body = {
        "id": task.id,
        "predictions": [prediction_json(p) for p in predictions],
        "annotations": [
            annotation_json(a, author(a, users), expand_user=not list_fields) for a in annotations
        ],
        "drafts": [],
        "annotators": sorted({a.completed_by for a in annotations if a.completed_by is not None}),
        "inner_id": task.inner_id,
        "cancelled_annotations": task.cancelled_annotations,
        "total_annotations": task.total_annotations,
        "total_predictions": task.total_predictions,
        "completed_at": iso(max((a.created_at for a in finished), default=None)),
        "annotations_results": "",
        "predictions_results": "",
        "predictions_score": (sum(scores) / len(scores)) if scores else None,
        "file_upload": None,
        "storage_filename": None,
        "annotations_ids": ", ".join(str(a.id) for a in annotations),
        "predictions_model_versions": ", ".join(sorted({p.model_version for p in predictions})),
        "avg_lead_time": (sum(lead_times) / len(lead_times)) if lead_times else None,
        "draft_exists": False,
        "updated_by": [{"user_id": task.updated_by}] if task.updated_by is not None else [],
    }
    body.update(_task_common(task))
    return body


def task_list_item_json(task: Task) -> dict:
    """A task in a list page with the default fields (no annotations)."""
    return {
        "id": task.id,
        "drafts": [],
        "annotators": [],
        "inner_id": task.inner_id,
        "cancelled_annotations": task.cancelled_annotations,
        "total_annotations": task.total_annotations,
        "total_predictions": task.total_predictions,
        "annotations_results": "",
        "predictions_results": "",
        "file_upload": None,
        "storage_filename": None,
        "annotations_ids": ", ".join(str(i) for i in task.annotation_ids),
        "predictions_model_versions": "",
        "updated_by": [{"user_id": task.updated_by}] if task.updated_by is not None else [],
        **{
            k: v
            for k, v in _task_common(task).items()
            if k
            not in (
                "inner_id",
                "total_annotations",
                "cancelled_annotations",
                "total_predictions",
                "file_upload",
            )
        },
    }


def export_task_json(task: Task, annotations: list[Annotation]) -> dict:
    """A task in the JSON export: full annotations, predictions as ids (Label Studio's quick export)."""
    return {
        "id": task.id,
        "annotations": [
            {
                "id": a.id,
                "completed_by": a.completed_by,
                "result": a.result,
                "was_cancelled": a.was_cancelled,
                "ground_truth": a.ground_truth,
                "created_at": iso(a.created_at),
                "updated_at": iso(a.updated_at),
                "draft_created_at": None,
                "lead_time": a.lead_time,
                "prediction": {},
                "result_count": len(a.result or []),
                "unique_id": f"labelstack-annotation-{a.id}",
                "import_id": a.import_id,
                "last_action": a.last_action,
                "bulk_created": False,
                "task": a.task_id,
                "project": a.project_id,
                "updated_by": a.updated_by,
                "parent_prediction": a.parent_prediction,
                "parent_annotation": a.parent_annotation,
                "last_created_by": None,
            }
            for a in annotations
        ],
        "drafts": [],
        "predictions": list(task.prediction_ids),
        "data": task.data,
        "meta": task.meta,
        "created_at": iso(task.created_at),
        "updated_at": iso(task.updated_at),
        "allow_skip": True,
        "inner_id": task.inner_id,
        "total_annotations": task.total_annotations,
        "cancelled_annotations": task.cancelled_annotations,
        "total_predictions": task.total_predictions,
        "comment_count": 0,
        "unresolved_comment_count": 0,
        "last_comment_updated_at": None,
        "project": task.project_id,
        "updated_by": task.updated_by,
        "comment_authors": [],
    }

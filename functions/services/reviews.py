"""Reviewers accept or reject annotations (Label Studio Enterprise's /api/annotation-reviews/ shape).

An annotation keeps its latest review; earlier verdicts are not kept.
"""

from __future__ import annotations

from functions.domain.errors import PermissionDenied, ValidationFailed
from functions.domain.records import Annotation, User, utcnow
from functions.services.annotations import annotation_for
from functions.store import annotations as annotation_store

REVIEWER_ROLES = ("admin", "manager", "reviewer")
MAX_COMMENT = 10_000


def review(user: User, fields: dict) -> Annotation:
    annotation_id = fields.get("annotation")
    if not isinstance(annotation_id, int) or isinstance(annotation_id, bool):
        raise ValidationFailed.field("annotation", "This field is required and must be an annotation id.")
    accepted = fields.get("accepted")
    if not isinstance(accepted, bool):
        raise ValidationFailed.field("accepted", "This field is required: true to accept, false to reject.")
    comment = fields.get("comment")
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        raise ValidationFailed.field("comment", f"Must be a string of at most {MAX_COMMENT} characters.")
    annotation, _ = annotation_for(user, annotation_id)
    if user.role not in REVIEWER_ROLES:
        raise PermissionDenied("Only reviewers, managers and admins can review annotations.")
    # Only the review's fields: an edit of the annotation landing at the same moment is kept.
    _, reviewed = annotation_store.update_fields(
        annotation.id,
        {
            "review_status": "accepted" if accepted else "rejected",
            "reviewed_by": user.id,
            "reviewed_at": utcnow(),
            "review_comment": comment,
        },
    )
    return reviewed


def reviews_of(user: User, annotation_id: int) -> list[Annotation]:
    annotation, _ = annotation_for(user, annotation_id)
    return [annotation] if annotation.review_status else []

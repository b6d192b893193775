"""When a backend is due a training run (Label Studio's project fields)."""

from __future__ import annotations

import pytest

from functions.domain.records import Project
from functions.domain.training import Training, annotations_per_run, due, execution_name


def project(**fields) -> Project:
    return Project(id=1, title="p", created_by=1, **fields)


@pytest.mark.parametrize(
    ("fields", "every"),
    [
        ({}, 0),
        ({"start_training_on_annotation_update": True}, 1),
        ({"min_annotations_to_start_training": 10}, 10),
        ({"min_annotations_to_start_training": 10, "start_training_on_annotation_update": True}, 10),
    ],
)
def test_annotations_per_run(fields, every):
    assert annotations_per_run(project(**fields)) == every


def test_due_counts_annotations_since_the_last_successful_run():
    every_ten = {"min_annotations_to_start_training": 10}
    assert not due(project(total_annotations_number=9, **every_ten), trained_annotations=0)
    assert due(project(total_annotations_number=10, **every_ten), trained_annotations=0)
    assert not due(project(total_annotations_number=19, **every_ten), trained_annotations=10)
    assert due(project(total_annotations_number=23, **every_ten), trained_annotations=10)
    assert not due(project(total_annotations_number=500), trained_annotations=0)  # training off


def test_an_updated_annotation_trains_when_the_count_is_a_multiple_as_in_label_studio():
    every_edit = {"start_training_on_annotation_update": True}
    assert due(project(total_annotations_number=4, **every_edit), trained_annotations=4, updated=True)
    assert not due(project(total_annotations_number=4, **every_edit), trained_annotations=4)
    every_ten = {"min_annotations_to_start_training": 10}
    assert due(project(total_annotations_number=20, **every_ten), trained_annotations=20, updated=True)
    assert not due(project(total_annotations_number=21, **every_ten), trained_annotations=20, updated=True)
    assert not due(project(total_annotations_number=0, **every_edit), trained_annotations=0, updated=True)
    assert not due(project(total_annotations_number=20), trained_annotations=0, updated=True)  # off


def test_execution_names_are_deterministic_and_valid_for_step_functions():
    run = Training(id=42, backend_id=7, project_id=1, kind="sagemaker", trigger="manual", annotations=3)
    assert execution_name(run) == execution_name(run) == "labelstack-ml7-run42"
    assert len(execution_name(run)) <= 80

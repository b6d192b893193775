"""Agreement and majority vote on Label Studio results."""

from __future__ import annotations

import pytest

from functions.domain.agreement import majority_vote, project_agreement, task_agreement


def choice(*values, name="sentiment"):
    return [{"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": list(values)}}]


def span(start, end, label="ORG"):
    return {"from_name": "ner", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": end, "labels": [label]}}


def box(x, y, w, h, label="Car"):
    return {"from_name": "bbox", "to_name": "image", "type": "rectanglelabels", "original_width": 640,
            "original_height": 480, "value": {"x": x, "y": y, "width": w, "height": h, "rotation": 0,
                                              "rectanglelabels": [label]}}


def test_choices_agree_on_equal_sets_and_pairs_are_averaged():
    assert task_agreement([choice("A"), choice("A")]) == 1.0
    assert task_agreement([choice("A"), choice("B")]) == 0.0
    assert task_agreement([choice("A", "B"), choice("B", "A")]) == 1.0
    assert task_agreement([choice("A"), choice("A"), choice("B")]) == pytest.approx(1 / 3)
    assert task_agreement([choice("A")]) is None and task_agreement([]) is None


def test_spans_match_by_iou_and_label():
    assert task_agreement([[span(0, 10)], [span(1, 10)]]) == 1.0  # IoU 0.9
    assert task_agreement([[span(0, 10)], [span(6, 16)]]) == 0.0  # IoU 0.25
    assert task_agreement([[span(0, 10)], [span(0, 10, "PER")]]) == 0.0
    assert task_agreement([[span(0, 10), span(20, 30)], [span(0, 10)]]) == pytest.approx(2 / 3)
    assert task_agreement([[], []]) == 1.0


def test_boxes_match_by_iou_and_controls_are_averaged():
    assert task_agreement([[box(10, 10, 20, 20)], [box(11, 11, 20, 20)]]) == 1.0
    assert task_agreement([[box(10, 10, 20, 20)], [box(25, 25, 20, 20)]]) == 0.0
    mixed = [choice("A") + [box(10, 10, 20, 20)], choice("B") + [box(10, 10, 20, 20)]]
    assert task_agreement(mixed) == 0.5


def test_majority_vote_for_choices_spans_and_ties():
    assert [r["value"] for r in majority_vote([choice("A"), choice("B"), choice("B")])] == [{"choices": ["B"]}]
    assert [r["value"] for r in majority_vote([choice("A"), choice("B")])] == [{"choices": ["A"]}]  # tie: first
    voted = majority_vote([[span(0, 10), span(20, 30)], [span(1, 10)], [span(0, 9, "PER")]])
    assert [(r["value"]["start"], r["value"]["labels"]) for r in voted] == [(0, ["ORG"])]
    assert all(r["id"].startswith("majority-") for r in voted)


def test_project_summary():
    summary = project_agreement(iter([1.0, 0.5, None, 0.0, 0.25]))
    assert summary["tasks_with_agreement"] == 4 and summary["mean"] == pytest.approx(0.4375)
    assert summary["median"] == pytest.approx(0.375) and (summary["min"], summary["max"]) == (0.0, 1.0)
    assert summary["histogram"] == [1, 0, 1, 0, 0, 1, 0, 0, 0, 1]
    assert project_agreement([])["mean"] is None

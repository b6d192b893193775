"""Agreement between annotators, majority vote and the project summary, on Label Studio results."""

from __future__ import annotations

import pytest

from functions.domain.agreement import (
    IOU_THRESHOLD,
    majority_vote,
    pair_agreement,
    project_agreement,
    task_agreement,
)


def choice(*values, name="sentiment"):
    return [
        {
            "id": "c",
            "from_name": name,
            "to_name": "text",
            "type": "choices",
            "value": {"choices": list(values)},
        }
    ]


def single(type_, key, value, name=None):
    return [{"from_name": name or type_, "to_name": "text", "type": type_, "value": {key: value}}]


def span(start, end, label="ORG"):
    return {
        "id": f"s{start}",
        "from_name": "ner",
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": end, "text": "x", "labels": [label]},
    }


def box(x, y, w, h, label="Car", rotation=0):
    return {
        "id": f"b{x}",
        "from_name": "bbox",
        "to_name": "image",
        "type": "rectanglelabels",
        "original_width": 640,
        "original_height": 480,
        "origin": "manual",
        "value": {"x": x, "y": y, "width": w, "height": h, "rotation": rotation, "rectanglelabels": [label]},
    }


def hypertext(xpath, start, end, label="X"):
    return {
        "from_name": "html",
        "to_name": "page",
        "type": "hypertextlabels",
        "value": {
            "start": xpath,
            "end": xpath,
            "startOffset": start,
            "endOffset": end,
            "hypertextlabels": [label],
        },
    }


# --- classification-like controls ---------------------------------------------------------------


def test_identical_choices_agree_fully():
    assert task_agreement([choice("Positive"), choice("Positive")]) == 1.0


def test_different_choices_do_not_agree():
    assert task_agreement([choice("Positive"), choice("Negative")]) == 0.0


def test_three_annotators_two_agreeing_score_one_pair_in_three():
    assert task_agreement([choice("A"), choice("A"), choice("B")]) == pytest.approx(1 / 3)


def test_multiple_choices_compare_as_sets():
    assert task_agreement([choice("A", "B"), choice("B", "A")]) == 1.0
    assert task_agreement([choice("A", "B"), choice("A")]) == 0.0


@pytest.mark.parametrize(
    ("type_", "key", "same", "other"),
    [
        ("rating", "rating", 4, 3),
        ("number", "number", 3.5, 2),
        ("textarea", "text", ["some text"], ["other text"]),
        ("datetime", "datetime", "2024-01-31 12:00", "2024-02-01 12:00"),
        ("taxonomy", "taxonomy", [["Online", "Paywall"], ["Offline"]], [["Online"]]),
    ],
)
def test_other_classification_controls_compare_by_value(type_, key, same, other):
    assert task_agreement([single(type_, key, same), single(type_, key, same)]) == 1.0
    assert task_agreement([single(type_, key, same), single(type_, key, other)]) == 0.0


def test_taxonomy_paths_compare_as_a_set():
    a = single("taxonomy", "taxonomy", [["Online", "Paywall"], ["Offline"]])
    b = single("taxonomy", "taxonomy", [["Offline"], ["Online", "Paywall"]])
    assert task_agreement([a, b]) == 1.0


def test_fewer_than_two_annotations_give_none():
    assert task_agreement([choice("A")]) is None
    assert task_agreement([]) is None


def test_two_empty_results_agree():
    assert task_agreement([[], []]) == 1.0


def test_relations_and_unknown_types_are_ignored():
    relation = {"type": "relation", "from_id": "a", "to_id": "b", "direction": "right"}
    keypoint = {
        "from_name": "kp",
        "to_name": "image",
        "type": "keypointlabels",
        "value": {"x": 1, "y": 2, "width": 1, "keypointlabels": ["Nose"]},
    }
    assert task_agreement([[*choice("A"), relation, keypoint], choice("A")]) == 1.0


# --- spans ----------------------------------------------------------------------------------------


def test_overlapping_spans_match_above_the_threshold():
    assert task_agreement([[span(0, 10)], [span(2, 10)]]) == 1.0  # IoU 0.8


def test_spans_match_at_exactly_the_threshold():
    assert IOU_THRESHOLD == 0.5
    assert task_agreement([[span(0, 10)], [span(0, 5)]]) == 1.0  # IoU 0.5


def test_overlapping_spans_below_the_threshold_do_not_match():
    assert task_agreement([[span(0, 10)], [span(5, 15)]]) == 0.0  # IoU 1/3


def test_spans_with_different_labels_do_not_match():
    assert task_agreement([[span(0, 10)], [span(0, 10, "PER")]]) == 0.0


def test_span_score_is_an_f1_over_both_region_sets():
    assert task_agreement([[span(0, 10), span(20, 30)], [span(0, 10)]]) == pytest.approx(2 / 3)


def test_a_mislabelled_region_does_not_steal_the_match():
    # The PER span overlaps most, but only the ORG span may pair with the ORG span.
    assert pair_agreement([span(0, 10)], [span(0, 10, "PER"), span(1, 10)]) == pytest.approx(2 / 3)


def test_hypertext_spans_overlap_by_offsets_in_the_same_node():
    assert (
        task_agreement([[hypertext("/p[1]/text()[1]", 0, 10)], [hypertext("/p[1]/text()[1]", 1, 10)]]) == 1.0
    )
    assert (
        task_agreement([[hypertext("/p[1]/text()[1]", 0, 10)], [hypertext("/p[2]/text()[1]", 0, 10)]]) == 0.0
    )


# --- boxes ----------------------------------------------------------------------------------------


def test_boxes_match_above_the_threshold():
    assert task_agreement([[box(10, 10, 20, 20)], [box(15, 10, 20, 20)]]) == 1.0  # IoU 0.6


def test_boxes_below_the_threshold_do_not_match():
    assert task_agreement([[box(10, 10, 20, 20)], [box(20, 10, 20, 20)]]) == 0.0  # IoU 1/3


def test_boxes_with_different_labels_do_not_match():
    assert task_agreement([[box(10, 10, 20, 20)], [box(10, 10, 20, 20, "Bus")]]) == 0.0


def test_box_rotation_is_ignored():
    assert task_agreement([[box(10, 10, 20, 20)], [box(10, 10, 20, 20, rotation=30)]]) == 1.0


def test_polygons_compare_by_bounding_box():
    def polygon(points):
        return [
            {
                "from_name": "poly",
                "to_name": "image",
                "type": "polygonlabels",
                "value": {"points": points, "polygonlabels": ["Car"]},
            }
        ]

    square = polygon([[10, 10], [30, 10], [30, 30], [10, 30]])
    triangle = polygon([[10, 10], [30, 10], [20, 30]])  # same bounding box
    assert task_agreement([square, triangle]) == 1.0
    assert task_agreement([square, polygon([[25, 25], [45, 25], [45, 45]])]) == 0.0


# --- several controls -----------------------------------------------------------------------------


def test_controls_are_averaged():
    mixed_a = [*choice("A"), box(10, 10, 20, 20)]
    mixed_b = [*choice("B"), box(11, 11, 20, 20)]
    assert task_agreement([mixed_a, mixed_b]) == 0.5


def test_a_control_only_one_annotator_used_scores_zero():
    assert task_agreement([choice("A") + single("rating", "rating", 4), choice("A")]) == 0.5
    assert task_agreement([[*choice("A"), span(0, 5)], choice("A")]) == 0.5


# --- majority vote --------------------------------------------------------------------------------


def values(result):
    return [r["value"] for r in result]


def test_majority_vote_takes_the_choice_of_two_in_three():
    assert values(majority_vote([choice("A"), choice("B"), choice("B")])) == [{"choices": ["B"]}]


def test_majority_vote_tie_goes_to_the_earliest_annotation():
    assert values(majority_vote([choice("A"), choice("B")])) == [{"choices": ["A"]}]
    assert values(majority_vote([choice("B"), choice("A"), choice("A"), choice("B")])) == [{"choices": ["B"]}]


def test_majority_vote_counts_choice_sets_regardless_of_order():
    voted = majority_vote([choice("A"), choice("B", "A"), choice("A", "B")])
    assert values(voted) == [{"choices": ["B", "A"]}]


def test_annotators_who_left_a_classification_empty_abstain():
    assert values(majority_vote([[], choice("A"), []])) == [{"choices": ["A"]}]


def test_span_kept_when_two_of_three_have_it_and_dropped_when_one_does():
    voted = majority_vote([[span(0, 10), span(20, 30)], [span(1, 10)], [span(40, 50)]])
    assert values(voted) == [{"start": 0, "end": 10, "text": "x", "labels": ["ORG"]}]


def test_region_needs_more_than_half_of_all_annotators():
    assert majority_vote([[span(0, 10)], [span(0, 10)], [], []]) == []
    assert len(majority_vote([[span(0, 10)], [span(0, 10)], [span(0, 10)], []])) == 1


def test_region_takes_the_majority_label_and_the_first_geometry():
    voted = majority_vote([[span(0, 10)], [span(1, 10, "PER")], [span(2, 10, "PER")]])
    assert [(r["value"]["start"], r["value"]["labels"]) for r in voted] == [(0, ["PER"])]


def test_region_label_tie_goes_to_the_earliest_annotation():
    voted = majority_vote([[span(0, 10, "PER")], [span(0, 10, "ORG")]])
    assert [r["value"]["labels"] for r in voted] == [["PER"]]


def test_regions_cluster_by_best_iou_not_first_fit():
    # (3, 13) overlaps (0, 10) enough, but (4, 14) more: it belongs with (4, 14), which alone wins.
    voted = majority_vote([[span(0, 10), span(4, 14)], [span(3, 13)], [span(4, 14)]])
    assert [(r["value"]["start"], r["value"]["end"]) for r in voted] == [(4, 14)]


def test_majority_vote_keeps_the_ls_shape_with_deterministic_ids():
    results = [[*choice("A"), box(10, 10, 20, 20)], [*choice("A"), box(11, 11, 20, 20)], choice("B")]
    voted = majority_vote(results)
    assert [r["id"] for r in voted] == ["majority-0", "majority-1"]
    assert voted == majority_vote(results)
    assert voted[1] == {
        "id": "majority-1",
        "from_name": "bbox",
        "to_name": "image",
        "type": "rectanglelabels",
        "original_width": 640,
        "original_height": 480,
        "value": {"x": 10, "y": 10, "width": 20, "height": 20, "rotation": 0, "rectanglelabels": ["Car"]},
    }


def test_majority_vote_does_not_change_its_input():
    results = [[span(0, 10, "ORG")], [span(0, 10, "PER")], [span(0, 10, "PER")]]
    majority_vote(results)
    assert results[0][0]["value"]["labels"] == ["ORG"]


# --- project summary ------------------------------------------------------------------------------


def test_project_summary_statistics_from_a_generator():
    summary = project_agreement(v for v in [1.0, 0.5, None, 0.0, 0.25])
    assert summary == {
        "tasks_with_agreement": 4,
        "mean": pytest.approx(0.4375),
        "median": pytest.approx(0.375),
        "min": 0.0,
        "max": 1.0,
        "histogram": [1, 0, 1, 0, 0, 1, 0, 0, 0, 1],
    }


def test_histogram_buckets_are_tenths_and_one_goes_into_the_last():
    summary = project_agreement([0.0, 0.09, 0.1, 0.3, 0.7, 0.9, 0.99, 1.0])
    assert summary["histogram"] == [2, 1, 0, 1, 0, 0, 0, 1, 0, 3]


@pytest.mark.parametrize("per_task", [[], [None, None], iter([])])
def test_project_summary_without_agreements(per_task):
    assert project_agreement(per_task) == {
        "tasks_with_agreement": 0,
        "mean": None,
        "median": None,
        "min": None,
        "max": None,
        "histogram": [0] * 10,
    }

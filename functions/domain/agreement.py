"""Agreement between annotators of one task, the majority-vote consensus, and a project summary.

Everything works on plain Label Studio result lists (`annotation["result"]`). A pair of annotations
scores the mean, over the controls (`from_name`) either of them used, of a per-control score:

- classification-like controls (choices, taxonomy, rating, number, textarea, datetime): 1 when the
  answers are equal, else 0 (choices and taxonomy paths compared as sets);
- region controls (text/audio/time-series spans, boxes, polygons): regions are matched one to one by
  IoU and the control scores an F1, 2 * matches / (regions_a + regions_b).

Results without a `from_name` (relations) and types not listed below (keypoints, ellipses, brushes,
video, ranker, pairwise) are ignored: there is no sound equality or overlap for them here.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable
from itertools import combinations

# Two regions are "the same" from half overlap on: the usual detection threshold (PASCAL VOC), which
# forgives a few pixels or characters of boundary disagreement but not a different object. Above one
# half, a region can overlap at most one of several disjoint regions that much, so matches are unambiguous.
IOU_THRESHOLD = 0.5

# Classification-like type -> the value key holding the answer (textarea keeps it in "text").
_CLASSIFICATIONS = {
    "choices": "choices",
    "taxonomy": "taxonomy",
    "rating": "rating",
    "number": "number",
    "textarea": "text",
    "datetime": "datetime",
}
# Answers where the order of the selections carries no meaning.
_UNORDERED = {"choices", "taxonomy"}
_SPANS = {"labels", "hypertextlabels", "paragraphlabels", "timeserieslabels"}
# Hypertext and paragraph spans are anchored in a container (an XPath, a paragraph index) with offsets
# inside it; their plain start/end are not character positions.
_ANCHORED_SPANS = {"hypertextlabels", "paragraphlabels"}
_BOXES = {"rectanglelabels", "rectangle", "polygonlabels", "polygon"}
_REGIONS = _SPANS | _BOXES


# --- grouping and normalising -------------------------------------------------------------------


def _by_control(result: list[dict] | None) -> dict[str, list[dict]]:
    """The scorable regions of one annotation, by control name, in their original order."""
    grouped: dict[str, list[dict]] = {}
    for region in result or []:
        if (
            isinstance(region, dict)
            and region.get("from_name")
            and region.get("type") in _CLASSIFICATIONS.keys() | _REGIONS
            and isinstance(region.get("value"), dict)
        ):
            grouped.setdefault(region["from_name"], []).append(region)
    return grouped


def _is_region_control(*answers: list[dict]) -> bool:
    # A control has one tag type, so the first region seen tells the kind.
    return next(r["type"] for a in answers for r in a) in _REGIONS


def _freeze(x):
    """A hashable, order-stable form of a JSON value, for comparing and counting answers."""
    if isinstance(x, list):
        return tuple(_freeze(i) for i in x)
    if isinstance(x, dict):
        return tuple(sorted(((k, _freeze(v)) for k, v in x.items()), key=repr))
    return x


def _answer(regions: list[dict]) -> tuple:
    """One annotator's answer to a classification control, comparable across annotators. Only the
    answer key counts: a per-region result also carries the region's geometry, which is scored elsewhere."""
    keys = []
    for r in regions:
        value = _freeze(r["value"].get(_CLASSIFICATIONS[r["type"]]))
        if r["type"] in _UNORDERED and isinstance(value, tuple):
            value = tuple(sorted(set(value), key=repr))
        keys.append(value)
    # Several results under one control (per-region classifications) compare as a multiset.
    return tuple(sorted(keys, key=repr))


def _label(region: dict) -> tuple:
    """The region's labels as a set; `rectangle`/`polygon` without labels all share the empty one."""
    labels = region["value"].get(region["type"])
    return tuple(sorted({str(x) for x in labels})) if isinstance(labels, list) else ()


# --- geometry -----------------------------------------------------------------------------------


def _is_num(*xs) -> bool:
    return all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs)


def _span(region: dict) -> tuple[object, float, float] | tuple[object, None, None]:
    """(anchor, start, end): regions compare by overlap only under an equal anchor. Plain spans have
    anchor None; anchored spans use their container; anything else compares by exact position."""
    v = region["value"]
    offsets = v.get("globalOffsets")  # LS adds document-wide offsets to hypertext spans when it can
    if isinstance(offsets, dict) and _is_num(offsets.get("start"), offsets.get("end")):
        return None, float(offsets["start"]), float(offsets["end"])
    if region["type"] in _ANCHORED_SPANS and _is_num(v.get("startOffset"), v.get("endOffset")):
        start, end = str(v.get("start")), str(v.get("end"))
        if start == end:  # within one container the offsets are a plain interval
            return ("in", start), float(v["startOffset"]), float(v["endOffset"])
        return ("across", start, end, v["startOffset"], v["endOffset"]), None, None
    if _is_num(v.get("start"), v.get("end")):
        return None, float(v["start"]), float(v["end"])
    # e.g. time-series ranges given as date strings
    return ("exact", _freeze(v.get("start")), _freeze(v.get("end"))), None, None


def _span_iou(a: dict, b: dict) -> float:
    (anchor_a, s1, e1), (anchor_b, s2, e2) = _span(a), _span(b)
    if anchor_a != anchor_b:
        return 0.0
    if s1 is None or s2 is None or e1 is None or e2 is None:  # equal non-interval anchors: the same position
        return 1.0
    inter = max(0.0, min(e1, e2) - max(s1, s2))
    union = max(e1, e2) - min(s1, s2)
    return inter / union if union > 0 else float((s1, e1) == (s2, e2))  # instants: equal or not


def _box(region: dict) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) in percent, ignoring rotation; a polygon by its bounding box. IoU needs no
    pixels: scaling x and y by the image size scales every area alike."""
    v = region["value"]
    if _is_num(v.get("x"), v.get("y"), v.get("width"), v.get("height")):
        return v["x"], v["y"], v["x"] + v["width"], v["y"] + v["height"]
    points = v.get("points")
    if (
        isinstance(points, list)
        and points
        and all(isinstance(p, list) and len(p) >= 2 and _is_num(*p[:2]) for p in points)
    ):
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        return min(xs), min(ys), max(xs), max(ys)
    return None


def _box_iou(a: dict, b: dict) -> float:
    ba, bb = _box(a), _box(b)
    if ba is None or bb is None:
        return 0.0
    inter = max(0.0, min(ba[2], bb[2]) - max(ba[0], bb[0])) * max(0.0, min(ba[3], bb[3]) - max(ba[1], bb[1]))
    union = (ba[2] - ba[0]) * (ba[3] - ba[1]) + (bb[2] - bb[0]) * (bb[3] - bb[1]) - inter
    return inter / union if union > 0 else float(ba == bb)  # degenerate boxes: equal or not


def _iou(a: dict, b: dict) -> float:
    return _span_iou(a, b) if a["type"] in _SPANS else _box_iou(a, b)


def _match(a: list[dict], b: list[dict], same_label: bool) -> list[tuple[int, int]]:
    """Greedy one-to-one matching, best IoU first (ties: earlier regions first), pairs under the
    threshold never matched. Agreement only pairs same-label regions, so a mislabelled box does not
    take the place of a correctly labelled one; consensus clusters by geometry and votes the label."""
    candidates = []
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            if same_label and _label(x) != _label(y):
                continue
            score = _iou(x, y)
            if score >= IOU_THRESHOLD:
                candidates.append((-score, i, j))
    used_a, used_b, matched = set(), set(), []
    for _, i, j in sorted(candidates):
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            matched.append((i, j))
    return matched


# --- agreement ----------------------------------------------------------------------------------


def _control_score(a: list[dict], b: list[dict]) -> float:
    if _is_region_control(a, b):
        return 2 * len(_match(a, b, same_label=True)) / (len(a) + len(b))
    return float(_answer(a) == _answer(b))


def pair_agreement(a: list[dict], b: list[dict]) -> float:
    """Agreement of two result lists in [0, 1]: the mean per-control score over the controls either used."""
    ga, gb = _by_control(a), _by_control(b)
    controls = ga.keys() | gb.keys()
    if not controls:
        return 1.0  # both left nothing scorable: they agree there is nothing to label
    return sum(_control_score(ga.get(c, []), gb.get(c, [])) for c in controls) / len(controls)


def task_agreement(results: list[list[dict]]) -> float | None:
    """Mean pairwise agreement of a task's (non-cancelled) annotations' results; None below two."""
    if len(results) < 2:
        return None
    scores = [pair_agreement(a, b) for a, b in combinations(results, 2)]
    return sum(scores) / len(scores)


# --- majority vote ------------------------------------------------------------------------------


def majority_vote(results: list[list[dict]]) -> list[dict]:
    """One consensus result list for a task: per classification control the answer most annotators gave
    (earliest wins a tie; annotators who left the control empty abstain); per region control the
    regions more than half of all annotators drew, with the majority label."""
    grouped = [_by_control(r) for r in results]
    controls = list(dict.fromkeys(c for g in grouped for c in g))  # first-seen order, deterministic
    consensus: list[dict] = []
    for control in controls:
        answers = [g.get(control, []) for g in grouped]
        if _is_region_control(*answers):
            consensus += _region_majority(answers, len(results))
        else:
            consensus += _answer_majority(answers)
    return [{**_ls_shape(r), "id": f"majority-{i}"} for i, r in enumerate(consensus)]


def _answer_majority(answers: list[list[dict]]) -> list[dict]:
    votes = Counter(_answer(a) for a in answers if a)
    best = max(votes.values())
    # `answers` is in annotation order, so the first one with the top count breaks the tie.
    return next(a for a in answers if a and votes[_answer(a)] == best)


def _region_majority(answers: list[list[dict]], annotators: int) -> list[dict]:
    # A cluster holds at most one region per annotator; its first region (from the earliest annotation)
    # is the anchor later annotators' regions are matched against, and gives the kept geometry.
    clusters: list[list[dict]] = []
    for regions in answers:
        anchors = [cluster[0] for cluster in clusters]
        matched = {j: i for i, j in _match(anchors, regions, same_label=False)}
        for j, region in enumerate(regions):
            if j in matched:
                clusters[matched[j]].append(region)
            else:
                clusters.append([region])
    kept = []
    for cluster in clusters:
        if len(cluster) * 2 > annotators:
            labels = Counter(_label(r) for r in cluster)
            best = max(labels.values())
            voted = next(r for r in cluster if labels[_label(r)] == best)  # earliest wins a tie
            anchor = cluster[0]
            value = dict(anchor["value"])
            if anchor["type"] in voted["value"]:
                value[anchor["type"]] = list(voted["value"][anchor["type"]])
            else:
                value.pop(anchor["type"], None)
            kept.append({**anchor, "value": value})
    return kept


def _ls_shape(region: dict) -> dict:
    keep = ("from_name", "to_name", "type", "value", "original_width", "original_height", "image_rotation")
    return {k: region[k] for k in keep if k in region}


# --- project summary ----------------------------------------------------------------------------


def project_agreement(per_task: Iterable[float | None]) -> dict:
    """Summary of per-task agreements (None skipped), read in one pass: count, mean, median, min, max
    and a 10-bucket histogram over [0, 1] whose last bucket also holds 1.0."""
    values: list[float] = []  # the median needs them all; nothing else is kept
    histogram = [0] * 10
    for v in per_task:
        if v is None or math.isnan(v):
            continue
        values.append(v)
        histogram[min(max(int(v * 10), 0), 9)] += 1
    if not values:
        return {
            "tasks_with_agreement": 0,
            "mean": None,
            "median": None,
            "min": None,
            "max": None,
            "histogram": histogram,
        }
    return {
        "tasks_with_agreement": len(values),
        "mean": math.fsum(values) / len(values),
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "histogram": histogram,
    }

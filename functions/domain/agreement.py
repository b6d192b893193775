"""Agreement between annotators of one task, and the majority-vote consensus, on plain result lists.

Pair score = mean over the controls either annotation used: classification-like values (choices,
ratings, text) agree when equal; regions (spans, boxes) are matched one to one by IoU and score an F1.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from itertools import combinations

# Two regions are "the same" from half overlap on: the usual detection threshold (PASCAL VOC), which
# forgives a few pixels or characters of boundary disagreement but not a different object.
IOU_THRESHOLD = 0.5

_SPANS = {"labels", "hypertextlabels", "paragraphlabels", "timeserieslabels"}
_BOXES = {"rectanglelabels", "rectangle", "polygonlabels", "polygon"}


def _by_control(result: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for region in result or []:
        if isinstance(region, dict) and region.get("from_name") and isinstance(region.get("value"), dict):
            grouped.setdefault(region["from_name"], []).append(region)
    return grouped


def _label(region: dict) -> tuple:
    value = region["value"]
    return tuple(sorted(str(x) for x in value.get(region.get("type", ""), []) or []))


def _interval(region: dict) -> tuple[float, float] | None:
    v = region["value"]
    start, end = v.get("start"), v.get("end")
    if isinstance(start, (int, float)) and isinstance(end, (int, float)):
        return float(start), float(end)
    return None


def _box(region: dict) -> tuple[float, float, float, float] | None:
    v = region["value"]
    if all(isinstance(v.get(k), (int, float)) for k in ("x", "y", "width", "height")):
        return v["x"], v["y"], v["x"] + v["width"], v["y"] + v["height"]
    points = v.get("points")
    if points:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        return min(xs), min(ys), max(xs), max(ys)
    return None


def iou(a: dict, b: dict) -> float:
    if a.get("type") in _SPANS:
        ia, ib = _interval(a), _interval(b)
        if ia is None or ib is None:
            return float(a["value"] == b["value"])
        inter = max(0.0, min(ia[1], ib[1]) - max(ia[0], ib[0]))
        union = max(ia[1], ib[1]) - min(ia[0], ib[0])
        return inter / union if union > 0 else float(ia == ib)
    ba, bb = _box(a), _box(b)
    if ba is None or bb is None:
        return 0.0
    w = max(0.0, min(ba[2], bb[2]) - max(ba[0], bb[0]))
    h = max(0.0, min(ba[3], bb[3]) - max(ba[1], bb[1]))
    inter = w * h
    union = (ba[2] - ba[0]) * (ba[3] - ba[1]) + (bb[2] - bb[0]) * (bb[3] - bb[1]) - inter
    return inter / union if union > 0 else 0.0


def _is_region(regions: list[dict]) -> bool:
    return bool(regions) and regions[0].get("type") in _SPANS | _BOXES


def _matches(a: list[dict], b: list[dict]) -> list[tuple[int, int]]:
    """Greedy one-to-one matching, best IoU first; only same-label pairs over the threshold."""
    pairs = sorted(((iou(x, y), i, j) for i, x in enumerate(a) for j, y in enumerate(b)
                    if _label(x) == _label(y)), reverse=True)
    used_a, used_b, matched = set(), set(), []
    for score, i, j in pairs:
        if score >= IOU_THRESHOLD and i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            matched.append((i, j))
    return matched


def _value_key(regions: list[dict]) -> tuple:
    """A classification answer, comparable across annotators (choices compared as sets)."""
    keys = []
    for r in regions:
        v = {k: (sorted(map(str, x)) if isinstance(x, list) else x) for k, x in r["value"].items()}
        keys.append(repr(sorted(v.items())))
    return tuple(sorted(keys))


def _control_score(a: list[dict], b: list[dict]) -> float:
    if _is_region(a) or _is_region(b):
        if not a and not b:
            return 1.0
        return 2 * len(_matches(a, b)) / (len(a) + len(b))
    return float(_value_key(a) == _value_key(b))


def pair_agreement(a: list[dict], b: list[dict]) -> float:
    ga, gb = _by_control(a), _by_control(b)
    controls = sorted(set(ga) | set(gb))
    if not controls:
        return 1.0
    return sum(_control_score(ga.get(c, []), gb.get(c, [])) for c in controls) / len(controls)


def task_agreement(results: list[list[dict]]) -> float | None:
    """Mean pairwise agreement of a task's (non-cancelled) annotations; None below two annotations."""
    if len(results) < 2:
        return None
    scores = [pair_agreement(a, b) for a, b in combinations(results, 2)]
    return sum(scores) / len(scores)


def majority_vote(results: list[list[dict]]) -> list[dict]:
    """One consensus result: per control, the answer most annotators gave (earliest wins a tie); regions
    kept when more than half of the annotators drew a matching one, with the majority label."""
    grouped = [_by_control(r) for r in results]
    controls = list(dict.fromkeys(c for g in grouped for c in g))
    consensus: list[dict] = []
    for control in controls:
        answers = [g.get(control, []) for g in grouped]
        if any(_is_region(a) for a in answers):
            consensus += _region_majority(answers, len(results))
        else:
            votes = Counter(_value_key(a) for a in answers if a)
            if votes:
                best = max(votes.values())
                winner = next(a for a in answers if a and votes[_value_key(a)] == best)
                consensus += winner
    return [{**_clean(r), "id": f"majority-{i}"} for i, r in enumerate(consensus)]


def _region_majority(answers: list[list[dict]], annotators: int) -> list[dict]:
    # Each cluster holds at most one region per annotator, all matching its first region.
    clusters: list[dict[int, dict]] = []
    for who, regions in enumerate(answers):
        for region in regions:
            for cluster in clusters:
                first = next(iter(cluster.values()))
                if who not in cluster and iou(first, region) >= IOU_THRESHOLD:
                    cluster[who] = region
                    break
            else:
                clusters.append({who: region})
    kept = []
    for cluster in clusters:
        if len(cluster) * 2 > annotators:
            regions = list(cluster.values())
            labels = Counter(_label(r) for r in regions)
            best = max(labels.values())
            label = next(_label(r) for r in regions if labels[_label(r)] == best)
            first = regions[0]
            kept.append({**first, "value": {**first["value"], first["type"]: list(label)}})
    return kept


def _clean(region: dict) -> dict:
    keep = ("from_name", "to_name", "type", "value", "original_width", "original_height", "image_rotation")
    return {k: region[k] for k in keep if k in region}


def project_agreement(per_task: Iterable[float | None]) -> dict:
    values = [v for v in per_task if v is not None]
    histogram = [0] * 10
    for v in values:
        histogram[min(int(v * 10), 9)] += 1
    return {
        "tasks_with_agreement": len(values),
        "mean": statistics.fmean(values) if values else None,
        "median": statistics.median(values) if values else None,
        "min": min(values, default=None), "max": max(values, default=None),
        "histogram": histogram,
    }

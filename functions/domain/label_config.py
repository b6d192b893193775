"""Label Studio labeling configs: parse, validate, and check results against them.

`parse_label_config` reproduces Label Studio's `parse_config` (label-studio-sdk
`_extensions/label_studio_tools/core/label_config.py`) output key for key, so `LabelConfig.parsed` can be
served as a project's `parsed_label_config`. Unlike Label Studio, it parses with defusedxml and rejects
what LS would only log (a `toName` pointing nowhere, duplicate names), because a project saved with such a
config cannot be labeled.

Vocabulary: an *object tag* shows task data (`name` + `value`/`valueList`, e.g. `<Image>`); a
*control tag* produces results (`name` + `toName`, e.g. `<Choices>`); label tags (`<Label>`,
`<Choice>`, `<Relation>`) belong to the nearest enclosing control.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring

from functions.domain.errors import ValidationFailed

MAX_LABEL_CONFIG_BYTES = 1024 * 1024
# A tag's `name` (each of a control's `toName`) and a result's `from_name`/`to_name`, in characters.
MAX_NAME_LENGTH = 1000
_MAX_REPORTED_ERRORS = 20

_LABEL_TAGS = frozenset({"Label", "Choice", "Relation"})
_NOT_CONTROL_TAGS = frozenset({"Filter"})

# Label Studio only tags these as object/control when the attributes are present; a config that uses one
# of them without its attributes is a mistake we can name, rather than a tag that silently does nothing.
_OBJECT_TAGS = frozenset(
    {
        "Image",
        "Text",
        "HyperText",
        "Audio",
        "AudioPlus",
        "Video",
        "Paragraphs",
        "Table",
        "List",
        "TimeSeries",
        "PDF",
    }
)
_CONTROL_TAGS = frozenset(
    {
        "Choices",
        "Labels",
        "RectangleLabels",
        "Rectangle",
        "PolygonLabels",
        "Polygon",
        "KeyPointLabels",
        "KeyPoint",
        "EllipseLabels",
        "Ellipse",
        "BrushLabels",
        "Brush",
        "BitmaskLabels",
        "Bitmask",
        "MagicWand",
        "VectorLabels",
        "Vector",
        "OcrLabels",
        "HyperTextLabels",
        "ParagraphLabels",
        "TimeSeriesLabels",
        "TimelineLabels",
        "VideoRectangle",
        "VideoVector",
        "VideoVectorLabels",
        "TextArea",
        "Rating",
        "Taxonomy",
        "Number",
        "DateTime",
        "Pairwise",
        "Ranker",
    }
)
# Chat and ReactCode are both the object and the control: their results have from_name == to_name and
# the type of the tag on the right, lower-cased (label-studio-sdk `LabelInterface`).
_SELF_REFERENCING = {"Chat": "ChatMessage", "ReactCode": "ReactCode"}

# Label Studio's `has_variable`: only this shape turns a control's `value` into dynamic labels.
_DYNAMIC_VALUE = re.compile(r"\$[A-Za-z_]+")
_EMBEDDED_VARIABLE = re.compile(r"\$(\w+)")
_KEY_END = re.compile(r"[\[.]")
_TEMPLATE_VARIABLE = re.compile(r"\{\{[^{}]*\}\}")


class InvalidResult(ValueError):
    """A result (annotation or prediction regions) that does not fit the label config."""


@dataclass(frozen=True)
class ControlTag:
    """One control tag, as results refer to it."""

    name: str
    tag: str  # as written in the config, e.g. "RectangleLabels"
    to_names: tuple[str, ...]
    labels: tuple[str, ...]
    dynamic_labels: bool

    @property
    def type(self) -> str:
        """The result `type` Label Studio writes for this control."""
        return self.tag.lower()

    def accepts_type(self, result_type: str) -> bool:
        """Whether a result of `result_type` can come from this control.

        The editor is looser than "tag lower-cased": a plain tool paired with labels (`<Rectangle>` next to
        `<Labels>`) writes `rectanglelabels`, and a generic `<Labels>` control attached to a geometry tool
        writes the geometry's labeled variant (`videovectorlabels`, label-studio-sdk `LabelInterface`).
        """
        own = self.type
        if result_type == own:
            return True
        if own == "labels":
            return result_type.endswith("labels")
        if own.endswith("labels"):
            return result_type in ("labels", own[: -len("labels")])
        return result_type == own + "labels"


@dataclass(frozen=True)
class _NameTemplate:
    """A name with `{{variable}}` parts, each standing for any text on one line (Label Studio's `.*`).

    Matched by hand rather than as a regex: `a{{x}}a{{y}}...b` is a chain of `.*` that a backtracking
    engine tries in every split of the name (one 56-character name against eight variables took 5 s).
    For literals joined by "anything", taking each literal at its first place after the previous one
    decides the match in one pass: an earlier place only leaves more room for what follows.
    """

    literals: tuple[str, ...]  # the text around the variables: one more than there are variables

    @classmethod
    def parse(cls, template: str) -> _NameTemplate:
        return cls(tuple(_TEMPLATE_VARIABLE.split(template)))

    def fullmatch(self, name: str) -> bool:
        if len(self.literals) == 1:
            return name == self.literals[0]
        first, *middle, last = self.literals
        if len(name) < len(first) + len(last) or not name.startswith(first) or not name.endswith(last):
            return False
        # A variable, like `.`, does not span a line break. (Literals holding one, which an XML attribute
        # cannot hold unescaped, are not worth the exact rule.)
        if "\n" in name and not any("\n" in literal for literal in self.literals):
            return False
        position, end = len(first), len(name) - len(last)
        for literal in middle:
            found = name.find(literal, position, end)
            if found < 0:
                return False
            position = found + len(literal)
        return True


@dataclass(frozen=True)
class _TemplatedControl:
    """A control inside a `<Repeater>`: `labels_{{idx}}` names `labels_0`, `labels_1`, ... in results."""

    control: ControlTag
    name: _NameTemplate
    to_names: tuple[_NameTemplate, ...]


@dataclass(frozen=True)
class LabelConfig:
    xml: str
    parsed: dict  # Label Studio's `parsed_label_config`
    # Top-level `task.data` keys the config reads, in document order. From `$key` in object tags'
    # `value`/`valueList` and in dynamic controls' `value` (Label Studio requires those too). A Repeater
    # path such as `$images[{{idx}}].url` or a nested `$meta.text` needs its top-level key (`images`,
    # `meta`); a literal value needs none.
    data_keys: tuple[str, ...]
    _controls: dict[str, ControlTag] = field(repr=False, compare=False)
    _templated: tuple[_TemplatedControl, ...] = field(repr=False, compare=False)

    def controls(self) -> dict[str, ControlTag]:
        """Controls by name, in document order (plus Chat/ReactCode, which answer for themselves)."""
        return dict(self._controls)

    def control_weights(self, previous: dict | None = None) -> dict:
        """Label Studio's `control_weights` for this config: 1.0 everywhere, except where `previous`
        (the project's weights before a config change) already holds a weight for the same control/label."""
        previous = previous or {}
        weights = {}
        for name, info in self.parsed.items():
            old = found if isinstance(found := previous.get(name), dict) else {}
            old_labels = labels if isinstance(labels := old.get("labels"), dict) else {}
            weights[name] = {
                "overall": _weight(old.get("overall")),
                "type": info["type"],
                "labels": {label: _weight(old_labels.get(label)) for label in info["labels"]},
            }
        return weights

    def control_for(self, from_name: str) -> ControlTag | None:
        """The control a result's `from_name` refers to, including names a Repeater generates."""
        control = self._controls.get(from_name)
        if control is None:
            for templated in self._templated:
                if templated.name.fullmatch(from_name):
                    return templated.control
        return control

    def validate_result(self, result: object) -> None:
        """Check each region's shape against the config; raise InvalidResult naming the first bad field.

        Structural only (names, type, value is an object): label values and geometry are not checked,
        as Label Studio keeps imported regions whose labels have since left the config.
        """
        if not isinstance(result, list):
            raise InvalidResult(f"result: must be a list of regions, got {_type_name(result)}")
        for i, region in enumerate(result):
            if not isinstance(region, dict):
                raise InvalidResult(f"result[{i}]: must be an object, got {_type_name(region)}")
            result_type = region.get("type")
            if result_type == "relation":
                if region.get("from_id") is None or region.get("to_id") is None:
                    raise InvalidResult(f'result[{i}]: a relation needs "from_id" and "to_id"')
                continue
            from_name = region.get("from_name")
            if not isinstance(from_name, str):
                raise InvalidResult(f"result[{i}].from_name: required, the name of a control tag")
            for key in ("from_name", "to_name"):
                if isinstance(region.get(key), str) and len(region[key]) > MAX_NAME_LENGTH:
                    raise InvalidResult(
                        f"result[{i}].{key}: {len(region[key])} characters long; a tag name has at most "
                        f"{MAX_NAME_LENGTH}"
                    )
            control = self.control_for(from_name)
            if control is None:
                raise InvalidResult(
                    f'result[{i}].from_name: "{from_name}" is not a control tag in the label config'
                )
            to_name = region.get("to_name")
            if not isinstance(to_name, str) or not self._to_name_fits(control, to_name):
                raise InvalidResult(
                    f"result[{i}].to_name: {_quoted(to_name)} is not an object tag that "
                    f'<{control.tag} name="{control.name}"> labels; expected one of {list(control.to_names)}'
                )
            if not isinstance(result_type, str) or not control.accepts_type(result_type):
                raise InvalidResult(
                    f"result[{i}].type: {_quoted(result_type)} does not match <{control.tag} "
                    f'name="{control.name}">; expected "{control.type}"'
                )
            value = region.get("value")
            if not isinstance(value, dict):
                raise InvalidResult(f"result[{i}].value: must be an object, got {_type_name(value)}")

    def _to_name_fits(self, control: ControlTag, to_name: str) -> bool:
        if to_name in control.to_names:
            return True
        # Label Studio joins several toNames with "," in results it builds (Pairwise, import shortcut).
        targets = to_name.split(",") if "," in to_name else (to_name,)
        if all(t in control.to_names for t in targets):
            return True
        for templated in self._templated:
            if templated.control is control:
                return all(any(p.fullmatch(t) for p in templated.to_names) for t in targets)
        return False

    def prediction_result_from_value(self, value) -> list[dict]:
        """Label Studio's import shortcut for a prediction `result` (`Prediction.prepare_prediction_result`).

        A list is already a result. A dict is one region if it has region keys, else (LS rule) the
        `value` of a region for the first control whose type is one of its keys (`{"choices": ["A"]}`).
        A bare value goes to the first control that can hold it: a string to Choices or TextArea, an
        integer to Rating or Number, a float to Number.
        """
        if isinstance(value, list):
            return value
        if isinstance(value, dict):
            if "from_name" in value or "value" in value:
                return [value]
            for control in self._controls.values():
                if control.type in value:
                    return [self._region(control, value)]
            raise InvalidResult(f"no control tag in the label config matches the keys of {_preview(value)}")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise InvalidResult(
                f"{_preview(value)} is not a result: use a list of regions, a region, or a "
                "bare string or number"
            )
        wanted = _shortcut_types(value)
        for control in self._controls.values():
            if control.type in wanted:
                return [self._region(control, _shortcut_value(control.type, value))]
        tags = " or ".join(wanted.values())
        raise InvalidResult(
            f"cannot use {_preview(value)} as a result: the label config has no {tags} control"
        )

    @staticmethod
    def _region(control: ControlTag, value: dict) -> dict:
        return {
            "from_name": control.name,
            "to_name": control.to_names[0],
            "type": control.type,
            "value": value,
        }


# Which controls a bare prediction value can fill, by Python type, in the order they are tried.
_SHORTCUT_TYPES: dict[type, dict[str, str]] = {
    str: {"choices": "Choices", "textarea": "TextArea"},
    int: {"rating": "Rating", "number": "Number"},
    float: {"number": "Number"},
}


def _shortcut_types(value) -> dict[str, str]:
    for kind, wanted in _SHORTCUT_TYPES.items():
        if isinstance(value, kind):
            return wanted
    return {}


def _shortcut_value(control_type: str, value) -> dict:
    if control_type == "choices":
        return {"choices": [value]}
    if control_type == "textarea":
        return {"text": [value]}
    return {control_type: value}


def _weight(value) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return 1.0


def _type_name(value) -> str:
    return "null" if value is None else type(value).__name__


def _quoted(value) -> str:
    return f'"{value}"' if isinstance(value, str) else _type_name(value)


def _preview(value, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_label_config(xml: str) -> LabelConfig:
    """Parse and validate a labeling config; raise ValidationFailed({"label_config": [...]}) if unusable."""
    root = _parse_xml(xml)
    return _ConfigBuilder(xml, root).build()


def _parse_xml(xml: str) -> Element:
    if not isinstance(xml, str):
        raise _invalid(f"the label config must be an XML string, got {_type_name(xml)}")
    if not xml.strip():
        raise _invalid("the label config is empty; it needs a root <View> tag")
    size = len(xml.encode("utf-8", "surrogatepass"))
    if size > MAX_LABEL_CONFIG_BYTES:
        raise _invalid(
            f"the label config is {size} bytes; the limit is {MAX_LABEL_CONFIG_BYTES} bytes (1 MB)"
        )
    try:
        return safe_fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        # A DTD is how entity expansion ("billion laughs") and external entities get in; configs
        # never need one.
        raise _invalid(
            "the label config must not contain a DOCTYPE, entity declarations or external references"
        ) from None
    except ParseError as exc:
        raise _invalid(f"the label config is not well-formed XML: {exc}") from None


def _invalid(*messages: str) -> ValidationFailed:
    return ValidationFailed({"label_config": list(messages)})


def _describe(element: Element) -> str:
    name = element.get("name")
    return f'<{element.tag} name="{name}">' if name else f"<{element.tag}>"


def _data_key(value: str) -> str | None:
    """The top-level task.data key a `value` attribute reads (Label Studio's `extract_data_types` rule)."""
    if len(value) > 1 and value[0] == "$":
        return _KEY_END.split(value[1:], maxsplit=1)[0] or None
    embedded = _EMBEDDED_VARIABLE.search(value)
    return embedded.group(1) if embedded else None


class _ConfigBuilder:
    """One pass over the tree in document order, building Label Studio's structure as `parse_config` does
    and noting what is wrong on the way."""

    def __init__(self, xml: str, root: Element):
        self.xml = xml
        self.root = root
        self.outputs: dict[str, dict] = {}
        self.inputs: dict[str, dict] = {}
        self.labels: dict[str, dict[str, dict]] = {}
        self.index_variables: list[str] = []
        self.data_keys: dict[str, None] = {}  # an ordered set
        self.named: dict[str, Element] = {}
        self.self_referencing: dict[str, str] = {}  # name -> tag
        self.errors: list[str] = []

    def build(self) -> LabelConfig:
        if self.root.tag != "View":
            self.errors.append(f"<{self.root.tag}>: the root tag must be <View>")
        # Iterative, so a deeply nested config cannot hit the recursion limit. Each entry carries the name
        # of the nearest enclosing control, which owns any <Label>/<Choice> found below it.
        stack: list[tuple[Element, str | None]] = [(self.root, None)]
        while stack:
            element, owner = stack.pop()
            is_output = self._visit(element, owner)
            child_owner = element.get("name") if is_output else owner
            stack.extend((child, child_owner) for child in reversed(element))
        parsed = self._finish()
        if self.errors:
            raise _invalid(*self.errors[:_MAX_REPORTED_ERRORS])
        controls, templated = self._controls(parsed)
        return LabelConfig(
            xml=self.xml,
            parsed=parsed,
            data_keys=tuple(self.data_keys),
            _controls=controls,
            _templated=templated,
        )

    def _visit(self, element: Element, owner: str | None) -> bool:
        attrib = element.attrib
        tag = element.tag
        if "indexFlag" in attrib:
            self.index_variables.append(attrib["indexFlag"])
        name = attrib.get("name")
        self._check_name_lengths(element)
        if name:
            self._check_unique(element, name)
            if tag in _SELF_REFERENCING:
                self.self_referencing[name] = tag
        is_output = bool(name and attrib.get("toName") and tag not in _NOT_CONTROL_TAGS)
        if is_output and name:
            self._add_output(element, name)
        elif name and (attrib.get("value") or attrib.get("valueList")):
            self._add_input(element, name)
        else:
            self._check_missing_attributes(element)
        if tag in _LABEL_TAGS and owner is not None:
            label = attrib.get("alias") or attrib.get("value") or attrib.get("valueList")
            if label:
                self.labels[owner][label] = dict(attrib)
        return is_output

    def _check_name_lengths(self, element: Element) -> None:
        names = [("name", element.get("name") or "")]
        names += [("toName", to_name) for to_name in (element.get("toName") or "").split(",")]
        for attribute, name in names:
            if len(name) > MAX_NAME_LENGTH:
                self.errors.append(
                    f'<{element.tag}>: attribute "{attribute}" names a tag in {len(name)} characters; '
                    f"the limit is {MAX_NAME_LENGTH}"
                )

    def _check_unique(self, element: Element, name: str) -> None:
        first = self.named.setdefault(name, element)
        if first is not element:
            self.errors.append(
                f'{_describe(element)}: attribute "name" must be unique; "{name}" is already '
                f"the name of <{first.tag}>"
            )

    def _add_output(self, element: Element, name: str) -> None:
        attrib = element.attrib
        info: dict = {"type": element.tag, "to_name": attrib["toName"].split(",")}
        for variable in self.index_variables:
            for to_name in info["to_name"]:
                if variable in to_name:
                    info.setdefault("regex", {})[variable] = ".*"
        conditionals = _conditionals(attrib)
        if conditionals:
            info["conditionals"] = conditionals
        value = attrib.get("value", "")
        if _DYNAMIC_VALUE.fullmatch(value) or attrib.get("apiUrl"):
            info["dynamic_labels"] = True
        if value:
            self._add_data_key(value)
        self.outputs[name] = info
        self.labels[name] = {}

    def _add_input(self, element: Element, name: str) -> None:
        attrib = element.attrib
        info = {"type": element.tag, "valueType": attrib.get("valueType")}
        if "value" in attrib:
            info["value"] = attrib["value"].lstrip("$")
            self._add_data_key(attrib["value"])
        else:
            info["valueList"] = attrib["valueList"].lstrip("$")
        if attrib.get("valueList"):
            self._add_data_key(attrib["valueList"])
        self.inputs[name] = info

    def _add_data_key(self, value: str) -> None:
        key = _data_key(value)
        if key:
            self.data_keys[key] = None

    def _check_missing_attributes(self, element: Element) -> None:
        tag = element.tag
        if tag in _OBJECT_TAGS:
            required = ("name", "value")
        elif tag in _CONTROL_TAGS:
            required = ("name", "toName")
        else:
            return
        for attribute in required:
            if not element.get(attribute) and not (attribute == "value" and element.get("valueList")):
                self.errors.append(f'{_describe(element)}: attribute "{attribute}" is required')
                return

    def _finish(self) -> dict:
        """Attach inputs and labels to each control, as `parse_config` does after its walk."""
        for name, info in self.outputs.items():
            info["inputs"] = []
            for to_name in info["to_name"]:
                if to_name in self.inputs:
                    info["inputs"].append(self.inputs[to_name])
                elif to_name not in self.self_referencing:
                    self.errors.append(
                        f'<{info["type"]} name="{name}">: attribute "toName" refers to '
                        f'unknown object tag "{to_name}"'
                    )
            labels = self.labels[name]
            info["labels"] = list(labels)
            info["labels_attrs"] = labels
            if not labels and _needs_labels(info["type"]) and not self._is_dynamic(name):
                child = "Choice" if info["type"] == "Choices" else "Label"
                self.errors.append(
                    f'<{info["type"]} name="{name}">: needs at least one '
                    f'<{child} value="...">, or attribute "value" naming a task field '
                    "for dynamic labels"
                )
        return self.outputs

    def _is_dynamic(self, name: str) -> bool:
        element = self.named[name]
        return element.get("value", "").startswith("$") or bool(element.get("apiUrl"))

    def _controls(self, parsed: dict) -> tuple[dict[str, ControlTag], tuple[_TemplatedControl, ...]]:
        controls = {
            name: ControlTag(
                name=name,
                tag=info["type"],
                to_names=tuple(info["to_name"]),
                labels=tuple(info["labels"]),
                dynamic_labels=bool(info.get("dynamic_labels")),
            )
            for name, info in parsed.items()
        }
        for name, tag in self.self_referencing.items():
            if name not in controls:
                controls[name] = ControlTag(
                    name=name, tag=_SELF_REFERENCING[tag], to_names=(name,), labels=(), dynamic_labels=False
                )
        templated = tuple(
            _TemplatedControl(
                control,
                _NameTemplate.parse(control.name),
                tuple(_NameTemplate.parse(t) for t in control.to_names),
            )
            for control in controls.values()
            if "{{" in control.name or any("{{" in t for t in control.to_names)
        )
        return controls, templated


def _needs_labels(tag: str) -> bool:
    return tag == "Choices" or tag.endswith("Labels")


def _conditionals(attrib: dict) -> dict:
    if attrib.get("perRegion") != "true":
        return {}
    if attrib.get("whenTagName"):
        return {"type": "tag", "name": attrib["whenTagName"]}
    if attrib.get("whenLabelValue"):
        return {"type": "label", "name": attrib["whenLabelValue"]}
    if attrib.get("whenChoiceValue"):
        return {"type": "choice", "name": attrib["whenChoiceValue"]}
    return {}

"""Label configs: Label Studio's own `parse_config` is the oracle for `parsed`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from label_studio_sdk._extensions.label_studio_tools.core.label_config import parse_config as ls_parse_config

from functions.domain.errors import ValidationFailed
from functions.domain.label_config import (
    MAX_LABEL_CONFIG_BYTES,
    MAX_NAME_LENGTH,
    InvalidResult,
    parse_label_config,
)

# Answers captured from Label Studio 1.23.2 (tests/fixtures/ls-samples/README.md says what each is).
SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "ls-samples"

TEXT_CLASSIFICATION = """
<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single" showInLine="true">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
    <Choice value="Neutral"/>
  </Choices>
</View>"""

NER = """
<View>
  <Labels name="label" toName="text">
    <Label value="PER" background="red" hotkey="p"/>
    <Label value="ORG" background="darkorange"/>
    <Label value="LOC" background="orange"/>
    <Label value="MISC" background="green"/>
  </Labels>
  <Text name="text" value="$text" granularity="word"/>
</View>"""

IMAGE_BBOX = """
<View>
  <Image name="image" value="$image" zoom="true"/>
  <RectangleLabels name="label" toName="image" strokeWidth="3">
    <Label value="Airplane" background="green"/>
    <Label value="Car" background="blue" predicted_values="car,automobile"/>
  </RectangleLabels>
</View>"""

POLYGON_KEYPOINT = """
<View>
  <Image name="img" value="$image" zoomControl="true"/>
  <PolygonLabels name="poly" toName="img" strokeWidth="3" pointSize="small" opacity="0.9">
    <Label value="Road" background="#FF0000"/>
    <Label value="Sky" background="#0000FF"/>
  </PolygonLabels>
  <KeyPointLabels name="kp" toName="img" smart="true">
    <Label value="Nose" background="yellow"/>
  </KeyPointLabels>
  <Polygon name="poly_plain" toName="img"/>
  <KeyPoint name="kp_plain" toName="img"/>
</View>"""

AUDIO_TRANSCRIPTION = """
<View>
  <Header value="Listen to the audio"/>
  <Audio name="audio" value="$audio" hotkey="space"/>
  <Labels name="speaker" toName="audio">
    <Label value="Speaker 1"/>
    <Label value="Speaker 2"/>
  </Labels>
  <TextArea name="transcription" toName="audio" rows="4" editable="true" perRegion="true" required="true"/>
</View>"""

TAXONOMY = """
<View>
  <Text name="text" value="$text"/>
  <Taxonomy name="taxonomy" toName="text">
    <Choice value="Archaea"/>
    <Choice value="Bacteria"/>
    <Choice value="Eukarya">
      <Choice value="Human"/>
      <Choice value="Oppossum"/>
      <Choice value="Extraterrestial"/>
    </Choice>
  </Taxonomy>
</View>"""

RANKER_PAIRWISE = """
<View>
  <Header value="$query"/>
  <Text name="text1" value="$text1"/>
  <Text name="text2" value="$text2"/>
  <Pairwise name="pw" toName="text1,text2" selectionStyle="background-color: #eee"/>
  <List name="results" value="$items" title="Search results"/>
  <Ranker name="rank" toName="results"/>
</View>"""

PARAGRAPHS = """
<View>
  <ParagraphLabels name="ner" toName="prg">
    <Label value="Important Stuff"/>
    <Label value="Random talk"/>
  </ParagraphLabels>
  <Paragraphs audioUrl="$audio" name="prg" value="$dialogue" layout="dialogue"
              nameKey="author" textKey="text"/>
</View>"""

TABLE = """
<View>
  <Table name="table" value="$item"/>
  <Choices name="choice" toName="table">
    <Choice value="Correct"/>
    <Choice value="Wrong"/>
  </Choices>
</View>"""

TIME_SERIES = """
<View>
  <TimeSeriesLabels name="label" toName="ts">
    <Label value="Run"/>
    <Label value="Walk"/>
  </TimeSeriesLabels>
  <TimeSeries name="ts" value="$csv" valueType="url" timeColumn="time" sep=",">
    <Channel column="velocity" strokeColor="#1f77b4"/>
    <Channel column="acceleration" strokeColor="#ff7f0e"/>
  </TimeSeries>
</View>"""

HYPERTEXT = """
<View>
  <HyperTextLabels name="ner" toName="text">
    <Label value="Person" background="green"/>
    <Label value="Organization" background="blue"/>
  </HyperTextLabels>
  <View style="border: 1px solid #CCC">
    <HyperText name="text" value="$html" valueType="text"/>
  </View>
</View>"""

CONDITIONAL_PER_REGION = """
<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Car"/>
    <Label value="Person"/>
  </RectangleLabels>
  <View visibleWhen="region-selected">
    <Choices name="car_color" toName="image" perRegion="true" whenLabelValue="Car">
      <Choice value="Red"/>
      <Choice value="Blue"/>
    </Choices>
    <Choices name="quality" toName="image" perRegion="true" whenTagName="label">
      <Choice value="Sharp"/>
      <Choice value="Blurry"/>
    </Choices>
    <TextArea name="note" toName="image" perRegion="true" whenChoiceValue="Blurry"/>
  </View>
</View>"""

DYNAMIC_LABELS = """
<View>
  <Text name="text" value="$text"/>
  <Choices name="options" toName="text" value="$options" choice="multiple"/>
  <Labels name="spans" toName="text" value="$span_labels"/>
</View>"""

ALIASES = """
<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive" alias="POS"/>
    <Choice value="Negative" alias="NEG"/>
    <Choice value="Neutral"/>
  </Choices>
  <Labels name="ner" toName="text">
    <Label value="Organization" alias="ORG" background="blue"/>
  </Labels>
</View>"""

REPEATER = """
<View>
  <Repeater on="$images" indexFlag="{{idx}}" mode="pagination">
    <Image name="page_{{idx}}" value="$images[{{idx}}].url"/>
    <RectangleLabels name="labels_{{idx}}" toName="page_{{idx}}">
      <Label value="Signature"/>
    </RectangleLabels>
  </Repeater>
</View>"""

MIXED = """
<View>
  <!-- a comment the parser must ignore -->
  <Image name="gallery" valueList="$pages"/>
  <Video name="video" value="$video"/>
  <VideoRectangle name="box" toName="video"/>
  <Labels name="videoLabels" toName="video" allowEmpty="true">
    <Label value="Man"/>
  </Labels>
  <Rating name="rating" toName="video" maxRating="5"/>
  <Number name="count" toName="video" min="0"/>
  <DateTime name="when" toName="video" only="date"/>
  <Filter name="filter" toName="videoLabels" minlength="0"/>
  <Choices name="nested" toName="gallery">
    <View><Header value="Kind"/><Choice value="Scan"/></View>
    <Choice value="Photo"/>
    <Choice value="Photo" hint="repeated: the last one's attributes win"/>
  </Choices>
  <Relations>
    <Relation value="follows"/>
  </Relations>
  <BrushLabels name="brush" toName="gallery"><Label value="Ink"/></BrushLabels>
  <EllipseLabels name="ellipse" toName="gallery"><Label value="Stamp"/></EllipseLabels>
</View>"""

ORACLE_CONFIGS = {
    "text_classification": TEXT_CLASSIFICATION,
    "ner": NER,
    "image_bbox": IMAGE_BBOX,
    "polygon_keypoint": POLYGON_KEYPOINT,
    "audio_transcription": AUDIO_TRANSCRIPTION,
    "taxonomy": TAXONOMY,
    "ranker_pairwise": RANKER_PAIRWISE,
    "paragraphs": PARAGRAPHS,
    "table": TABLE,
    "time_series": TIME_SERIES,
    "hypertext": HYPERTEXT,
    "conditional_per_region": CONDITIONAL_PER_REGION,
    "dynamic_labels": DYNAMIC_LABELS,
    "aliases": ALIASES,
    "repeater": REPEATER,
    "mixed": MIXED,
    "empty_view": "<View></View>",
}


def errors_of(xml: str) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_label_config(xml)
    assert list(caught.value.errors) == ["label_config"]
    return caught.value.errors["label_config"]


# --- parsed_label_config ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ORACLE_CONFIGS)
def test_parsed_equals_label_studio_parse_config(name):
    xml = ORACLE_CONFIGS[name]
    parsed = parse_label_config(xml).parsed
    expected = ls_parse_config(xml)
    assert parsed == expected
    # Same key order too, since clients may show it.
    assert json.dumps(parsed) == json.dumps(expected)


def test_parsed_and_control_weights_match_the_recorded_project():
    project = json.loads((SAMPLES / "project.json").read_text())
    config = parse_label_config(project["label_config"])
    assert config.parsed == project["parsed_label_config"]
    assert config.control_weights() == project["control_weights"]


def test_optional_keys_are_present_where_label_studio_puts_them():
    assert parse_label_config(REPEATER).parsed["labels_{{idx}}"]["regex"] == {"{{idx}}": ".*"}
    conditional = parse_label_config(CONDITIONAL_PER_REGION).parsed
    assert conditional["car_color"]["conditionals"] == {"type": "label", "name": "Car"}
    assert conditional["quality"]["conditionals"] == {"type": "tag", "name": "label"}
    assert conditional["note"]["conditionals"] == {"type": "choice", "name": "Blurry"}
    assert parse_label_config(DYNAMIC_LABELS).parsed["options"]["dynamic_labels"] is True
    assert parse_label_config(ALIASES).parsed["sentiment"]["labels"] == ["POS", "NEG", "Neutral"]


def test_control_weights_keep_previous_weights_of_surviving_controls_and_labels():
    previous = {
        "sentiment": {"overall": 0.5, "type": "Choices", "labels": {"Positive": 2.0, "Gone": 3.0}},
        "removed": {"overall": 0.1, "type": "Choices", "labels": {}},
    }
    weights = parse_label_config(TEXT_CLASSIFICATION).control_weights(previous)
    assert weights == {
        "sentiment": {
            "overall": 0.5,
            "type": "Choices",
            "labels": {"Positive": 2.0, "Negative": 1.0, "Neutral": 1.0},
        }
    }


def test_controls_describe_each_control():
    controls = parse_label_config(RANKER_PAIRWISE).controls()
    assert list(controls) == ["pw", "rank"]
    assert controls["pw"].to_names == ("text1", "text2")
    assert controls["pw"].type == "pairwise"
    assert parse_label_config(DYNAMIC_LABELS).controls()["options"].dynamic_labels is True


# --- data keys -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("xml", "keys"),
    [
        (TEXT_CLASSIFICATION, ("text",)),
        # A tag without a name (the Header here) is display only; Label Studio does not require its field.
        (RANKER_PAIRWISE, ("text1", "text2", "items")),
        (PARAGRAPHS, ("dialogue",)),
        (TIME_SERIES, ("csv",)),
        (DYNAMIC_LABELS, ("text", "options", "span_labels")),
        (REPEATER, ("images",)),
        (MIXED, ("pages", "video")),
        (
            "<View><Text name='a' value='$t'/><Text name='b' value='$t'/>"
            "<Text name='c' value='literal'/></View>",
            ("t",),
        ),
        (
            "<View><Text name='a' value='$meta.text'/><Header name='h' value='Page $page'/></View>",
            ("meta", "page"),
        ),
        ("<View></View>", ()),
    ],
)
def test_data_keys(xml, keys):
    assert parse_label_config(xml).data_keys == keys


# --- rejected configs ------------------------------------------------------------------------------------


def test_billion_laughs_is_rejected():
    xml = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<View><Text name="text" value="&lol3;"/></View>"""
    assert errors_of(xml) == [
        "the label config must not contain a DOCTYPE, entity declarations or external references"
    ]


def test_external_entity_is_rejected():
    xml = """<?xml version="1.0"?>
<!DOCTYPE View [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<View><Header value="&secret;"/></View>"""
    assert "DOCTYPE" in errors_of(xml)[0]


def test_unknown_to_name_names_tag_and_attribute():
    xml = TEXT_CLASSIFICATION.replace('toName="text"', 'toName="txt"')
    assert errors_of(xml) == [
        '<Choices name="sentiment">: attribute "toName" refers to unknown object tag "txt"'
    ]


def test_to_name_must_name_an_object_not_a_control():
    xml = TEXT_CLASSIFICATION.replace("</View>", '<TextArea name="why" toName="sentiment"/></View>')
    assert errors_of(xml) == [
        '<TextArea name="why">: attribute "toName" refers to unknown object tag "sentiment"'
    ]


def test_one_of_several_to_names_unknown():
    xml = RANKER_PAIRWISE.replace('toName="text1,text2"', 'toName="text1,text3"')
    assert errors_of(xml) == ['<Pairwise name="pw">: attribute "toName" refers to unknown object tag "text3"']


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ('<View><Image value="$image"/></View>', '<Image>: attribute "name" is required'),
        ('<View><Image name="img"/></View>', '<Image name="img">: attribute "value" is required'),
        (
            '<View><Text name="t" value="$t"/><Choices toName="t"><Choice value="A"/></Choices></View>',
            '<Choices>: attribute "name" is required',
        ),
        (
            '<View><Text name="t" value="$t"/><Rating name="r"/></View>',
            '<Rating name="r">: attribute "toName" is required',
        ),
    ],
)
def test_missing_attributes(xml, message):
    assert errors_of(xml) == [message]


def test_duplicate_name():
    xml = '<View><Text name="x" value="$t"/><Choices name="x" toName="x"><Choice value="A"/></Choices></View>'
    assert errors_of(xml) == [
        '<Choices name="x">: attribute "name" must be unique; "x" is already the name of <Text>'
    ]


def test_root_must_be_view():
    assert errors_of('<Views><Text name="t" value="$t"/></Views>') == ["<Views>: the root tag must be <View>"]


def test_malformed_xml():
    [message] = errors_of('<View><Text name="t" value="$t"></View>')
    assert message.startswith("the label config is not well-formed XML: mismatched tag: line 1")


@pytest.mark.parametrize("xml", ["", "   ", None])
def test_empty_or_missing(xml):
    assert len(errors_of(xml)) == 1


def test_choices_and_labels_need_options_unless_dynamic():
    xml = (
        '<View><Text name="t" value="$t"/><Choices name="c" toName="t"/>'
        '<Labels name="l" toName="t"></Labels></View>'
    )
    assert errors_of(xml) == [
        (
            '<Choices name="c">: needs at least one <Choice value="...">, or attribute "value" naming a task '
            "field for dynamic labels"
        ),
        (
            '<Labels name="l">: needs at least one <Label value="...">, or attribute "value" naming a task '
            "field for dynamic labels"
        ),
    ]
    parse_label_config(DYNAMIC_LABELS)


def test_size_is_bounded():
    padding = "<!--" + "x" * MAX_LABEL_CONFIG_BYTES + "-->"
    [message] = errors_of(f"<View>{padding}</View>")
    assert "1 MB" in message and "bytes" in message


def test_config_without_controls_is_valid():
    config = parse_label_config('<View><Text name="t" value="$t"/></View>')
    assert config.parsed == {} and config.control_weights() == {} and config.data_keys == ("t",)


# --- results ---------------------------------------------------------------------------------------------


def region(from_name, to_name, type_, value=None):
    return {"id": "r1", "from_name": from_name, "to_name": to_name, "type": type_, "value": value or {}}


def test_valid_results():
    parse_label_config(TEXT_CLASSIFICATION).validate_result(
        [region("sentiment", "text", "choices", {"choices": ["Positive"]})]
    )
    parse_label_config(NER).validate_result(
        [
            region("label", "text", "labels", {"start": 0, "end": 3, "labels": ["PER"]}),
            region("label", "text", "labels", {"start": 5, "end": 9, "labels": ["ORG"]}),
            {"type": "relation", "from_id": "a", "to_id": "b", "direction": "right"},
        ]
    )
    parse_label_config(AUDIO_TRANSCRIPTION).validate_result([region("transcription", "audio", "textarea")])
    parse_label_config("<View></View>").validate_result([])


def test_loose_types_label_studio_accepts():
    bbox = parse_label_config(IMAGE_BBOX)
    bbox.validate_result([region("label", "image", "rectanglelabels")])
    bbox.validate_result([region("label", "image", "rectangle")])
    bbox.validate_result([region("label", "image", "labels")])
    plain = parse_label_config(POLYGON_KEYPOINT)
    plain.validate_result(
        [region("poly_plain", "img", "polygon"), region("poly_plain", "img", "polygonlabels")]
    )
    mixed = parse_label_config(MIXED)
    # A generic <Labels> next to a geometry tool writes the geometry's labeled type.
    mixed.validate_result([region("videoLabels", "video", "videovectorlabels")])
    with pytest.raises(InvalidResult):
        mixed.validate_result([region("videoLabels", "video", "rating")])


def test_joined_to_names_and_repeater_names():
    parse_label_config(RANKER_PAIRWISE).validate_result([region("pw", "text1,text2", "pairwise")])
    parse_label_config(RANKER_PAIRWISE).validate_result([region("pw", "text2", "pairwise")])
    repeater = parse_label_config(REPEATER)
    repeater.validate_result([region("labels_3", "page_3", "rectanglelabels")])
    with pytest.raises(ValueError, match="to_name"):
        repeater.validate_result([region("labels_3", "image_3", "rectanglelabels")])


def test_repeater_names_match_like_label_studios_dot_star():
    template = parse_label_config(
        """<View><Text name="text" value="$text"/>
        <Choices name="q_{{i}}_{{j}}.x" toName="text"><Choice value="y"/></Choices></View>"""
    )
    for matching in ("q_1_2.x", "q___.x", "q_a_b_c_d.x", "q_1_{{j}}.x"):
        template.validate_result([region(matching, "text", "choices")])
    for other in ("q_1_2.xy", "q_1.x", "Q_1_2.x", "q_1\n_2.x", "q_1_2-x"):
        with pytest.raises(ValueError, match="from_name"):
            template.validate_result([region(other, "text", "choices")])


def test_a_templated_name_against_many_variables_is_matched_without_backtracking():
    # `a.*a.*...b` under a backtracking engine: 1.4 s for the short name (5 s at 56 characters, each one
    # more slower still), so the short name comes first to fail such an engine instead of hanging it.
    name = "".join(f"a{{{{v{i}}}}}" for i in range(8)) + "b"
    config = parse_label_config(
        f"""<View><Text name="text" value="$text"/>
        <Choices name="{name}" toName="text"><Choice value="x"/></Choices></View>"""
    )
    for length in (40, MAX_NAME_LENGTH):
        started = time.perf_counter()
        with pytest.raises(ValueError, match="is not a control tag"):
            config.validate_result([region("a" * length, "text", "choices")])
        elapsed = time.perf_counter() - started
        assert elapsed < 0.1, f"{elapsed:.2f} s for {length} characters"
    config.validate_result([region("a" * (MAX_NAME_LENGTH - 1) + "b", "text", "choices")])


def test_names_longer_than_the_limit_are_refused():
    too_long = "n" * (MAX_NAME_LENGTH + 1)
    with pytest.raises(ValidationFailed) as caught:
        parse_label_config(f'<View><Text name="{too_long}" value="$text"/></View>')
    [message] = caught.value.errors["label_config"]
    assert (
        message
        == f'<Text>: attribute "name" names a tag in {MAX_NAME_LENGTH + 1} characters; the limit is 1000'
    )
    with pytest.raises(ValidationFailed) as caught:
        parse_label_config(
            f'<View><Text name="text" value="$text"/><Choices name="c" toName="text,{too_long}">'
            '<Choice value="x"/></Choices></View>'
        )
    assert caught.value.errors["label_config"][0].startswith(
        '<Choices>: attribute "toName" names a tag in 1001'
    )
    for key in ("from_name", "to_name"):
        result = region("sentiment", "text", "choices") | {key: too_long}
        with pytest.raises(
            ValueError, match=rf"result\[0\]\.{key}: 1001 characters long; a tag name has at most 1000"
        ):
            parse_label_config(TEXT_CLASSIFICATION).validate_result([result])


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (
            [region("sentimnt", "text", "choices")],
            'result[0].from_name: "sentimnt" is not a control tag in the label config',
        ),
        (
            [region("sentiment", "text", "choices"), region("sentiment", "image", "choices")],
            (
                'result[1].to_name: "image" is not an object tag that <Choices name="sentiment"> labels; '
                "expected one of ['text']"
            ),
        ),
        (
            [region("sentiment", "text", "choice")],
            'result[0].type: "choice" does not match <Choices name="sentiment">; expected "choices"',
        ),
        (
            [{**region("sentiment", "text", "choices"), "value": ["Positive"]}],
            "result[0].value: must be an object",
        ),
        ([{"from_name": "sentiment", "to_name": "text", "value": {}}], "result[0].type: null does not match"),
        ([{"to_name": "text", "type": "choices", "value": {}}], "result[0].from_name: required"),
        (["Positive"], "result[0]: must be an object, got str"),
        ([{"type": "relation", "from_id": "a"}], 'result[0]: a relation needs "from_id" and "to_id"'),
        ({"choices": ["Positive"]}, "result: must be a list of regions, got dict"),
    ],
)
def test_invalid_results(result, message):
    with pytest.raises(InvalidResult) as caught:
        parse_label_config(TEXT_CLASSIFICATION).validate_result(result)
    assert str(caught.value).startswith(message)


# --- prediction shortcut ---------------------------------------------------------------------------------


def test_bare_string_goes_to_first_choices():
    assert parse_label_config(TEXT_CLASSIFICATION).prediction_result_from_value("Positive") == [
        {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}
    ]


def test_bare_string_goes_to_textarea_when_no_choices():
    assert parse_label_config(AUDIO_TRANSCRIPTION).prediction_result_from_value("hello") == [
        {"from_name": "transcription", "to_name": "audio", "type": "textarea", "value": {"text": ["hello"]}}
    ]


def test_bare_numbers_go_to_rating_and_number():
    config = parse_label_config(MIXED)
    assert config.prediction_result_from_value(4) == [
        {"from_name": "rating", "to_name": "video", "type": "rating", "value": {"rating": 4}}
    ]
    assert config.prediction_result_from_value(2.5) == [
        {"from_name": "count", "to_name": "video", "type": "number", "value": {"number": 2.5}}
    ]


def test_dicts_and_lists():
    config = parse_label_config(TEXT_CLASSIFICATION)
    full = region("sentiment", "text", "choices", {"choices": ["Negative"]})
    assert config.prediction_result_from_value(full) == [full]
    assert config.prediction_result_from_value([full]) == [full]
    assert config.prediction_result_from_value({"choices": ["Neutral"]}) == [
        {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Neutral"]}}
    ]


@pytest.mark.parametrize("value", [7, True, None, {"rating": 3}])
def test_no_suitable_control(value):
    with pytest.raises(InvalidResult) as caught:
        parse_label_config(TEXT_CLASSIFICATION).prediction_result_from_value(value)
    assert repr(value) in str(caught.value)

"""Uploaded files' names, URLs, checks and how they are served: pure rules, as Label Studio has them."""

from __future__ import annotations

import pytest

from functions.domain import media_files


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("cat.png", "cat.png"),
        ("my cat (1).png", "my_cat_1.png"),  # Django's get_valid_filename
        ("  spaced  .jpg ", "spaced__.jpg"),
        ("C:\\photos\\dog.jpg", "dog.jpg"),  # a browser's full path: its base name
        ("../../etc/passwd.png", "passwd.png"),
        ("caf\u00e9.png", "caf\u00e9.png"),  # letters of any script stay
        ("<script>.svg", "script.svg"),
        ("$%&.png", ".png"),
        ("..", "upload"),
    ],
)
def test_valid_name_is_djangos(filename, expected):
    assert media_files.valid_name(filename) == expected


def test_stored_name_fits_djangos_hundred_characters_and_keeps_the_extension():
    name = media_files.stored_name(12, "x" * 300 + ".jpeg", "0123456789abcdef")
    assert name.startswith("01234567-x") and name.endswith(".jpeg")
    assert len(media_files.file_path(12, name)) == media_files.MAX_FILE_PATH
    assert media_files.stored_name(12, "cat.png", "deadbeefcafe") == "deadbeef-cat.png"


def test_url_is_percent_encoded_and_parses_back():
    url = media_files.url(7, "deadbeef-caf\u00e9 #1.png")
    assert url == "/data/upload/7/deadbeef-caf%C3%A9%20%231.png"
    assert media_files.parse_path("7/deadbeef-caf\u00e9 #1.png") == (7, "deadbeef-caf\u00e9 #1.png")


@pytest.mark.parametrize(
    "path",
    [
        "7",
        "7/",
        "/7/a.png",
        "x/a.png",
        "-1/a.png",
        "7/a/b.png",
        "7/..",
        "7/.hidden",
        "7/a\\b.png",
        "\u0667/a.png",
        "1" * 19 + "/a.png",
    ],
)
def test_parse_path_names_one_file_of_one_project_or_nothing(path):
    assert media_files.parse_path(path) is None


def test_check_files_reports_every_problem_before_anything_is_read():
    assert media_files.check_files([("a.png", 10), ("b.csv", 0)], max_bytes=100, max_files=5) == []
    problems = media_files.check_files(
        [("a.exe", 1), ("b", 1), ("c.png", 0), ("d.PNG", 200)], max_bytes=100, max_files=5
    )
    assert problems == [
        "a.exe: .exe extension is not supported",
        "b: a name without an extension is not supported",
        "c.png: The submitted file is empty.",
        "Maximum total size of all files is 100 bytes, current size is 202 bytes",
    ]
    # Label Studio refuses a total equal to the bound too.
    assert media_files.check_files([("a.png", 100)], max_bytes=100, max_files=5) != []
    assert media_files.check_files([("a.png", 1)] * 6, max_bytes=100, max_files=5) == [
        "At most 5 files can be uploaded at once, got 6."
    ]


@pytest.mark.parametrize(
    ("filename", "kind"),
    [
        ("t.json", "tasks"),
        ("t.CSV", "tasks"),
        ("t.txt", "tasks"),
        ("p.html", "hypertext"),
        ("p.xml", "hypertext"),
        ("i.webp", "media"),
        ("s.flac", "media"),
        ("v.webm", "media"),
    ],
)
def test_kind(filename, kind):
    assert media_files.kind(filename) == kind


def test_served_as_never_shows_a_scriptable_type_inline():
    assert media_files.served_as("a-cat.png") == media_files.Serving("image/png", None, None)
    assert media_files.served_as("a-clip.MP3").content_type == "audio/mpeg"
    svg = media_files.served_as("a-logo.svg")
    assert svg.content_type == "image/svg+xml"
    assert svg.disposition == 'attachment; filename="a-logo.svg"'
    assert svg.policy is not None and "sandbox" in svg.policy and "default-src 'none'" in svg.policy
    odd = media_files.served_as("a-page.html")  # never stored as media, but never inline either
    assert odd.content_type == "application/octet-stream" and odd.disposition and odd.policy
    assert (
        media_files.served_as("a-caf\u00e9.svg").disposition == "attachment; filename*=utf-8''a-caf%C3%A9.svg"
    )

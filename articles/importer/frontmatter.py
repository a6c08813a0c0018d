"""Front matter: YAML read strictly, with a line-by-line fallback for what the crawler wrote; dates."""

import datetime
import re
import zoneinfo

import yaml

# libyaml when available; BaseLoader keeps every scalar a string, so `date` and numeric titles
# arrive exactly as written.
YAML_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
KNOWN_KEYS = ("layout", "title", "date", "categories", "category", "tags", "published")
# The old site's zone: a date written without an offset is Shanghai time, whatever TIME_ZONE says.
OLD_SITE_ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")

FENCE = re.compile(r"^---[ \t]*$", re.MULTILINE)
# `key: value` where value is a YAML plain scalar (no indicator first, no `: ` or ` #` inside) or a
# double-quoted one without escapes; both then mean exactly their text. Possessive quantifiers keep it
# linear on long runs of spaces: a plain value takes its trailing spaces, which the reader strips.
SIMPLE_LINE = re.compile(
    r"(?P<key>[A-Za-z_][A-Za-z0-9_]*):"
    r"(?:[ \t]++(?:\"(?P<quoted>[^\"\\]*+)\"|(?P<plain>[^\s\-?:,\[\]{}#&*!|>'\"%@`](?:[^:#]|:(?=\S)|(?<=\S)#)*+)))?"
    r"[ \t]*+"
)
# Values are taken to the end of the line and stripped: a lazy `(.*?)[ \t]*$` is quadratic in runs of spaces.
KEY_LINE = re.compile(rf"^(?P<key>{'|'.join(KNOWN_KEYS)})[ \t]*+:(?P<value>.*)")
LIST_ITEM = re.compile(r"^[ \t]*+-[ \t](?P<value>.*)")
DATE = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,6}))?)?)?"
    r"[ \t]*(?P<offset>Z|[+-]\d{2}:?\d{2})?"
)
OFFSET_ONLY = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})?")
DIGITS_DATE = re.compile(r"[A-Za-z]*(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})")


class PostFileError(ValueError):
    """A file that cannot be imported; the message says precisely why."""


def split_front_matter(text):
    """`(front matter, body)` of a post's text (newlines already `\\n`); blank lines may precede the fence."""
    stripped = text.lstrip(" \t\n")
    if not stripped:
        raise PostFileError("empty file")
    opening = FENCE.match(stripped)
    if not opening:
        # Not quoted: a file that is no post may hold anything (a symlinked /etc/passwd, say).
        raise PostFileError("no front matter: the file does not start with a '---' line")
    closing = FENCE.search(stripped, opening.end())
    if not closing:
        raise PostFileError("unterminated front matter: no closing '---' line")
    return stripped[opening.end() : closing.start()], stripped[closing.end() :].removeprefix("\n")


def read_front_matter(front):
    """The known keys as strings or lists of strings, and a note when the YAML was invalid.

    The crawler wrote titles with unescaped inner quotes, so strict YAML parsing falls back to
    reading `key: value` lines rather than rejecting the post.
    """
    if simple := _read_simple(front):
        return simple, None
    try:
        data = yaml.load(front, Loader=YAML_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).split("\n", 1)[0]
        return _read_lines(front), f"front matter is not valid YAML ({problem}{where}); read it line by line"
    if data is None:
        return {}, None
    if not isinstance(data, dict):
        return _read_lines(front), "front matter is not a YAML mapping; read it line by line"
    return {key: data[key] for key in KNOWN_KEYS if key in data}, None


def _read_simple(front):
    """The front matter as YAML reads it, when every line is a `key: plain` or `key: "quoted"` pair.

    That is the crawler's usual output, and this reading is a fraction of a YAML parse; any other
    line (lists, escapes, comments, inner quotes) returns None and the front matter goes to YAML.
    """
    values = {}
    for line in front.split("\n"):
        match = SIMPLE_LINE.fullmatch(line)
        if match is None:
            if line.strip():
                return None
            continue
        value = match["quoted"] if match["quoted"] is not None else (match["plain"] or "").rstrip(" \t")
        values[match["key"]] = value
    return {key: values[key] for key in KNOWN_KEYS if key in values} or None


def _read_lines(front):
    values = {}
    current = None
    for line in front.split("\n"):
        if match := KEY_LINE.match(line):
            current = match["key"]
            values[current] = _unquote_scalar(match["value"].strip(" \t"))
        elif current and (item := LIST_ITEM.match(line)):
            previous = values.get(current)
            items = previous if isinstance(previous, list) else [previous] if previous else []
            values[current] = [*items, _unquote_scalar(item["value"].strip(" \t"))]
    return values


def _unquote_scalar(value, *, nested=False):
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    if value.startswith("[") and value.endswith("]"):
        # One level is read; deeper lists are no title, date, category or tag, and reading them by
        # recursion would let a deep enough one exhaust the stack.
        return (
            []
            if nested
            else [_unquote_scalar(item.strip(), nested=True) for item in value[1:-1].split(",") if item.strip()]
        )
    return value


def parse_date(value):
    """An aware datetime, or None when the value is empty (or only an offset, as in `date:  +0800`)."""
    value = (value or "").strip()
    if OFFSET_ONLY.fullmatch(value):
        return None
    match = DATE.fullmatch(value)
    if not match:
        raise PostFileError(f"unparseable date {value!r}")
    offset = match["offset"]
    parts = [int(match[name] or 0) for name in ("year", "month", "day", "hour", "minute", "second")]
    parts.append(int((match["fraction"] or "0").ljust(6, "0")))
    if not offset:
        zone = OLD_SITE_ZONE
    elif offset == "Z":
        zone = datetime.UTC
    else:
        shift = datetime.timedelta(hours=int(offset[1:3]), minutes=int(offset[-2:]))
        if shift >= datetime.timedelta(hours=24):
            raise PostFileError(f"unparseable date {value!r}: the offset is not within 24 hours")
        zone = datetime.timezone(-shift if offset[0] == "-" else shift)
    try:
        return datetime.datetime(*parts, tzinfo=zone)
    except ValueError as error:
        raise PostFileError(f"unparseable date {value!r}: {error}") from None


def date_from_key(key):
    """Midnight, Shanghai time, of the `YYYYMMDD` that info codes and file ids start with, or None."""
    match = DIGITS_DATE.match(key)
    if not match:
        return None
    try:
        return datetime.datetime(int(match["y"]), int(match["m"]), int(match["d"]), tzinfo=OLD_SITE_ZONE)
    except ValueError:
        return None

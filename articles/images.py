"""Lead images: upload checks, renditions, Open Graph crops and generated share cards.

Nothing here runs during a reader's request. An upload is checked and re-encoded when the admin form is
submitted (prepare_upload); renditions, the 1200×630 crop and share cards are made by a background job
(articles/tasks.py) through Django's storage API, so they land on local disk or in an S3 bucket alike.
The job records what it made on the post (Post.image_files), and pages read that record: they never ask
the storage what exists.

Derived files have fixed names: renditions and the crop live beside each other under
`renditions/<image path without extension>/`, a card under `cards/<post id>/<digest of what it shows>.png`.
A file is only ever referenced once it is stored whole, and removed only once no post refers to it.
"""

import contextlib
import hashlib
import io
import logging
import shutil
import subprocess
import warnings
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

MB = 1024 * 1024
# Real format → the extension the stored file gets, whatever the upload was called.
ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "MPO": "jpg"}
# Formats stored as another: a phone's multi-picture JPEG keeps its main picture as a plain JPEG.
STORED_FORMAT = {"MPO": "JPEG"}
RENDITION_WIDTHS = (320, 640, 1280)
RENDITION_FORMATS = (("webp", "WEBP"), ("jpg", "JPEG"))
OG_SIZE = (1200, 630)
RENDITION_ROOT = "renditions"
CARD_ROOT = "cards"
# The site's own 1200×630 card (under static/), shared for a post whose own is not made yet.
DEFAULT_CARD = "img/share-card.png"
KNOWN_CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
)
# The only ancillary data an upload keeps: a palette image's transparent colour is part of the picture.
KEPT_INFO = ("transparency",)
# How Pillow's ValueErrors name its caps on inflating PNG metadata (zTXt, iTXt, iCCP): one chunk past
# MAX_TEXT_CHUNK, or all of them past MAX_TEXT_MEMORY. Zip bombs in a chunk, not broken pictures.
PILLOW_METADATA_CAPS = ("decompressed data too large", "too much memory used in text chunks")
CARD_BACKGROUND = (18, 38, 63)
CARD_ACCENT = (200, 16, 46)
CARD_TEXT = (255, 255, 255)
CARD_MUTED = (170, 184, 204)


class UnreadableImage(Exception):
    """A stored lead image that is missing or cannot be decoded: retrying the job would not help."""


def prepare_upload(upload):
    """Check that `upload` is a real JPEG/PNG/WebP/GIF within the size limits; return it re-encoded.

    The returned file is one still picture (an animation keeps its first frame, which is what readers
    see), upright (EXIF orientation applied), carries no EXIF/XMP/comments/text chunks and is named with
    the extension of its real format. Raises ValidationError saying what is wrong.
    """
    max_bytes, max_pixels = settings.LEAD_IMAGE_MAX_BYTES, settings.LEAD_IMAGE_MAX_PIXELS
    if upload.size > max_bytes:
        raise ValidationError(
            f"图片文件过大（{upload.size / MB:.1f} MB），上限为 {max_bytes / MB:.0f} MB。", code="too_large"
        )
    upload.seek(0)
    not_an_image = ValidationError(
        "文件不是可识别的图片：只接受真实的 JPEG、PNG、WebP 或 GIF 图片（按内容检查，而不是扩展名）。",
        code="not_an_image",
    )
    corrupt = ValidationError("图片文件已损坏或不完整，无法解码。", code="corrupt")
    with _decoding_errors(not_an_image), warnings.catch_warnings():
        # Pillow only warns below twice its own limit; ours is lower and checked next.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(upload)
    with image:
        if image.format not in ALLOWED_FORMATS:
            raise ValidationError(
                f"不支持 {image.format} 格式：只接受 JPEG、PNG、WebP 或 GIF。", code="unsupported_format"
            )
        if image.width * image.height > max_pixels:
            raise ValidationError(_too_many_pixels_message(image.size, max_pixels), code="too_many_pixels")
        with _decoding_errors(corrupt):
            # Counting frames reads their headers only; nothing is decoded yet.
            frames = getattr(image, "n_frames", 1)
        if frames * image.width * image.height > max_pixels:
            # Each frame costs decoding time and memory, so an animation's frames share one budget.
            raise ValidationError(
                f"动图帧数过多（{frames} 帧，每帧 {image.width}×{image.height}）：所有帧合计上限为 "
                f"{max_pixels / 1_000_000:.0f} 百万像素。请上传静态图片或更小的动图。",
                code="too_many_pixels",
            )
        with _decoding_errors(corrupt):
            image.load()
            content = _reencode(image)
    stem = PurePosixPath(upload.name or "image").stem or "image"
    return ContentFile(content, name=f"{stem}.{ALLOWED_FORMATS[image.format]}")


@contextlib.contextmanager
def _decoding_errors(error):
    """Turn what Pillow raises on hostile or broken input into `error`, or a more precise ValidationError.

    Pillow reports broken files through many exception types (OSError, SyntaxError, struct.error,
    EOFError, IndexError…); any of them means that this one upload is bad, never that the site is.
    """
    try:
        yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        max_pixels = settings.LEAD_IMAGE_MAX_PIXELS
        raise ValidationError(_too_many_pixels_message(None, max_pixels), code="too_many_pixels") from None
    except ValueError as value_error:
        if not any(cap in str(value_error).lower() for cap in PILLOW_METADATA_CAPS):
            raise error from value_error
        raise ValidationError(
            "图片的元数据块（如 PNG 的 zTXt、iTXt 或 iCCP）解压后过大，可能是恶意文件，已拒绝。",
            code="metadata_too_large",
        ) from None
    except Exception as other:
        logger.info("Refused an image upload: %s: %s", type(other).__name__, other)
        raise error from other


def _too_many_pixels_message(size, max_pixels):
    found = f"（{size[0]}×{size[1]}）" if size else ""
    return f"图片像素过多{found}，可能是解压炸弹：上限为 {max_pixels / 1_000_000:.0f} 百万像素。"


def _reencode(image):
    """The loaded (first) frame saved afresh: upright, and with no metadata but its colour profile."""
    fmt = STORED_FORMAT.get(image.format, image.format)
    icc_profile = image.info.get("icc_profile")
    lossless = image.info.get("lossless", False)
    upright = ImageOps.exif_transpose(image)
    # Pillow writes some of `info` back out (a GIF's or JPEG's comment, for one), so keep only the picture.
    upright.info = {key: value for key, value in upright.info.items() if key in KEPT_INFO}
    if upright.mode == "CMYK":
        # Browsers render CMYK JPEGs inconsistently; the CMYK profile would not fit RGB pixels either.
        upright, icc_profile = upright.convert("RGB"), None
    options = {"icc_profile": icc_profile} if icc_profile and fmt != "GIF" else {}
    if fmt == "JPEG":
        options.update(quality=90, optimize=True, progressive=True)
    elif fmt == "WEBP":
        options.update(quality=90, lossless=lossless)
    else:
        options.update(optimize=True)
    out = io.BytesIO()
    upright.save(out, fmt, **options)
    return out.getvalue()


@dataclass(frozen=True)
class Rendition:
    """One stored copy of a lead image, as `srcset` lists it."""

    name: str
    width: int
    height: int
    format: str

    @property
    def url(self):
        return default_storage.url(self.name)


@dataclass(frozen=True)
class Picture:
    """A lead image as a `<picture>` lists it: a WebP source and a JPEG `<img>`, each with a srcset.

    Until the renditions are made (`resized` false) the picture is the original alone: no srcset, the
    original as the `<img>`.
    """

    renditions: list[Rendition]
    resized: bool = True

    def srcset(self, fmt):
        if not self.resized:
            return ""
        return ", ".join(f"{r.url} {r.width}w" for r in self.renditions if r.format == fmt)

    @property
    def webp_srcset(self):
        return self.srcset("webp")

    @property
    def jpeg_srcset(self):
        return self.srcset("jpg")

    @property
    def fallback(self):
        """The `<img>` for browsers without srcset: the 640 px JPEG, or the widest below that."""
        if not self.resized:
            return self.renditions[0]
        jpegs = [r for r in self.renditions if r.format == "jpg"]
        return next((r for r in reversed(jpegs) if r.width <= 640), jpegs[0])

    @property
    def width(self):
        return self.renditions[-1].width

    @property
    def height(self):
        return self.renditions[-1].height


def picture(files, image_name, width, height):
    """The Picture of the stored lead image `image_name` (`width`×`height`), from the post's record of its
    files (`files`, Post.image_files): its renditions once made, else the original. None without a size."""
    if files and files.get("image") == image_name and files.get("renditions"):
        return Picture([Rendition(**r) for r in files["renditions"]])
    if not width or not height:
        return None
    return Picture([Rendition(image_name, width, height, PurePosixPath(image_name).suffix.lstrip("."))], False)


def rendition_dir(image_name):
    """Where renditions of the stored image `image_name` live: `lead/2024/05/a.jpg` → `renditions/lead/2024/05/a`."""
    return f"{RENDITION_ROOT}/{PurePosixPath(image_name).with_suffix('')}"


def share_name(post_id, image_name, title, source_id, published_at):
    """The name of a post's 1200×630 share image: its lead image's crop, else a card of its title, source and
    date, named after what it shows so that a change to any of them makes a new card."""
    if image_name:
        return f"{rendition_dir(image_name)}/og.jpg"
    shown = f"{title}\n{source_id or ''}\n{_card_date(published_at)}"
    return f"{CARD_ROOT}/{post_id}/{hashlib.sha256(shown.encode()).hexdigest()[:16]}.png"


def file_names(files):
    """Every derived file a record (Post.image_files) names: renditions and the share image."""
    if not files:
        return set()
    return {*(r["name"] for r in files.get("renditions", ())), *filter(None, [files.get("share")])}


def planned_renditions(image_name, width, height):
    """The renditions of a `width`×`height` image: 320/640/1280 px wide (never upscaled), WebP and JPEG."""
    folder = rendition_dir(image_name)
    return [
        Rendition(f"{folder}/{w}.{ext}", w, max(1, round(height * w / width)), ext)
        for w in sorted({min(w, width) for w in RENDITION_WIDTHS})
        for ext, _ in RENDITION_FORMATS
    ]


def make_files(post, source_name, storage, known=()):
    """Store whatever of `post`'s renditions and share image is missing; return the record of them all
    (what Post.image_files keeps). Files named in `known` are taken as stored; others are looked up, so a
    job retried after a crash reuses what it had finished."""
    image_name = post.lead_image.name or ""
    share = share_name(post.pk, image_name, post.title, post.source_id, post.published_at)
    if not image_name:
        if share not in known and not storage.exists(share):
            card = draw_card(post.title, source_name, _card_date(post.published_at))
            share = _store(storage, share, card, "PNG")
        return {"image": "", "renditions": [], "share": share}
    source = _Source(storage, image_name)
    width, height = post.lead_image_width or source.image.width, post.lead_image_height or source.image.height
    renditions = []
    for rendition in planned_renditions(image_name, width, height):
        if rendition.name not in known and not storage.exists(rendition.name):
            resized = source.image.resize((rendition.width, rendition.height), Image.Resampling.LANCZOS)
            stored = _store(storage, rendition.name, resized, dict(RENDITION_FORMATS)[rendition.format])
            rendition = Rendition(stored, rendition.width, rendition.height, rendition.format)
        renditions.append(asdict(rendition))
    if share not in known and not storage.exists(share):
        share = _store(storage, share, ImageOps.fit(source.image, OG_SIZE, Image.Resampling.LANCZOS), "JPEG")
    return {"image": image_name, "renditions": renditions, "share": share}


class _Source:
    """The stored lead image, read and decoded on first use only: a retry with every file done reads nothing."""

    def __init__(self, storage, name):
        self.storage, self.name = storage, name
        self._image = None

    @property
    def image(self):
        if self._image is None:
            # Other storage errors (OSError, S3's) pass through and the job retries; a missing or bad image
            # would not improve.
            try:
                with self.storage.open(self.name) as stored:
                    data = stored.read()
            except FileNotFoundError as error:
                raise UnreadableImage(f"{self.name} is missing from the storage") from error
            try:
                self._image = _open_upright(data)
            except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as error:
                raise UnreadableImage(f"{self.name}: {error}") from error
        return self._image


def _open_upright(data):
    """The image's first frame, upright, in RGB (RGBA when it has transparency)."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (max(RENDITION_WIDTHS), max(RENDITION_WIDTHS)))
        upright = ImageOps.exif_transpose(image)
        has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
        return upright.convert("RGBA" if has_alpha else "RGB")


def _store(storage, name, image, fmt):
    """Save `image` as `name` through `storage` (whole or not at all on either backend); return the name
    stored. JPEGs get transparent areas flattened onto white."""
    if fmt == "JPEG" and image.mode == "RGBA":
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    out = io.BytesIO()
    # PNG's optimize would cost a card four times its drawing for 3% fewer bytes.
    options = {"quality": 82, "optimize": True} if fmt in ("JPEG", "WEBP") else {}
    image.save(out, fmt, **options)
    return storage.save(name, ContentFile(out.getvalue()))


def _card_date(published_at):
    # The date readers see on the site: Beijing time, not UTC.
    return timezone.localtime(published_at).strftime("%Y-%m-%d")


def draw_card(title, source_name, date_text):
    """The card image; without a CJK font it has no text at all rather than boxes for missing glyphs."""
    card = Image.new("RGB", OG_SIZE, CARD_BACKGROUND)
    draw = ImageDraw.Draw(card)
    draw.rectangle([(0, 0), (24, OG_SIZE[1])], fill=CARD_ACCENT)
    font_path = find_cjk_font(settings.SHARE_CARD_FONT)
    if font_path is None:
        logger.warning(
            "No CJK font found for share cards (SHARE_CARD_FONT=%r); drawing cards without text. "
            "Install fonts-wqy-microhei or fonts-noto-cjk.",
            settings.SHARE_CARD_FONT,
        )
        return card
    brand = ImageFont.truetype(font_path, 36)
    headline = ImageFont.truetype(font_path, 64)
    byline = ImageFont.truetype(font_path, 32)
    draw.text((80, 60), settings.SITE_NAME, font=brand, fill=CARD_ACCENT)
    for n, line in enumerate(wrap_text(title, headline, max_width=1040, max_lines=4)):
        draw.text((80, 150 + n * 88), line, font=headline, fill=CARD_TEXT)
    draw.text((80, 540), " · ".join(filter(None, [source_name, date_text])), font=byline, fill=CARD_MUTED)
    return card


def wrap_text(text, font, max_width, max_lines):
    """Break `text` into lines no wider than `max_width` pixels, character by character (Chinese has no
    spaces), ending the last line with `…` when it does not fit."""
    lines, line = [], ""
    for char in text:
        if font.getlength(line + char) > max_width:
            lines.append(line)
            line = char.lstrip()
        else:
            line += char
    lines.append(line)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and font.getlength(last + "…") > max_width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last + "…"]
    return lines


@lru_cache(maxsize=8)
def find_cjk_font(configured=""):
    """The path of a font that has Chinese glyphs: `configured` if given, else one fontconfig or the usual
    Debian/macOS locations know of; None when there is none."""
    candidates = [configured] if configured else [*_fontconfig_cjk_fonts(), *KNOWN_CJK_FONTS]
    return next((path for path in candidates if has_cjk_glyphs(path)), None)


def _fontconfig_cjk_fonts():
    if not shutil.which("fc-list"):
        return []
    try:
        result = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted(line.split(":", 1)[0].strip() for line in result.stdout.splitlines() if line.strip())


def has_cjk_glyphs(font_path):
    """Whether the font draws `中` differently from a code point no font has (its missing-glyph box)."""
    try:
        font = ImageFont.truetype(font_path, 32)
    except OSError:
        return False
    chinese, missing = font.getmask("中"), font.getmask("\U000f0000")
    return chinese.size != missing.size or bytes(chinese) != bytes(missing)

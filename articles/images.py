"""Lead images: upload checks, renditions, Open Graph images and generated share cards.

Renditions and cards are caches on disk under MEDIA_ROOT: made once, on first need, and removed with the
image or post they belong to. They are written to a temporary file and renamed into place, so two requests
making the same file at once cannot leave a half-written one.
"""

import hashlib
import io
import logging
import os
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

MB = 1024 * 1024
# Real format → the extension the stored file gets, whatever the upload was called.
ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
RENDITION_WIDTHS = (320, 640, 1280)
RENDITION_FORMATS = (("webp", "WEBP"), ("jpg", "JPEG"))
OG_SIZE = (1200, 630)
RENDITION_ROOT = "renditions"
CARD_ROOT = "cards"
KNOWN_CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
)
CARD_BACKGROUND = (18, 38, 63)
CARD_ACCENT = (200, 16, 46)
CARD_TEXT = (255, 255, 255)
CARD_MUTED = (170, 184, 204)


def prepare_upload(upload):
    """Check that `upload` is a real JPEG/PNG/WebP/GIF within the size limits; return it re-encoded.

    The returned file is upright (EXIF orientation applied), carries no EXIF/XMP/comments and is named
    with the extension of its real format. Raises ValidationError saying what is wrong.
    """
    max_bytes, max_pixels = settings.LEAD_IMAGE_MAX_BYTES, settings.LEAD_IMAGE_MAX_PIXELS
    if upload.size > max_bytes:
        raise ValidationError(
            f"图片文件过大（{upload.size / MB:.1f} MB），上限为 {max_bytes / MB:.0f} MB。", code="too_large"
        )
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its own limit; ours is lower and checked next.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(_too_many_pixels_message(None, max_pixels), code="too_many_pixels") from None
    except (UnidentifiedImageError, OSError):
        raise ValidationError(
            "文件不是可识别的图片：只接受真实的 JPEG、PNG、WebP 或 GIF 图片（按内容检查，而不是扩展名）。",
            code="not_an_image",
        ) from None
    with image:
        if image.format not in ALLOWED_FORMATS:
            raise ValidationError(
                f"不支持 {image.format} 格式：只接受 JPEG、PNG、WebP 或 GIF。", code="unsupported_format"
            )
        if image.width * image.height > max_pixels:
            raise ValidationError(_too_many_pixels_message(image.size, max_pixels), code="too_many_pixels")
        try:
            image.load()
        except OSError:
            raise ValidationError("图片文件已损坏或不完整，无法解码。", code="corrupt") from None
        content = _reencode(image)
    stem = PurePosixPath(upload.name or "image").stem or "image"
    return ContentFile(content, name=f"{stem}.{ALLOWED_FORMATS[image.format]}")


def _too_many_pixels_message(size, max_pixels):
    found = f"（{size[0]}×{size[1]}）" if size else ""
    return f"图片像素过多{found}，可能是解压炸弹：上限为 {max_pixels / 1_000_000:.0f} 百万像素。"


def _reencode(image):
    """The image saved afresh in its own format: upright, and with no metadata but its colour profile."""
    out = io.BytesIO()
    if image.format == "GIF":
        # GIFs carry no EXIF; re-saving keeps their frames and drops comments and extensions.
        image.save(out, "GIF", save_all=getattr(image, "is_animated", False), optimize=True)
        return out.getvalue()
    upright = ImageOps.exif_transpose(image)
    icc_profile = image.info.get("icc_profile")
    if upright.mode == "CMYK":
        # Browsers render CMYK JPEGs inconsistently; the CMYK profile would not fit RGB pixels either.
        upright, icc_profile = upright.convert("RGB"), None
    options = {"icc_profile": icc_profile} if icc_profile else {}
    if image.format == "JPEG":
        options.update(quality=90, optimize=True, progressive=True)
    elif image.format == "WEBP":
        options.update(quality=90, lossless=image.info.get("lossless", False))
    else:
        options.update(optimize=True)
    upright.save(out, image.format, **options)
    return out.getvalue()


@dataclass(frozen=True)
class Rendition:
    """One resized copy of a lead image, as `srcset` lists it."""

    name: str
    width: int
    height: int
    format: str

    @property
    def url(self):
        return default_storage.url(self.name)


def rendition_dir(image_name):
    """Where renditions of the stored image `image_name` live: `lead/2024/05/a.jpg` → `renditions/lead/2024/05/a`."""
    return f"{RENDITION_ROOT}/{PurePosixPath(image_name).with_suffix('')}"


@dataclass(frozen=True)
class Picture:
    """A lead image's renditions, as a `<picture>` with a WebP source and a JPEG `<img>` lists them."""

    renditions: list[Rendition]

    def srcset(self, fmt):
        return ", ".join(f"{r.url} {r.width}w" for r in self.renditions if r.format == fmt)

    @property
    def webp_srcset(self):
        return self.srcset("webp")

    @property
    def jpeg_srcset(self):
        return self.srcset("jpg")

    @property
    def fallback(self):
        """The JPEG for browsers without srcset: 640 px wide, or the widest below that."""
        jpegs = [r for r in self.renditions if r.format == "jpg"]
        return next((r for r in reversed(jpegs) if r.width <= 640), jpegs[0])

    @property
    def width(self):
        return self.renditions[-1].width

    @property
    def height(self):
        return self.renditions[-1].height


def picture(image_name, width, height):
    """The Picture of a stored image: renditions 320/640/1280 px wide (never upscaled), WebP and JPEG, made
    if missing. `width`/`height` are the original's size. Once they exist this costs one file-system stat."""
    folder = rendition_dir(image_name)
    widths = sorted({min(w, width) for w in RENDITION_WIDTHS})
    planned = [
        Rendition(f"{folder}/{w}.{ext}", w, max(1, round(height * w / width)), ext)
        for w in widths
        for ext, _ in RENDITION_FORMATS
    ]
    # Written in order, so the last one existing means all do.
    if not _media_path(planned[-1].name).exists():
        with _open_upright(image_name) as image:
            for rendition in planned:
                fmt = dict(RENDITION_FORMATS)[rendition.format]
                _save(image.resize((rendition.width, rendition.height), Image.Resampling.LANCZOS), rendition.name, fmt)
    return Picture(planned)


def og_image(image_name):
    """A 1200×630 JPEG of the image, cropped around its centre, for Open Graph and social cards."""
    name = f"{rendition_dir(image_name)}/og.jpg"
    if not _media_path(name).exists():
        with _open_upright(image_name) as image:
            _save(ImageOps.fit(image, OG_SIZE, Image.Resampling.LANCZOS), name, "JPEG")
    return name


def delete_renditions(image_name):
    """Remove every rendition and the Open Graph image made from `image_name` (the original stays)."""
    shutil.rmtree(_media_path(rendition_dir(image_name)), ignore_errors=True)


def remove_post_files(sender, instance, **kwargs):
    """post_delete for Post: once the deletion is committed, remove its lead image, renditions and cards."""
    # Captured now: Django clears the instance's pk once the deletion is done.
    post_id, image_name = instance.pk, instance.lead_image.name

    def remove():
        delete_share_cards(post_id)
        if image_name:
            delete_renditions(image_name)
            instance.lead_image.storage.delete(image_name)

    transaction.on_commit(remove)


def share_card(post_id, title, source_name_getter, published_at):
    """A generated 1200×630 PNG card for a post without a lead image: title, source and date in a CJK font.

    Cards are named after what they show, so editing the title makes a new card; older cards of the post
    are removed then. `source_name_getter` is only called when a card must be drawn.
    """
    date_text = published_at.strftime("%Y-%m-%d")
    digest = hashlib.sha256(f"{title}\n{date_text}".encode()).hexdigest()[:16]
    folder = f"{CARD_ROOT}/{post_id}"
    name = f"{folder}/{digest}.png"
    if not _media_path(name).exists():
        delete_share_cards(post_id)
        _save(draw_card(title, source_name_getter(), date_text), name, "PNG")
    return name


def delete_share_cards(post_id):
    shutil.rmtree(_media_path(f"{CARD_ROOT}/{post_id}"), ignore_errors=True)


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


def _open_upright(image_name):
    """The stored image's first frame, upright, in RGB (RGBA when it has transparency)."""
    with default_storage.open(image_name) as stored, Image.open(stored) as image:
        image.draft("RGB", (max(RENDITION_WIDTHS), max(RENDITION_WIDTHS)))
        upright = ImageOps.exif_transpose(image)
        has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
        return upright.convert("RGBA" if has_alpha else "RGB")


def _save(image, name, fmt):
    """Write `image` to MEDIA_ROOT/`name` atomically; JPEGs get transparent areas flattened onto white."""
    if fmt == "JPEG" and image.mode == "RGBA":
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    path = _media_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=path.suffix, delete=False) as tmp:
        options = {"quality": 82, "optimize": True} if fmt in ("JPEG", "WEBP") else {"optimize": True}
        image.save(tmp, fmt, **options)
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, path)


def _media_path(name):
    return Path(settings.MEDIA_ROOT) / name

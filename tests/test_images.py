"""Lead-image uploads, renditions, Open Graph images and share cards."""

import io
import logging
import struct
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from PIL import Image

from articles import images

pytestmark = pytest.mark.django_db

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def image_bytes(size=(800, 600), mode="RGB", fmt="JPEG", color=(200, 30, 30), **save_options):
    image = Image.new(mode, size, color)
    out = io.BytesIO()
    image.save(out, fmt, **save_options)
    return out.getvalue()


def upload(content, name="photo.jpg"):
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


def png_header_only(width, height):
    """A PNG that declares `width`×`height` pixels in a few dozen bytes: a decompression bomb's shape."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")
    )


def open_image(content):
    return Image.open(io.BytesIO(content))


def media(settings, name):
    return Path(settings.MEDIA_ROOT) / name


@pytest.fixture
def post_with_image(published_post):
    """A published post whose lead image is a 2000×1000 JPEG."""
    published_post.lead_image.save("lead.jpg", ContentFile(image_bytes((2000, 1000)), name="lead.jpg"), save=True)
    return published_post


def test_upload_is_reencoded_upright_without_exif():
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to view
    exif[0x010F] = "Secret Camera Co."
    prepared = images.prepare_upload(upload(image_bytes((400, 200), exif=exif.tobytes())))

    stored = open_image(prepared.read())
    assert stored.size == (200, 400)
    assert not stored.getexif()
    assert b"Secret Camera" not in prepared.read()


def test_text_file_with_an_image_extension_is_refused():
    with pytest.raises(ValidationError, match="不是可识别的图片") as error:
        images.prepare_upload(upload(b"<?php echo 'hello'; ?>", name="innocent.jpg"))
    assert error.value.code == "not_an_image"


def test_real_format_decides_the_stored_extension():
    prepared = images.prepare_upload(upload(image_bytes(fmt="PNG"), name="photo.jpg"))
    assert prepared.name == "photo.png"
    assert open_image(prepared.read()).format == "PNG"


def test_formats_other_than_jpeg_png_webp_gif_are_refused():
    with pytest.raises(ValidationError, match="不支持 BMP 格式"):
        images.prepare_upload(upload(image_bytes(fmt="BMP"), name="scan.jpg"))


@pytest.mark.parametrize("size", [(8000, 8000), (100_000, 100_000)])
def test_decompression_bomb_is_refused_before_decoding(size):
    with pytest.raises(ValidationError, match=r"图片像素过多.*解压炸弹.*40 百万像素") as error:
        images.prepare_upload(upload(png_header_only(*size), name="bomb.png"))
    assert error.value.code == "too_many_pixels"


def test_file_over_the_size_limit_is_refused(settings):
    settings.LEAD_IMAGE_MAX_BYTES = 20_000
    noisy = Image.effect_noise((400, 400), 80).convert("RGB")
    content = io.BytesIO()
    noisy.save(content, "PNG")
    with pytest.raises(ValidationError, match=r"图片文件过大（0\.\d MB）") as error:
        images.prepare_upload(upload(content.getvalue(), name="big.png"))
    assert error.value.code == "too_large"


def test_truncated_image_is_refused():
    content = io.BytesIO()
    Image.effect_noise((400, 400), 80).convert("RGB").save(content, "JPEG")
    with pytest.raises(ValidationError, match="已损坏或不完整"):
        images.prepare_upload(upload(content.getvalue()[:5000]))


def test_cmyk_jpeg_is_stored_as_rgb():
    prepared = images.prepare_upload(upload(image_bytes(mode="CMYK", color=(0, 255, 255, 0))))
    stored = open_image(prepared.read())
    assert (stored.format, stored.mode) == ("JPEG", "RGB")
    red, green, blue = stored.getpixel((10, 10))
    assert red > 200 and green < 80 and blue < 80


def test_png_alpha_is_kept_and_flattened_onto_white_in_jpeg_renditions(published_post, settings):
    transparent = image_bytes((700, 350), mode="RGBA", fmt="PNG", color=(0, 0, 0, 0))
    prepared = images.prepare_upload(upload(transparent, name="logo.png"))
    assert open_image(prepared.read()).mode == "RGBA"

    published_post.lead_image.save(prepared.name, prepared, save=True)
    renditions = {(r.width, r.format): r for r in published_post.lead_picture.renditions}
    jpeg = Image.open(media(settings, renditions[(640, "jpg")].name))
    webp = Image.open(media(settings, renditions[(640, "webp")].name))
    assert jpeg.getpixel((5, 5)) == (255, 255, 255)
    assert webp.mode == "RGBA" and webp.getpixel((5, 5))[3] == 0


def test_animated_gif_keeps_its_frames():
    frames = [Image.new("RGB", (40, 40), color) for color in ("red", "green", "blue")]
    content = io.BytesIO()
    frames[0].save(content, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    prepared = images.prepare_upload(upload(content.getvalue(), name="chart.gif"))
    assert open_image(prepared.read()).n_frames == 3


def test_renditions_are_made_once_at_three_widths_in_webp_and_jpeg(post_with_image, settings):
    picture = post_with_image.lead_picture
    assert [(r.width, r.height, r.format) for r in picture.renditions] == [
        (320, 160, "webp"),
        (320, 160, "jpg"),
        (640, 320, "webp"),
        (640, 320, "jpg"),
        (1280, 640, "webp"),
        (1280, 640, "jpg"),
    ]
    for rendition in picture.renditions:
        made = Image.open(media(settings, rendition.name))
        assert made.size == (rendition.width, rendition.height)
        assert made.format == {"webp": "WEBP", "jpg": "JPEG"}[rendition.format]

    first = media(settings, picture.renditions[0].name).stat().st_mtime_ns
    assert post_with_image.lead_picture == picture
    assert media(settings, picture.renditions[0].name).stat().st_mtime_ns == first


def test_small_image_is_not_upscaled(published_post):
    published_post.lead_image.save("small.jpg", ContentFile(image_bytes((500, 250)), name="small.jpg"), save=True)
    assert sorted({r.width for r in published_post.lead_picture.renditions}) == [320, 500]


def test_replacing_the_image_removes_the_old_renditions(post_with_image, settings, django_capture_on_commit_callbacks):
    old_name = post_with_image.lead_image.name
    old_renditions = [r.name for r in post_with_image.lead_picture.renditions]
    og = images.og_image(old_name)

    with django_capture_on_commit_callbacks(execute=True):
        post_with_image.lead_image.save("new.jpg", ContentFile(image_bytes((900, 600)), name="new.jpg"), save=True)

    assert not any(media(settings, name).exists() for name in [*old_renditions, og])
    # The original stays, since earlier versions in the history point at it.
    assert media(settings, old_name).exists()
    assert post_with_image.lead_picture.renditions[-1].width == 900


def test_clearing_the_image_removes_its_renditions(post_with_image, settings, django_capture_on_commit_callbacks):
    renditions = [r.name for r in post_with_image.lead_picture.renditions]
    with django_capture_on_commit_callbacks(execute=True):
        post_with_image.lead_image = ""
        post_with_image.save()
    assert not any(media(settings, name).exists() for name in renditions)


def test_deleting_the_post_removes_image_renditions_and_cards(
    post_with_image, make_post, settings, django_capture_on_commit_callbacks
):
    image_name = post_with_image.lead_image.name
    renditions = [r.name for r in post_with_image.lead_picture.renditions]
    imageless = make_post()
    card = imageless.og_image_url.removeprefix(settings.MEDIA_URL).lstrip("/")
    assert media(settings, card).exists()

    with django_capture_on_commit_callbacks(execute=True):
        post_with_image.delete()
        imageless.delete()

    assert not media(settings, image_name).exists()
    assert not any(media(settings, name).exists() for name in renditions)
    assert not media(settings, card).exists()


def test_og_image_of_a_post_with_a_lead_image_is_a_1200x630_crop(post_with_image, settings):
    url = post_with_image.og_image_url
    assert url.startswith("/media/renditions/") and url.endswith("/og.jpg")
    assert Image.open(media(settings, url.removeprefix("/media/"))).size == (1200, 630)


def test_unsaved_post_without_image_has_no_og_image(category):
    from articles.models import Post

    assert Post(title="未保存", category=category).og_image_url == ""


def text_pixels(card_path):
    """How many pixels of the card are (near) white, the colour of its title."""
    card = Image.open(card_path).convert("RGB")
    return sum(1 for pixel in card.get_flattened_data() if min(pixel) > 240)


def test_share_card_draws_title_in_a_cjk_font_once(make_post, settings):
    assert images.find_cjk_font("") is not None, "a CJK font (fonts-wqy-microhei) must be installed"
    post = make_post(title="算力底座不停歇！商汤临港智算中心有序复工，多家券商给出积极评级")
    url = post.og_image_url
    path = media(settings, url.removeprefix("/media/"))

    card = Image.open(path)
    assert (card.format, card.size) == ("PNG", (1200, 630))
    assert text_pixels(path) > 5_000
    first = path.stat().st_mtime_ns
    assert post.og_image_url == url
    assert path.stat().st_mtime_ns == first


def test_editing_the_title_makes_a_new_card_and_removes_the_old(make_post, settings):
    post = make_post(title="旧标题")
    old = media(settings, post.og_image_url.removeprefix("/media/"))
    post.title = "新标题"
    new = media(settings, post.og_image_url.removeprefix("/media/"))
    assert new != old and new.exists() and not old.exists()


@pytest.mark.parametrize("font", [DEJAVU, "/nonexistent/font.ttf"])
def test_without_a_cjk_font_the_card_has_no_text_and_says_so_in_the_log(font, make_post, settings, caplog):
    settings.SHARE_CARD_FONT = font
    post = make_post(title="没有中文字体时的卡片")
    with caplog.at_level(logging.WARNING, logger="articles.images"):
        path = media(settings, post.og_image_url.removeprefix("/media/"))
    assert text_pixels(path) == 0
    assert "No CJK font found for share cards" in caplog.text


def test_a_cjk_font_is_told_from_one_without_chinese_glyphs():
    assert images.has_cjk_glyphs("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
    assert not images.has_cjk_glyphs(DEJAVU)


def test_long_titles_wrap_and_end_with_an_ellipsis():
    from PIL import ImageFont

    font = ImageFont.truetype(images.find_cjk_font(""), 64)
    lines = images.wrap_text("长" * 100, font, max_width=1040, max_lines=4)
    assert len(lines) == 4
    assert lines[-1].endswith("…")
    assert all(font.getlength(line) <= 1040 for line in lines)


def test_lead_image_partial_lists_renditions_with_size_lazy_loading_and_alt(post_with_image):
    html = render_to_string("articles/_lead_image.html", {"post": post_with_image})
    picture = post_with_image.lead_picture
    assert f'srcset="{picture.webp_srcset}"' in html
    assert "320w" in html and "640w" in html and "1280w" in html
    assert 'type="image/webp"' in html
    assert 'width="1280" height="640"' in html
    assert 'loading="lazy"' in html
    assert f'alt="{post_with_image.title}"' in html
    assert f'src="{picture.fallback.url}"' in html and picture.fallback.width == 640


def test_lead_image_partial_is_empty_without_an_image(published_post):
    assert render_to_string("articles/_lead_image.html", {"post": published_post}).strip() == ""

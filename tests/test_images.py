"""Lead-image uploads, renditions, Open Graph crops and share cards, and what pages show of them."""

import datetime
import io
import logging
import random
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from PIL import Image, ImageFont, PngImagePlugin

from articles import images
from articles.models import Post
from articles.tasks import make_post_images

from .image_files import animated_gif, image_bytes, png_header_only, png_with_chunk, zip_bomb

pytestmark = pytest.mark.django_db

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DEFAULT_CARD_URL = "/static/img/share-card.png"


def upload(content, name="photo.jpg"):
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


def open_image(content):
    return Image.open(io.BytesIO(content))


def media(settings, name):
    return Path(settings.MEDIA_ROOT) / name


def media_files(settings):
    """Every file under MEDIA_ROOT, as names relative to it."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


@pytest.fixture
def post_with_image(published_post):
    """A published post whose lead image is a 2000×1000 JPEG, before the image job has run."""
    published_post.lead_image.save("lead.jpg", ContentFile(image_bytes((2000, 1000)), name="lead.jpg"), save=True)
    return published_post


# Uploads


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


def test_phone_multi_picture_jpeg_is_stored_as_a_plain_jpeg():
    frames = [Image.new("RGB", (300, 200), color) for color in ("red", "blue")]
    content = io.BytesIO()
    frames[0].save(content, "MPO", save_all=True, append_images=frames[1:])
    assert open_image(content.getvalue()).format == "MPO"

    prepared = images.prepare_upload(upload(content.getvalue(), name="IMG_0001.JPG"))
    stored = open_image(prepared.read())
    assert (prepared.name, stored.format, stored.size) == ("IMG_0001.jpg", "JPEG", (300, 200))


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


def test_animated_gif_is_stored_as_its_first_frame():
    # Readers see a still (the renditions are WebP/JPEG stills), so the animation is not kept.
    frames = [Image.new("RGB", (40, 40), color) for color in ("red", "green", "blue")]
    content = io.BytesIO()
    frames[0].save(content, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    prepared = images.prepare_upload(upload(content.getvalue(), name="chart.gif"))

    stored = open_image(prepared.read())
    assert (stored.format, getattr(stored, "n_frames", 1)) == ("GIF", 1)
    assert stored.convert("RGB").getpixel((5, 5)) == (255, 0, 0)


def test_animated_gif_over_the_pixel_budget_of_all_frames_is_refused_before_decoding():
    # 24 frames of 5000×5000 in 470 KB: each frame is within the 40 MP cap, all of them are 600 MP.
    hostile = animated_gif(24, (5000, 5000))
    assert len(hostile) < 500_000 and open_image(hostile).n_frames == 24

    with pytest.raises(ValidationError, match=r"动图帧数过多（24 帧，每帧 5000×5000）.*40 百万像素") as error:
        images.prepare_upload(upload(hostile, name="spinner.gif"))
    assert error.value.code == "too_many_pixels"


def test_animation_within_the_pixel_budget_is_accepted():
    prepared = images.prepare_upload(upload(animated_gif(10, (1000, 1000)), name="ok.gif"))
    assert open_image(prepared.read()).size == (1000, 1000)


@pytest.mark.parametrize(
    ("kind", "payload", "after_pixels"),
    [
        (b"zTXt", b"Comment\0\0" + zip_bomb(), False),
        (b"zTXt", b"Comment\0\0" + zip_bomb(), True),
        (b"iTXt", b"Comment\0\1\0\0\0" + zip_bomb(), False),
        (b"iCCP", b"icc\0\0" + zip_bomb(), False),
        # Each chunk under the 1 MB cap, together past the 64 MB one.
        (b"zTXt", [b"Comment\0\0" + zip_bomb(1_000_000)] * 70, False),
    ],
    ids=["zTXt", "zTXt-after-pixels", "iTXt", "iCCP", "many-zTXt"],
)
def test_png_metadata_chunk_inflating_past_pillows_limit_is_a_clear_error(kind, payload, after_pixels):
    hostile = png_with_chunk(kind, payload, after_pixels=after_pixels)
    assert len(hostile) < 100_000

    with pytest.raises(ValidationError, match=r"元数据块.*解压后过大") as error:
        images.prepare_upload(upload(hostile, name="chart.png"))
    assert error.value.code == "metadata_too_large"


def png_with_text():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "SECRET-AUTHOR")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>SECRET-XMP</x:xmpmeta>", zip=True)
    return image_bytes(fmt="PNG", pnginfo=info)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("comment.gif", image_bytes(mode="P", fmt="GIF", color=3, comment=b"SECRET-GIF-COMMENT")),
        ("comment.jpg", image_bytes(comment=b"SECRET-JPEG-COMMENT")),
        ("xmp.jpg", image_bytes(xmp=b"<x:xmpmeta>SECRET-XMP</x:xmpmeta>")),
        ("text.png", png_with_text()),
        ("xmp.webp", image_bytes(fmt="WEBP", xmp=b"<x:xmpmeta>SECRET-XMP</x:xmpmeta>")),
    ],
    ids=["gif-comment", "jpeg-comment", "jpeg-xmp", "png-text", "webp-xmp"],
)
def test_comments_and_metadata_do_not_survive_reencoding(name, content):
    assert b"SECRET" in content
    prepared = images.prepare_upload(upload(content, name=name)).read()
    assert b"SECRET" not in prepared
    assert not {"comment", "xmp", "Author", "XML:com.adobe.xmp"} & set(open_image(prepared).info)


def test_transparent_gif_keeps_its_transparency():
    still = Image.new("P", (50, 50), 0)
    still.putpalette([0, 0, 0, 255, 0, 0] * 128)
    content = io.BytesIO()
    still.save(content, "GIF", transparency=0)
    prepared = images.prepare_upload(upload(content.getvalue(), name="clear.gif"))
    assert open_image(prepared.read()).convert("RGBA").getpixel((5, 5))[3] == 0


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_damaged_files_give_a_validation_error_or_a_clean_image_never_another_error(fmt):
    # Random bytes flipped, cut or repeated in a real file: whatever Pillow raises must reach the editor
    # as a form error, not as a 500.
    original = image_bytes((120, 80), fmt=fmt)
    rng = random.Random(fmt)
    for _ in range(150):
        damaged = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(len(damaged))
            damaged[at] = rng.randrange(256)
        if rng.random() < 0.3:
            damaged = damaged[: rng.randrange(len(damaged))]
        try:
            prepared = images.prepare_upload(upload(bytes(damaged), name=f"damaged.{fmt.lower()}"))
        except ValidationError:
            continue
        assert open_image(prepared.read()).format == fmt


# Renditions and the Open Graph crop: made by the job, read by pages


def test_renditions_are_made_by_the_job_at_three_widths_in_webp_and_jpeg(post_with_image, settings, run_image_job):
    run_image_job(post_with_image)

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


def test_reading_the_post_or_its_page_draws_and_writes_nothing(post_with_image, make_post, settings, client):
    imageless = make_post()
    before = media_files(settings)

    assert post_with_image.lead_picture.renditions[0].name == post_with_image.lead_image.name
    assert post_with_image.og_image_url == imageless.og_image_url == DEFAULT_CARD_URL
    for post in (post_with_image, imageless):
        assert client.get(post.get_absolute_url()).status_code == 200

    assert media_files(settings) == before == [post_with_image.lead_image.name]


def test_page_shows_the_original_and_the_default_card_until_the_job_is_done(post_with_image, client, run_image_job):
    original = post_with_image.lead_image.url
    html = client.get(post_with_image.get_absolute_url()).text
    assert f'<img src="{original}"' in html and 'width="2000" height="1000"' in html
    assert 'type="image/webp"' not in html and "srcset" not in html
    assert f'<meta property="og:image" content="http://127.0.0.1:8000{DEFAULT_CARD_URL}">' in html

    run_image_job(post_with_image)

    html = client.get(post_with_image.get_absolute_url()).text
    picture = post_with_image.lead_picture
    assert f'<source type="image/webp" srcset="{picture.webp_srcset}"' in html
    assert f'<img src="{picture.fallback.url}" srcset="{picture.jpeg_srcset}"' in html
    assert f'<meta property="og:image" content="http://127.0.0.1:8000{post_with_image.og_image_url}">' in html
    assert "/og.jpg" in post_with_image.og_image_url


def test_the_default_card_is_a_1200x630_png_under_static():
    card = Image.open(Path(__file__).resolve().parent.parent / "static" / images.DEFAULT_CARD)
    assert (card.format, card.size) == ("PNG", images.OG_SIZE)


def test_small_image_is_not_upscaled(published_post, run_image_job):
    published_post.lead_image.save("small.jpg", ContentFile(image_bytes((500, 250)), name="small.jpg"), save=True)
    run_image_job(published_post)
    assert sorted({r.width for r in published_post.lead_picture.renditions}) == [320, 500]


def test_png_alpha_is_kept_and_flattened_onto_white_in_jpeg_renditions(published_post, settings, run_image_job):
    transparent = image_bytes((700, 350), mode="RGBA", fmt="PNG", color=(0, 0, 0, 0))
    prepared = images.prepare_upload(upload(transparent, name="logo.png"))
    assert open_image(prepared.read()).mode == "RGBA"

    published_post.lead_image.save(prepared.name, prepared, save=True)
    run_image_job(published_post)
    renditions = {(r.width, r.format): r for r in published_post.lead_picture.renditions}
    jpeg = Image.open(media(settings, renditions[(640, "jpg")].name))
    webp = Image.open(media(settings, renditions[(640, "webp")].name))
    assert jpeg.getpixel((5, 5)) == (255, 255, 255)
    assert webp.mode == "RGBA" and webp.getpixel((5, 5))[3] == 0


def test_og_image_of_a_post_with_a_lead_image_is_a_1200x630_crop(post_with_image, settings, run_image_job):
    run_image_job(post_with_image)
    url = post_with_image.og_image_url
    assert url.startswith("/media/renditions/") and url.endswith("/og.jpg")
    assert Image.open(media(settings, url.removeprefix("/media/"))).size == (1200, 630)


def test_replacing_the_image_makes_new_renditions_then_removes_the_old(
    post_with_image, settings, run_image_job, django_capture_on_commit_callbacks
):
    run_image_job(post_with_image)
    old_name = post_with_image.lead_image.name
    old_files = images.file_names(post_with_image.image_files)

    with django_capture_on_commit_callbacks(execute=True):
        post_with_image.lead_image.save("new.jpg", ContentFile(image_bytes((900, 600)), name="new.jpg"), save=True)

    post_with_image.refresh_from_db()
    assert post_with_image.lead_picture.renditions[-1].width == 900
    assert all(media(settings, name).exists() for name in images.file_names(post_with_image.image_files))
    assert not any(media(settings, name).exists() for name in old_files)
    # The original stays, since earlier versions in the history point at it.
    assert media(settings, old_name).exists()


def test_clearing_the_image_gives_the_post_a_card_and_removes_the_renditions(
    post_with_image, settings, run_image_job, django_capture_on_commit_callbacks
):
    run_image_job(post_with_image)
    renditions = images.file_names(post_with_image.image_files)
    with django_capture_on_commit_callbacks(execute=True):
        post_with_image.lead_image = ""
        post_with_image.save()

    post_with_image.refresh_from_db()
    assert post_with_image.lead_picture is None
    assert post_with_image.og_image_url.startswith(f"/media/cards/{post_with_image.pk}/")
    assert not any(media(settings, name).exists() for name in renditions)


def test_deleting_the_post_removes_image_renditions_and_cards(
    post_with_image, make_post, settings, run_image_job, django_capture_on_commit_callbacks
):
    imageless = make_post()
    run_image_job(post_with_image, imageless)
    assert len(media_files(settings)) == 1 + 7 + 1  # original, 6 renditions and the crop, a card

    with django_capture_on_commit_callbacks(execute=True):
        post_with_image.delete()
        imageless.delete()

    assert media_files(settings) == []


def test_job_for_a_deleted_post_does_nothing(make_post, settings):
    post = make_post()
    post_id = post.pk
    Post.objects.filter(pk=post_id).delete()
    assert make_post_images.delay([post_id]).successful()
    assert media_files(settings) == []


def test_unsaved_post_shares_the_default_card(category):
    assert Post(title="未保存", category=category).og_image_url == DEFAULT_CARD_URL


# Share cards


def text_pixels(card_path):
    """How many pixels of the card are (near) white, the colour of its title."""
    card = Image.open(card_path).convert("RGB")
    return sum(1 for pixel in card.get_flattened_data() if min(pixel) > 240)


def test_share_card_draws_title_in_a_cjk_font(make_post, settings, run_image_job):
    assert images.find_cjk_font("") is not None, "a CJK font (fonts-wqy-microhei) must be installed"
    post = make_post(title="算力底座不停歇！商汤临港智算中心有序复工，多家券商给出积极评级")
    run_image_job(post)
    path = media(settings, post.og_image_url.removeprefix("/media/"))

    card = Image.open(path)
    assert (card.format, card.size) == ("PNG", (1200, 630))
    assert text_pixels(path) > 5_000


def test_card_shows_the_date_in_beijing_time():
    # 23:30 UTC on 31 December is already 1 January in Beijing.
    late = datetime.datetime(2023, 12, 31, 23, 30, tzinfo=datetime.UTC)
    assert images._card_date(late) == "2024-01-01"


def test_editing_the_title_makes_a_new_card_and_then_removes_the_old(
    make_post, settings, run_image_job, django_capture_on_commit_callbacks
):
    post = make_post(title="旧标题")
    run_image_job(post)
    old = media(settings, post.og_image_url.removeprefix("/media/"))

    with django_capture_on_commit_callbacks(execute=True):
        post.title = "新标题"
        post.save()

    post.refresh_from_db()
    new = media(settings, post.og_image_url.removeprefix("/media/"))
    assert new != old and new.exists() and not old.exists()


def test_saving_without_a_change_to_what_the_card_shows_queues_no_job(
    make_post, run_image_job, django_capture_on_commit_callbacks
):
    post = make_post(title="标题")
    run_image_job(post)
    with django_capture_on_commit_callbacks() as callbacks:
        post.body = "<p>只改正文</p>"
        post.save()
    # What remains is the page cache's bookkeeping (articles/freshness.py).
    assert [callback for callback in callbacks if callback.__module__ == "articles.tasks"] == []


@pytest.mark.parametrize("font", [DEJAVU, "/nonexistent/font.ttf"])
def test_without_a_cjk_font_the_card_has_no_text_and_says_so_in_the_log(
    font, make_post, settings, caplog, run_image_job
):
    settings.SHARE_CARD_FONT = font
    post = make_post(title="没有中文字体时的卡片")
    with caplog.at_level(logging.WARNING, logger="articles.images"):
        run_image_job(post)
    assert text_pixels(media(settings, post.og_image_url.removeprefix("/media/"))) == 0
    assert "No CJK font found for share cards" in caplog.text


def test_a_cjk_font_is_told_from_one_without_chinese_glyphs():
    assert images.has_cjk_glyphs("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
    assert not images.has_cjk_glyphs(DEJAVU)


def test_long_titles_wrap_and_end_with_an_ellipsis():
    font = ImageFont.truetype(images.find_cjk_font(""), 64)
    lines = images.wrap_text("长" * 100, font, max_width=1040, max_lines=4)
    assert len(lines) == 4
    assert lines[-1].endswith("…")
    assert all(font.getlength(line) <= 1040 for line in lines)


# The <picture> partial


def test_lead_image_partial_lists_renditions_with_size_lazy_loading_and_alt(post_with_image, run_image_job):
    run_image_job(post_with_image)
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

"""Coverage-guided fuzzing of the post parser (atheris, libFuzzer): any bytes give a post or a PostFileError.

Anything else raised, or an input taking longer than libFuzzer's -timeout, is a crash: libFuzzer saves the
input and stops. Run it with `make fuzz` (60 s; `make fuzz FUZZ_SECONDS=3600` for an hour). The inputs it
finds are kept in var/fuzz/corpus, crashes in var/fuzz/; fuzz/seeds/ holds a few real posts to start from.
Reproduce a crash with `.venv/bin/python fuzz/parse_post.py var/fuzz/crash-…`.
"""

import contextlib
import os
import sys
from pathlib import Path

import atheris
import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Parsing reads no database and serves nothing; these only let the settings load.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finews.settings")
os.environ.setdefault("SECRET_KEY", "fuzz-only-secret-key")
os.environ.setdefault("SITE_URL", "http://127.0.0.1:8000")
django.setup()

# Coverage of the importer and of PyYAML's Python side guides the mutations; the importer is imported
# afresh under instrumentation should an app have loaded it already.
for name in [name for name in sys.modules if name.startswith("articles.importer")]:
    del sys.modules[name]
with atheris.instrument_imports(include=["articles.importer", "yaml"]):
    from articles.importer.frontmatter import PostFileError
    from articles.importer.parsing import decode, parse_post


def parse(data):
    with contextlib.suppress(PostFileError):  # a clear per-file error is a correct answer
        parse_post(decode(data), "202205250000000001")


if __name__ == "__main__":
    atheris.Setup(sys.argv, parse)
    atheris.Fuzz()

"""Jekyll posts in and out: import_posts (files → database) and export_posts.

Plain functions and small dataclasses; the management commands only parse arguments and report.
"""

from .frontmatter import PostFileError
from .importing import import_posts
from .parsing import ParsedPost, parse_post
from .report import Outcome, Status, Summary

__all__ = ["Outcome", "ParsedPost", "PostFileError", "Status", "Summary", "import_posts", "parse_post"]

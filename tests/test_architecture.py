"""The rules of ARCHITECTURE.md, checked on the source: modules import downward, never in a loop,
and reader templates link through {% site_url %}.

Only imports that run when a module is first imported count (module and class level); an import
inside a function runs later and cannot close a loop at import time.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["articles", "finews"]
# What the models sit under: none of these may be imported by articles.models.
ABOVE_MODELS = [
    "articles.views",
    "articles.feeds",
    "articles.sitemaps",
    "articles.urls",
    "articles.reading",
    "articles.search",
    "articles.pagination",
    "articles.templatetags",
    "articles.context_processors",
    "articles.middleware",
    "articles.admin",
    "articles.api",
    "articles.forms",
    "articles.importer",
    "articles.management",
    "articles.tasks",
    "articles.generator",
]
VIEW_MODULES = ["articles.views", "articles.feeds", "articles.sitemaps", "articles.api"]


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules():
    """{dotted name: path} of every project module, migrations aside."""
    paths = [path for package in PACKAGES for path in (ROOT / package).rglob("*.py")]
    return {module_name(path): path for path in paths if "migrations" not in path.parts}


def import_time_nodes(tree):
    """The import statements of `tree` outside function bodies."""
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            pending.extend(ast.iter_child_nodes(node))


def imports_of(name, path, modules):
    """The project modules `name` imports when it is imported."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in import_time_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
        target = ".".join([*base, *([node.module] if node.module else [])])
        for alias in node.names:
            # `from articles import images` imports a module; `from articles.models import Post` a name.
            found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target)
    return {module for module in found if module in modules}


def import_graph():
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def within(module, prefix):
    return module == prefix or module.startswith(prefix + ".")


def test_the_rules_see_the_imports_they_check():
    graph = import_graph()

    assert {"articles.feeds", "articles.views"} <= graph["articles.urls"]
    assert "articles.models.posts" in graph["articles.models"]
    assert "articles.images" in graph["articles.models.posts"]


def test_only_the_url_configuration_imports_the_views():
    graph = import_graph()

    importers = {name for name, imported in graph.items() if "articles.views" in imported}

    assert importers <= {"articles.urls"}


def test_view_modules_import_no_other_view_module():
    graph = import_graph()

    for name in VIEW_MODULES:
        assert not graph[name] & (set(VIEW_MODULES) - {name}), name


def test_models_import_nothing_above_them():
    graph = import_graph()

    for name, imported in graph.items():
        if within(name, "articles.models"):
            above = {module for module in imported if any(within(module, upper) for upper in ABOVE_MODELS)}
            assert not above, f"{name} imports {above}"


def test_no_module_imports_itself_through_others():
    graph = import_graph()
    # Depth-first search: a module met again while it is still on the path closes a loop.
    done, path = set(), []

    def visit(name):
        if name in path:
            loop = [*path[path.index(name) :], name]
            raise AssertionError("import loop: " + " → ".join(loop))
        if name in done:
            return
        path.append(name)
        for imported in sorted(graph[name]):
            visit(imported)
        path.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)


def test_reader_templates_link_with_site_url_not_url():
    # {% url %} runs a whole reverse() on every render; the admin's own templates may keep it.
    templates = [path for path in (ROOT / "templates").rglob("*") if path.is_file() and "admin" not in path.parts]
    assert templates

    offending = [str(path.relative_to(ROOT)) for path in templates if "{% url " in path.read_text()]

    assert offending == []

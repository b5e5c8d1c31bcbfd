"""English text found on every machine: the prose inside Python's standard library.

Four parts, in a fixed order: the docstrings and the comments of the library's
sources (tests, generated codec tables and third-party packages left out), the
messages in its string literals (errors, warnings, help texts), and the help
topics of ``pydoc_data`` (the language reference that ``help("if")`` shows).
Together, over half a million words of English about programming.
"""

from __future__ import annotations

import ast
import os
import re
import sysconfig
from collections.abc import Iterator
from pathlib import Path

from embedding_projector.errors import ProjectorError

PARTS = ("docstrings", "comments", "messages", "pydoc topics")
"""The parts of the corpus, in the order they are read."""

Corpus = dict[str, list[list[str]]]
"""Each part's passages (a docstring, a block of comment lines, ...), as lists of words."""

# Tests, other people's packages, codec tables (comment columns of character names)
# and the help topics' source (read as data instead) are not the library's prose.
_SKIPPED_FOLDERS = frozenset(
    {
        "__pycache__",
        "dist-packages",
        "encodings",
        "idle_test",
        "pydoc_data",
        "site-packages",
        "test",
        "tests",
    }
)
# Words: a letter (after leading underscores, for names like __init__), then letters,
# digits and underscores; an apostrophe and a suffix are kept for "n't" only.
_WORD = re.compile(r"_*[a-z][a-z0-9_]*(?:'[a-z]+)?")
# An interactive example in a docstring, up to the blank line that ends its output:
# code, not prose.
_DOCTEST = re.compile(r"^[ \t]*>>>.*?(?:\n[ \t]*\n|\Z)", re.MULTILINE | re.DOTALL)
# A string literal is a message when it reads like a sentence: four words or more,
# mostly letters and spaces (not a format string, a regex or a table).
_MIN_MESSAGE_SPACES = 3
_MIN_MESSAGE_LETTERS = 0.8
_DOC_OWNERS = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def read_corpus(stdlib: Path | None = None) -> Corpus:
    """Read the words of the four parts of the corpus.

    Parameters
    ----------
    stdlib
        The standard library's folder; by default the running Python's.

    Returns
    -------
    dict
        :data:`PARTS` to passages, each a list of lower-case words.

    Raises
    ------
    ProjectorError
        If the folder holds no Python sources (some minimal installations ship
        only compiled files).
    """
    folder = Path(sysconfig.get_paths()["stdlib"] if stdlib is None else stdlib)
    corpus: Corpus = {part: [] for part in PARTS}
    sources = list(source_files(folder))
    if not sources:
        raise ProjectorError(
            "no Python sources found in the standard library folder: the words demo "
            "needs them (install the full Python, not a minimal one)",
            path=folder,
        )
    for path in sources:
        try:
            docstrings, messages, comments = _prose(path.read_bytes())
        except (OSError, SyntaxError, ValueError):
            continue  # unreadable, or a file written for another Python version
        corpus["docstrings"] += [words(_DOCTEST.sub("\n", text)) for text in docstrings]
        corpus["messages"] += [words(text) for text in messages]
        corpus["comments"] += [words(text) for text in comments]
    corpus["pydoc topics"] = [words(text) for text in _pydoc_topics()]
    return corpus


def source_files(stdlib: Path) -> Iterator[Path]:
    """The library's ``.py`` files that hold its own prose, in a fixed (sorted) order."""
    for folder, subfolders, files in os.walk(stdlib):
        subfolders[:] = sorted(name for name in subfolders if name not in _SKIPPED_FOLDERS)
        for name in sorted(files):
            if name.endswith(".py") and not name.startswith("test_"):
                yield Path(folder, name)


def words(text: str) -> list[str]:
    """The lower-case words of ``text``; ``it's`` gives ``it``, ``don't`` stays whole."""
    found = _WORD.findall(text.lower())
    return [
        word if "'" not in word or word.endswith("n't") else word.split("'")[0] for word in found
    ]


def _prose(source: bytes) -> tuple[list[str], list[str], list[str]]:
    """The docstrings, messages and comments (joined when on consecutive lines) of a file."""
    tree = ast.parse(source)
    docstrings = []
    docstring_nodes = set()
    strings: list[tuple[int, str]] = []
    in_strings: set[int] = set()  # the lines inside multi-line strings, where "#" is text
    for node in ast.walk(tree):  # once: walking is most of the time spent here
        if isinstance(node, ast.Constant | ast.JoinedStr):
            if node.end_lineno is not None and node.end_lineno > node.lineno:
                in_strings.update(range(node.lineno + 1, node.end_lineno + 1))
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.append((id(node), node.value))
        elif isinstance(node, _DOC_OWNERS) and (text := ast.get_docstring(node)):
            docstrings.append(text)
            first = node.body[0]
            if isinstance(first, ast.Expr):
                docstring_nodes.add(id(first.value))
    messages = [text for key, text in strings if key not in docstring_nodes and _is_message(text)]
    return docstrings, messages, _comment_blocks(source, in_strings)


def _is_message(text: str) -> bool:
    letters = sum(char.isalpha() or char == " " for char in text)
    return text.count(" ") >= _MIN_MESSAGE_SPACES and letters > _MIN_MESSAGE_LETTERS * len(text)


def _comment_blocks(source: bytes, in_strings: set[int]) -> list[str]:
    """The comments on lines of their own, those on consecutive lines joined.

    Lines are scanned, not tokenized: Python's tokenizer would nearly double the
    reading time. A line whose text starts with ``#`` is a comment unless it is inside
    a string; the few comments after code on a line (6% of the words) are left out.
    """
    blocks: list[list[str]] = []
    last_number = -1
    # Split on "\n" only: the AST's line numbers do not count form feeds as breaks.
    for number, line in enumerate(source.decode("utf-8", "replace").split("\n"), 1):
        text = line.lstrip()
        if not text.startswith("#") or number in in_strings:
            continue
        if number != last_number + 1 or not blocks:
            blocks.append([])
        blocks[-1].append(text.lstrip("#"))
        last_number = number
    return [" ".join(block) for block in blocks]


def _pydoc_topics() -> list[str]:
    """The help texts of ``pydoc_data``, sorted by topic."""
    from pydoc_data.topics import topics

    return [topics[name] for name in sorted(topics)]

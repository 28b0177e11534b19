"""Every outside string shown on GitHub goes through here: Markdown, HTML, workflow commands.

Outside strings are what lmi-delivery did not write itself: build log lines, Terraform output and
plan summaries, branch names, finding messages, file paths, error texts. A build or a pull
request controls them, so in a job summary or a pull request comment they are shown as text and
can never become formatting, a link, an image, HTML, a mention or the end of a code block; in a
workflow command they can never end the command or start another one.

- :func:`markdown_text`: inline text. Markdown punctuation is backslash-escaped, ``<``, ``>``
  and ``&`` become entities, line breaks become spaces (a new line could start a block), and
  ``@name`` / ``#123`` get a zero-width space after the sign so that GitHub neither notifies
  anyone nor cross-references an issue.
- :func:`code_span`: inline code, delimited by a backtick run longer than any inside.
- :func:`fenced`: a fenced code block whose fence no line inside can close.
- :func:`link`: a link whose target is an ``http(s)`` URL, else plain text.
- :func:`slack_text`: text in a Slack message (Slack's three entities).
- :func:`command_data` / :func:`command_property`: the runner's workflow command escaping, as
  ``@actions/core`` does (``%``, CR, LF; in properties also ``:`` and ``,``).

``github/`` (summary, comments, annotations) and ``codebuild``'s GitHub reporter both use it, so
it sits below both.
"""

from __future__ import annotations

import re
import urllib.parse

#: ASCII punctuation that can start or end Markdown (and GFM, and GitHub math) formatting.
_PUNCTUATION = frozenset("\\`*_{}[]()#+-.!|~=$")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
#: Invisible, and enough to stop GitHub's mention and issue-reference autolinking.
_ZERO_WIDTH = "&#8203;"
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")
_REFERENCE = re.compile(r"[@#](?=[A-Za-z0-9])")
_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def _one_line(text: str) -> str:
    return _LINE_BREAKS.sub(" ", text.replace("\0", "\ufffd"))


def markdown_text(text: str) -> str:
    """``text`` shown literally as inline Markdown (safe in a GFM table cell too)."""
    out: list[str] = []
    line = _one_line(text)
    for i, char in enumerate(line):
        if char in _ENTITIES:
            out.append(_ENTITIES[char])
        elif char in _PUNCTUATION:
            out.append("\\" + char)
        else:
            out.append(char)
        if _REFERENCE.match(line, i):
            out.append(_ZERO_WIDTH)
    return "".join(out)


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(re.escape(char) + "+", text)
    return max((len(r) for r in runs), default=0)


def code_span(text: str, *, table: bool = False) -> str:
    """``text`` as inline code. ``table``: inside a GFM table cell, where ``|`` must be escaped
    even in code (GitHub shows ``\\|`` there as ``|``)."""
    body = _one_line(text)
    if table:
        body = body.replace("|", "\\|")
    ticks = "`" * (_longest_run(body, "`") + 1)
    if body.startswith("`") or body.endswith("`") or (
            body.startswith(" ") and body.endswith(" ") and body.strip()):
        body = f" {body} "  # one space each side is stripped again by the parser
    return f"{ticks}{body}{ticks}"


def fenced(text: str, info: str = "") -> str:
    """``text`` as a fenced code block (ending in a newline; put it on its own lines).

    Backticks fence it, longer than any backtick run inside, unless the info string holds a
    backtick (not allowed after a backtick fence): then tildes do, longer than any tilde run.
    Lone CRs become line breaks, as the parser would read them.
    """
    body = _LINE_BREAKS.sub("\n", text.replace("\0", "\ufffd")).rstrip("\n")
    info = _one_line(info).strip()
    char = "~" if "`" in info else "`"
    fence = char * max(3, _longest_run(body, char) + 1)
    return f"{fence}{info}\n{body}\n{fence}\n" if body else f"{fence}{info}\n{fence}\n"


def open_fence(markdown: str) -> str | None:
    """The fence that closes the code block ``markdown`` ends inside, or ``None``.

    For cutting Markdown short (a comment's size limit) without leaving a block open. Follows
    CommonMark: a block closes at a line of at least as many of the same fence characters.
    """
    opened: str | None = None
    for line in _LINE_BREAKS.split(markdown):
        match = _FENCE_LINE.match(line)
        if match is None:
            continue
        fence, rest = match.groups()
        if opened is None:
            if not (fence[0] == "`" and "`" in rest):
                opened = fence
        elif fence[0] == opened[0] and len(fence) >= len(opened) and not rest.strip():
            opened = None
    return opened


def link(label: str, url: str | None) -> str:
    """A Markdown link to an ``http(s)`` URL; any other target leaves only the label."""
    text = markdown_text(label)
    if not url or urllib.parse.urlsplit(url).scheme.lower() not in ("http", "https"):
        return text
    target = urllib.parse.quote(_one_line(url).strip(), safe=":/?#[]@!$&'*+,;=%~-._")
    return f"[{text}]({target})"


def slack_text(text: str) -> str:
    """``text`` shown literally in a Slack message: ``&``, ``<`` and ``>`` as entities (what
    Slack asks for), so that no link, ``<!channel>`` mention or user mention can be formed."""
    return "".join(_ENTITIES.get(char, char) for char in text.replace("\0", "\ufffd"))


def command_data(text: str) -> str:
    """The message of a workflow command (after ``::``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def command_property(text: str) -> str:
    """A property value of a workflow command (``file=``, ``title=``)."""
    return command_data(text).replace(":", "%3A").replace(",", "%2C")

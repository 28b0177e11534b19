"""What a CommonMark parser would make of our Markdown, checked on the text itself.

markdown-it-py is not a dependency, so these helpers implement the few CommonMark rules the
escaping relies on: how a fenced code block closes, which characters are backslash-escaped,
and what GitHub turns into a mention. And :func:`runner_commands`, the GitHub runner's reading
of a log: which lines it would obey as workflow commands.
"""

from __future__ import annotations

import re

#: Strings a build, a pull request or a Terraform root can put in front of a reader.
HOSTILE = (
    "```",
    "````\n```\n~~~",
    "</details><script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "![pixel](https://evil.example/p.png)",
    "@org/team please approve",
    "::set-output name=approved::true",
    "%0A::add-mask::x",
    "<!-- lmi-delivery:dev -->",
    "line one\n# heading\n</details>\n\n- item",
    "a | b | c",
    "$x^2$ and #123",
)

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_ESCAPABLE = set("\\`*_{}[]()#+-.!|~=$")


def fenced_block(markdown: str) -> tuple[str, str, str]:
    """(opening fence, body, rest) of the fenced code block ``markdown`` starts with, closed
    where CommonMark closes it."""
    lines = markdown.split("\n")
    opening = _FENCE.match(lines[0])
    assert opening is not None, f"no fence opens {lines[0]!r}"
    fence = opening.group(1)
    if fence[0] == "`":
        assert "`" not in opening.group(2), "a backtick fence's info string has a backtick"
    for i, line in enumerate(lines[1:], start=1):
        match = _FENCE.match(line)
        if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) \
                and not match.group(2).strip():
            return fence, "\n".join(lines[1:i]), "\n".join(lines[i + 1:])
    raise AssertionError("the code block never closes")


def assert_inert_inline(markdown: str) -> None:
    """``markdown`` is one line of plain text: no raw HTML, no unescaped formatting character,
    no mention or issue reference GitHub would link."""
    assert not set("\r\n<>") & set(markdown), f"a line break or raw HTML in {markdown!r}"
    assert not re.search(r"&(?!amp;|lt;|gt;|#8203;)", markdown), "a raw & could start an entity"
    text = re.sub(r"&(amp|lt|gt|#8203);", "\0", markdown)  # the entities we write, as one char
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            assert text[i + 1:i + 2] in _ESCAPABLE, f"a stray backslash in {markdown!r}"
            i += 2
            continue
        assert char not in _ESCAPABLE, f"unescaped {char!r} in {markdown!r}"
        i += 1
    assert not re.search(r"@[A-Za-z0-9]", text), "GitHub would mention someone"
    assert not re.search(r"#[0-9]", text), "GitHub would reference an issue"


def code_span_body(markdown: str) -> str:
    """The text of the code span ``markdown`` is, as CommonMark reads it."""
    opening = re.match(r"`+", markdown)
    assert opening is not None
    ticks = opening.group(0)
    body = markdown[len(ticks):]
    closing = re.search(rf"(?<!`){ticks}(?!`)", body)
    assert closing is not None, "the span never ends"
    assert closing.end() == len(body), "the span ends early"
    inner = body[:closing.start()]
    if inner.startswith(" ") and inner.endswith(" ") and inner.strip():
        inner = inner[1:-1]
    return inner


def runner_commands(log: str) -> list[str]:
    """The lines of ``log`` the GitHub runner would process as workflow commands: ``::cmd``
    at the start of a line (after spaces) or ``##[cmd]`` anywhere, except between
    ``::stop-commands::TOKEN`` and the line that resumes with the token."""
    obeyed: list[str] = []
    token: str | None = None
    for line in log.split("\n"):
        v2 = re.match(r"\s*::([^\s:]+)[^:]*::(.*)$", line)
        v1 = re.search(r"##\[([^\]\s;]+)[^\]]*\](.*)$", line)
        found = v2 or v1
        if found is None:
            continue
        command, data = found.group(1), found.group(2)
        if token is not None:
            if command.lower() == token.lower():
                token = None
            continue
        if command.lower() == "stop-commands":
            token = data
            continue
        obeyed.append(line)
    return obeyed

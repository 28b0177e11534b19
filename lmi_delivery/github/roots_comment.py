"""The one pull request comment of an environment whose config has several Terraform roots.

It composes what the comment renderer makes for each root that runs (its Markdown section,
unchanged) under one heading, followed by the roots skipped with the reason. The result is the
report :func:`lmi_delivery.github.comments.comment_body` wraps, so an environment keeps one
comment however many roots a pull request touches.
"""

from __future__ import annotations

from collections.abc import Sequence

from lmi_delivery.escape import code_span, markdown_text


def compose(environment: str, sections: Sequence[tuple[str, str]],
            skipped: Sequence[tuple[str, str]]) -> str:
    """One Markdown report: ``sections`` are ``(root, markdown)`` in apply order, ``skipped``
    ``(root, reason)``. Root names and reasons are escaped; sections are kept as given."""
    ran = ", ".join(code_span(root) for root, _ in sections) or "none"
    lines = [f"### Terraform roots of {code_span(environment)}", "",
             f"{len(sections)} of {len(sections) + len(skipped)} run: {ran}."]
    if skipped:
        lines += ["", "Skipped:", "",
                  *[f"- {code_span(root)}: {markdown_text(reason)}" for root, reason in skipped]]
    for root, markdown in sections:
        lines += ["", f"#### Root {code_span(root)}", "", markdown.rstrip("\n")]
    return "\n".join(lines) + "\n"

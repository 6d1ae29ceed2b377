"""Read pages the way a user sees them: elements by tag and attribute, and their visible text.

Built on the HTML parser Django's own assertHTMLEqual uses.
"""

from collections.abc import Iterator

from django.test.html import Element, normalize_whitespace, parse_html


def parse(content: bytes | str) -> Element:
    if isinstance(content, bytes):
        content = content.decode()
    return parse_html(content)


def walk(element: Element) -> Iterator[Element]:
    for child in element.children:
        if isinstance(child, Element):
            yield child
            yield from walk(child)


def attr(element: Element, name: str) -> str | None:
    return dict(element.attributes).get(name)


def find_all(root: Element, tag: str | None = None, **attrs: str) -> list[Element]:
    """Descendants with this tag (any tag if None) whose attributes have these values.

    `class_` matches one class among several.
    """
    found = []
    for element in walk(root):
        if tag is not None and element.name != tag:
            continue
        if all(_attr_matches(element, name, value) for name, value in attrs.items()):
            found.append(element)
    return found


def find(root: Element, tag: str | None = None, **attrs: str) -> Element:
    """The one element that matches; fails the test if there are none or several."""
    found = find_all(root, tag, **attrs)
    assert len(found) == 1, f"expected one <{tag or '*'} {attrs}>, found {len(found)}"
    return found[0]


def text(element: Element | str) -> str:
    """Visible text, whitespace collapsed."""
    if isinstance(element, str):
        return normalize_whitespace(element).strip()
    parts = [text(child) for child in element.children]
    return normalize_whitespace(" ".join(part for part in parts if part)).strip()


def _attr_matches(element: Element, name: str, value: str) -> bool:
    if name == "class_":
        return value in (attr(element, "class") or "").split()
    return attr(element, name.replace("_", "-")) == value

"""Build each addon's static/description/index.html from its readme/ fragments (DESCRIPTION,
CONFIGURE, USAGE, CONTRIBUTORS in Markdown, as OCA addons keep them) and the screenshots in
static/description, the way OCA's readme generator lays a page out.

    python scripts/readme_html.py            # every addon of the repository
    python scripts/readme_html.py --check    # exit 1 when a page is older than its fragments
"""

import argparse
import ast
import html
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SECTIONS = (("DESCRIPTION", None), ("CONFIGURE", "Configuration"), ("USAGE", "Usage"))
# Screenshot file name: caption. Only those present are shown, in this order.
SHOTS = {
    "workspace.png": "The agents' workspace",
    "workspace_templates.png": "Templates in the workspace, in each language",
    "workspace_mobile.png": "The workspace on a phone",
    "dashboard.png": "The dashboard",
    "report_pivot.png": "Service levels by team and agent",
    "inbox_sla.png": "The inbox's service-level clocks",
    "inbox.png": "The inbox",
    "conversation.png": "A conversation",
    "composer.png": "The composer and the 24-hour window",
    "template.png": "A template and Meta's verdict",
    "notification_rule.png": "A notification rule",
    "website_button.png": "The website: Ask about this product, and the floating button",
    "entry_point.png": "An entry point and its QR code",
    "reminder_rule.png": "An appointment reminder rule",
}


def inline(text):
    text = html.escape(text, quote=False)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"\*(.+?)\*", r"<em>\1</em>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)


def markdown(text):
    """The small Markdown of the fragments: paragraphs, - and 1. lists, inline marks."""
    out, items, kind = [], [], None

    def flush():
        nonlocal items, kind
        if items:
            out.append(f"<{kind}>" + "".join(f"<li>{inline(i)}</li>" for i in items) + f"</{kind}>")
        items, kind = [], None

    paragraph = []
    for line in text.splitlines() + [""]:
        bullet = re.match(r"^(-|\d+\.) (.*)", line)
        if bullet:
            if paragraph:
                out.append(f"<p>{inline(' '.join(paragraph))}</p>")
                paragraph = []
            new_kind = "ul" if bullet.group(1) == "-" else "ol"
            if kind and kind != new_kind:
                flush()
            kind = new_kind
            items.append(bullet.group(2))
        elif line.startswith("  ") and line.strip() and items:
            items[-1] += " " + line.strip()
        elif line.strip():
            flush()
            paragraph.append(line.strip())
        else:
            flush()
            if paragraph:
                out.append(f"<p>{inline(' '.join(paragraph))}</p>")
                paragraph = []
    return "\n".join(out)


def page(addon):
    manifest = ast.literal_eval((addon / "__manifest__.py").read_text())
    readme = addon / "readme"
    parts = [
        f"<h1>{html.escape(manifest['name'])}</h1>",
        f"<p><em>{html.escape(manifest.get('summary', ''))}</em></p>",
    ]
    for name, title in SECTIONS:
        fragment = readme / f"{name}.md"
        if fragment.exists():
            if title:
                parts.append(f"<h2>{title}</h2>")
            parts.append(markdown(fragment.read_text()))
    shots = [n for n in SHOTS if (addon / "static" / "description" / n).exists()]
    if shots:
        parts.append("<h2>Screenshots</h2>")
        for name in shots:
            parts.append(
                f'<figure><img src="{name}" alt="{html.escape(SHOTS[name])}" '
                f'style="max-width: 100%; border: 1px solid #ddd;"/>'
                f"<figcaption>{html.escape(SHOTS[name])}</figcaption></figure>"
            )
    contributors = readme / "CONTRIBUTORS.md"
    if contributors.exists():
        parts += ["<h2>Contributors</h2>", markdown(contributors.read_text())]
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"/>'
        f"<title>{html.escape(manifest['name'])}</title></head>\n"
        '<body style="font-family: sans-serif; max-width: 960px; margin: auto;">\n'
        f"{body}\n</body></html>\n"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    stale = []
    for addon in sorted(p.parent.parent for p in ROOT.glob("*/readme/DESCRIPTION.md")):
        target = addon / "static" / "description" / "index.html"
        text = page(addon)
        if args.check:
            if not target.exists() or target.read_text() != text:
                stale.append(str(target.relative_to(ROOT)))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        print(f"wrote {target.relative_to(ROOT)}")
    if stale:
        print("stale, run scripts/readme_html.py:", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

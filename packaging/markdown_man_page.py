#!/usr/bin/env python3
"""Turns a Markdown document (config/README.md) into a troff man page.

Usage: markdown_man_page.py INPUT.md OUTPUT NAME SECTION VERSION "SHORT DESCRIPTION"

Handles what config/README.md uses: '#' headings, paragraphs, bullet lists, fenced code blocks,
tables (each row becomes a tagged paragraph: first cell in bold, the other cells after it) and
inline `code`, **bold** and [links](target). The "For developers" section is left out: it is
about the sources, not the installed program.
"""
import re
import sys

SKIPPED_SECTIONS = {"For developers"}


def escape(text):
    # troff: a backslash starts an escape; a line starting with '.' or "'" is a request.
    return text.replace("\\", "\\e").replace("-", "\\-")


def inline(text):
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)  # [label](target) -> label
    out = []
    for i, part in enumerate(re.split(r"`([^`]*)`", text)):
        if i % 2:
            out.append("\\fB" + escape(part) + "\\fR")
        else:
            part = escape(part)
            out.append(re.sub(r"\*\*([^*]+)\*\*", r"\\fB\1\\fR", part))
    return "".join(out)


def line_start(text):
    return "\\&" + text if text[:1] in (".", "'") else text


def table_cells(row):
    return [c.strip() for c in row.strip().strip("|").split("|")]


def convert(lines, name, section, version, description):
    out = [f'.TH {name.upper()} {section} "" "poolreg {version}" "poolreg manual"',
           ".SH NAME", f"{escape(name)} \\- {escape(description)}"]
    in_code = False
    skipping = False
    header_row = None
    for raw in lines:
        line = raw.rstrip("\n")
        if line.startswith("```"):
            if not skipping:
                out.extend([".fi", ".RE"] if in_code else [".RS 2", ".nf"])
            in_code = not in_code
            continue
        if in_code:
            if not skipping:
                out.append(line_start(escape(line)))
            continue
        heading = re.match(r"^(#+)\s+(.*)$", line)
        if heading:
            level, title = len(heading.group(1)), heading.group(2)
            skipping = title in SKIPPED_SECTIONS
            if level == 1:
                out.append(".SH DESCRIPTION")
            elif not skipping:
                out.append((".SH " if level == 2 else ".SS ") + '"' + inline(title).replace('"', "") + '"')
            continue
        if skipping:
            continue
        if line.startswith("|"):
            cells = table_cells(line)
            if all(re.fullmatch(r":?-+:?", c) for c in cells):
                continue
            if header_row is None:
                header_row = cells  # column names: "key | default | range | meaning"
                continue
            out.append(".TP")
            out.append(line_start(inline(cells[0])))
            details = [f"{header_row[i]}: {inline(c)}" if i < len(cells) - 1 else inline(c)
                       for i, c in enumerate(cells[1:], start=1) if c]
            out.append(line_start("; ".join(details)))
            continue
        header_row = None
        if not line.strip():
            out.append(".PP")
        elif line.startswith("- "):
            out.append(".IP \\(bu 2")
            out.append(line_start(inline(line[2:])))
        else:
            out.append(line_start(inline(line.strip())))
    out.append(".SH SEE ALSO")
    out.append("poolregd(8), poolctl(8)")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    source, target, name, section, version, description = sys.argv[1:]
    with open(source, encoding="utf-8") as f:
        text = convert(f.readlines(), name, section, version, description)
    with open(target, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()

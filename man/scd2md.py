#!/usr/bin/python3
# Turns an scdoc manual page into Markdown, so that data/CONFIGURATION.md
# is generated from man/gpuvirt.conf.5.scd and the two never drift.
#
# Only what our pages use is understood, and anything else is an error
# rather than a guess: sections and subsections, paragraphs, *bold*
# (becomes `code`: the pages make commands, keys and paths bold) and
# _underline_ (becomes *emphasis*), backslash escapes, "term" lines with a
# tab-indented body (a list item with the body below it), "- " and ". "
# lists, literal blocks (a "; ini" comment right before one makes it an
# ini block) and "; " comments.
#
# usage: scd2md.py SOURCE.scd [OUTPUT.md]   (no OUTPUT: standard output)
import re
import sys

# Words a sentence-cased section title keeps as written.
KEEP_CASE = {"GPU": "GPU", "GPUS": "GPUs", "PCI": "PCI", "SR-IOV": "SR-IOV",
             "VFIO": "VFIO", "IOMMU": "IOMMU", "D-BUS": "D-Bus", "VGPU": "vGPU",
             "GPUVIRTCTL": "gpuvirtctl", "GPUVIRTD": "gpuvirtd"}


class ScdError(Exception):
    pass


class Inline:
    """scdoc's inline formatting, carried across the lines of a paragraph."""

    def __init__(self, where):
        self.where = where
        self.bold = False
        self.under = False

    def literal(self, c):
        if self.bold:
            if c == "`":
                raise ScdError(f"{self.where}: a backquote inside bold text")
            return c
        if c in "\\`*_<>":
            return "\\" + c
        return c

    def convert(self, text):
        out = []
        last = " "
        i = 0
        while i < len(text):
            c = text[i]
            if c == "\\":
                if i + 1 >= len(text):
                    raise ScdError(f"{self.where}: a backslash at the end of a line")
                out.append(self.literal(text[i + 1]))
                last = text[i + 1]
                i += 2
                continue
            if c == "*":
                self.bold = not self.bold
                out.append("`")
            elif c == "_":
                nxt = text[i + 1] if i + 1 < len(text) else " "
                # as scdoc: an underscore inside a word is a letter
                if not last.isalnum() or (self.under and not nxt.isalnum()):
                    self.under = not self.under
                    out.append("*")
                else:
                    out.append(self.literal(c))
            else:
                out.append(self.literal(c))
            last = c
            i += 1
        return "".join(out)

    def close(self):
        if self.bold or self.under:
            raise ScdError(f"{self.where}: bold or underlined text is not closed")


def sentence_case(title):
    words = title.split()
    out = []
    for n, w in enumerate(words):
        if w in KEEP_CASE:
            out.append(KEEP_CASE[w])
        elif n == 0:
            out.append(w[:1] + w[1:].lower())
        else:
            out.append(w.lower())
    return " ".join(out)


def tabs(line):
    n = len(line) - len(line.lstrip("\t"))
    return n, line[n:]


def unescape_literal(text):
    """Literal blocks still take backslash escapes."""
    return re.sub(r"\\(.)", r"\1", text)


def convert(src, name):
    lines = src.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or not re.match(r"^\S+\(\d\)", lines[0]):
        raise ScdError(f"{name}:1: no scdoc preamble")
    out = []
    i = 1
    section = None
    title_done = False
    ini_next = False

    def emit(text=""):
        out.append(text)

    while i < len(lines):
        line = lines[i]
        where = f"{name}:{i + 1}"
        if line.strip() == "":
            i += 1
            continue
        if line.startswith("; ") or line == ";":
            ini_next = line.strip() == "; ini"
            i += 1
            continue
        depth, body = tabs(line)

        if body.startswith("```"):
            if body.strip() != "```":
                raise ScdError(f"{where}: text after a literal block's fence")
            block = []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                d, b = tabs(lines[i])
                if lines[i].strip() and d < depth:
                    raise ScdError(f"{name}:{i + 1}: literal line indented less than its fence")
                block.append(unescape_literal(lines[i][depth:] if lines[i].strip() else ""))
                i += 1
            if i >= len(lines):
                raise ScdError(f"{where}: literal block not closed")
            i += 1
            pad = "  " * depth
            emit()
            emit(pad + "```" + ("ini" if ini_next else ""))
            for b in block:
                emit((pad + b) if b else "")
            emit(pad + "```")
            ini_next = False
            continue
        if ini_next:
            raise ScdError(f"{where}: '; ini' is not followed by a literal block")

        if depth == 0 and body.startswith("#"):
            m = re.match(r"^(#{1,2}) (\S.*)$", body)
            if not m:
                raise ScdError(f"{where}: bad heading")
            level, text = len(m.group(1)), m.group(2)
            i += 1
            if level == 1 and text == "NAME":
                section = "NAME"
                continue
            section = text
            emit()
            emit(("## " + sentence_case(text)) if level == 1 else ("### " + text))
            continue

        if depth == 0 and (body.startswith("[[") or body.startswith("|")):
            raise ScdError(f"{where}: tables are not supported")

        # one block of text: up to a blank line, a fence or a comment
        block = []
        while i < len(lines) and lines[i].strip() and not lines[i].lstrip("\t").startswith("```") \
                and not lines[i].startswith("; "):
            block.append((i + 1, lines[i]))
            i += 1

        if section == "NAME" and not title_done:
            text = " ".join(l.strip() for _, l in block)
            m = re.match(r"^(\S+) - (.*)$", text)
            if not m:
                raise ScdError(f"{where}: NAME is not 'name - description'")
            emit(f"# {m.group(1)}: {m.group(2)}")
            emit()
            emit(f"<!-- Generated from man/{name.split('/')[-1]} by man/scd2md.py: edit the manual page,")
            emit("     then run: meson compile -C build update-configuration-md -->")
            title_done = True
            continue

        inline = Inline(where)
        item = "  "   # how far a list item's continuation lines go in
        emit()
        for n, (lineno, raw) in enumerate(block):
            d, b = tabs(raw)
            pad = "  " * d
            nxt = tabs(block[n + 1][1])[0] if n + 1 < len(block) else None
            if b.endswith("++"):
                raise ScdError(f"{name}:{lineno}: line breaks (++) are not supported")
            if b.startswith("- "):
                emit(pad + "- " + inline.convert(b[2:]))
                item = "  "
            elif b.startswith(". "):
                emit(pad + "1. " + inline.convert(b[2:]))
                item = "   "
            elif b.startswith("  "):
                # continues a list item
                emit(pad + item + inline.convert(b[2:]))
            elif nxt is not None and nxt > d:
                # a term: its indented body follows as the item's paragraph
                emit(pad + "- " + inline.convert(b))
                emit()
            else:
                emit(pad + inline.convert(b))
        inline.close()

    text = "\n".join(out).strip("\n") + "\n"
    return re.sub(r"\n{3,}", "\n\n", text)


def main():
    if len(sys.argv) not in (2, 3):
        print("usage: scd2md.py SOURCE.scd [OUTPUT.md]", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        src = f.read()
    try:
        md = convert(src, sys.argv[1])
    except ScdError as e:
        print(f"scd2md: {e}", file=sys.stderr)
        return 1
    if len(sys.argv) == 3:
        with open(sys.argv[2], "w", encoding="utf-8") as f:
            f.write(md)
    else:
        sys.stdout.write(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())

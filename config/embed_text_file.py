#!/usr/bin/env python3
"""Writes a C++ file whose embedded_default_config_text() returns the bytes of a text file.

Usage: embed_text_file.py INPUT OUTPUT   (run by config/meson.build at build time)
"""
import sys

src, dst = sys.argv[1], sys.argv[2]
with open(src, "rb") as f:
    data = f.read()
# Byte-wise escapes: no raw-string delimiter can clash with the file's contents.
body = "".join("\\x%02x" % b for b in data)
chunks = [body[i:i + 96] for i in range(0, len(body), 96)]
with open(dst, "w") as f:
    f.write("// Generated from %s by config/embed_text_file.py. Do not edit.\n" % src.split("/")[-1])
    f.write('#include "config/config_loader.hpp"\n\n')
    f.write("namespace poolreg::config {\n\n")
    f.write("namespace {\nconstexpr char kText[] =\n")
    for c in chunks:
        f.write('    "%s"\n' % c)
    if not chunks:
        f.write('    ""\n')
    f.write(";\n}  // namespace\n\n")
    f.write("std::string_view embedded_default_config_text() { return {kText, sizeof kText - 1}; }\n\n")
    f.write("}  // namespace poolreg::config\n")

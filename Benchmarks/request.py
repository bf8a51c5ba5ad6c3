#!/usr/bin/env python3
# Writes a distcc protocol 1 request (Docs/protocol.md) for the benchmark scripts, COUNT times in a row, as
# one sshccd reads them from one stream. Usage: request.py OUT COUNT PREPROCESSED_SOURCE COMPILER ARG...
import sys

out, count, source_path, *arguments = sys.argv[1:]


def frame(token, value):
    return token.encode() + b"%08x" % value


request = frame("DIST", 1) + frame("ARGC", len(arguments))
for argument in arguments:
    request += frame("ARGV", len(argument.encode())) + argument.encode()
source = open(source_path, "rb").read()
request += frame("DOTI", len(source)) + source
open(out, "wb").write(request * int(count))

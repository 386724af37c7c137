#!/usr/bin/env python3
"""Writes damaged copies of a .qtc artifact for bad-input tests.

  corrupt_artifact.py IN.qtc OUT_PREFIX

OUT_PREFIX.truncated.qtc  the first half of the file
OUT_PREFIX.flipped.qtc    bytes inside the FlatBuffer overwritten
OUT_PREFIX.magic.qtc      a wrong magic number
"""
import sys

data = bytearray(open(sys.argv[1], "rb").read())
prefix = sys.argv[2]
open(prefix + ".truncated.qtc", "wb").write(data[:len(data) // 2])
flipped = bytearray(data)
for i in range(40, 40 + 64):
    flipped[i] ^= 0xA5
open(prefix + ".flipped.qtc", "wb").write(flipped)
magic = bytearray(data)
magic[0:8] = b"NOTQTC00"
open(prefix + ".magic.qtc", "wb").write(magic)

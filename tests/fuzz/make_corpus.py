#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus from docs/protocol.md's test vectors and
a few hand-made programs. Run from anywhere; rewrites only the seed-* files it makes
(inputs added by `scripts/fuzz.sh --merge` are named by their SHA-1 and kept)."""
import os
import re
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def vectors():
    """The hex blocks of section 14, by subsection number ("14.1" ...)."""
    text = open(os.path.join(ROOT, "docs", "protocol.md"), encoding="utf-8").read()
    text = text[text.index("## 14. Test vectors"):text.index("## 15.")]
    out = {}
    for m in re.finditer(r"### (14\.\d+) [^\n]*\n(.*?)```\n(.*?)```", text, re.S):
        data = bytearray()
        for line in m.group(3).splitlines():
            data += bytes.fromhex(" ".join(line.split()[1:]))
        out[m.group(1)] = bytes(data)
    return out


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def refix(d):
    d = bytearray(d)
    d[-4:] = struct.pack(">I", crc32c(bytes(d[:-4])))
    return bytes(d)


V = vectors()
NAMES = {"14.1": "initial", "14.2": "retry", "14.3": "initial-cookie", "14.4": "accept",
         "14.5": "data-sack", "14.6": "ack", "14.7": "fin", "14.8": "reset",
         "14.9": "data-coalesced"}
assert set(V) == set(NAMES), sorted(V)

# --- wire: every vector, and one of each malformed kind ---
for k, n in NAMES.items():
    write("wire", n, V[k])
data = V["14.5"]
write("wire", "bad-crc", data[:-1] + bytes([data[-1] ^ 1]))
write("wire", "bad-version", b"\x02" + data[1:])
write("wire", "short", data[:39])
write("wire", "long", data + b"\x00")
write("wire", "bad-record", refix(V["14.9"][:36] + b"\x00\x05Ana\x00\x04Luis" + b"\0\0\0\0"))
write("wire", "max-sack", refix(bytes([1, 5, 1, 128]) + V["14.6"][4:36] + bytes(128) + b"\0\0\0\0"))

# --- listen: mode, now (8), address length and bytes, datagram ---
ADDR = bytes.fromhex("00021f90c0000201")


def listen(mode, now, dgram, addr=ADDR):
    return bytes([mode]) + struct.pack(">Q", now) + bytes([len(addr)]) + addr + dgram


write("listen", "initial", listen(0, 1000250, V["14.1"]))
write("listen", "initial-cookie", listen(0, 1000750, V["14.3"]))
write("listen", "cookie-expired", listen(0, 1000250 + 10000001, V["14.3"]))
write("listen", "cookie-other-addr", listen(0, 1000750, V["14.3"], ADDR[:-1] + b"\x02"))
write("listen", "planted-cookie", listen(0x03, 5000000, V["14.3"]))
write("listen", "planted-elsewhere", listen(0x07, 5000000, V["14.3"]))
for k in ("14.2", "14.4", "14.5", "14.6", "14.7", "14.8", "14.9"):
    write("listen", NAMES[k], listen(0, 2000000, V[k]))
write("listen", "long-addr", listen(0, 1000250, V["14.1"], bytes(range(70))))
write("listen", "garbage", listen(0, 1, b"\x01" * 45))

# --- linebuf: limit byte, chunking seed, stream ---
write("linebuf", "names", b"\xff\x01Ana\nBeto\r\nCarla\n  Dario  \nJuli\xc3\xa1n")
write("linebuf", "limit", b"\x08\x02" + b"12345678\n123456789\n")
write("linebuf", "limit-cr", b"\x08\x03" + b"12345678\r\n1234567\r\r\nabc")
write("linebuf", "empty-lines", b"\x05\x04" + b"\n\r\n\n\r\r\nx")
write("linebuf", "no-newline", b"\x04\x05" + b"abcdefghij")
write("linebuf", "nul", b"\x10\x06" + b"a\x00b\nc\x00\r\n\x00")

# --- conn: three setup bytes, then operations (see fuzz_conn.c) ---
SEND_C, SEND_S = 0x02, 0x03
FLUSH, WAKE, RECV_ALL = 0x0E, 0x01, 0x0F
CLOSE_C, CLOSE_S = 0x0D, 0x1D


def sends(op, n, length=10):
    return bytes([op, length]) * n


def settle(n=6):
    """Deliver everything and let delayed ACKs out: 5 ms steps, no long sleeps (the
    next deadline of an idle connection is its idle timeout)."""
    return bytes([FLUSH, 0x10, 50]) * n + bytes([FLUSH, RECV_ALL])


WAKE_LOSS = bytes([WAKE, FLUSH])  # a probe timeout, then delivery


basic = (sends(SEND_C, 3) + settle(2) + sends(SEND_S, 3) + settle(2)
         + bytes([CLOSE_C, CLOSE_S]) + settle())
write("conn", "basic", b"\x40\x08\x00" + basic)
write("conn", "handshake", b"\x41\x08\x00" + bytes([0x04, 0x05, 0x04, 0x05]) + basic)
write("conn", "handshake-loss",
      b"\x01\x08\x00" + bytes([0x06, WAKE, 0x04, 0x07, WAKE, 0x04, 0x05, 0x04, 0x05]) + basic)
write("conn", "loss", b"\x40\x08\x00" + sends(SEND_C, 4) + bytes([0x16, 0x36, 0x04, 0x04])
      + settle(1) + WAKE_LOSS * 3 + settle(1) + basic)
write("conn", "reorder-dup", b"\x40\x08\x00" + sends(SEND_C, 5)
      + bytes([0x34, 0x24, 0x08, 0x04, 0x04, 0x18, 0x04]) + settle(3) + basic)
write("conn", "coalesce", b"\x76\x0c\x00" + sends(SEND_C | 0x80, 20, 30) + settle(4)
      + sends(SEND_S | 0x80, 20, 30) + bytes([0x07]) + settle(2) + WAKE_LOSS + settle(2)
      + bytes([CLOSE_C, CLOSE_S]) + settle())
write("conn", "zero-window", b"\x00\x0c\x00" + sends(SEND_C, 8) + settle(4)
      + WAKE_LOSS * 2 + bytes([0x1C]) + settle(2) + bytes([0x9C]) + settle(4))
write("conn", "wrap", b"\xc8\x07\x04" + sends(SEND_C, 6) + sends(SEND_S, 6) + settle(4)
      + bytes([CLOSE_C, CLOSE_S]) + settle())
write("conn", "idle", b"\x30\x05\x00" + sends(SEND_C, 2) + settle(1) + bytes([0x30, 40]) + settle(2))
write("conn", "dead-peer", b"\x30\x04\x08" + sends(SEND_C, 2) + bytes([0x06, 0x06])
      + bytes([WAKE, 0x06]) * 12)
write("conn", "altered", b"\x40\x08\x00" + sends(SEND_C, 2)
      + bytes([0x1A, 1, 0x00, 0x0D, 0x55, 0x04])
      + bytes([0x0A, 2, 0x00, 0x01, 0x07, 0x00, 0x25, 0xFF, 0x06]) + settle(3))
forged = bytearray(V["14.5"])
write("conn", "forged", b"\x40\x08\x00" + sends(SEND_C, 2)
      + bytes([0x6B]) + struct.pack(">H", len(forged)) + bytes(forged) + settle(3))
write("conn", "abort", b"\x40\x08\x00" + sends(SEND_C, 2) + bytes([FLUSH, 0xED]) + settle(3))
write("conn", "big-lockstep", b"\x20\x04\x00"
      + (bytes([SEND_C | 0x80, 240]) + settle(1) + bytes([SEND_S | 0x80, 240]) + settle(1)) * 4
      + bytes([CLOSE_C]) + settle(2) + bytes([CLOSE_S]) + settle())

#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/ from ../shared/vectors.

Deterministic: the btcd/dcrd hex vectors (payloads and frames) and a sample of the frames of the
benchmark corpus streams, each seed at most 64 KiB. Run from the repository root:

    python3 fuzz/seed_corpus.py [path/to/shared/vectors]

Seed layouts follow the targets (tests/fuzz_targets/):
  frame_decoder    [flags, chunking] + stream   flags: bits 0-1 network, bit 2 skip unknown,
                                                 bits 3-7 index into VERSIONS
  message_payload  [command index, version index, flags] + payload
  differential     a raw frame
  roundtrip        raw bytes (structure comes from arbitrary::Unstructured)
  peer_state       raw bytes (same)
"""
import hashlib
import json
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTORS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "vectors")
OUT = os.path.join(ROOT, "fuzz", "corpus")
MAX_SEED = 64 * 1024

# Must match tests/fuzz_targets/mod.rs.
COMMANDS = ["version", "verack", "sendaddrv2", "wtxidrelay", "getaddr", "addr", "addrv2", "inv",
            "getdata", "notfound", "getblocks", "getheaders", "headers", "block", "tx", "ping",
            "pong", "reject", "sendheaders", "feefilter", "mempool", "merkleblock", "filterload",
            "filteradd", "filterclear", "getcfilters", "cfilter", "getcfheaders", "cfheaders",
            "getcfcheckpt", "cfcheckpt", "sendcmpct", "cmpctblock", "getblocktxn", "blocktxn",
            "sendtxrcncl", "alert", "futurecmd", "", "mixpairreq", "getminings", "miningstate",
            "getcfilter", "getcftypes", "cftypes", "getcfilterv2", "cfilterv2", "getcfsv2",
            "cfiltersv2", "getinitstate", "initstate", "mixkeyxchg", "mixcphrtxt", "mixslotres",
            "mixfactpoly", "mixdcnet", "mixconfirm", "mixsecrets"]
VERSIONS = [0, 1, 9, 12, 208, 209, 31401, 31402, 60000, 60001, 60002, 70000, 70001, 70001,
            70002, 70010, 70011, 70012, 70013, 70015, 70016, 70017, 2**31 - 1, 2**32 - 1]
MAINNET = bytes.fromhex("f9beb4d9")


def version_index(pver):
    best = 0
    for i, v in enumerate(VERSIONS):
        if v <= pver:
            best = i
    return best


def frame(command, payload, magic=MAINNET):
    cmd = command.encode().ljust(12, b"\0")
    check = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    return magic + cmd + struct.pack("<I", len(payload)) + check + payload


def split_frames(data):
    out, pos = [], 0
    while pos + 24 <= len(data):
        n = struct.unpack_from("<I", data, pos + 16)[0]
        out.append(data[pos:pos + 24 + n])
        pos += 24 + n
    return out


def write(target, name, data):
    if len(data) > MAX_SEED:
        return
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    btcd = json.load(open(os.path.join(VECTORS, "btcd_wire.json")))["vectors"]
    dcrd = json.load(open(os.path.join(VECTORS, "dcrd_wire.json")))["vectors"]
    n = 0
    for chain, vectors in (("btc", btcd), ("dcr", dcrd)):
        for i, v in enumerate(vectors):
            vi = version_index(v["protocol_version"])
            if v["kind"] == "frame":
                raw = bytes.fromhex(v["frame_hex"])
                net = 0 if chain == "btc" else 1
                chunking = (0x00, 0x40, 0x85)[i % 3]
                write("frame_decoder", f"{chain}-frame-{i}",
                      bytes([net | (vi << 3), chunking]) + raw)
                if chain == "btc":
                    write("differential", f"btc-frame-{i}", raw)
            elif v["kind"] == "message" and v["command"] in COMMANDS:
                payload = bytes.fromhex(v["payload_hex"])
                flags = (1 if chain == "dcr" else 0) | (2 if v.get("encoding") == "base" else 0)
                ci = COMMANDS.index(v["command"])
                write("message_payload", f"{chain}-msg-{i}", bytes([ci, vi, flags]) + payload)
                if chain == "btc" and v["valid"]:
                    write("differential", f"btc-msg-{i}", frame(v["command"], payload))
                    write("frame_decoder", f"btc-msg-{i}",
                          bytes([0 | (vi << 3), 0x93]) + frame(v["command"], payload))
    corpus = os.path.join(VECTORS, "corpus")
    streams = ["small.stream", "mixed.stream", "txs.stream", "txs_witness.stream", "addr.stream",
               "inv.stream", "headers.stream"]
    for s in streams:
        frames = split_frames(open(os.path.join(corpus, s), "rb").read())
        # A handful of frames per stream and command, spread over the file.
        seen = {}
        for j, f in enumerate(frames):
            cmd = f[4:16].rstrip(b"\0").decode()
            if seen.get(cmd, 0) >= 3 or j % 7:
                continue
            seen[cmd] = seen.get(cmd, 0) + 1
            tag = f"{s.split('.')[0]}-{j}-{cmd}"
            if len(f) > MAX_SEED:
                # The start of an oversized frame: a partial payload for the decoder to hold.
                write("frame_decoder", tag + "-partial", bytes([20 << 3, 0xc1]) + f[:MAX_SEED - 2])
                continue
            if len(f) > 16 * 1024 and seen[cmd] > 1:
                continue
            write("differential", tag, f)
            write("frame_decoder", tag, bytes([20 << 3, 0x80 | (j & 0x3f)]) + f)
            ci = COMMANDS.index(cmd) if cmd in COMMANDS else 37
            write("message_payload", tag, bytes([ci, 20, 0]) + f[24:])
            write("roundtrip", tag, f[24:])
            if len(f) < 4096:
                write("peer_state", tag, f)
        # One multi-frame stream sample per file.
        head = b"".join(frames[:40])[:MAX_SEED - 2]
        write("frame_decoder", f"{s.split('.')[0]}-head", bytes([20 << 3, 0x87]) + head)
    n = sum(len(fs) for _, _, fs in os.walk(OUT))
    print(f"{n} seed files under {OUT}")


if __name__ == "__main__":
    main()

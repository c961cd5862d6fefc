"""The btfm command line, driven as a user would from a shell.

The container fixture is written here by an encoder of doc/container.md (struct and
zlib.crc32 from Python's standard library), independent of libbtfm's own writer.
"""
import json
import os
import struct
import tempfile
import unittest
import zlib

from cli_support import program, run

program()  # the btfm under test: the first argument
SOURCE_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def header_version():
    text = open(os.path.join(SOURCE_ROOT, "include", "btfm", "version.h")).read()
    parts = []
    for part in ("MAJOR", "MINOR", "PATCH"):
        line = [l for l in text.splitlines() if l.startswith("#define BTFM_VERSION_%s " % part)][0]
        parts.append(line.split()[2])
    return ".".join(parts)


def chunk(kind, payload):
    head = kind + struct.pack("<Q", len(payload))
    return head + payload + struct.pack("<I", zlib.crc32(head + payload))


def container_bytes(kind, arrays):
    """arrays: list of (name, dtype code, shape, raw little-endian bytes)."""
    out = b"\x89BTFM\r\n\x1a"
    kb = kind.encode()
    out += chunk(b"HEAD", struct.pack("<IIIIH", 1, 1, 10000, len(arrays), len(kb)) + kb)
    for name, dtype, shape, raw in arrays:
        nb = name.encode()
        payload = struct.pack("<H", len(nb)) + nb + struct.pack("<BBH", dtype, len(shape), 0)
        payload += b"".join(struct.pack("<Q", s) for s in shape) + raw
        out += chunk(b"ARRY", payload)
    return out + chunk(b"TAIL", b"")


class Cli(unittest.TestCase):
    def test_version(self):
        r = run("--version")
        self.assertEqual(r.returncode, 0, r.stderr)
        v = header_version()
        self.assertTrue(r.stdout.startswith("btfm %s (library %s, capabilities: core" % (v, v)), r.stdout)

    def test_help_lists_commands(self):
        r = run("help")
        self.assertEqual(r.returncode, 0)
        for cmd in ("help", "version", "demo", "info", "params"):
            self.assertIn("\n  %s " % cmd, r.stdout)
        r = run("help", "info")
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage: btfm info FILE [--json]", r.stdout)

    def test_usage_errors_exit_2(self):
        for args in ([], ["frobnicate"], ["help", "nope"], ["info"], ["info", "a", "b"],
                     ["info", "--bogus", "x"], ["params", "nokind"], ["demo", "extra"],
                     ["version", "x"]):
            r = run(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn("usage", r.stderr, args)

    def test_numbers_typed_by_the_user(self):
        # Every command reads numbers through one parser: non-finite values, trailing text
        # and empty list items are usage errors naming the option and the text.
        cases = [
            (["filter", "in.edf", "out.edf", "--band", "nan", "40"], "--band: 'nan'"),
            (["filter", "in.edf", "out.edf", "--band", "1", "40Hz"], "--band: '40Hz'"),
            (["epochs", "in.edf", "out.btfm", "--tmin", "inf"], "--tmin: 'inf'"),
            (["psd", "in.edf", "--fmax", "1e999"], "--fmax"),
            (["cothb", "bench", "--dprime", "1,,2"], "'1,,2'"),
            (["cothb", "bench", "--budget", "24,inf"], "'24,inf'"),
            (["model", "fit", "out.model", "x.npy", "y.npy", "--alphas", "1,nan"], "'1,nan'"),
            (["align", "fit", "out.model", "a.npy", "b.npy", "--param", "n_features=1e400"], "'1e400'"),
        ]
        for args, text in cases:
            r = run(*args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(text, r.stderr, args)

    def test_demo(self):
        # A small session: the table and the figure (the default session, its seeds and
        # the null case: test_demo_claim).
        with tempfile.TemporaryDirectory() as d:
            svg = os.path.join(d, "demo.svg")
            r = run("demo", "--plot", svg, "--param", "n_annotators=4", "--param", "n_items=30")
            self.assertEqual(r.returncode, 0, r.stderr)
            for mode in ("ratings-only", "brain-only", "joint"):
                self.assertIn("\n" + mode, r.stdout)
            with open(svg) as f:
                self.assertEqual(f.read().count('class="axes"'), 6)

    def test_info_on_a_container_written_independently(self):
        raw = struct.pack("<6f", *[0.5, 1, 2, 3, 4, 5])
        data = container_bytes("aligner", [("w", 4, (2, 3), raw), ("note", 6, (2,), b"hi")])
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.btfm")
            with open(path, "wb") as f:
                f.write(data)
            r = run("info", path, "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            info = json.loads(r.stdout)
            self.assertEqual(info["kind"], "aligner")
            self.assertEqual(info["arrays"], [{"name": "w", "dtype": "f32", "shape": [2, 3]},
                                              {"name": "note", "dtype": "utf8", "shape": [2]}])
            r = run("info", path)
            self.assertEqual(r.returncode, 0)
            self.assertIn('kind "aligner", 2 arrays', r.stdout)
            # One flipped payload byte: a named checksum error, exit 1.
            bad = bytearray(data)
            bad[40] ^= 0xFF
            with open(path, "wb") as f:
                f.write(bad)
            r = run("info", path)
            self.assertEqual(r.returncode, 1)
            self.assertIn("CRC-32", r.stderr)
            self.assertIn(path, r.stderr)
            r = run("info", os.path.join(d, "missing.btfm"))
            self.assertEqual(r.returncode, 1)
            self.assertIn("No such file", r.stderr)

    def test_params_json_matches_library_table(self):
        r = run("params", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        params = json.loads(r.stdout)
        fsync = [p for p in params if p["kind"] == "container" and p["name"] == "fsync"]
        self.assertEqual(len(fsync), 1)
        self.assertEqual((fsync[0]["type"], fsync[0]["default"], fsync[0]["min"], fsync[0]["max"]),
                         ("bool", 1, 0, 1))
        r = run("params", "container")
        self.assertEqual(r.returncode, 0)
        self.assertIn("fsync", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)

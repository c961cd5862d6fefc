"""What a person sees when a command's input is wrong: a missing file, a folder, a file
that is not what its name says, an array of the wrong shape. Every message names the
file and says what is wrong in the words the file system or the format would use; the
expected texts come from the operating system (os.strerror) and the .npy files from
NumPy. Every message starts with the command that failed, "btfm COMMAND: " or, for a
command with subcommands, "btfm COMMAND SUBCOMMAND: ", as git and curl name theirs."""
import errno
import os
import re
import tempfile
import unittest

import numpy as np

from cli_support import program, run

program()  # the btfm under test: the first argument

# Every command that reads a recording, with the arguments that follow the input.
READERS = {
    "info": ("info", "{}"),
    "psd": ("psd", "{}"),
    "epochs": ("epochs", "{}", "out.npy"),
    "filter": ("filter", "{}", "out.edf", "--low", "1"),
    "convert": ("convert", "{}", "out.edf"),
    "anonymize": ("anonymize", "{}", "out.edf"),
    "align fit": ("align", "fit", "out.model", "{}", "{}"),
}


class InputMessages(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.d = self.dir.name

    def tearDown(self):
        self.dir.cleanup()

    def command(self, name, path):
        return [a.format(path) for a in READERS[name]]

    def test_a_missing_file_is_named_with_the_system_message(self):
        for name in READERS:
            r = run(*self.command(name, "missing.edf"), cwd=self.d)
            self.assertEqual(r.returncode, 1, (name, r.stderr))
            self.assertEqual(r.stderr, "btfm %s: missing.edf: %s\n"
                             % (name, os.strerror(errno.ENOENT)), name)

    def test_a_folder_is_called_a_folder(self):
        os.mkdir(os.path.join(self.d, "rec"))
        os.mkdir(os.path.join(self.d, "rec.edf"))
        for name in READERS:
            if name == "info":  # reads a folder as BIDS
                continue
            for folder in ("rec", "rec.edf"):
                r = run(*self.command(name, folder), cwd=self.d)
                self.assertEqual(r.returncode, 1, (name, r.stderr))
                self.assertIn("%s is a folder; expected a recording file" % folder, r.stderr,
                              name)

    def test_a_text_file_named_edf_is_not_an_edf_file(self):
        with open(os.path.join(self.d, "notes.edf"), "w") as f:
            f.write("subject 12, eyes closed\n" * 20)  # longer than an EDF header
        with open(os.path.join(self.d, "short.edf"), "w") as f:
            f.write("hi\n")
        for name in READERS:
            for path, start in (("notes.edf", "subject "), ("short.edf", "hi\\x0A")):
                r = run(*self.command(name, path), cwd=self.d)
                self.assertEqual(r.returncode, 1, (name, r.stderr))
                self.assertIn("%s: not an EDF or BDF file: it starts with \"%s\"" % (path, start),
                              r.stderr, name)
                self.assertNotIn("TRUNCATED", r.stderr)

    def test_npy_shape_messages_show_the_shape_alone(self):
        shapes = {"epochs.npy": (15, 257, 9), "one.npy": (100,), "scalar.npy": (),
                  "empty.npy": (0, 4)}
        for file, shape in shapes.items():
            np.save(os.path.join(self.d, file), np.zeros(shape, np.float32))
        np.save(os.path.join(self.d, "ok.npy"), np.ones((20, 4), np.float32))
        for file, shape in shapes.items():
            r = run("align", "fit", "out.model", file, "ok.npy", cwd=self.d)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("%s: shape %s; expected a 2-D (time points, features) array"
                          % (file, str(shape)), r.stderr)
            self.assertNotIn("}", r.stderr)
            self.assertNotIn("  ", r.stderr)  # no header padding


# A failing call of every command and subcommand: (arguments, exit status). Missing inputs
# and refused values fail at run time (1); help, version, params and two of cothb's
# subcommands have no input to miss and fail on their usage (2).
FAILING_CALLS = [
    (("help", "nope"), 2),
    (("version", "--nope"), 2),
    (("demo", "--bids", "missing"), 1),
    (("info", "missing.edf"), 1),
    (("convert", "missing.edf", "out.edf"), 1),
    (("anonymize", "missing.edf", "out.edf"), 1),
    (("params", "nope"), 2),
    (("cothb", "bench", "--budget", "1"), 2),
    (("cothb", "calibrate", "missing.tsv"), 1),
    (("cothb", "tune", "--svg", "out.svg"), 2),
    (("align", "fit", "out.model", "missing.npy", "missing.npy"), 1),
    (("align", "transform", "missing.model", "in.npy", "out.npy", "--subject", "0"), 1),
    (("filter", "missing.edf", "out.edf", "--low", "1"), 1),
    (("epochs", "missing.edf", "out.npy"), 1),
    (("psd", "missing.edf"), 1),
    (("sim", "rating-session", "out", "--param", "nope=1"), 1),
    (("sim", "shared-response", "out", "--param", "nope=1"), 1),
    (("model", "fit", "out.model", "missing.npy", "missing.npy"), 1),
    (("model", "predict", "missing.model", "x.npy", "out.npy"), 1),
    (("model", "score", "missing.model", "x.npy", "y.npy"), 1),
    (("reward", "fit", "missing", "out.btfm"), 1),
    (("reward", "score", "missing.btfm", "missing"), 1),
    (("nirs", "od", "missing.snirf", "out.snirf"), 1),
    (("nirs", "hb", "missing.snirf", "out.snirf"), 1),
    (("nirs", "short", "missing.snirf", "out.snirf"), 1),
    (("nirs", "sci", "missing.snirf"), 1),
    (("corpus", "build", "--key", "abc", "missing.edf", "out"), 1),
    (("corpus", "info", "missing"), 1),
    (("corpus", "windows", "missing"), 1),
    (("stream", "replay", "missing.edf"), 1),
    (("sync", "missing.edf", "missing2.edf"), 1),
]


class MessagePrefix(unittest.TestCase):
    def test_every_command_names_itself_in_its_messages(self):
        commands = re.findall(r"^  (\w+) ", run("help").stdout, re.M)
        self.assertEqual(sorted(commands), sorted({a[0] for a, _ in FAILING_CALLS}),
                         "a failing call for every command of 'btfm help'")
        with tempfile.TemporaryDirectory() as d:
            for args, status in FAILING_CALLS:
                r = run(*args, cwd=d)
                self.assertEqual(r.returncode, status, (args, r.stderr))
                # "btfm align fit: " or "btfm align: " (a usage error of the command), never
                # "btfm: " or another command's name
                sub = " " + args[1] if len(args) > 1 and re.fullmatch(r"[a-z-]+", args[1]) else ""
                self.assertRegex(r.stderr, r"^btfm %s(%s)?: \S" % (args[0], re.escape(sub)), args)
                self.assertNotRegex(r.stderr, r"(^|\n)btfm: ", args)


if __name__ == "__main__":
    unittest.main(verbosity=2)

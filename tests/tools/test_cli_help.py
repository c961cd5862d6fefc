"""Every command explains itself: `btfm COMMAND --help` (the same text as `btfm help
COMMAND`) describes every option the command's source accepts, uses each in an example,
and the manual page doc/btfm.1 is the one `btfm help --man` writes from that text. The
options a command accepts are read from its source file (tools/cmd_NAME.c), independently
of the help text; groff checks the manual page."""
import functools
import os
import re
import shutil
import subprocess
import unittest

from cli_support import program, run

program()  # the btfm under test: the first argument
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

# The source files whose option strings a command accepts.
SOURCES = {"anonymize": ["cmd_anonymize.c", "cmd_convert.c"], "help": ["btfm.c"],
           "version": ["btfm.c"],
           "reward": ["cmd_reward.c", "reward_pairs.c", "reward_encoder.c"]}
# Options handled by shared code, not the command's own: --help everywhere; convert's
# --anonymize is refused by anonymize (tested below).
SHARED = {"--help"}
NOT_ACCEPTED = {"anonymize": {"--anonymize"}, "version": {"--version", "--man"},
                "help": {"--version", "--verbose"}}


@functools.lru_cache(maxsize=None)
def commands():
    out = run("help").stdout
    return tuple(re.findall(r"^  (\w+) ", out, re.M))


@functools.lru_cache(maxsize=None)
def help_text(name):
    """`btfm NAME --help`, run once for every test that reads it."""
    return run(name, "--help")


def source_options(name):
    found = set()
    for file in SOURCES.get(name, ["cmd_%s.c" % name]):
        with open(os.path.join(ROOT, "tools", file), encoding="utf-8") as f:
            text = f.read()
        found |= set(re.findall(r'"(--[a-z][a-z0-9-]*)"', text))
    return found - SHARED - NOT_ACCEPTED.get(name, set())


def help_sections(text):
    """(options: {flag: explanation}, examples: [lines]) of a --help text."""
    options, examples, section, flag = {}, [], None, None
    for line in text.splitlines():
        if line in ("options:", "examples:"):
            section = line[:-1]
        elif section == "options" and line.startswith("  ") and not line.startswith("   "):
            flag = line.split()[0]
            options[flag] = ""
        elif section == "options" and line.startswith("      "):
            options[flag] += line.strip() + " "
        elif section == "examples" and line.startswith("  "):
            examples.append(line.strip())
    return options, examples


class Help(unittest.TestCase):
    def test_every_command_has_help_with_examples(self):
        names = commands()
        self.assertGreaterEqual(len(names), 12, names)
        for name in names:
            r = help_text(name)
            self.assertEqual(r.returncode, 0, (name, r.stderr))
            self.assertEqual(r.stdout, run("help", name).stdout, name)
            self.assertTrue(r.stdout.startswith("usage: btfm %s" % name), r.stdout)
            options, examples = help_sections(r.stdout)
            self.assertTrue(examples, "%s has no examples" % name)
            for example in examples:
                self.assertTrue(example.startswith("btfm "), (name, example))

    def test_every_accepted_option_is_explained_and_used_in_an_example(self):
        for name in commands():
            options, examples = help_sections(help_text(name).stdout)
            accepted = source_options(name)
            self.assertEqual(set(options), accepted,
                             "%s: documented %s, accepted by the source %s"
                             % (name, sorted(options), sorted(accepted)))
            for flag, text in options.items():
                self.assertGreater(len(text.split()), 3, (name, flag, text))
                self.assertTrue(any(re.search(r"(^| )%s( |$)" % re.escape(flag), e)
                                    for e in examples),
                                "%s: no example uses %s" % (name, flag))

    def test_help_after_a_subcommand_and_in_usage_errors(self):
        r = run("align", "fit", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--n-features K", r.stdout)
        r = run("filter", "in.edf", "out.edf", "--lo", "1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown option '--lo'", r.stderr)
        self.assertIn("'btfm filter --help' explains every option", r.stderr)
        r = run("anonymize", "in.edf", "out.edf", "--anonymize")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown option '--anonymize'", r.stderr)

    def test_an_option_without_its_value_is_named_as_such(self):
        """Every option the help documents with a value ("--plot FILE.svg"), last on the
        line without it: a usage error saying what it needs, not "unknown option"
        (after the subcommand of the first example that uses the option, for commands
        that have subcommands, else after the command alone). One call an option: the
        second is tried only when the first does not say it."""
        checked = 0
        for name in commands():
            text = help_text(name).stdout
            options, examples = help_sections(text)
            for line in text.splitlines():
                parts = line.split()
                if not (line.startswith("  --") and not line.startswith("   ")) or len(parts) < 2:
                    continue
                flag = parts[0].rstrip(",")
                if parts[1].startswith("--"):
                    continue  # "--a, --b": flags only
                words = next((e.split() for e in examples if flag in e.split()), [])
                sub = len(words) > 2 and re.fullmatch(r"[a-z][a-z-]*", words[2])
                results = []
                for prefix in ([words[2]], []) if sub else ([],):
                    results.append(run(name, *prefix, flag))
                    if results[-1].returncode == 2 and f"{flag} needs" in results[-1].stderr:
                        break
                else:
                    self.fail((name, flag, [r.stderr.splitlines()[:1] for r in results]))
                checked += 1
        self.assertGreater(checked, 40)

    def test_the_manual_page_is_up_to_date(self):
        r = run("help", "--man")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(ROOT, "doc", "btfm.1"), encoding="utf-8") as f:
            self.assertEqual(f.read(), r.stdout, "doc/btfm.1 is out of date: regenerate it "
                             "with `build/tools/btfm help --man > doc/btfm.1`")
        for name in commands():
            self.assertIn('.SS "btfm %s' % name, r.stdout)

    @unittest.skipUnless(shutil.which("groff"), "groff is not installed")
    def test_the_manual_page_renders_without_warnings(self):
        r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", os.path.join(ROOT, "doc", "btfm.1")],
                           capture_output=True, text=True)
        self.assertEqual((r.returncode, r.stderr), (0, ""))


if __name__ == "__main__":
    unittest.main(verbosity=2)

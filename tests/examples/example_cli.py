"""Test support: an example's --help (exit 0, a usage text) and bad arguments (exit 2,
a message naming the problem)."""
import subprocess


def check_cli(test, program, bad_arguments):
    """`bad_arguments`: a list of (argv tail, text the error must contain)."""
    shown = subprocess.run([program, "--help"], capture_output=True, text=True, timeout=10)
    test.assertEqual(shown.returncode, 0, shown.stderr)
    test.assertIn("usage: ", shown.stdout)
    for argv, wanted in [(["--no-such-flag"], "unknown argument")] + bad_arguments:
        run = subprocess.run([program, *argv], capture_output=True, text=True, timeout=10)
        test.assertEqual(run.returncode, 2, f"{argv}: {run.stderr}")
        test.assertIn(wanted, run.stderr, argv)

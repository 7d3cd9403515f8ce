#!/usr/bin/env python3
"""examples/backend_tour with tiny numbers: both tables, every row without failures.

usage: backend_tour_test.py PATH_TO_BACKEND_TOUR [unittest options]
"""
import re
import subprocess
import sys
import unittest

from example_cli import check_cli

TOUR = None


class BackendTourTest(unittest.TestCase):
    def test_help_and_bad_arguments(self):
        check_cli(self, TOUR, [
            (["--clients", "5,x"], "not a whole number"),
            (["--clients", ""], "empty list"),
            (["--idle", "-1"], "outside"),
            (["--backends", "carrier-pigeon"], "not a backend built here"),
        ])

    def test_tiny_tour(self):
        run = subprocess.run([TOUR, "--idle", "20", "--clients", "3,6", "--rounds", "50", "--load-rounds", "3"],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 0, run.stderr)
        rows = [line for line in run.stdout.splitlines() if re.match(r"\| \w", line)]
        idle_rows = [r for r in rows if re.match(r"\| (select|poll|epoll|kqueue|asio) ", r)]
        self.assertTrue(any(r.startswith("| epoll ") or r.startswith("| kqueue ") for r in idle_rows), run.stdout)
        # Each backend twice: with no idle connection and with 20.
        self.assertEqual(len(idle_rows) % 2, 0)
        self.assertTrue(all(re.search(r"\|\s+(0|20) \|", r) for r in idle_rows), idle_rows)
        load_rows = [r for r in rows if r.startswith("| torsion (") or r.startswith("| threaded_echo")]
        self.assertEqual(len(load_rows), 4, run.stdout)
        for row in load_rows:
            cells = [c.strip() for c in row.strip("|").split("|")]
            self.assertEqual(cells[-1], "0", row)  # no failed client
            clients, threads = int(cells[1]), int(cells[6])
            # The lesson in numbers: one thread per client, or one for them all.
            self.assertEqual(threads, clients + 1 if cells[0] == "threaded_echo" else 1, row)
        self.assertIn("backend_tour: done in", run.stdout)


if __name__ == "__main__":
    TOUR = sys.argv.pop(1)
    unittest.main()

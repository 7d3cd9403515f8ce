"""Test support for the example programs: start one as a child process on a port the
system picks, read the port from its "listening on HOST:PORT" line, and always stop it."""
import re
import subprocess
import threading
import time


class ExampleServer:
    """A running example server; use as a context manager. Its stderr is collected."""

    def __init__(self, argv, startup_timeout=10.0):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._stderr = []
        self._reader = threading.Thread(target=self._collect_stderr, daemon=True)
        self._reader.start()
        line = self._read_line(startup_timeout)
        match = re.match(r"listening on ([0-9.]+):(\d+)", line or "")
        if not match:
            self.stop()
            raise AssertionError(f"{argv[0]} did not announce its port: {line!r}; stderr: {self.stderr()}")
        self.host, self.port = match.group(1), int(match.group(2))

    def _read_line(self, timeout):
        result = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        return result[0] if result else None

    def _collect_stderr(self):
        for line in self.proc.stderr:
            self._stderr.append(line)

    def stderr(self):
        return "".join(self._stderr)

    def wait_for_stderr(self, pattern, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.stderr()):
                return True
            time.sleep(0.02)
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(2)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream and not stream.closed:
                stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

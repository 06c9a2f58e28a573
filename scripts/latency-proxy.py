"""A loopback HTTP proxy in front of the emulator that answers as AWS does in one respect the
emulator cannot: time. Every call is held for a set latency before it is forwarded (calls
overlap, as they do on AWS), and a share of calls can be throttled the way AWS throttles
(HTTP 400, `Throttling: Rate exceeded`, in the protocol of the call; Lambda's REST calls
HTTP 429 `TooManyRequestsException`).

    python scripts/latency-proxy.py UPSTREAM PORT [--latency-ms N] [--throttle-every N]
                                     [--exit-with-parent] [--log FILE]

UPSTREAM: the emulator's URL (http://127.0.0.1:PORT). PORT: where to listen, on 127.0.0.1
(0: a free port). Prints `http://127.0.0.1:PORT` on stdout once it listens.
--latency-ms: the delay of every call (default 80). --throttle-every N: every Nth call is
answered with a throttling error instead of being forwarded (default 0: none).
--exit-with-parent: exit when the process that started this one dies.
--log FILE: append one line per call (seconds since the proxy started when it arrived, the
emulator's own time in ms, the operation, the status), to see where a command waits.

Used by the integration tests that need an operation in progress (an interrupt during a wait)
and by the benchmarks that measure at AWS-like latency. It listens on loopback only.
"""
import http.client
import http.server
import os
import sys
import threading
import time
import urllib.parse


def watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


THROTTLE_QUERY = (
    b'<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>'
    b"<Message>Rate exceeded</Message></Error><RequestId>0</RequestId></ErrorResponse>"
)
THROTTLE_JSON = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
# The REST-JSON services (Lambda) throttle with HTTP 429 and the error type in a header.
THROTTLE_REST = b'{"Type":"User","message":"Rate exceeded","Reason":"CallerRateLimitExceeded"}'


def main() -> int:
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    upstream = urllib.parse.urlparse(args[0])
    port = int(args[1])
    latency = 0.08
    throttle_every = 0
    if "--latency-ms" in args:
        latency = int(args[args.index("--latency-ms") + 1]) / 1000.0
    if "--throttle-every" in args:
        throttle_every = int(args[args.index("--throttle-every") + 1])
    if "--exit-with-parent" in args:
        threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    counter = {"n": 0}
    lock = threading.Lock()
    log = open(args[args.index("--log") + 1], "a", buffering=1) if "--log" in args else None
    started = time.perf_counter()

    def operation(headers, body: bytes) -> str:
        target = headers.get("X-Amz-Target")
        if target:
            return target.rsplit(".", 1)[-1]
        for part in body.split(b"&"):
            if part.startswith(b"Action="):
                return part[len(b"Action="):].decode(errors="replace")
        return "?"

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: with Nagle on, the second waits for the
        # client's delayed ACK of the first (up to 40 ms on Linux) on a kept-alive connection,
        # which would add to every call's latency.
        disable_nagle_algorithm = True

        def log_message(self, *a):  # quiet
            pass

        def forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            arrived = time.perf_counter() - started
            time.sleep(latency)
            with lock:
                counter["n"] += 1
                n = counter["n"]
            if throttle_every and n % throttle_every == 0 and self.path.startswith("/2015-03-31/"):
                self.send_response(429)
                self.send_header("Content-Type", "application/json")
                self.send_header("x-amzn-ErrorType", "TooManyRequestsException")
                self.send_header("Content-Length", str(len(THROTTLE_REST)))
                self.end_headers()
                self.wfile.write(THROTTLE_REST)
                return
            if throttle_every and n % throttle_every == 0:
                json_protocol = "json" in (self.headers.get("Content-Type") or "")
                payload = THROTTLE_JSON if json_protocol else THROTTLE_QUERY
                self.send_response(400)
                self.send_header(
                    "Content-Type",
                    "application/x-amz-json-1.0" if json_protocol else "text/xml",
                )
                self.send_header("x-amzn-ErrorType", "ThrottlingException")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            sent = time.perf_counter()
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            if log:
                took = (time.perf_counter() - sent) * 1000
                log.write(f"{arrived:.3f} {took:.1f} {operation(self.headers, body)} {resp.status}\n")
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = forward

    class Server(http.server.ThreadingHTTPServer):
        # A client that opens many connections at once (an SDK with 64 calls in flight) must
        # not overflow the listen queue (5 by default): a connection dropped there is retried
        # by the client's TCP after a second, which AWS's endpoints never make it wait.
        request_queue_size = 1024

    server = Server(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main() or 0)

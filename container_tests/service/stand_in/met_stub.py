"""A stand-in for the Met collection API, run with the app image's own Python (stdlib only).

Started as ``python -c <this file's text>`` in a container on the test's private network.
The search term picks the behaviour, so one stand-in serves every case:

- ``sunflowers``: one hit with an image; ``lag``: the same after LAG_SECONDS
- ``nothing`` (and any unknown term): no hits, ``objectIDs: null`` as the real API answers
- ``ghost``: a hit whose object lookup answers 404
- ``boom``: HTTP 500; ``garbage``: a non-JSON body; ``shape``: JSON of the wrong shape
- ``slow``: answers after SLOW_SECONDS, longer than the app's timeout in the tests
- ``reset``: closes the connection with a TCP reset, answering nothing

``/health`` answers 200 so the suite can wait for it.
"""

import json
import socket
import struct
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PREFIX = "/public/collection/v1"
IMAGE = "https://images.metmuseum.org/CRDImages/ep/original/DT1502_cropped2.jpg"
LAG_SECONDS = 1.0
SLOW_SECONDS = 4.0
HIT = {"total": 1, "objectIDs": [436524]}
NO_HITS = {"total": 0, "objectIDs": None}
SEARCHES = {
    "sunflowers": (200, HIT),
    "lag": (200, HIT),
    "slow": (200, HIT),
    "ghost": (200, {"total": 1, "objectIDs": [999999]}),
    "boom": (500, {"message": "internal error"}),
    "shape": (200, {"total": "many", "results": []}),
}
OBJECTS = {"436524": {"objectID": 436524, "title": "Sunflowers", "primaryImage": IMAGE}}
DELAYS = {"lag": LAG_SECONDS, "slow": SLOW_SECONDS}
ARRIVED = "delayed search arrived:"


class Handler(BaseHTTPRequestHandler):
    """Serves the canned answers above."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        """Routes a GET by path and query."""
        url = urlsplit(self.path)
        if url.path == "/health":
            self.reply(200, {"status": "ok"})
        elif url.path == f"{PREFIX}/search":
            # Case-insensitive, like the collection API's search.
            self.search(parse_qs(url.query).get("q", [""])[0].lower())
        elif url.path.startswith(f"{PREFIX}/objects/"):
            found = OBJECTS.get(url.path.rsplit("/", 1)[1])
            self.reply(200, found) if found else self.reply(404, {"message": "ObjectID not found"})
        else:
            self.reply(404, {"message": "Not Found"})

    def search(self, term: str) -> None:
        """Answers a search as the term asks."""
        if term == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if term in DELAYS:  # the drain test waits for these lines before it stops the app
            print(f"{ARRIVED} {term}", flush=True)
        time.sleep(DELAYS.get(term, 0))
        if term == "garbage":
            self.reply(200, "<html>maintenance</html>", content_type="text/html")
        else:
            self.reply(*SEARCHES.get(term, (200, NO_HITS)))

    def reply(self, status: int, body: object, content_type: str = "application/json") -> None:
        """Sends ``body`` (JSON unless it is a string) with ``status``."""
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Keeps the stand-in quiet under load."""


class Server(ThreadingHTTPServer):
    """Threaded server that does not print a traceback for connections it reset itself."""

    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        """Ignores errors of closed connections."""


server = Server(("0.0.0.0", 8080), Handler)  # noqa: S104 - inside its own container
print("stand-in listening on 8080", flush=True)  # what the suite waits for
server.serve_forever()

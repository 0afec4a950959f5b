"""A stand-in for the Met collection API, run with the app image's own Python (stdlib only).

Started as ``python -c <this file's text>`` in a container on the test's private network.
Answers by the search term: ``sunflowers`` -> one hit with an image, ``nothing`` -> no hits
(``objectIDs: null``, as the real API does), ``boom`` -> HTTP 500, ``garbage`` -> a non-JSON
body. ``/health`` answers 200 so the suite can wait for it.
"""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PREFIX = "/public/collection/v1"
IMAGE = "https://images.metmuseum.org/CRDImages/ep/original/DT1502_cropped2.jpg"
SEARCHES = {
    "sunflowers": (200, {"total": 1, "objectIDs": [436524]}),
    "nothing": (200, {"total": 0, "objectIDs": None}),
    "boom": (500, {"message": "internal error"}),
}
OBJECTS = {"436524": {"objectID": 436524, "title": "Sunflowers", "primaryImage": IMAGE}}


class Handler(BaseHTTPRequestHandler):
    """Serves the canned answers above."""

    def do_GET(self) -> None:
        """Routes a GET by path and query."""
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path == "/health":
            self.reply(200, {"status": "ok"})
        elif url.path == f"{PREFIX}/search":
            term = query.get("q", [""])[0]
            if term == "garbage":
                self.reply(200, "<html>not json</html>", content_type="text/html")
            else:
                self.reply(*SEARCHES.get(term, (200, {"total": 0, "objectIDs": None})))
        elif url.path.startswith(f"{PREFIX}/objects/"):
            found = OBJECTS.get(url.path.rsplit("/", 1)[1])
            self.reply(200, found) if found else self.reply(404, {"message": "ObjectID not found"})
        else:
            self.reply(404, {"message": "Not Found"})

    def reply(self, status: int, body: object, content_type: str = "application/json") -> None:
        """Sends ``body`` (JSON unless it is a string) with ``status``."""
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()  # noqa: S104 - in its container

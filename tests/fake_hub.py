#!/usr/bin/env python3
"""A fake Hugging Face Hub for jetlm's tests (and its pull benchmark), on loopback.

It answers the endpoints jetlm uses, as the real Hub does:
  GET /api/models/{repo}/revision/{rev}               {"id", "sha", "siblings"}
  GET /api/models/{repo}/tree/{rev}?recursive=true     [{type, oid, size, path, lfs{oid,size,pointerSize}}], Link rel="next"
  GET /{repo}/resolve/{rev}/{file}                     302 to /cdn/... (relative or on another host name), or the bytes
  GET /cdn/{repo}/{file}                               the bytes, with Range
The config (JSON, re-read on every request so a test can change it between runs):
  {"cdn_host": "localhost",
   "repos": {"org/name": {"commit": "<40 hex>", "files": {"path/in/repo.gguf": "/local/file"},
                          "token": "...",            # private: Bearer token required (401 otherwise)
                          "gated": true,             # the token is valid but has no access (403)
                          "redirect": "absolute",    # or "relative" or "none"
                          "drop_once_after": 1000,   # the first CDN answer of each file stops after N bytes
                          "corrupt": true,           # one byte of every file flipped in transit
                          "ignore_range": true,      # answer 200 with the whole file to a Range request
                          "slow_ms": 5,              # pause per 64 KiB
                          "page_size": 2,            # tree entries per page
                          "lfs": false}}}            # .gguf files kept in git: the tree gives only the git sha1
Every request is logged as one JSON line: method, path, host, authorization, range.
Prints the port on stdout once listening. Usage: fake_hub.py CONFIG LOG [--port N]
"""
import hashlib
import http.server
import json
import os
import sys
import threading
import time
import urllib.parse

CONFIG, LOG = sys.argv[1], sys.argv[2]
PORT = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 0
_lock = threading.Lock()
_dropped = set()
_sha_cache = {}


def sha256_of(path):
    key = (path, os.path.getmtime(path), os.path.getsize(path))
    if key not in _sha_cache:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _sha_cache[key] = h.hexdigest()
    return _sha_cache[key]


def git_sha1_of(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = dict(headers or {}, **{"Content-Type": "application/json"})
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def find_repo(self, cfg, parts):
        for name, repo in cfg["repos"].items():
            n = name.split("/")
            if parts[: len(n)] == n:
                return name, repo, parts[len(n):]
        return None, None, parts

    def authorized(self, repo):
        """None when allowed, else the error already sent."""
        auth = self.headers.get("Authorization")
        if repo is None:
            # The real Hub: 401 to anonymous callers, 404 to authenticated ones.
            self.reply(404 if auth else 401, {"error": "Repository not found"})
            return False
        if "token" in repo and auth != "Bearer " + repo["token"]:
            self.reply(401, {"error": "Invalid credentials in Authorization header"})
            return False
        if repo.get("gated") and auth:
            self.reply(403, {"error": "Access to this model is restricted: visit its page to ask for access"})
            return False
        return True

    def do_GET(self):
        with _lock, open(LOG, "a") as log:
            log.write(json.dumps({"method": "GET", "path": self.path, "host": self.headers.get("Host"),
                                  "authorization": self.headers.get("Authorization"),
                                  "range": self.headers.get("Range")}) + "\n")
        with open(CONFIG) as f:
            cfg = json.load(f)
        url = urllib.parse.urlsplit(self.path)
        parts = [urllib.parse.unquote(p) for p in url.path.split("/")[1:]]
        if parts[:2] == ["api", "models"]:
            name, repo, rest = self.find_repo(cfg, parts[2:])
            if not self.authorized(repo):
                return
            if len(rest) < 2 or rest[1] not in ("main", repo["commit"]):
                return self.reply(404, {"error": "Revision not found"})
            if rest[0] == "revision":
                return self.reply(200, {"id": name, "sha": repo["commit"],
                                        "siblings": [{"rfilename": p} for p in repo["files"]]})
            if rest[0] == "tree":
                return self.tree(name, repo, urllib.parse.parse_qs(url.query))
            return self.reply(404, {"error": "not found"})
        if parts[0] == "cdn":
            name, repo, rest = self.find_repo(cfg, parts[1:])
            if repo is None:
                return self.reply(404, b"no such object")
            return self.send_file(name, repo, "/".join(rest))
        name, repo, rest = self.find_repo(cfg, parts)
        if len(rest) >= 3 and rest[0] == "resolve":
            if not self.authorized(repo):
                return
            if rest[1] not in ("main", repo["commit"]):
                return self.reply(404, {"error": "Revision not found"})
            path = "/".join(rest[2:])
            if path not in repo["files"]:
                return self.reply(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
            local = repo["files"][path]
            mode = repo.get("redirect", "absolute")
            if mode == "none":
                return self.send_file(name, repo, path)
            cdn = "/cdn/%s/%s?signature=x" % (name, urllib.parse.quote(path))
            if mode == "absolute":
                cdn = "http://%s:%d%s" % (cfg.get("cdn_host", "localhost"), self.server.server_address[1], cdn)
            return self.reply(302, b"", {"Location": cdn, "X-Repo-Commit": repo["commit"],
                                         "X-Linked-Etag": '"%s"' % sha256_of(local),
                                         "X-Linked-Size": str(os.path.getsize(local)),
                                         "ETag": '"%s"' % git_sha1_of(b"pointer")})
        self.reply(404, {"error": "not found"})

    def tree(self, name, repo, query):
        entries = []
        for path, local in sorted(repo["files"].items()):
            size = os.path.getsize(local)
            if path.endswith(".gguf") and repo.get("lfs", True):
                entries.append({"type": "file", "oid": git_sha1_of(b"pointer " + path.encode()), "size": size,
                                "path": path, "lfs": {"oid": sha256_of(local), "size": size, "pointerSize": 134}})
            else:
                with open(local, "rb") as f:
                    data = f.read()
                entries.append({"type": "file", "oid": git_sha1_of(data), "size": size, "path": path})
        dirs = sorted({p.rsplit("/", 1)[0] for p in repo["files"] if "/" in p})
        entries = [{"type": "directory", "oid": "0" * 40, "size": 0, "path": d} for d in dirs] + entries
        page = int(repo.get("page_size", 1000))
        start = int(query.get("cursor", ["0"])[0])
        headers = {}
        if start + page < len(entries):
            nxt = "http://127.0.0.1:%d/api/models/%s/tree/%s?recursive=true&cursor=%d" % (
                self.server.server_address[1], name, repo["commit"], start + page)
            headers["Link"] = '<%s>; rel="next"' % nxt
        self.reply(200, entries[start:start + page], headers)

    def send_file(self, name, repo, path):
        if path not in repo["files"]:
            return self.reply(404, b"no such object")
        with open(repo["files"][path], "rb") as f:
            data = f.read()
        if repo.get("corrupt"):
            mid = len(data) // 2
            data = data[:mid] + bytes([data[mid] ^ 0x55]) + data[mid + 1:]
        start, code, headers = 0, 200, {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"}
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and not repo.get("ignore_range"):
            start = int(rng[6:].split("-")[0])
            if start >= len(data):
                return self.reply(416, b"", {"Content-Range": "bytes */%d" % len(data)})
            code = 206
            headers["Content-Range"] = "bytes %d-%d/%d" % (start, len(data) - 1, len(data))
        body = data[start:]
        send = len(body)
        key = name + "/" + path
        if "drop_once_after" in repo and key not in _dropped:
            _dropped.add(key)
            send = min(send, int(repo["drop_once_after"]))
        self.send_response(code)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        slow = repo.get("slow_ms", 0) / 1000.0
        for off in range(0, send, 1 << 16):
            self.wfile.write(body[off:min(off + (1 << 16), send)])
            if slow:
                time.sleep(slow)
        if send < len(body):
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):  # a client that hung up is fine
            super().handle_error(request, client_address)


def main():
    server = Server(("127.0.0.1", PORT), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

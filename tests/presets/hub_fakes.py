"""Kaggle and the Hugging Face Hub as seen by their real clients, offline.

Only the transport is replaced: huggingface_hub's HTTP client gets an
`httpx2.MockTransport` (through its own `set_client_factory` hook), and
requests' `HTTPAdapter.send` (which kagglesdk's session and kagglehub's
blob uploads both end in) answers locally. Each fake records every request
and answers the endpoints an upload calls as the hub would.
"""

import base64
import contextlib
import json
import threading

import httpx2
import requests
from huggingface_hub import constants as hf_constants
from huggingface_hub.utils import _http as hf_http

# huggingface_hub's look-up of agent names for its User-Agent: not part of
# an upload, answered 404 and left out of the recorded requests.
_HF_CLIENT_PROBE = "/api/agent-harnesses"


class FakeHuggingFaceHub:
    """The Hub's answers to repo creation, file-exists and commit requests."""

    def __init__(self, readme_in_repository=False):
        self.readme_in_repository = readme_in_repository
        self.requests = []

    def __call__(self, request):
        path = request.url.path
        if path == _HF_CLIENT_PROBE:
            return httpx2.Response(404)
        body = request.read()
        self.requests.append((request.method, path, dict(request.headers), body))
        if path == "/api/repos/create":
            name = json.loads(body)
            repository = f"{name['organization']}/{name['name']}"
            return httpx2.Response(
                200, json={"url": f"https://huggingface.co/{repository}"}
            )
        if request.method == "HEAD" and path.endswith("/resolve/main/README.md"):
            if self.readme_in_repository:
                return httpx2.Response(
                    200, headers={"etag": '"0"', "content-length": "3"}
                )
            return httpx2.Response(404, headers={"x-error-code": "EntryNotFound"})
        if path == "/api/validate-yaml":
            return httpx2.Response(200, json={})
        if path.endswith("/preupload/main"):
            files = [
                {"path": entry["path"], "uploadMode": "regular", "shouldIgnore": False}
                for entry in json.loads(body)["files"]
            ]
            return httpx2.Response(200, json={"files": files, "commitOid": "a" * 40})
        if "/commit/" in path:
            repository = path.split("/")[3:5]  # /api/models/OWNER/NAME/commit/main
            url = f"https://huggingface.co/{'/'.join(repository)}/commit/{'b' * 40}"
            return httpx2.Response(200, json={"commitUrl": url, "commitOid": "b" * 40})
        return httpx2.Response(
            500, json={"error": f"unexpected {request.method} {path}"}
        )

    def paths(self):
        return [(method, path) for method, path, _, _ in self.requests]

    def commit(self):
        """(header, {path: bytes}) of the one commit sent."""
        bodies = [body for _, path, _, body in self.requests if "/commit/" in path]
        assert len(bodies) == 1, self.paths()
        lines = [json.loads(line) for line in bodies[0].decode().splitlines()]
        files = {
            line["value"]["path"]: base64.b64decode(line["value"]["content"])
            for line in lines
            if line["key"] == "file"
        }
        return lines[0]["value"], files


@contextlib.contextmanager
def hugging_face_transport(hub, monkeypatch, tmp_path):
    """huggingface_hub talking to `hub`, with a fake token; restored after."""
    monkeypatch.setenv("HF_TOKEN", "hf_fake_token")
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(
        hf_constants, "AGENT_HARNESSES_PATH", str(tmp_path / "agent_harnesses.json")
    )
    saved = hf_http._GLOBAL_CLIENT_FACTORY
    hf_http.set_client_factory(
        lambda: httpx2.Client(
            transport=httpx2.MockTransport(hub), follow_redirects=True
        )
    )
    try:
        yield hub
    finally:
        hf_http.set_client_factory(saved)


class FakeKaggle:
    """Kaggle's answers to model, blob-upload and model-instance requests."""

    def __init__(self, instance_exists=False):
        self.instance_exists = instance_exists
        self.requests = []
        self.uploads = {}  # Blob name -> the bytes PUT to its upload URL.
        self._lock = threading.Lock()  # kagglehub uploads from 8 threads.

    def send(self, adapter, request, **settings):
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        with self._lock:
            self.requests.append((request.method, request.url, request.headers, body))
        method = request.url.rsplit("/", 1)[-1]
        answer, status = {}, 200
        if request.method == "PUT":
            with self._lock:
                self.uploads[method] = body or b""
        elif method == "GetModel":
            answer, status = {"code": 404, "message": "Not found"}, 404
        elif method == "StartBlobUpload":
            name = json.loads(body)["name"]
            answer = {
                "token": f"token-{name}",
                "createUrl": f"https://upload.test/{name}",
            }
        elif method == "CreateModelInstance" and self.instance_exists:
            answer = {"error": "Instance already exists", "errorCode": 409}
        return _requests_response(request, status, answer)

    def calls(self):
        """The API methods called, in order (blob PUTs left out)."""
        return [
            url.rsplit("/", 1)[-1]
            for method, url, _, _ in self.requests
            if method == "POST"
        ]

    def body_of(self, api_method):
        [body] = [
            json.loads(body)
            for method, url, _, body in self.requests
            if method == "POST" and url.endswith("/" + api_method)
        ]
        return body


def _requests_response(request, status, answer):
    response = requests.Response()
    response.status_code = status
    response.request = request
    response.url = request.url
    response.headers["Content-Type"] = "application/json"
    response._content = json.dumps(answer).encode()
    return response


def kaggle_transport(kaggle, monkeypatch, tmp_path):
    """kagglehub talking to `kaggle`, with fake legacy credentials."""
    monkeypatch.setenv("HOME", str(tmp_path))  # No ~/.kaggle of the user's.
    monkeypatch.setenv("KAGGLE_USERNAME", "someone")
    monkeypatch.setenv("KAGGLE_KEY", "fake_key")
    for name in ("KAGGLE_API_TOKEN", "KAGGLE_API_ENVIRONMENT", "KAGGLE_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("KAGGLE_KERNEL_RUN_TYPE", raising=False)
    monkeypatch.setattr(
        requests.adapters.HTTPAdapter,
        "send",
        lambda adapter, request, **settings: kaggle.send(adapter, request, **settings),
    )
    return kaggle

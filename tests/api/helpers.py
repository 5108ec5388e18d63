"""The API in-process: the whole WSGI pipeline over a real ZooKeeper, called through
falcon's test client, with users of an htpasswd file (http_basic)."""

from __future__ import annotations

import base64
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
from falcon import testing
from oslo_config import cfg

from cool.api import opts
from cool.store.layout import Layout
from cool.store.pending import all_pending

# name: (project, roles). Passwords are the names reversed.
USERS = {
    "alice": ("p-one", "member"),
    "rita": ("p-one", "reader"),
    "bob": ("p-two", "member"),
    "ada": ("p-admin", "admin"),
    "nobody": None,  # in the htpasswd file, without a project
}
ZK_ROOT = "/cool"


def queued(client: Any) -> list[str]:
    """Every build in the queue (all its shards)."""
    return all_pending(client, Layout(ZK_ROOT))


def password(user: str) -> str:
    return user[::-1]


def write_htpasswd(path: Path) -> Path:
    lines = []
    for user in USERS:
        # Cost 4: bcrypt's slowness is the point in production, not in tests.
        hashed = bcrypt.hashpw(password(user).encode(), bcrypt.gensalt(rounds=4)).decode()
        lines.append(f"{user}:{hashed}")
    path.write_text("\n".join(lines) + "\n")
    return path


def make_conf(
    zk_hosts: str, directory: Path, *, strategy: str = "http_basic", **groups: Any
) -> cfg.ConfigOpts:
    """cool.conf for the app, written as a file so oslo.config reads it as in production."""
    sections: dict[str, dict[str, Any]] = {
        "zookeeper": {"hosts": zk_hosts, "root": ZK_ROOT, "session_timeout": 5},
        "api": {"auth_strategy": strategy, "zookeeper_timeout": 2, "retry_after": 3},
        "http_basic": {
            "htpasswd_file": str(write_htpasswd(directory / "htpasswd")),
            "user": [f"{u}:{p[0]}:{p[1]}" for u, p in USERS.items() if p is not None],
        },
    }
    for group, values in groups.items():
        sections.setdefault(group, {}).update(values)
    lines = []
    for group, values in sections.items():
        lines.append(f"[{group}]")
        for key, value in values.items():
            for item in value if isinstance(value, list) else [value]:
                lines.append(f"{key} = {item}")
    conf_file = directory / "cool.conf"
    conf_file.write_text("\n".join(lines) + "\n")
    conf = cfg.ConfigOpts()
    opts.register(conf)
    conf(["--config-file", str(conf_file)], project="cool", default_config_files=[])
    return conf


@dataclass
class Caller:
    """Requests as one user, through the whole pipeline."""

    client: testing.TestClient
    user: str | None

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        out = dict(extra or {})
        if self.user is not None:
            token = base64.b64encode(f"{self.user}:{password(self.user)}".encode()).decode()
            out["Authorization"] = f"Basic {token}"
        return out

    def request(self, method: str, path: str, **kwargs: Any) -> testing.Result:
        kwargs["headers"] = self.headers(kwargs.get("headers"))
        kwargs.setdefault("extras", {"REMOTE_ADDR": "127.0.0.1"})
        return self.client.simulate_request(method, path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> testing.Result:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> testing.Result:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> testing.Result:
        return self.request("DELETE", path, **kwargs)

    def submit(self, template: Any, **fields: Any) -> testing.Result:
        return self.post("/v1/builds", json={"template": template, **fields})


def error_codes(result: testing.Result) -> list[str]:
    body = result.json
    assert isinstance(body, dict), result.text
    assert body.get("errors"), result.text
    for entry in body["errors"]:
        assert set(entry) >= {"request_id", "code", "status", "title", "detail"}, entry
        assert entry["status"] == result.status_code, entry
        assert entry["request_id"] == result.headers["x-openstack-request-id"], entry
    return [entry["code"] for entry in body["errors"]]


VALUE_TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "parameters": {"word": {"type": "string", "default": "hello"}},
    "resources": {"v": {"type": "OS::Heat::Value", "properties": {"value": {"get_param": "word"}}}},
    "outputs": {"said": {"value": {"get_attr": ["v", "value"]}}},
}


def read_response(sock: socket.socket, timeout_s: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one response (the body by Content-Length)."""
    sock.settimeout(timeout_s)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response: {data!r}")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body

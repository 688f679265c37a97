#!/usr/bin/env python3
"""Schemathesis over every operation of Stepdown's JSON API, against the real binary.

Starts `stepdown serve --demo` on a fresh SQLite directory on 127.0.0.1 (a throwaway database,
so state-changing operations are fair game), signs in demo accounts through the API, reads the
ids of the demo center (clients, episodes, sessions, sites, ...) so that generated requests
reach real records and not only 404s, and runs Schemathesis with the bearer token over the
server's own OpenAPI document: no 5xx on any input, and every status code, content type and
response body as documented. Run by `.ci/schemathesis.sh`, which builds the binary and
installs Schemathesis; standard library only, so it runs on any Python 3.

Nothing here talks to anything but 127.0.0.1: the server is told to listen there, every URL is
built from the address it reports (and checked), proxies from the environment are ignored,
and Schemathesis is given that base URL and no redirects to follow.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

DEMO_PASSWORD = "harbor lantern demo"
GHOST_ID = "01a23d37-0000-7000-8000-000000000000"
# The clinical supervisor has the broadest rights of the demo accounts and no two-step
# verification; the administrator (users, sites, rooms, audit log) enrols it on the way.
SUPERVISOR = "demo.supervisor"
ADMIN = "demo.admin"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# These end the session whose token they are called with; they run last, each with its own.
SESSION_ENDERS = ("logout", "logout_everywhere")

# No proxy, whatever the environment says: every request goes straight to 127.0.0.1.
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def log(msg):
    print(f"schemathesis: {msg}", flush=True)


def call(base, method, path, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with HTTP.open(req, timeout=30) as res:
            text = res.read()
            return res.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        return e.code, None


def must(base, method, path, token=None, body=None):
    status, value = call(base, method, path, token, body)
    if status >= 300:
        raise SystemExit(f"schemathesis: setting up: {method} {path} answered {status}")
    return value


def totp(secret_base32, at):
    """RFC 6238 with the server's settings: SHA-1, 30-second steps, 6 digits."""
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", int(at) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def sign_in(base, username):
    s = must(base, "POST", "/api/v1/session", body={"username": username, "password": DEMO_PASSWORD})
    if s["stage"] == "full":
        return s["token"], s["user_id"]
    if s["stage"] != "mfa_enrol":
        raise SystemExit(f"schemathesis: {username} signed in at stage {s['stage']}")
    enrolment = must(base, "POST", "/api/v1/me/mfa", s["token"])
    code = totp(enrolment["secret"], time.time())
    confirmed = must(base, "POST", "/api/v1/me/mfa/confirm", s["token"], {"code": code})
    return confirmed["session"]["token"], s["user_id"]


def find(value, key):
    """Every value under `key`, at any depth."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == key and v is not None and not isinstance(v, (dict, list)):
                yield v
            yield from find(v, key)
    elif isinstance(value, list):
        for v in value:
            yield from find(v, key)


def unique(values, limit=6):
    seen = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen[:limit]


def demo_ids(base, sup, admin, own_ids):
    """The demo center's ids, by what they name."""
    get = lambda path, token=sup: must(base, "GET", path, token)  # noqa: E731
    census = get("/api/v1/census")
    clients = unique(list(find(census, "client_id")) + [c["id"] for c in get("/api/v1/clients")], 4)
    episodes, contacts, coverages, enrolments, responses = [], [], [], [], []
    for c in clients[:2]:
        episodes += [e["id"] for e in get(f"/api/v1/clients/{c}/episodes")]
        record = get(f"/api/v1/clients/{c}")
        contacts += list(find(record["contacts"], "id"))
        coverages += list(find(record["coverages"], "id"))
        enrolments += [e["id"] for e in get(f"/api/v1/clients/{c}/enrolments")]
        responses += [r["id"] for r in get(f"/api/v1/clients/{c}/measures")["responses"]]
    sites = get("/api/v1/sites")
    program = get("/api/v1/program")
    today = datetime.date.fromisoformat(program["today"])
    tracks = [t["id"] for t in program["tracks"]]
    sessions = []
    for t in tracks:
        calendar = get(f"/api/v1/program/calendar?view=track&id={t}&days=7")
        sessions += [s["id"] for s in calendar["sessions"]]
    inquiries = [i["id"] for i in get("/api/v1/inquiries")][:4]
    tasks = [t for i in inquiries for t in find(get(f"/api/v1/inquiries/{i}")["tasks"], "id")]
    users = [u["id"] for u in get("/api/v1/users", admin) if u["id"] not in own_ids]
    weeks = [f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}" for d in (today, today + datetime.timedelta(7))]
    found = {
        "client": clients,
        "episode": unique(episodes),
        "contact": unique(contacts),
        "coverage": unique(coverages),
        "enrolment": unique(enrolments),
        "response": unique(responses),
        "site": unique(s["id"] for s in sites),
        "room": unique(find([s["rooms"] for s in sites], "id")),
        "bed": unique(b["id"] for s in sites for r in s["rooms"] for b in r["beds"]),
        "track": unique(tracks),
        "template": unique(find([t["templates"] for t in program["tracks"]], "id")),
        "closure": unique(find(program["closures"], "id")),
        "session": unique(sessions),
        "facilitator": unique(find(program["tracks"], "facilitator_id")),
        "inquiry": inquiries,
        "task": unique(tasks),
        "alert": unique(find(get("/api/v1/alerts"), "id")),
        "follow_up": unique(f["id"] for f in get("/api/v1/follow-ups")),
        "outreach": unique(o["id"] for o in get("/api/v1/outreach")),
        "user": unique(users),
    }
    # A well-formed id that names nothing, beside the real ones: what a use case answers for a
    # record that does not exist (or is out of reach) must be documented too.
    ids = {name: values + [GHOST_ID] for name, values in found.items()}
    ids["level"] = unique(find(get("/api/v1/levels"), "code"), 20)
    ids["week"] = weeks
    ids["day"] = [(today + datetime.timedelta(n)).isoformat() for n in (0, 1, 7)]
    ids["view"] = ["track", "staff", "room", "client"]
    return ids


# Which ids each parameter takes. `id` in a path means what the path's prefix names.
PATH_IDS = {
    r"^/api/v1/clients/\{id\}": "client",
    r"^/api/v1/iop/sessions/\{id\}": "session",
    r"^/api/v1/inquiries/\{id\}": "inquiry",
    r"^/api/v1/alerts/\{id\}": "alert",
    r"^/api/v1/follow-ups/\{id\}": "follow_up",
    r"^/api/v1/outreach/\{id\}": "outreach",
    r"^/api/v1/users/\{id\}": "user",
    r"^/api/v1/sites/\{id\}": "site",
    r"^/api/v1/rooms/\{id\}": "room",
    r"^/api/v1/program/tracks/\{id\}": "track",
    r"^/api/v1/program/templates/\{id\}": "template",
    r"^/api/v1/program/closures/\{id\}": "closure",
}
PARAMETERS = {
    "path.episode_id": "episode",
    "path.contact_id": "contact",
    "path.coverage_id": "coverage",
    "path.enrolment_id": "enrolment",
    "path.response_id": "response",
    "path.task_id": "task",
    "path.user_id": "facilitator",
    "path.client_id": "client",
    "path.week": "week",
    "query.week": "week",
    "query.view": "view",
    "query.from": "day",
    "query.to": "day",
    "body.client_id": "client",
    "body.existing_client_id": "client",
    "body.site_id": "site",
    "body.room_id": "room",
    "body.bed_id": "bed",
    "body.track_id": "track",
    "body.facilitator_id": "facilitator",
    "body.user_id": "facilitator",
    "body.level": "level",
    "body.on": "day",
    "body.date": "day",
}
# Half the time a parameter gets a real value, half the time whatever Schemathesis generates.
PROBABILITY = 0.5


def toml_string(s):
    return json.dumps(s)  # a JSON string is a valid TOML basic string


def config(ids, token, admin):
    # The token goes here rather than on the command line, where it would override the
    # administrator's below: the supervisor may not manage users or sites or read the audit log.
    lines = [f'headers = {{ Authorization = "Bearer {token}" }}', ""]
    for name, values in ids.items():
        if values:
            lines.append(f"[dictionaries.{name}]")
            lines.append("values = [" + ", ".join(toml_string(str(v)) for v in values) + "]")
    lines.append("")
    lines.append("[parameters]")
    for key, name in PARAMETERS.items():
        if ids.get(name):
            lines.append(f"{toml_string(key)} = {{ dictionary = {toml_string(name)}, probability = {PROBABILITY} }}")
    for regex, name in PATH_IDS.items():
        if ids.get(name):
            lines.append("")
            lines.append("[[operations]]")
            lines.append(f"include-path-regex = {toml_string(regex)}")
            lines.append(
                f'parameters = {{ "path.id" = {{ dictionary = {toml_string(name)}, probability = {PROBABILITY} }} }}'
            )
    # Schemathesis reuses ids from earlier responses (and the stateful phase, when asked for,
    # chains calls through them). Here that would have the administrator reset their own or the
    # supervisor's password (or a caller revoke their own session) half-way through, and every
    # later call would be a 401; these take only dictionary and generated ids.
    lines.append("")
    lines.append("[[operations]]")
    lines.append(f"include-path-regex = {toml_string('^/api/v1/(users|me/sessions)/')}")
    lines.append("phases.coverage.extra-data-sources.responses = false")
    lines.append("phases.fuzzing.extra-data-sources.responses = false")
    lines.append("phases.stateful.enabled = false")
    lines.append("")
    lines.append("[[operations]]")
    lines.append(f"include-path-regex = {toml_string('^/api/v1/(users|sites|rooms|audit-events)')}")
    lines.append(f'headers = {{ Authorization = "Bearer {admin}" }}')
    return "\n".join(lines) + "\n"


def start_server(binary, workdir):
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEPDOWN_")}
    logfile = open(os.path.join(workdir, "server.log"), "w")
    args = [binary, "--data-dir", os.path.join(workdir, "data"), "serve", "--demo"]
    args += ["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"]
    # In its own directory, so no stepdown.toml of the checkout is read.
    server = subprocess.Popen(args, cwd=workdir, env=env, stdout=logfile, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        with open(os.path.join(workdir, "server.log")) as f:
            m = re.search(r"Stepdown is running at (http://127\.0\.0\.1:\d+)/", f.read())
        if m:
            return server, m.group(1)
        if server.poll() is not None:
            break
        time.sleep(0.5)
    stop_server(server)
    with open(os.path.join(workdir, "server.log")) as f:
        sys.stderr.write(f.read())
    raise SystemExit("schemathesis: the server did not start")


def stop_server(server):
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def schemathesis(args, base, config_file, extra, max_time):
    """One Schemathesis run; `max_time` is its budget (fuzzing repeats until it is spent)."""
    cmd = [args.schemathesis, "--no-color", "--config-file", config_file, "run", f"{base}/api/openapi.json"]
    cmd += ["--url", base, "--checks", CHECKS, "--phases", args.phases]
    cmd += ["--max-examples", str(args.max_examples), "--workers", str(args.workers), "--seed", str(args.seed)]
    cmd += ["--max-redirects", "0", "--request-timeout", "30", "--generation-database", "none"]
    if max_time is not None:
        cmd += ["--max-time", str(max_time)]
    cmd += extra
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = "*"
    backstop = (max_time or 60) + 120
    try:
        cwd = os.path.dirname(config_file)  # anything it writes stays in the throwaway directory
        return subprocess.run(cmd, env=env, cwd=cwd, timeout=backstop).returncode
    except subprocess.TimeoutExpired:
        log(f"stopped after {backstop} s")
        return 1


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--binary", required=True, help="the stepdown executable")
    p.add_argument("--schemathesis", required=True, help="the schemathesis executable")
    p.add_argument("--max-examples", type=int, default=25, help="test cases per operation and phase")
    p.add_argument("--max-time", type=int, default=150, help="seconds for the main run")
    p.add_argument("--seed", type=int, default=20261127)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--phases", default="examples,coverage,fuzzing", help="add stateful to explore call sequences")
    p.add_argument("--keep", action="store_true", help="keep the data directory and server log")
    args = p.parse_args()

    workdir = tempfile.mkdtemp(prefix="stepdown-schemathesis-")
    server = None
    try:
        server, base = start_server(args.binary, workdir)
        log(f"server at {base}, data in {workdir}")
        # Every token is taken before Schemathesis runs: its sign-in attempts with generated
        # passwords soon throttle 127.0.0.1, as they should.
        sup, sup_id = sign_in(base, SUPERVISOR)
        enders = [sign_in(base, SUPERVISOR)[0] for _ in SESSION_ENDERS]
        admin, admin_id = sign_in(base, ADMIN)
        ids = demo_ids(base, sup, admin, {sup_id, admin_id})
        log("demo ids: " + ", ".join(f"{k} {len(v)}" for k, v in ids.items()))
        main_config = os.path.join(workdir, "schemathesis.toml")
        with open(main_config, "w") as f:
            f.write(config(ids, sup, admin))

        exclude = [arg for op in SESSION_ENDERS for arg in ("--exclude-operation-id", op)]
        started = time.monotonic()
        status = schemathesis(args, base, main_config, exclude, args.max_time)
        # A token that died half-way would have left the rest of the run testing only 401s.
        for name, token in (("supervisor", sup), ("administrator", admin)):
            alive = call(base, "GET", "/api/v1/session", token)[0] == 200
            log(f"the {name}'s session {'lasted' if alive else 'did NOT last'} the run")
        for op, token in zip(SESSION_ENDERS, enders):
            own_config = os.path.join(workdir, f"{op}.toml")
            with open(own_config, "w") as f:
                f.write(config(ids, token, admin))
            status |= schemathesis(args, base, own_config, ["--include-operation-id", op], None)
        log(f"Schemathesis ran for {time.monotonic() - started:.0f} s")
        if server.poll() is not None:
            log("the server died during the run")
            status = 1
        return status
    finally:
        if server is not None:
            stop_server(server)
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""The benchmarks of little-stack (run through scripts/bench, which builds `little` in release
mode and installs the emulator and the registry first).

Each section prints its figures and they all go into BENCHMARKS.md with the machine's
description. Wall times are the median of several runs, with min and max; peak memory is
the child's maximum resident set size (wait4). AWS calls are counted by `little -v`.

Sections: validate, plan, latency, audit-latency, audit, serve, check, org, criterion (default:
all).
"""

import concurrent.futures
import gzip
import hashlib
import http.client
import io
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.request
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LITTLE = os.environ.get("LITTLE_BIN", os.path.join(ROOT, "target", "release", "little"))
PYTHON = os.path.join(ROOT, ".venv", "bin", "python")
RESULTS = []  # (section, measure, value, target, verdict)
NOTES = []


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


GNU_TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None


def run(args, cwd, env=None, stdout=subprocess.DEVNULL):
    """Runs a command; (seconds, peak RSS in MiB, exit code, stderr text).

    The peak is GNU time's (the command's own maximum resident set): a child's rusage seen
    from this Python process would count the pages of the fork of this (large) process too.
    """
    full_env = dict(os.environ)
    full_env.update(env or {})
    err = tempfile.TemporaryFile()
    out = stdout if stdout is not subprocess.DEVNULL else subprocess.DEVNULL
    rss_file = tempfile.NamedTemporaryFile(delete=False)
    rss_file.close()
    command = [GNU_TIME, "-f", "%M", "-o", rss_file.name] + list(args) if GNU_TIME else list(args)
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, env=full_env, stdout=out, stderr=err)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err.seek(0)
    peak = usage.ru_maxrss / 1024.0
    if GNU_TIME:
        try:
            with open(rss_file.name) as f:
                peak = int(f.read().strip().splitlines()[-1]) / 1024.0
        except (OSError, ValueError, IndexError):
            pass
    os.unlink(rss_file.name)
    return elapsed, peak, proc.returncode, err.read().decode(errors="replace")


def repeat(label, args, cwd, env=None, runs=5, ok=(0,)):
    times, peaks, stderr = [], [], ""
    for _ in range(runs):
        t, rss, code, stderr = run(args, cwd, env)
        if code not in ok:
            raise SystemExit(f"{label}: exit {code}\n{stderr}")
        times.append(t)
        peaks.append(rss)
    return times, max(peaks), stderr


def fmt_times(times):
    return f"{statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f}, {len(times)} runs)"


def record(section, measure, value, target="", verdict=""):
    RESULTS.append((section, measure, value, target, verdict))
    log(f"  {measure}: {value}" + (f"  [target {target}: {verdict}]" if target else ""))


def calls(stderr):
    """The `-v` table: operation -> (calls, retries)."""
    table = {}
    for line in stderr.splitlines():
        m = re.match(r"\s+([a-z0-9]+:[A-Za-z]+)\s+(\d+)(?:\s+\((\d+) retried\))?$", line)
        if m:
            table[m.group(1)] = (int(m.group(2)), int(m.group(3) or 0))
    return table


# --- the emulator --------------------------------------------------------------------------

class Emulator:
    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [PYTHON, os.path.join(ROOT, "scripts", "moto-server.py"), str(self.port), "--exit-with-parent"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/data.json", timeout=1)
                return
            except Exception:
                time.sleep(0.1)
        raise SystemExit("moto did not start")

    def env(self):
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true", "NO_COLOR": "1"}

    def client(self, service):
        import boto3
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="bench", aws_secret_access_key="bench")

    def reset(self):
        urllib.request.urlopen(urllib.request.Request(self.endpoint + "/moto-api/reset", method="POST"))

    def stop(self):
        self.proc.kill()
        self.proc.wait()


# --- 1. render and validate ----------------------------------------------------------------

def project_dir(stacks, repos_per_stack, tmp, name="bench", rev="1"):
    os.makedirs(os.path.join(tmp, "stacks"), exist_ok=True)
    for d in ("templates", "policies"):
        if not os.path.exists(os.path.join(tmp, d)):
            shutil.copytree(os.path.join(ROOT, d), os.path.join(tmp, d))
    with open(os.path.join(tmp, "little.yaml"), "w") as f:
        f.write(f"name: {name}\ndefaults:\n  region: us-east-1\n  account: tooling\n  termination_protection: false\n"
                "accounts:\n  tooling: {id: \"123456789012\"}\n  prod: {id: \"210987654321\"}\n"
                "variables:\n  organization_id: o-a1b2c3d4e5\n")
    for s in range(stacks):
        repos = "".join(f"    - name: svc{s:04d}/repo{r:02d}\n      tags: {{rev: \"{rev}\"}}\n" for r in range(repos_per_stack))
        with open(os.path.join(tmp, "stacks", f"s{s:04d}.yaml"), "w") as f:
            f.write(f"name: s{s:04d}\ntemplate: ecr/repositories.json.njk\nvariables:\n  pull_accounts: [prod]\n"
                    f"  lifecycle: [releases, dev-images, untagged]\n  repositories:\n{repos}")


def bench_validate():
    log("== render and validate: 1,000 stacks x 20 repositories")
    with tempfile.TemporaryDirectory() as tmp:
        project_dir(1000, 20, tmp)
        times, peak, stderr = repeat("validate", [LITTLE, "validate", "--all"], tmp, runs=5)
        record("validate", "`little validate --all`, 1,000 stacks x 20 repositories", fmt_times(times),
               "< 2 s", "met" if statistics.median(times) < 2 else "NOT met")
        record("validate", "peak memory of that", f"{peak:.0f} MiB")
        # The same, without the checks against the resource schemas: what they cost.
        times, peak, _ = repeat("validate --no-schema-checks", [LITTLE, "validate", "--all", "--no-schema-checks"], tmp, runs=5)
        record("validate", "the same with `--no-schema-checks` (no resource-schema checks)", fmt_times(times))
        record("validate", "peak memory of that", f"{peak:.0f} MiB")
        times, peak, _ = repeat("render", [LITTLE, "render", "--all", "--out", os.path.join(tmp, "out")], tmp, runs=3)
        record("validate", "`little render --all --out DIR`, the same project", fmt_times(times))


# --- 2. plan many stacks -------------------------------------------------------------------

def bench_plan(emulator):
    log("== plan: 100 deployed stacks, one variable changed in each")
    emulator.reset()
    with tempfile.TemporaryDirectory() as tmp:
        project_dir(100, 2, tmp, rev="1")
        t, _, code, err = run([LITTLE, "apply", "--all", "--yes", "--allow-broadening"], tmp, emulator.env())
        if code != 0:
            raise SystemExit(f"apply failed: {err[-2000:]}")
        record("plan", "`little apply --all` of the 100 stacks (setup, once)", f"{t:.1f} s")
        project_dir(100, 2, tmp, rev="2")
        for c in (1, 8):
            times, _, stderr = repeat(f"plan -c {c}", [LITTLE, "-v", "plan", "--all", "--concurrency", str(c), "--detailed-exitcode"],
                                      tmp, emulator.env(), runs=3, ok=(2,))
            record("plan", f"`little plan --all --concurrency {c}`, 100 changed stacks", fmt_times(times))
        table = calls(stderr)
        total = sum(c for c, _ in table.values())
        record("plan", "API calls of one plan (concurrency 8)", f"{total} ({', '.join(f'{k} {v[0]}' for k, v in sorted(table.items()))})")


# --- 2b. at AWS-like latency, beside sceptre ------------------------------------------------

SCEPTRE = os.path.join(ROOT, ".bench", "sceptre", "bin", "sceptre")
SCEPTRE_VERSION = "4.7.0"
QUEUE_TEMPLATE = json.dumps({
    "Parameters": {"Delay": {"Type": "Number"}},
    "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": {"Ref": "Delay"}}}},
}, indent=2)


class Proxy:
    """scripts/latency-proxy.py in front of the emulator: every call held `latency_ms`, every
    `throttle_every`th one answered with a throttling error."""

    def __init__(self, upstream, latency_ms=80, throttle_every=0):
        self.proc = subprocess.Popen(
            [PYTHON, os.path.join(ROOT, "scripts", "latency-proxy.py"), upstream, "0",
             "--latency-ms", str(latency_ms), "--throttle-every", str(throttle_every), "--exit-with-parent"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.endpoint = self.proc.stdout.readline().strip()
        if not self.endpoint.startswith("http://"):
            raise SystemExit("the latency proxy did not start")

    def env(self, emulator):
        env = emulator.env()
        env["AWS_ENDPOINT_URL"] = self.endpoint
        env["AWS_DEFAULT_REGION"] = "us-east-1"
        return env

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def latency_projects(tmp, stacks, delay):
    """The same stacks for both tools: one queue each, its delay a parameter."""
    little_dir, sceptre_dir = os.path.join(tmp, "little"), os.path.join(tmp, "sceptre")
    for d in (os.path.join(little_dir, "stacks"), os.path.join(little_dir, "templates"),
              os.path.join(sceptre_dir, "config", "bench"), os.path.join(sceptre_dir, "templates")):
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(little_dir, "little.yaml"), "w") as f:
        f.write("name: latency\ndefaults:\n  region: us-east-1\n  account: tooling\n  termination_protection: false\n"
                "accounts:\n  tooling: {id: \"123456789012\"}\n")
    with open(os.path.join(sceptre_dir, "config", "config.yaml"), "w") as f:
        f.write("project_code: sc\nregion: us-east-1\n")
    for d in (little_dir, sceptre_dir):
        with open(os.path.join(d, "templates", "queue.json"), "w") as f:
            f.write(QUEUE_TEMPLATE)
    for i in range(stacks):
        with open(os.path.join(little_dir, "stacks", f"s{i:03d}.yaml"), "w") as f:
            f.write(f"name: li-s{i:03d}\ntemplate: queue.json\nparameters:\n  Delay: \"{delay}\"\n")
        with open(os.path.join(sceptre_dir, "config", "bench", f"s{i:03d}.yaml"), "w") as f:
            f.write(f"template:\n  type: file\n  path: queue.json\nparameters:\n  Delay: \"{delay}\"\n")
    return little_dir, sceptre_dir


def process_cpu(pid):
    """CPU seconds (user + system) a process has used so far; 0 where /proc is not."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


EMULATOR_CPU = {}  # label -> the emulator's CPU seconds while the command ran


def timed(label, args, cwd, env, ok=(0,)):
    pid = EMULATOR_PID[0] if EMULATOR_PID else None
    before = process_cpu(pid) if pid else 0.0
    t, _, code, err = run(args, cwd, env)
    if pid:
        EMULATOR_CPU[label] = process_cpu(pid) - before
    if code not in ok:
        log(err[-3000:])
        raise SystemExit(f"{label}: exit {code}\n{err[-2000:]}")
    return t, err


SCEPTRE_RETRIES = []


EMULATOR_PID = []


def sceptre_timed(label, args, cwd, env, ok=(0,), again=None):
    """sceptre's many threads at once sometimes get moto's own HTTP 500 (a race in the emulator,
    not a throttle), on which sceptre stops. The step is then run again from where it started
    (`again` puts the emulator back: the stacks a launch made deleted, the stacks a delete
    removed made again) and only the clean run's time counts; at most three tries."""
    pid = EMULATOR_PID[0] if EMULATOR_PID else None
    for attempt in range(3):
        before = process_cpu(pid) if pid else 0.0
        t, _, code, err = run(args, cwd, env)
        if pid:
            EMULATOR_CPU[label] = process_cpu(pid) - before
        if code in ok:
            return t, err
        log(f"  {label}: sceptre stopped (exit {code}), run again from the step's start: {err.strip()[-300:]}")
        SCEPTRE_RETRIES.append(label)
        if again:
            again()
    raise SystemExit(f"{label}: sceptre failed three times\n{err[-2000:]}")


def sceptre_stacks(emulator):
    cfn = emulator.client("cloudformation")
    return [s for page in cfn.get_paginator("describe_stacks").paginate() for s in page["Stacks"]
            if s["StackName"].startswith("sc-bench-")]


def sceptre_unlaunch(emulator):
    """Deletes what a stopped `sceptre launch` made, directly (no latency), and waits."""
    cfn = emulator.client("cloudformation")
    for s in sceptre_stacks(emulator):
        cfn.delete_stack(StackName=s["StackName"])
    for _ in range(100):
        if not sceptre_stacks(emulator):
            return
        time.sleep(0.1)


def sceptre_relaunch(emulator, stacks, delay):
    """Makes again, directly, the stacks a stopped `sceptre delete` removed."""
    cfn = emulator.client("cloudformation")
    have = {s["StackName"] for s in sceptre_stacks(emulator)}
    for i in range(stacks):
        name = f"sc-bench-s{i:03d}"
        if name not in have:
            cfn.create_stack(StackName=name, TemplateBody=QUEUE_TEMPLATE,
                             Parameters=[{"ParameterKey": "Delay", "ParameterValue": str(delay)}])


def per_stack_calls(stderr, stacks):
    table = calls(stderr)
    total = sum(c for k, (c, _) in table.items() if k.startswith("cloudformation:"))
    return f"{total / stacks:.2f}"


def backoff_line(stderr):
    for line in stderr.splitlines():
        if line.startswith("Concurrency: backed off"):
            return line[len("Concurrency: "):]
    return "did not back off"


LATENCY_ROUNDS = 5


def bench_latency(emulator, stacks=100, latency_ms=80):
    log(f"== latency: {stacks} stacks behind a proxy adding {latency_ms} ms to every call; little and sceptre {SCEPTRE_VERSION}")
    if not os.path.exists(SCEPTRE):
        raise SystemExit(f"sceptre is not installed at {SCEPTRE} (scripts/bench installs it)")
    at = f"{stacks} stacks, {latency_ms} ms a call"
    NOTES.append(f"latency: every call goes through scripts/latency-proxy.py, which holds it {latency_ms} ms before "
                 "the emulator answers (calls overlap, as on AWS); sceptre {0} runs from its own venv (.bench/sceptre) "
                 "against the same emulator and the same one-queue templates. sceptre's plan is `sceptre diff`, which "
                 "makes no change set; neither does little's (`--change-set auto`, the default) for a change that "
                 "updates in place, as each stack's does here (the queue's delay, a parameter); the row with "
                 "`--change-set always` makes one per stack.".format(SCEPTRE_VERSION))
    if os.sep + "debug" + os.sep in LITTLE:
        NOTES.append("latency: little was a debug build (LITTLE_BIN named one); the figures are bound by the calls, not by little's CPU.")
    EMULATOR_PID[:] = [emulator.proc.pid]
    proxy = Proxy(emulator.endpoint, latency_ms)
    # The emulator loads a service's model on its first call (about a second): that is done
    # before anything is timed, so that neither tool pays it.
    for warm in (lambda: emulator.client("cloudformation").describe_stacks(StackName="warm-up"),
                 lambda: emulator.client("sts").get_caller_identity()):
        try:
            warm()
        except Exception:
            pass
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = proxy.env(emulator)
            # Each step is run in LATENCY_ROUNDS rounds, on an emptied emulator each time, and the
            # median is recorded: single runs on this shared machine move by a third.
            steps = ("deploy", "no-op plan", "plan after a change in every stack",
                     "plan after a change in every stack, `--change-set always`", "destroy")
            times = {what: ([], []) for what in steps}
            per = {}
            cpu = {what: ([], []) for what in steps}

            def both(what, little_args, sceptre_args, cwd, ok=(0,), sceptre_ok=(0,), again=None):
                t, err = timed(what, [LITTLE, "-v"] + little_args, cwd[0], env, ok)
                times[what][0].append(t)
                cpu[what][0].append(EMULATOR_CPU.get(what))
                per[what] = per_stack_calls(err, stacks)
                if sceptre_args:
                    t, _ = sceptre_timed("sceptre " + what, [SCEPTRE] + sceptre_args, cwd[1], env, sceptre_ok,
                                         again)
                    times[what][1].append(t)
                    cpu[what][1].append(EMULATOR_CPU.get("sceptre " + what))

            for _ in range(LATENCY_ROUNDS):
                emulator.reset()
                dirs = latency_projects(tmp, stacks, 0)
                both("deploy", ["apply", "--all", "--yes"], ["launch", "-y", "bench"], dirs,
                     again=lambda: sceptre_unlaunch(emulator))
                both("no-op plan", ["plan", "--all", "--detailed-exitcode"], ["diff", "bench"], dirs,
                     sceptre_ok=(0, 1))
                dirs = latency_projects(tmp, stacks, 5)
                both("plan after a change in every stack", ["plan", "--all", "--detailed-exitcode"],
                     ["diff", "bench"], dirs, ok=(2,), sceptre_ok=(0, 1))
                both("plan after a change in every stack, `--change-set always`",
                     ["plan", "--all", "--detailed-exitcode", "--change-set", "always"], None, dirs, ok=(2,))
                both("destroy", ["destroy", "--all", "--yes"], ["delete", "-y", "bench"], dirs,
                     again=lambda: sceptre_relaunch(emulator, stacks, 5))
            if SCEPTRE_RETRIES:
                NOTES.append("latency: sceptre stopped on an HTTP 500 of the emulator (a race in moto) and the step "
                             "was run again from its start (the stacks a launch made deleted, the ones a delete "
                             "removed made again), only the clean run's time counted: "
                             f"{', '.join(SCEPTRE_RETRIES)}")
            med = statistics.median
            for what in steps:
                mine, theirs = times[what]
                if not theirs:
                    # The same plan without its change sets' savings: against sceptre's diff.
                    theirs = times["plan after a change in every stack"][1]
                    cpu[what] = (cpu[what][0], cpu["plan after a change in every stack"][1])
                l, sc = med(mine), med(theirs)
                verdict = ""
                target = ""
                if what in ("deploy", "plan after a change in every stack"):
                    target, verdict = "at least 4x sceptre", "met" if sc >= 4 * l else "not met"
                elif what == "no-op plan":
                    target, verdict = "under 2 s", "met" if l < 2 else "not met"
                busy = ""
                little_cpu, sceptre_cpu = ([c for c in cs if c is not None] for cs in cpu[what])
                if little_cpu and sceptre_cpu:
                    busy = f"; the emulator's CPU {med(little_cpu):.2f} s / {med(sceptre_cpu):.2f} s"
                spread = (f"; little {min(mine):.2f} to {max(mine):.2f} s, sceptre {min(theirs):.2f} to "
                          f"{max(theirs):.2f} s")
                record("latency", f"{what}, {at}: little / sceptre, median of {LATENCY_ROUNDS} rounds (little's "
                       "CloudFormation calls per stack; the emulator's CPU while each ran; the spread)",
                       f"{l:.2f} s / {sc:.2f} s = {sc / l:.1f}x ({per[what]} calls{busy}{spread})", target, verdict)

            # Every fourth call throttled: the same deploy finishes, and how far it backed off.
            emulator.reset()
            throttling = Proxy(emulator.endpoint, latency_ms, throttle_every=4)
            try:
                little, _ = latency_projects(tmp, stacks, 0)
                t, err = timed("little apply (throttled)", [LITTLE, "-v", "apply", "--all", "--yes"], little,
                               throttling.env(emulator))
                record("latency", f"deploy, {at}, every 4th call throttled: little",
                       f"{t:.2f} s ({per_stack_calls(err, stacks)} calls per stack; concurrency {backoff_line(err)})")
                t, err = timed("little plan (throttled)", [LITTLE, "-v", "plan", "--all", "--detailed-exitcode"], little,
                               throttling.env(emulator))
                record("latency", f"no-op plan, {at}, every 4th call throttled: little",
                       f"{t:.2f} s (concurrency {backoff_line(err)})")
            finally:
                throttling.stop()

        # The bootstrap's drift: every stack at once against one at a time (as before).
        with tempfile.TemporaryDirectory() as tmp:
            emulator.reset()
            for item in ("little.yaml", "stacks", "templates", "policies"):
                src = os.path.join(ROOT, item)
                (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, os.path.join(tmp, item))
            # The StackSets need an organisation, which this emulator has not: the other stacks.
            for item in ("stacks/org", "stacks/iam/audit.yaml"):
                path = os.path.join(tmp, item)
                (shutil.rmtree if os.path.isdir(path) else os.remove)(path)
            env = proxy.env(emulator)
            timed("bootstrap apply", [LITTLE, "apply", "--all", "--yes", "--allow-broadening"], tmp, env)
            serial, _ = timed("drift -c 1", [LITTLE, "drift", "--all", "--concurrency", "1"], tmp, env, ok=(0, 2))
            wide, _ = timed("drift", [LITTLE, "drift", "--all"], tmp, env, ok=(0, 2))
            record("latency", f"`little drift --all` of the bootstrap's stacks but its StackSets, {latency_ms} ms a call: at once / one at a time",
                   f"{wide:.2f} s / {serial:.2f} s = {serial / wide:.1f}x")
    finally:
        proxy.stop()


# --- 3. audit at scale ---------------------------------------------------------------------

def manifest(i, j):
    config = hashlib.sha256(f"config-{i}-{j}".encode()).hexdigest()
    layer = hashlib.sha256(f"layer-{i}-{j}".encode()).hexdigest()
    return json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                       "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1000 + j, "digest": f"sha256:{config}"},
                       "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 1_000_000 + i, "digest": f"sha256:{layer}"}]})


def populate(emulator, repositories, images):
    ecr = emulator.client("ecr")

    def one(i):
        name = f"team-{i % 20:02d}/service-{i:04d}"
        ecr.create_repository(repositoryName=name, imageTagMutability="MUTABLE" if i % 7 == 0 else "IMMUTABLE",
                              imageScanningConfiguration={"scanOnPush": i % 3 != 0})
        for j in range(images):
            ecr.put_image(repositoryName=name, imageManifest=manifest(i, j), imageTag=f"v{j}",
                          imageManifestMediaType="application/vnd.docker.distribution.manifest.v2+json")

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(repositories)))
    return time.perf_counter() - start


# The lifecycle policies of the audit section, one repository in five each (by index mod 5), and
# the images each expires now. Image j of a repository (0 the oldest, 9 the newest, pushed a
# second apart at least) is tagged `release-j` for an even j, `dev-j` for an odd one; every image
# is pushed during the run, so no `sinceImagePushed` rule expires anything yet.
def _rule(priority, description, tags, count_type, number):
    selection = dict(tags)
    selection.update({"countType": count_type, "countNumber": number})
    if count_type == "sinceImagePushed":
        selection["countUnit"] = "days"
    return {"rulePriority": priority, "description": description, "selection": selection, "action": {"type": "expire"}}


AUDIT_POLICIES = [
    # Keep the newest 5 of any image: the 5 oldest expire.
    ([_rule(1, "keep the newest 5", {"tagStatus": "any"}, "imageCountMoreThan", 5)], {0, 1, 2, 3, 4}),
    # Releases (even j): keep the newest 2 (8, 6); dev images after 7 days (none yet).
    ([_rule(1, "keep 2 releases", {"tagStatus": "tagged", "tagPrefixList": ["release-"]}, "imageCountMoreThan", 2),
      _rule(2, "dev images for a week", {"tagStatus": "tagged", "tagPrefixList": ["dev-"]}, "sinceImagePushed", 7)],
     {0, 2, 4}),
    # Untagged after a day (there are none), then keep the newest 8 of any: 0 and 1 expire.
    ([_rule(1, "untagged after a day", {"tagStatus": "untagged"}, "sinceImagePushed", 1),
      _rule(2, "keep the newest 8", {"tagStatus": "any"}, "imageCountMoreThan", 8)], {0, 1}),
    # Anything after 30 days: nothing yet.
    ([_rule(1, "30 days", {"tagStatus": "any"}, "sinceImagePushed", 30)], set()),
    # No lifecycle policy.
    (None, set()),
]


def audit_tag(j):
    return f"release-{j}" if j % 2 == 0 else f"dev-{j}"


# What runs, for the audit section: task definition k (of 500) runs image k % 10 of repository
# 4k (by tag for an even k, by digest for an odd one); one in five also has a sidecar from
# another registry (left out: not the audited registry's), and one in five a second container
# of repository 4k + 1's newest image. The first 450 are run by one service each, in cluster
# k % 5, and the first 30 also by a canary service in the next cluster (so 480 services of 450
# task definitions); the last 50 only by 2 tasks each that no service started (Fargate: moto
# needs no container instance for them; their task definitions have one container, since moto
# reports only a task's first one). Lambda: 100 functions packaged as image 3m % 10 of
# repository 4m + 2 (by tag for an even m, by digest for an odd one), every fifth of them with
# version 1 on that image behind the alias `live` and $LATEST on the next, and 20 zip functions.
CLUSTERS = 5
TASK_DEFINITIONS = 500
SERVICE_DEFINITIONS = 450
CANARIES = 30
TASKS_PER_DEFINITION = 2
IMAGE_FUNCTIONS = 100
# Every fifth image function has a published version behind an alias, and $LATEST on another image.
ALIASED_EVERY = 5
ZIP_FUNCTIONS = 20
SIDECAR = "public.ecr.aws/docker/library/busybox:1.36"


def populate_in_use(emulator, repositories=2000, images=10):
    """The audit section's account: `repositories` x `images` with AUDIT_POLICIES, and ECS and
    Lambda running some of them. Returns (seconds, what was seeded: the expectations)."""
    if images != 10 or repositories < 4 * TASK_DEFINITIONS:
        raise SystemExit("populate_in_use: the workloads assume 10 images a repository and at least 2,000 repositories")
    ecr = emulator.client("ecr")
    start = time.perf_counter()
    names = [f"team-{i % 20:02d}/service-{i:04d}" for i in range(repositories)]
    uris = [None] * repositories
    digests = [[None] * images for _ in range(repositories)]

    def create(i):
        repo = ecr.create_repository(repositoryName=names[i], imageTagMutability="MUTABLE" if i % 7 == 0 else "IMMUTABLE",
                                     imageScanningConfiguration={"scanOnPush": i % 3 != 0})["repository"]
        uris[i] = repo["repositoryUri"]
        rules = AUDIT_POLICIES[i % len(AUDIT_POLICIES)][0]
        if rules:
            ecr.put_lifecycle_policy(repositoryName=names[i], lifecyclePolicyText=json.dumps({"rules": rules}))

    def push(i, j):
        out = ecr.put_image(repositoryName=names[i], imageManifest=manifest(i, j), imageTag=audit_tag(j),
                            imageManifestMediaType="application/vnd.docker.distribution.manifest.v2+json")
        digests[i][j] = out["image"]["imageId"]["imageDigest"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(repositories)))
        # Image j of every repository, then the next second: ECR (and the lifecycle evaluation)
        # orders images by push time, which moto keeps in whole seconds.
        for j in range(images):
            list(pool.map(lambda i: push(i, j), range(repositories)))
            time.sleep(1.05 - time.time() % 1)
    log(f"  seeded {repositories:,} repositories x {images} images in {time.perf_counter() - start:.0f} s")

    uses = {}  # (repository, digest) -> users

    def ref(i, j, by_digest):
        return f"{uris[i]}@{digests[i][j]}" if by_digest else f"{uris[i]}:{audit_tag(j)}"

    def use(i, j, user):
        uses.setdefault((names[i], digests[i][j]), set()).add(user)

    ecs = emulator.client("ecs")
    clusters = [f"bench-{c}" for c in range(CLUSTERS)]
    for c in clusters:
        ecs.create_cluster(clusterName=c)
    services = []  # (cluster, name, family)
    tasks = []  # (cluster, family)

    def definition(k):
        family = f"td-{k:03d}"
        containers = [{"name": "app", "image": ref(4 * k, k % 10, k % 2 == 1), "memory": 512}]
        users = []
        if k < SERVICE_DEFINITIONS:
            users.append(f"ecs:{clusters[k % CLUSTERS]}/svc-{k:03d}")
            services.append((clusters[k % CLUSTERS], f"svc-{k:03d}", family))
            if k < CANARIES:
                users.append(f"ecs:{clusters[(k + 1) % CLUSTERS]}/svc-{k:03d}-canary")
                services.append((clusters[(k + 1) % CLUSTERS], f"svc-{k:03d}-canary", family))
            if k % 5 == 0:
                containers.append({"name": "sidecar", "image": SIDECAR, "memory": 64})
            elif k % 5 == 1:
                containers.append({"name": "helper", "image": ref(4 * k + 1, images - 1, False), "memory": 64})
                for u in users:
                    use(4 * k + 1, images - 1, u)
        else:
            users.append(f"ecs:{clusters[k % CLUSTERS]}/task/{family}")
            tasks.append((clusters[k % CLUSTERS], family))
        for u in users:
            use(4 * k, k % 10, u)
        # The default network mode: moto 5.2.5's RunTask fails (a Python error) on an `awsvpc`
        # task's network interface.
        ecs.register_task_definition(family=family, containerDefinitions=containers)

    for k in range(TASK_DEFINITIONS):
        definition(k)

    def service(item):
        cluster, name, family = item
        ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=family, desiredCount=1)

    def task(item):
        cluster, family = item
        ecs.run_task(cluster=cluster, taskDefinition=family, count=TASKS_PER_DEFINITION, launchType="FARGATE")

    iam = emulator.client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                              "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName="bench-lambda", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    lam = emulator.client("lambda")
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return event\n")

    def function(m):
        if m < IMAGE_FUNCTIONS:
            i, j = 4 * m + 2, (3 * m) % 10
            lam.create_function(FunctionName=f"fn-{m:03d}", Role=role, PackageType="Image",
                                Code={"ImageUri": ref(i, j, m % 2 == 1)})
            if m % ALIASED_EVERY:
                use(i, j, f"lambda:fn-{m:03d}")
                return
            # Version 1 keeps image j behind the alias `live`; $LATEST moves on to the next.
            version = lam.publish_version(FunctionName=f"fn-{m:03d}")["Version"]
            lam.create_alias(FunctionName=f"fn-{m:03d}", Name="live", FunctionVersion=version)
            lam.update_function_code(FunctionName=f"fn-{m:03d}", ImageUri=ref(i, (j + 1) % 10, False))
            use(i, j, f"lambda:fn-{m:03d}:live")
            use(i, (j + 1) % 10, f"lambda:fn-{m:03d}")
        else:
            lam.create_function(FunctionName=f"fn-{m:03d}", Role=role, Runtime="python3.12", Handler="handler.handler",
                                Code={"ZipFile": zipped.getvalue()})

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(service, services))
        list(pool.map(task, tasks))
        list(pool.map(function, range(IMAGE_FUNCTIONS + ZIP_FUNCTIONS)))

    expiring = {(names[i], digests[i][j]) for i in range(repositories) for j in AUDIT_POLICIES[i % len(AUDIT_POLICIES)][1]}
    seeded = {
        "repositories": repositories, "images": images,
        "clusters": {c: {"services": sum(1 for s in services if s[0] == c),
                         "tasks": TASKS_PER_DEFINITION * sum(1 for t in tasks if t[0] == c)} for c in clusters},
        "definitions": len({s[2] for s in services}),
        "functions": IMAGE_FUNCTIONS + ZIP_FUNCTIONS, "image_functions": IMAGE_FUNCTIONS,
        "aliased_versions": -(-IMAGE_FUNCTIONS // ALIASED_EVERY),
        "uses": uses,
        "expires_in_use": {key for key in uses if key in expiring},
    }
    return time.perf_counter() - start, seeded


def bench_audit(emulator, repositories=2000, images=10):
    log(f"== audit: {repositories:,} repositories x {images} images with lifecycle policies; "
        f"{TASK_DEFINITIONS} ECS task definitions, Lambda functions")
    emulator.reset()
    t, seeded = populate_in_use(emulator, repositories, images)
    services = sum(c["services"] for c in seeded["clusters"].values())
    tasks = sum(c["tasks"] for c in seeded["clusters"].values())
    record("audit", f"populating the emulator ({repositories * images:,} PutImage; {TASK_DEFINITIONS} task definitions, "
           f"{services} services, {tasks} tasks in {CLUSTERS} clusters; {seeded['functions']} Lambda functions; setup)",
           f"{t:.0f} s")
    NOTES.append(
        "audit: the account has 2,000 repositories x 10 images (tagged `release-N`, `dev-N`, pushed a second apart), with "
        "lifecycle policies on four in five: keep the newest 5; keep 2 `release-` images and `dev-` ones for 7 days; "
        "untagged after a day then keep the newest 8; anything after 30 days (the `sinceImagePushed` rules expire nothing "
        "yet: every image is pushed during the run). ECS: 500 task definitions (by tag and by digest, some with a second "
        "container, some with a sidecar from another registry), 480 services of 450 of them and 100 running tasks that no "
        "service started (Fargate, so that moto needs no container instance, and the default network mode: moto's "
        "RunTask fails on an `awsvpc` task), over 5 clusters; Lambda: 100 functions packaged "
        "as images (every fifth with a published version behind an alias `live` and `$LATEST` moved on to another image) and 20 zip functions. The bench checks the report against the seeding: the images in use with their "
        "users, and one `ecr.lifecycle-expires-in-use` finding per image in use that its policy expires now.")
    NOTES.append(
        "audit: minimums are AWS's pages for the seeded counts (workloads.rs's formulas). moto 5.2.5 ignores the page "
        "size of DescribeRepositories, ListFunctions, ListClusters, ListServices and ListTasks and answers in one page: "
        "little makes 1 DescribeRepositories call (AWS: 2 pages of 1,000) and 1 ListFunctions call (AWS: 3 pages of 50); "
        "every cluster has under 100 services and tasks, so the ECS listings are one page on both. The SDK-mock tests "
        "cover the paging. moto starts no task for a service: ListTasks sees only the tasks started by RunTask.")
    NOTES.append("audit: peak memory is the highest of the 3 runs; the runs of one binary on the same data differ by up "
                 "to 15% (how many repositories' reads are in flight when the emulator answers).")
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "little.yaml"), "w") as f:
            f.write("defaults:\n  region: us-east-1\n")
        for label, extra, scans in (("newest image of each repository", [], repositories),
                                    ("every tagged image (--all-images)", ["--all-images"], repositories * images)):
            times, peaks, stderr = [], [], ""
            out_path = os.path.join(tmp, "audit.json")
            for n in range(3):
                with open(out_path, "w") as out:
                    t, rss, code, stderr = run([LITTLE, "-v", "audit", "--no-stacks", "--format", "json"] + extra,
                                               tmp, emulator.env(), stdout=out)
                if code not in (0, 2):
                    raise SystemExit(f"audit {' '.join(extra)}: exit {code}\n{stderr[-2000:]}")
                log(f"  run {n + 1}: {t:.2f} s, {rss:.0f} MiB")
                times.append(t)
                peaks.append(rss)
            peak = max(peaks)
            with open(out_path) as f:
                report = json.load(f)
            record("audit", f"`little audit`, {label}", fmt_times(times))
            record("audit", f"peak memory, {label}", f"{peak:.0f} MiB",
                   "< 150 MB", "met" if peak * 1.048576 < 150 else "NOT met")
            made, least, detail = audit_calls(calls(stderr), seeded, scans)
            record("audit", f"API calls, {label} (made/minimum)", f"{made:,} / {least:,}: {detail}",
                   "within 5%", "met" if made <= least * 1.05 else "NOT met")
            ok, what = audit_correct(report, seeded)
            record("audit", f"report against the seeding, {label}", what, "as seeded", "met" if ok else "NOT met")


def audit_correct(report, seeded):
    """Whether the report's images in use (with their users) and its `ecr.lifecycle-expires-in-use`
    findings are those the seeding implies: (ok, a description)."""
    got = {(i["repository"], i["digest"]): set(i["in_use_by"]) for i in report.get("images_in_use", [])}
    want = seeded["uses"]
    digest = re.compile(r"sha256:[0-9a-f]{64}")
    expiring = set()
    for finding in report["findings"]:
        if finding["check"] == "ecr.lifecycle-expires-in-use":
            found = digest.search(finding["message"])
            expiring.add((finding["resource"], found.group(0) if found else finding["message"]))
    problems = []
    if got != want:
        missing = sorted(set(want) - set(got))[:3]
        extra = sorted(set(got) - set(want))[:3]
        users = sorted(k for k in set(got) & set(want) if got[k] != want[k])[:3]
        problems.append(f"images in use differ (missing {missing}, unexpected {extra}, other users {[(k, got[k], want[k]) for k in users]})")
    if expiring != seeded["expires_in_use"]:
        problems.append(f"expires-in-use findings differ (missing {sorted(seeded['expires_in_use'] - expiring)[:3]}, "
                        f"unexpected {sorted(expiring - seeded['expires_in_use'])[:3]})")
    if report.get("errors"):
        problems.append(f"errors: {report['errors'][:3]}")
    by_check = {}
    for finding in report["findings"]:
        by_check[finding["check"]] = by_check.get(finding["check"], 0) + 1
    users = sum(len(u) for u in want.values())
    what = (f"{len(got):,} images in use ({len(want):,} expected, {users:,} uses), {len(expiring):,} "
            f"`ecr.lifecycle-expires-in-use` findings ({len(seeded['expires_in_use']):,} expected); findings by check: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(by_check.items())))
    if problems:
        log("  " + "; ".join(problems))
        what += "; " + "; ".join(problems)
    return not problems, what


def audit_calls(table, seeded, scans):
    """An audit's calls against the fewest that read the same on AWS: (made, minimum, per
    operation). `seeded` is populate_in_use's, or {"repositories": R, "images": N} (nothing runs)."""
    def up(n, page):
        return -(-n // page)

    repositories, images = seeded["repositories"], seeded["images"]
    minimum = {
        "ecr:DescribeRepositories": up(repositories, 1000),
        "ecr:GetRegistryScanningConfiguration": 1,
        "ecr:GetLifecyclePolicy": repositories,
        "ecr:GetRepositoryPolicy": repositories,
        "ecr:DescribeImages": repositories * up(images, 1000),
        "ecr:DescribeImageScanFindings": scans,
    }
    # Nothing running still takes a ListClusters and a ListFunctions call.
    seeded = dict({"clusters": {}, "definitions": 0, "functions": 0, "image_functions": 0, "aliased_versions": 0},
                  **seeded)
    clusters = seeded["clusters"].values()
    minimum.update({
        "ecs:ListClusters": max(1, up(len(seeded["clusters"]), 100)),
        "ecs:ListServices": sum(max(1, up(c["services"], 100)) for c in clusters),
        "ecs:DescribeServices": sum(up(c["services"], 10) for c in clusters),
        "ecs:DescribeTaskDefinition": seeded["definitions"],
        "ecs:ListTasks": sum(max(1, up(c["tasks"], 100)) for c in clusters),
        "ecs:DescribeTasks": sum(up(c["tasks"], 100) for c in clusters),
        "lambda:ListFunctions": max(1, up(seeded["functions"], 50)),
        # $LATEST of each image function, and each published version an alias names.
        "lambda:GetFunction": seeded["image_functions"] + seeded["aliased_versions"],
        "lambda:ListAliases": seeded["image_functions"],
    })
    made = sum(c for c, _ in table.values())
    least = sum(minimum.values())
    detail = ", ".join(f"{op} {table.get(op, (0, 0))[0]:,}/{n:,}" for op, n in minimum.items()
                       if n or table.get(op, (0, 0))[0])
    extra_ops = {k: v for k, v in table.items() if k not in minimum}
    if extra_ops:
        detail += "; also " + ", ".join(f"{k} {v[0]:,}" for k, v in sorted(extra_ops.items()))
    return made, least, detail


def bench_audit_latency(emulator, repositories=2000, images=2, latency_ms=80):
    """`little audit` of a registry behind the latency proxy against scripts/ecr-collector.py, a
    serial boto3 collector written the way ecr_exporter collects; then little again with every
    fourth call throttled."""
    section = "audit-latency"
    log(f"== {section}: {repositories:,} repositories x {images} images behind a proxy adding {latency_ms} ms "
        "to every call; little and a serial boto3 collector")
    emulator.reset()
    t = populate(emulator, repositories, images)
    record(section, f"populating the emulator ({repositories:,} repositories, {repositories * images:,} PutImage, setup)",
           f"{t:.0f} s")
    NOTES.append(f"{section}: every call goes through scripts/latency-proxy.py, which holds it {latency_ms} ms before "
                 f"the emulator answers (calls overlap, as on AWS). {images} images a repository (not the audit "
                 "section's 10) to keep the setup short: little reads the newest image's scan of each repository "
                 "either way. The collector (scripts/ecr-collector.py, boto3 from the emulator's venv) reads each "
                 "repository the way ecr_exporter does, one call after the other: DescribeRepositories (paged), then "
                 "per repository DescribeImages (paged), GetLifecyclePolicy, GetRepositoryPolicy; it reads no scan "
                 "findings and no registry scanning configuration, so it makes fewer calls than little. The "
                 "emulator answers one call at a time (about 3 ms each), which bounds little's time from below. "
                 "Single runs on a machine shared with other builds: little's time is bound by the emulator's CPU and varies by tens of percent between runs.")
    if os.sep + "debug" + os.sep in LITTLE:
        NOTES.append(f"{section}: little was a debug build (LITTLE_BIN named one); the figures are bound by the "
                     "calls, not by little's CPU.")
    collector = os.path.join(ROOT, "scripts", "ecr-collector.py")
    at = f"{repositories:,} repositories, {latency_ms} ms a call"
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "little.yaml"), "w") as f:
            f.write("defaults:\n  region: us-east-1\n")
        audit = [LITTLE, "-v", "audit", "--no-stacks", "--format", "json"]
        proxy = Proxy(emulator.endpoint, latency_ms)
        try:
            env = proxy.env(emulator)
            out = os.path.join(tmp, "little.json")
            with open(out, "w") as f:
                t_little, _, code, err = run(audit, tmp, env, stdout=f)
            if code not in (0, 2):
                raise SystemExit(f"little audit: exit {code}\n{err[-2000:]}")
            with open(out) as f:
                report = json.load(f)
            made, least, detail = audit_calls(calls(err), {"repositories": repositories, "images": images}, repositories)
            with open(os.path.join(tmp, "collector.json"), "w") as f:
                t_collector, _, code, cerr = run([PYTHON, collector], tmp, env, stdout=f)
            if code != 0:
                raise SystemExit(f"ecr-collector: exit {code}\n{cerr[-2000:]}")
            with open(os.path.join(tmp, "collector.json")) as f:
                collected = json.loads(f.read().strip().splitlines()[-1])
        finally:
            proxy.stop()
        record(section, f"`little audit`, {at}: little / serial boto3 collector (ecr_exporter's way)",
               f"{t_little:.2f} s / {t_collector:.2f} s = {t_collector / t_little:.1f}x")
        checked = report.get("checked", {})
        record(section, f"repositories read, {at}: little / collector",
               f"{checked.get('repositories')} / {collected['repositories']} "
               f"(images: little looked at {checked.get('images')}, the collector listed {collected['images']})")
        record(section, f"API calls, {at}: little (made/minimum) / collector",
               f"{made:,} / {least:,} / {sum(collected['calls'].values()):,}: little {detail}; collector "
               + ", ".join(f"{op} {n}" for op, n in collected["calls"].items()),
               "within 5%", "met" if made <= least * 1.05 else "NOT met")

        # Every fourth call throttled, whatever the rate (so backing off does not lower the share and
        # the limit stays low): the first 100 repositories only (the others are excluded, listed but
        # not read), against the same audit without throttling. It finishes with the same findings,
        # and says how far the repository reads backed off.
        subset = 100
        with open(os.path.join(tmp, "little.yaml"), "w") as f:
            f.write("defaults:\n  region: us-east-1\naudit:\n  exclude_repositories:\n")
            f.write("".join(f"    - \"*/service-{k:02d}??\"\n" for k in range(subset // 100, 100)))
        reports = []
        for every in (0, 4):
            throttling = Proxy(emulator.endpoint, latency_ms, throttle_every=every)
            try:
                out = os.path.join(tmp, f"throttled-{every}.json")
                with open(out, "w") as f:
                    t, _, code, err = run(audit, tmp, throttling.env(emulator), stdout=f)
                if code not in (0, 2):
                    raise SystemExit(f"little audit (throttled every {every}): exit {code}\n{err[-2000:]}")
                with open(out) as f:
                    reports.append(json.load(f))
            finally:
                throttling.stop()
        report, throttled = reports
        at = f"{subset} of the {repositories:,} repositories, {latency_ms} ms a call"
        same = throttled.get("findings") == report.get("findings") and throttled.get("checked") == report.get("checked") \
            and not throttled.get("errors")
        retried = sum(r for _, r in calls(err).values())
        record(section, f"`little audit`, {at}, every 4th call throttled: little",
               f"{t:.2f} s ({retried:,} calls retried; concurrency {backoff_line(err)}; "
               f"{'the same findings' if same else 'DIFFERENT findings'})",
               "same findings", "met" if same else "NOT met")


# --- 4. serve ------------------------------------------------------------------------------

def bench_serve(emulator, repositories=2000, images=10, clients=50, per_client=20):
    log(f"== serve: /metrics under {clients} concurrent scrapes, {repositories * images:,} images loaded")
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "little.yaml"), "w") as f:
            f.write("defaults:\n  region: us-east-1\n")
        port = free_port()
        env = dict(os.environ)
        env.update(emulator.env())
        proc = subprocess.Popen([LITTLE, "serve", "--listen", f"127.0.0.1:{port}", "--interval", "24h", "--no-stacks"],
                                cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            start = time.perf_counter()
            while True:
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    c.request("GET", "/readyz")
                    if c.getresponse().status == 200:
                        break
                except OSError:
                    pass
                if time.perf_counter() - start > 900:
                    raise SystemExit("little serve was not ready after 900 s")
                time.sleep(0.5)
            record("serve", "first audit until /readyz", f"{time.perf_counter() - start:.1f} s")
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("GET", "/metrics")
            body = c.getresponse().read()
            series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
            c.request("GET", "/metrics", headers={"Accept-Encoding": "gzip"})
            gz = c.getresponse().read()
            record("serve", "/metrics size", f"{len(body) / 1024 / 1024:.1f} MiB, {series:,} series; {len(gz) / 1024 / 1024:.1f} MiB gzip-compressed")
            if shutil.which("wrk"):
                # wrk (C, two threads) as the load: a Python client would measure itself.
                out = subprocess.run(["wrk", "-t2", f"-c{clients}", "-d20s", "--latency",
                                      "-H", "Accept-Encoding: gzip", f"http://127.0.0.1:{port}/metrics"],
                                     capture_output=True, text=True, check=True).stdout
                scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
                dist = {pct: float(v) * scale[unit]
                        for pct, v, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)$", out, re.M)}
                rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
                p50, p99 = dist["50"], dist["99"]
                load = f"wrk, {clients} connections, 20 s, gzip as Prometheus asks"
                extra = f"{float(rate.group(1)):.0f} scrapes/s" if rate else ""
            else:
                latencies = []
                lock = threading.Lock()

                def scraper():
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    mine = []
                    for _ in range(per_client):
                        t0 = time.perf_counter()
                        conn.request("GET", "/metrics", headers={"Accept-Encoding": "gzip"})
                        r = conn.getresponse()
                        r.read()
                        mine.append(time.perf_counter() - t0)
                    with lock:
                        latencies.extend(mine)

                threads = [threading.Thread(target=scraper) for _ in range(clients)]
                t0 = time.perf_counter()
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                wall = time.perf_counter() - t0
                latencies.sort()
                p50 = latencies[len(latencies) // 2] * 1000
                p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
                load = f"{clients} Python threads x {per_client} (install wrk for a load that does not measure itself)"
                extra = f"{len(latencies) / wall:.0f} scrapes/s"
            record("serve", f"/metrics latency under {load}",
                   f"p50 {p50:.1f} ms, p99 {p99:.1f} ms ({extra})",
                   "p99 < 50 ms", "met" if p99 < 50 else "NOT met")
            with open(f"/proc/{proc.pid}/status") as f:
                hwm = next(line for line in f if line.startswith("VmHWM:")).split()[1]
            record("serve", "peak memory of little serve", f"{int(hwm) / 1024:.0f} MiB")
        finally:
            proc.terminate()
            proc.wait()


# --- 5. an organisation ---------------------------------------------------------------------

ORG_LIFECYCLE = json.dumps({"rules": [{"rulePriority": 1, "description": "expire untagged", "selection": {
    "tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14}, "action": {"type": "expire"}}]})


def populate_org(emulator, accounts, regions, per_region):
    """An organisation of `accounts` members (its management account too), each with
    `per_region` repositories in each region, reached through assumed roles as `little` reaches
    them; one repository in three is MUTABLE. The member ids and the MUTABLE findings expected."""
    import boto3
    org = emulator.client("organizations")
    org.create_organization(FeatureSet="ALL")
    ids = [org.create_account(AccountName=f"member-{i:03d}", Email=f"member-{i:03d}@example.com")
           ["CreateAccountStatus"]["AccountId"] for i in range(accounts)]
    sts = emulator.client("sts")

    def one(item):
        i, account = item
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]
        mutable = 0
        for region in regions:
            ecr = boto3.client("ecr", region_name=region, endpoint_url=emulator.endpoint,
                               aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                               aws_session_token=creds["SessionToken"])
            for r in range(per_region):
                is_mutable = (i + r) % 3 == 0
                mutable += is_mutable
                name = f"team-{i % 10}/service-{r}"
                ecr.create_repository(repositoryName=name, imageTagMutability="MUTABLE" if is_mutable else "IMMUTABLE",
                                      imageScanningConfiguration={"scanOnPush": True})
                ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=ORG_LIFECYCLE)
        return mutable

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        mutable = sum(pool.map(one, enumerate(ids)))
    return ids, mutable


def bench_org(emulator, accounts=200, regions=("us-east-1", "eu-west-1"), per_region=3, bound=60):
    log(f"== org: {accounts} accounts x {len(regions)} regions x {per_region} repositories")
    emulator.reset()
    start = time.perf_counter()
    ids, mutable = populate_org(emulator, accounts, regions, per_region)
    repositories = accounts * len(regions) * per_region
    record("org", f"populating the emulator ({accounts} accounts, {repositories:,} repositories, setup)",
           f"{time.perf_counter() - start:.0f} s")
    with tempfile.TemporaryDirectory() as tmp:
        for concurrency in (8, 32):
            with open(os.path.join(tmp, "little.yaml"), "w") as f:
                f.write(f"name: bench\ndefaults:\n  region: us-east-1\naudit:\n  regions: [{', '.join(regions)}]\n"
                        f"  concurrency: {concurrency}\n  account_timeout: 5m\n")
            out_path = os.path.join(tmp, "audit.json")
            times, peaks, stderr = [], [], ""
            for _ in range(3):
                with open(out_path, "w") as out:
                    t, rss, code, stderr = run([LITTLE, "-v", "audit", "--org", "--no-stacks", "--format", "json",
                                                "--check", "ecr", "--check", "org"], tmp, emulator.env(), stdout=out)
                if code not in (0, 2):
                    raise SystemExit(f"audit --org: exit {code}\n{stderr[-2000:]}")
                times.append(t)
                peaks.append(rss)
            with open(out_path) as f:
                report = json.load(f)
            audited = len(report.get("accounts", {}))
            by_check = {}
            for finding in report["findings"]:
                by_check[finding["check"]] = by_check.get(finding["check"], 0) + 1
            if report["errors"] or by_check.get("org.account-unreachable") \
                    or by_check.get("ecr.tag-immutability") != mutable or report["checked"]["repositories"] != repositories:
                raise SystemExit(f"audit --org found {by_check}, {report['checked']}, errors {report['errors'][:3]}; "
                                 f"expected {mutable} mutable of {repositories} repositories")
            record("org", f"`little audit --org`, {audited} accounts x {len(regions)} regions, concurrency {concurrency}",
                   fmt_times(times), f"< {bound} s", "met" if statistics.median(times) < bound else "NOT met")
            record("org", f"peak memory, concurrency {concurrency}", f"{max(peaks):.0f} MiB")
            table = calls(stderr)
            made = sum(c for c, _ in table.values())
            record("org", f"API calls, concurrency {concurrency}",
                   f"{made:,} ({', '.join(f'{k} {v[0]:,}' for k, v in sorted(table.items()))})")


# --- 6. check ------------------------------------------------------------------------------

def bench_check(emulator, layer_mb=200):
    log(f"== check: an image with a {layer_mb} MB layer")
    emulator.reset()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        registry = subprocess.Popen([os.path.join(ROOT, "scripts", "registry"), "run", str(port), os.path.join(tmp, "registry")],
                                    stdout=subprocess.DEVNULL)
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1)
                    break
                except Exception:
                    time.sleep(0.1)
            # The layer: os-release and an incompressible file, gzip-compressed.
            layer_path = os.path.join(tmp, "layer.tar.gz")
            with gzip.open(layer_path, "wb", compresslevel=1) as gz:
                with tarfile.open(fileobj=gz, mode="w|") as tar:
                    release = b'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'
                    info = tarfile.TarInfo("etc/os-release")
                    info.size = len(release)
                    tar.addfile(info, io.BytesIO(release))
                    info = tarfile.TarInfo("opt/app/blob.bin")
                    info.size = layer_mb * 1024 * 1024
                    tar.addfile(info, _RandomReader(info.size))
            size = os.path.getsize(layer_path)
            digest = _push_blob(port, "bench/big", layer_path)
            config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"User": "1000", "Labels": {"owner_team": "bench"}},
                                 "history": [{"created_by": "/bin/sh -c #(nop) COPY blob.bin /opt/app/"}]}).encode()
            config_path = os.path.join(tmp, "config.json")
            with open(config_path, "wb") as f:
                f.write(config)
            config_digest = _push_blob(port, "bench/big", config_path)
            ecr = emulator.client("ecr")
            _push_image(ecr, "bench/big", config_digest, len(config),
                        [(digest, size, "application/vnd.docker.image.rootfs.diff.tar.gzip")])
            project = os.path.join(tmp, "project")
            os.makedirs(project)
            with open(os.path.join(project, "little.yaml"), "w") as f:
                f.write(f"defaults:\n  region: us-east-1\ncheck:\n  registry_url: http://127.0.0.1:{port}\n")
            times, peak, stderr = repeat("check", [LITTLE, "-v", "check", "bench/big:v1"], project, emulator.env(), runs=3)
            record("check", f"`little check` of an image with a {layer_mb} MiB layer ({size / 1024 / 1024:.0f} MiB compressed)",
                   fmt_times(times))
            record("check", "peak memory of that", f"{peak:.0f} MiB", "< 64 MB", "met" if peak * 1.048576 < 64 else "NOT met")
            bench_check_hostile(ecr, port, tmp, project, emulator)
        finally:
            registry.terminate()
            registry.wait()


def _push_image(ecr, repository, config_digest, config_size, layers):
    """The manifest of a config and layers (digest, size, media type) to ECR, with its real
    digest (the SHA-256 of its bytes, as ECR computes it; `little check` verifies it)."""
    body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                       "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": config_size, "digest": config_digest},
                       "layers": [{"mediaType": m, "size": n, "digest": d} for d, n, m in layers]})
    try:
        ecr.create_repository(repositoryName=repository)
    except ecr.exceptions.RepositoryAlreadyExistsException:
        pass
    ecr.put_image(repositoryName=repository, imageTag="v1", imageManifest=body,
                  imageManifestMediaType="application/vnd.docker.distribution.manifest.v2+json",
                  imageDigest="sha256:" + hashlib.sha256(body.encode()).hexdigest())


def _tar_header(name, size, kind=tarfile.REGTYPE):
    info = tarfile.TarInfo(name)
    info.size = size
    info.type = kind
    info.mode = 0o644
    return info.tobuf(format=tarfile.GNU_FORMAT)


def _write_repeated(out, byte, count, chunk=1 << 20):
    block = byte * chunk
    while count > 0:
        n = min(count, chunk)
        out.write(block[:n])
        count -= n


def _hostile_layers(tmp):
    """The crafted images of issue 17: (name, what, path of the gzip layer, config bytes,
    the check id and the limit it must stop at)."""
    release = b'ID=debian\nVERSION_ID="12"\n'
    # 1. One GNU long name of 500 MiB (the layer is about 500 KB).
    long_name = os.path.join(tmp, "longname.tar.gz")
    with gzip.open(long_name, "wb", compresslevel=9) as gz:
        n = 500 << 20
        gz.write(_tar_header("././@LongLink", n + 1, tarfile.GNUTYPE_LONGNAME))
        _write_repeated(gz, b"a", n)
        gz.write(b"\0" * (1 + (512 - (n + 1) % 512) % 512))
        gz.write(_tar_header("etc/os-release", len(release)))
        gz.write(release + b"\0" * (512 - len(release)) + b"\0" * 1024)
    # 2. 2,000 JDK release files of 250 KB each (each under the per-file bound of 256 KiB).
    kept = os.path.join(tmp, "kept.tar.gz")
    with gzip.open(kept, "wb", compresslevel=9) as gz:
        body = b'JAVA_VERSION="11"\n' + b"#" * (250_000 - 18)
        for i in range(2000):
            gz.write(_tar_header(f"usr/lib/jvm/java-{i}/release", len(body)))
            gz.write(body + b"\0" * ((512 - len(body) % 512) % 512))
        gz.write(b"\0" * 1024)
    # 3. A gzip bomb: 4 GiB of zeros in about 4 MB.
    bomb = os.path.join(tmp, "bomb.tar.gz")
    with gzip.open(bomb, "wb", compresslevel=9) as gz:
        gz.write(_tar_header("opt/zeros", 4 << 30))
        _write_repeated(gz, b"\0", 4 << 30)
        gz.write(b"\0" * 1024)
    # 4. A config of 400,000 tiny variables (`max_config_entries`), and one just under the
    # 4 MiB of `max_config_bytes` with as many entries as allowed, mostly long plain values
    # (shown whole in every output), build steps with tokens.
    many_config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"User": "1000", "Env": ["A=1"] * 400_000}}).encode()
    env = [f"VAR_{i}=" + "x" * 400 for i in range(9_000)]
    steps = [{"created_by": f"/bin/sh -c #(nop) ENV APP_TOKEN_{i}=ghp_{i:036d} && echo " + "y" * 200} for i in range(900)]
    big_config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"User": "1000", "Env": env},
                             "history": steps}).encode()
    if len(big_config) > 4 << 20:
        raise SystemExit(f"the big config is {len(big_config)} bytes, over 4 MiB")
    small = os.path.join(tmp, "small.tar.gz")
    with gzip.open(small, "wb") as gz:
        gz.write(_tar_header("etc/os-release", len(release)))
        gz.write(release + b"\0" * (512 - len(release)) + b"\0" * 1024)
    plain = json.dumps({"architecture": "amd64", "os": "linux", "config": {"User": "1000"}}).encode()
    return [
        ("evil/longname", "a 500 MiB GNU long name", long_name, plain, "image.limit-exceeded", "max_name_bytes"),
        ("evil/kept", "2,000 JDK release files of 250 KB", kept, plain, "image.limit-exceeded", "max_kept_bytes"),
        ("evil/bomb", "a gzip bomb of 4 GiB (under the default max_layer_bytes of 16 GiB)", bomb, plain, "", ""),
        ("evil/entries", f"a config of {len(many_config) / 1024 / 1024:.1f} MiB with 400,000 variables", small, many_config,
         "image.limit-exceeded", "max_config_entries"),
        ("evil/config", f"a config of {len(big_config) / 1024 / 1024:.1f} MiB with 9,000 variables of 400 bytes and 900 build steps with tokens",
         small, big_config, "secrets", ""),
    ]


def bench_check_hostile(ecr, port, tmp, project, emulator):
    """Peak memory of `little check` on crafted images, within the default limits."""
    log("== check: crafted images")
    for name, what, layer_path, config, check_id, limit in _hostile_layers(tmp):
        layer_digest = _push_blob(port, name, layer_path)
        config_path = os.path.join(tmp, name.replace("/", "-") + ".json")
        with open(config_path, "wb") as f:
            f.write(config)
        config_digest = _push_blob(port, name, config_path)
        size = os.path.getsize(layer_path)
        _push_image(ecr, name, config_digest, len(config),
                    [(layer_digest, size, "application/vnd.docker.image.rootfs.diff.tar.gzip")])
        out_path = os.path.join(tmp, "report.json")
        with open(out_path, "w") as out:
            t, peak, code, err = run([LITTLE, "-v", "check", f"{name}:v1", "--format", "json"], project, emulator.env(), stdout=out)
        if code not in (0, 2):
            raise SystemExit(f"check {name}: exit {code}\n{err[-2000:]}")
        with open(out_path) as f:
            report = json.load(f)
        first = report["checks"][0]
        if check_id and not any(c["id"] == check_id and c["outcome"] == "fail" for c in report["checks"]):
            raise SystemExit(f"check {name}: no failed {check_id}: {report['checks']}")
        if limit and f"check.limits.{limit}" not in first["summary"]:
            raise SystemExit(f"check {name}: stopped by {first}, not {limit}")
        found = (f"{first['id']}: {first['summary']}" if first["id"].startswith("image.")
                 else f"read to the end within the limits, outcome {report['outcome']}")
        record("check", f"crafted image, {what} ({size / 1024:,.0f} KB layer): wall time", f"{t:.2f} s ({found})")
        record("check", f"crafted image, {what}: peak memory", f"{peak:.0f} MiB",
               "< 128 MB", "met" if peak * 1.048576 < 128 else "NOT met")


class _RandomReader:
    """Incompressible bytes, made on demand (the layer is never held in memory)."""

    def __init__(self, size):
        self.left = size

    def read(self, n=-1):
        n = self.left if n is None or n < 0 else min(n, self.left)
        self.left -= n
        return os.urandom(n)


def _push_blob(port, repository, path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    digest = "sha256:" + h.hexdigest()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request("POST", f"/v2/{repository}/blobs/uploads/", headers={"Content-Length": "0"})
    r = c.getresponse()
    r.read()
    location = r.getheader("Location")
    path_part = location.split("://", 1)[-1]
    path_part = path_part[path_part.index("/"):]
    sep = "&" if "?" in path_part else "?"
    with open(path, "rb") as f:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        c.request("PUT", f"{path_part}{sep}digest={digest}", body=f,
                  headers={"Content-Length": str(os.path.getsize(path)), "Content-Type": "application/octet-stream"})
        r = c.getresponse()
        r.read()
        if r.status != 201:
            raise SystemExit(f"blob upload failed: {r.status}")
    return digest


# --- criterion -----------------------------------------------------------------------------

def bench_criterion():
    log("== criterion: the renderer and the template diff, 500 resources")
    out = subprocess.run(["cargo", "bench", "--bench", "render", "--bench", "diff", "--", "--output-format", "bencher"],
                         cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, CARGO_TERM_COLOR="never"))
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    for line in out.stdout.splitlines():
        m = re.match(r"test (.+?) \.\.\. bench:\s+([\d,]+) ns/iter \(\+/- ([\d,]+)\)", line)
        if m:
            ns = int(m.group(2).replace(",", ""))
            dev = int(m.group(3).replace(",", ""))
            record("criterion", m.group(1), f"{ns / 1e6:.2f} ms/iter (+/- {dev / 1e6:.2f})")


# --- the report ----------------------------------------------------------------------------

def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
            mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        pass
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return [f"{os.cpu_count()} cores: {cpu}", f"memory: {mem}", f"kernel: {platform.release()}",
            rustc, "little built with `cargo build --release`",
            "the emulator: moto[server] (see scripts/emulator for the pinned version), one process"]


def write_report(sections):
    lines = ["# Benchmarks", "",
             "Figures of `scripts/bench` (written by it: do not edit by hand). Reproduce them with",
             "", "```sh", "scripts/bench            # every section; or: scripts/bench validate audit ...", "```", "",
             "It builds `little` in release mode, installs the emulator and the registry if needed, and runs each",
             "section: wall times are the median of several runs (min, max), peak memory is the process's",
             "maximum resident set, API calls are `little -v`'s counts. The emulator (moto) and the local",
             "registry run on the same machine, so AWS-bound figures include their time.", "",
             f"Last run on {time.strftime('%Y-%m-%d', time.gmtime())} (sections: {', '.join(sections)}; the other rows are from earlier runs).", "",
             "## Machine", ""] + [f"- {m}" for m in machine()] + ["", "## Figures", "",
             "| section | measure | figure | target |", "|---|---|---|---|"]
    # Rows of the sections not run this time are kept from the last report.
    path = os.path.join(ROOT, "BENCHMARKS.md")
    kept_rows = []
    if os.path.exists(path):
        with open(path) as f:
            for row in f:
                cells = [c.strip() for c in row.strip().strip("|").split("|")]
                if row.startswith("| ") and len(cells) == 4 and cells[0] not in sections \
                        and cells[0] not in ("section", "---"):
                    kept_rows.append(row.rstrip("\n"))
    rows = []
    for section, measure, value, target, verdict in RESULTS:
        t = f"{target}: **{verdict}**" if target else ""
        rows.append(f"| {section} | {measure} | {value} | {t} |")
    order = list(SECTIONS)

    def rank(row):
        name = row.strip().strip("|").split("|")[0].strip()
        return order.index(name) if name in order else len(order)

    # Stable: within a section the rows keep their order.
    lines += sorted(rows + kept_rows, key=rank)
    # Notes (each `section: ...`) of the sections not run this time are kept too.
    kept_notes = []
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
        if "\n## Notes\n" in text:
            block = text.split("\n## Notes\n", 1)[1].split("\n## ", 1)[0].split("<!--", 1)[0]
            for line in block.splitlines():
                if line.startswith("- ") and line[2:].split(":", 1)[0] not in sections:
                    kept_notes.append(line[2:])
    notes = kept_notes + NOTES
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    keep = ""
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
        marker = "<!-- analysis: kept by scripts/bench -->"
        if marker in text:
            keep = text[text.index(marker):]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
        if keep:
            f.write("\n" + keep)
    log(f"wrote {path}")


SECTIONS = ["validate", "plan", "latency", "audit-latency", "audit", "serve", "org", "check", "criterion"]


def main():
    wanted = sys.argv[1:] or list(SECTIONS)
    unknown = set(wanted) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown sections: {', '.join(sorted(unknown))}")
    emulator = Emulator() if set(wanted) & {"plan", "latency", "audit-latency", "audit", "serve", "org", "check"} else None

    def serve():
        if "audit" not in wanted:
            emulator.reset()
            populate_in_use(emulator, 2000, 10)
        bench_serve(emulator)

    sections = {
        "validate": bench_validate,
        "plan": lambda: bench_plan(emulator),
        "latency": lambda: bench_latency(emulator),
        "audit-latency": lambda: bench_audit_latency(emulator),
        "audit": lambda: bench_audit(emulator),
        "serve": serve,
        "org": lambda: bench_org(emulator),
        "check": lambda: bench_check(emulator),
        "criterion": bench_criterion,
    }
    failed = []
    try:
        for name in SECTIONS:
            if name not in wanted:
                continue
            try:
                sections[name]()
            except (Exception, SystemExit) as e:
                # One section failing does not lose the others' figures.
                failed.append(name)
                record(name, "the section failed", str(e).splitlines()[0][:200] if str(e) else type(e).__name__)
    finally:
        if emulator:
            emulator.stop()
    print()
    print(f"{'section':<10} {'measure':<70} figure")
    for section, measure, value, target, verdict in RESULTS:
        print(f"{section:<10} {measure[:70]:<70} {value}" + (f"  [{target}: {verdict}]" if target else ""))
    write_report(wanted)
    if failed:
        raise SystemExit(f"sections failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Structural and cross-file checks for deploy/, run by deploy/check.sh.

Usage: deploy_check.py CHECK [ARGS...] (run from the repository root)

  systemd                 unit and sysusers entry keep the settings lanner needs
  lanner-conf             every directive in the deploy configs is a lanner directive
  docker                  Dockerfile shape, seccomp profile, container config
  kubernetes              YAML parses, kinds, cross-references, ServiceMonitor
  alerts                  the expected alert rules are there
  grafana OUT_RULES       dashboard structure; writes its PromQL as recording
                          rules to OUT_RULES for `promtool check rules`
  metric-names            every metric and label used in deploy/ is in metrics.txt

Each check prints what it verified and exits 1 with one line per problem.
"""

import json
import re
import sys
from pathlib import Path

import yaml

DEPLOY = Path("deploy")
METRICS_FILE = DEPLOY / "metrics.txt"
REFERENCE_CONF = Path("config/lanner.example.conf")
UNIT = DEPLOY / "systemd/lanner.service"
SYSUSERS = DEPLOY / "systemd/lanner.sysusers.conf"
HOST_CONF = DEPLOY / "systemd/lanner.conf"
CONTAINER_CONF = DEPLOY / "docker/lanner.conf"
DOCKERFILE = DEPLOY / "docker/Dockerfile"
SECCOMP = DEPLOY / "docker/seccomp-io_uring.json"
K8S = DEPLOY / "kubernetes"
ALERTS = DEPLOY / "prometheus/alerts.yml"
PROMETHEUS = DEPLOY / "prometheus/prometheus.yml"
DASHBOARD = DEPLOY / "grafana/lanner-dashboard.json"

IO_URING = ("io_uring_setup", "io_uring_enter", "io_uring_register")
REDIS_PORT = 6379
# Prometheus scrapes GET /metrics on the client port (metrics-on-client-port).
METRICS_PORT = REDIS_PORT
# redis_exporter's port: lanner's files must not use it.
EXPORTER_PORT = 9121

problems = []


def fail(msg):
    problems.append(msg)


def expect(cond, msg):
    if not cond:
        fail(msg)
    return cond


# --------------------------------------------------------------- lanner.conf


def conf_directives(path):
    """(line number, directive, value text) for each directive line."""
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        name, _, value = s.partition(" ")
        out.append((n, name.lower(), value.strip()))
    return out


def known_directives():
    """Directive names config/lanner.example.conf (generated from the settings table)
    documents, set or commented out."""
    names = set()
    for line in REFERENCE_CONF.read_text().splitlines():
        m = re.match(r"^# ([a-z][a-z0-9-]*): ", line)
        if m:
            names.add(m.group(1))
    if len(names) < 20:
        fail(f"{REFERENCE_CONF}: found only {len(names)} documented directives")
    return names


def conf_value(path, name):
    values = [v for _, n, v in conf_directives(path) if n == name]
    return values[-1].strip('"') if values else None


def check_lanner_conf():
    known = known_directives()
    for path in (HOST_CONF, CONTAINER_CONF):
        for n, name, _ in conf_directives(path):
            expect(name in known, f"{path}:{n}: unknown directive '{name}' (not in {REFERENCE_CONF})")
        expect(conf_value(path, "port") == str(REDIS_PORT), f"{path}: port must be {REDIS_PORT}")
        expect(
            conf_value(path, "metrics-on-client-port") in (None, "yes"),
            f"{path}: metrics-on-client-port must stay yes (Prometheus, Service and docs scrape port {METRICS_PORT})",
        )
        expect(
            conf_value(path, "metrics-port") in (None, "0"),
            f"{path}: metrics-port must stay 0 (the client port serves /metrics)",
        )
        expect(conf_value(path, "daemonize") in (None, "no"), f"{path}: daemonize must stay no")
    print(f"lanner-conf: {HOST_CONF} and {CONTAINER_CONF} use only known directives, port {REDIS_PORT} with /metrics on it")


# ------------------------------------------------------------------- systemd


def unit_entries(path):
    """{section: [(key, value)]} of a systemd unit file (continuations joined)."""
    sections, section, pending = {}, None, ""
    for line in path.read_text().splitlines():
        if pending:
            line, pending = pending + line.strip(), ""
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        if s.endswith("\\"):
            pending = s[:-1] + " "
            continue
        if s.startswith("[") and s.endswith("]"):
            section = s[1:-1]
            sections.setdefault(section, [])
            continue
        key, _, value = s.partition("=")
        sections.setdefault(section, []).append((key.strip(), value.strip()))
    return sections


def check_systemd():
    units = unit_entries(UNIT)
    svc = units.get("Service", [])

    def one(key):
        values = [v for k, v in svc if k == key]
        expect(len(values) == 1, f"{UNIT}: [Service] needs exactly one {key}= (found {len(values)})")
        return values[-1] if values else None

    expect(one("Type") == "simple", f"{UNIT}: Type must be simple (lanner stays in the foreground)")
    expect(
        one("ExecStart") == "/usr/local/bin/lanner /etc/lanner/lanner.conf",
        f"{UNIT}: ExecStart must be '/usr/local/bin/lanner /etc/lanner/lanner.conf'",
    )
    expect(one("Restart") == "on-failure", f"{UNIT}: Restart must be on-failure")
    rs = one("RestartSec") or ""
    expect(re.fullmatch(r"[1-9][0-9]*(ms|s)?", rs) is not None, f"{UNIT}: RestartSec must be a positive delay, got '{rs}'")
    memlock = one("LimitMEMLOCK") or ""
    m = re.fullmatch(r"(\d+)([KMG]?)", memlock)
    if expect(m is not None, f"{UNIT}: LimitMEMLOCK must be a size, got '{memlock}'"):
        size = int(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2)]
        expect(size >= 64 << 20, f"{UNIT}: LimitMEMLOCK below 64M leaves too little for io_uring buffers")
    nofile = one("LimitNOFILE") or "0"
    expect(nofile.isdigit() and int(nofile) > 10000, f"{UNIT}: LimitNOFILE must exceed maxclients (10000)")
    user = one("User")
    expect(user not in (None, "", "root", "0"), f"{UNIT}: User must be a dedicated unprivileged account")
    expect(dict(svc).get("DynamicUser", "no") == "no", f"{UNIT}: use the dedicated user, not DynamicUser")
    sysusers = SYSUSERS.read_text().split()
    expect(
        "u" in sysusers and user in sysusers,
        f"{SYSUSERS}: must create the user '{user}' that {UNIT.name} runs as",
    )
    filters = " ".join(v for k, v in svc if k == "SystemCallFilter" and not v.startswith("~"))
    for call in IO_URING:
        expect(call in filters.split(), f"{UNIT}: SystemCallFilter must allow {call} (io_uring)")
    for key in ("NoNewPrivileges", "ProtectSystem", "PrivateTmp", "CapabilityBoundingSet"):
        expect(any(k == key for k, _ in svc), f"{UNIT}: hardening setting {key}= is missing")
    expect("CPUAffinity" in UNIT.read_text(), f"{UNIT}: keep the CPUAffinity guidance")
    expect(
        ("WantedBy", "multi-user.target") in units.get("Install", []),
        f"{UNIT}: [Install] WantedBy=multi-user.target is missing",
    )
    print(f"systemd: {UNIT} keeps Type, ExecStart, Restart, limits, user and io_uring system calls")


# -------------------------------------------------------------------- docker


def dockerfile_instructions(path):
    """[(INSTRUCTION, arguments)] with continuation lines joined."""
    out, pending = [], ""
    for line in path.read_text().splitlines():
        s = line.strip()
        if not pending and (not s or s.startswith("#")):
            continue
        if s.startswith("#"):
            continue
        if s.endswith("\\"):
            pending += s[:-1] + " "
            continue
        s, pending = pending + s, ""
        word, _, rest = s.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def check_docker():
    ins = dockerfile_instructions(DOCKERFILE)
    froms = [a for i, a in ins if i == "FROM"]
    expect(len(froms) == 2, f"{DOCKERFILE}: expected a two-stage build, found {len(froms)} FROM lines")
    if len(froms) == 2:
        expect(re.fullmatch(r"rust:1-bookworm AS \w+", froms[0], re.I) is not None, f"{DOCKERFILE}: build stage must be FROM rust:1-bookworm AS <name>")
        expect(froms[1] == "debian:bookworm-slim", f"{DOCKERFILE}: runtime stage must be FROM debian:bookworm-slim")
    runs = " ".join(a for i, a in ins if i == "RUN")
    expect("cargo build --release --locked" in runs, f"{DOCKERFILE}: must build with cargo build --release --locked")
    users = [a for i, a in ins if i == "USER"]
    expect(users and users[-1].split(":")[0] not in ("root", "0"), f"{DOCKERFILE}: the image must run as a non-root USER")
    exposed = " ".join(a for i, a in ins if i == "EXPOSE").split()
    expect(str(REDIS_PORT) in exposed, f"{DOCKERFILE}: EXPOSE {REDIS_PORT} is missing")
    expect(str(EXPORTER_PORT) not in exposed, f"{DOCKERFILE}: lanner serves no {EXPORTER_PORT} (redis_exporter's port)")
    health = [a for i, a in ins if i == "HEALTHCHECK"]
    expect(health and "ping" in health[-1].lower(), f"{DOCKERFILE}: HEALTHCHECK must PING the server")
    copies = " ".join(a for i, a in ins if i == "COPY")
    expect(str(CONTAINER_CONF) in copies, f"{DOCKERFILE}: must COPY {CONTAINER_CONF} into the image")

    prof = json.loads(SECCOMP.read_text())
    actions = {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
               "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_TRACE", "SCMP_ACT_LOG"}
    expect(prof.get("defaultAction") == "SCMP_ACT_ERRNO", f"{SECCOMP}: defaultAction must be SCMP_ACT_ERRNO (deny by default)")
    archs = prof.get("archMap")
    expect(
        isinstance(archs, list) and any(a.get("architecture") == "SCMP_ARCH_X86_64" for a in archs),
        f"{SECCOMP}: archMap must list SCMP_ARCH_X86_64",
    )
    rules = prof.get("syscalls")
    unconditional = set()
    if expect(isinstance(rules, list) and rules, f"{SECCOMP}: syscalls must be a non-empty list"):
        allowed_keys = {"names", "action", "args", "comment", "includes", "excludes", "errnoRet"}
        for n, rule in enumerate(rules):
            where = f"{SECCOMP}: syscalls[{n}]"
            if not expect(isinstance(rule, dict), f"{where} is not an object"):
                continue
            extra = set(rule) - allowed_keys
            expect(not extra, f"{where}: unknown keys {sorted(extra)}")
            names = rule.get("names")
            expect(
                isinstance(names, list) and names and all(isinstance(x, str) and re.fullmatch(r"[a-z_0-9]+", x) for x in names),
                f"{where}: names must be a non-empty list of system call names",
            )
            expect(rule.get("action") in actions, f"{where}: unknown action {rule.get('action')!r}")
            if rule.get("action") == "SCMP_ACT_ALLOW" and not any(k in rule for k in ("args", "includes", "excludes")):
                unconditional.update(names or [])
    for call in IO_URING:
        expect(call in unconditional, f"{SECCOMP}: {call} must be allowed unconditionally")
    for call in ("read", "write", "epoll_wait", "accept4", "mmap", "futex", "sched_setaffinity", "eventfd2"):
        expect(call in unconditional, f"{SECCOMP}: {call} is missing from the base allow list")
    for call in ("mount", "reboot", "kexec_load", "init_module"):
        expect(call not in unconditional, f"{SECCOMP}: {call} must not be allowed unconditionally")
    print(f"docker: {DOCKERFILE} shape; {SECCOMP} has {len(rules or [])} rules, io_uring allowed, default deny")


# ---------------------------------------------------------------- kubernetes

CORE_KINDS = {("v1", "ConfigMap"), ("v1", "Service"), ("apps/v1", "StatefulSet"), ("networking.k8s.io/v1", "NetworkPolicy")}
OTHER_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor"), ("kustomize.config.k8s.io/v1beta1", "Kustomization")}


def k8s_docs():
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        try:
            loaded = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError as e:
            fail(f"{path}: not valid YAML: {e}")
            continue
        for doc in loaded:
            if doc is None:
                continue
            if not expect(isinstance(doc, dict), f"{path}: a document is not a mapping"):
                continue
            docs.append((path, doc))
    return docs


def labels_match(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_kubernetes(list_core=False):
    docs = k8s_docs()
    kinds = {}
    for path, doc in docs:
        key = (doc.get("apiVersion"), doc.get("kind"))
        if not expect(key in CORE_KINDS | OTHER_KINDS, f"{path}: unexpected kind {key}"):
            continue
        kinds.setdefault(doc["kind"], []).append((path, doc))
    if list_core:
        # Files kubernetes-validate checks against the Kubernetes schemas.
        print("\n".join(sorted({str(p) for p, d in docs if (d.get("apiVersion"), d.get("kind")) in CORE_KINDS})))
        return
    for kind in ("ConfigMap", "StatefulSet", "Service", "ServiceMonitor", "NetworkPolicy", "Kustomization"):
        expect(kind in kinds, f"{K8S}: no {kind}")
    if problems:
        return

    cms = {d["metadata"]["name"]: d for _, d in kinds["ConfigMap"]}
    services = {d["metadata"]["name"]: d for _, d in kinds["Service"]}
    (sts_path, sts), = kinds["StatefulSet"]
    spec = sts["spec"]
    tpl = spec["template"]
    pod_labels = tpl["metadata"].get("labels", {})
    expect(labels_match(spec["selector"]["matchLabels"], pod_labels), f"{sts_path}: selector does not match the pod template labels")
    pod = tpl["spec"]
    (container,) = pod["containers"]
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    expect(ports.get("redis") == REDIS_PORT, f"{sts_path}: container port 'redis' must be {REDIS_PORT}")
    expect(EXPORTER_PORT not in ports.values(), f"{sts_path}: lanner serves no {EXPORTER_PORT} (redis_exporter's port)")

    # Config: mounted ConfigMap with lanner.conf, passed as the first argument,
    # identical to the container image's configuration.
    mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts", [])}
    conf_arg = (container.get("args") or container.get("command") or [None])[0]
    found_conf = False
    for vol in pod.get("volumes", []):
        cm = vol.get("configMap")
        if not cm:
            continue
        expect(cm["name"] in cms, f"{sts_path}: volume {vol['name']} names a missing ConfigMap {cm['name']}")
        data = cms.get(cm["name"], {}).get("data", {})
        if vol["name"] in mounts and conf_arg == mounts[vol["name"]].rstrip("/") + "/lanner.conf":
            found_conf = expect("lanner.conf" in data, f"ConfigMap {cm['name']} has no lanner.conf key")
            expect(
                data.get("lanner.conf") == CONTAINER_CONF.read_text(),
                f"ConfigMap {cm['name']}: lanner.conf differs from {CONTAINER_CONF} (keep them identical)",
            )
    expect(found_conf, f"{sts_path}: the first argument must be lanner.conf from a mounted ConfigMap")

    # Probes: PING through redis-cli.
    for probe in ("livenessProbe", "readinessProbe"):
        cmd = " ".join(container.get(probe, {}).get("exec", {}).get("command", []))
        expect("redis-cli" in cmd and "ping" in cmd.lower(), f"{sts_path}: {probe} must run redis-cli ... ping")
    res = container.get("resources", {})
    expect(res.get("requests") and res.get("limits"), f"{sts_path}: set resource requests and limits")
    sc = pod.get("securityContext", {})
    expect(sc.get("runAsNonRoot") is True, f"{sts_path}: pod must set runAsNonRoot")
    seccomp = sc.get("seccompProfile", {})
    expect(seccomp.get("type") in ("Localhost", "Unconfined"), f"{sts_path}: seccompProfile must allow io_uring (Localhost profile or Unconfined)")
    if seccomp.get("type") == "Localhost":
        expect(
            Path(seccomp.get("localhostProfile", "")).name == "lanner-io_uring.json",
            f"{sts_path}: localhostProfile must name lanner-io_uring.json (deploy/docker/seccomp-io_uring.json)",
        )
    expect("memlock" in sts_path.read_text().lower(), f"{sts_path}: keep the locked-memory note")

    # Services: select the pods, name their ports, target existing ports.
    headless = spec.get("serviceName")
    expect(headless in services, f"{sts_path}: serviceName {headless} is not a Service here")
    if headless in services:
        expect(services[headless]["spec"].get("clusterIP") == "None", f"Service {headless} must be headless")
    for name, svc in services.items():
        expect(labels_match(svc["spec"].get("selector", {}), pod_labels), f"Service {name}: selector does not match the pods")
        for p in svc["spec"]["ports"]:
            expect("name" in p, f"Service {name}: every port needs a name")
            expect(p.get("targetPort") in ports or p.get("targetPort") in ports.values(), f"Service {name}: targetPort {p.get('targetPort')} is not a container port")
    main = services.get("lanner")
    if expect(main is not None, f"{K8S}: no Service named lanner"):
        named = {p["name"]: p["port"] for p in main["spec"]["ports"]}
        expect(named.get("redis") == REDIS_PORT, f"Service lanner: port redis must be {REDIS_PORT}")
        expect(EXPORTER_PORT not in named.values(), f"Service lanner: lanner serves no {EXPORTER_PORT}")

    # ServiceMonitor: selects exactly the lanner Service, scrapes /metrics on its client port.
    (sm_path, sm), = kinds["ServiceMonitor"]
    sel = sm.get("spec", {}).get("selector", {}).get("matchLabels", {})
    picked = [n for n, s in services.items() if labels_match(sel, s["metadata"].get("labels", {}))]
    expect(picked == ["lanner"], f"{sm_path}: selector must pick the Service lanner only, picks {picked}")
    eps = sm.get("spec", {}).get("endpoints", [])
    expect(len(eps) == 1, f"{sm_path}: expected one endpoint")
    for ep in eps:
        expect(ep.get("port") == "redis", f"{sm_path}: endpoint port must be the named port 'redis' (it serves /metrics)")
        expect(ep.get("path") == "/metrics", f"{sm_path}: endpoint path must be /metrics")
        expect(ep.get("interval") == "15s", f"{sm_path}: scrape interval must be 15s")
        expect(ep.get("scheme", "http") == "http", f"{sm_path}: the metrics endpoint speaks plain HTTP")
        allowed = {"port", "path", "scheme", "interval", "scrapeTimeout", "honorLabels", "relabelings", "metricRelabelings"}
        expect(not set(ep) - allowed, f"{sm_path}: unexpected endpoint keys {sorted(set(ep) - allowed)}")
    expect(sm["metadata"].get("name"), f"{sm_path}: metadata.name is missing")

    # NetworkPolicy: selects the pods and opens existing ports.
    (np_path, np), = kinds["NetworkPolicy"]
    expect(labels_match(np["spec"]["podSelector"].get("matchLabels", {}), pod_labels), f"{np_path}: podSelector does not match the pods")
    for rule in np["spec"].get("ingress", []):
        for p in rule.get("ports", []):
            expect(p.get("port") in ports or p.get("port") in ports.values(), f"{np_path}: port {p.get('port')} is not a container port")

    # Kustomization lists every manifest.
    (k_path, kust), = kinds["Kustomization"]
    listed = set(kust.get("resources", []))
    present = {p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"}
    expect(listed == present, f"{k_path}: resources {sorted(listed)} differ from the manifests {sorted(present)}")
    print(f"kubernetes: {len(docs)} documents parse; selectors, ports, ConfigMap, probes, ServiceMonitor and kustomization agree")


# ---------------------------------------------------------- prometheus/grafana

EXPECTED_ALERTS = {
    "LannerDown",
    "LannerMemoryNearMax",
    "LannerEvictions",
    "LannerRejectedConnections",
    "LannerHighP99Latency",
}


def alert_rules():
    doc = yaml.safe_load(ALERTS.read_text())
    return [r for g in doc.get("groups", []) for r in g.get("rules", [])]


def check_alerts():
    rules = alert_rules()
    names = [r.get("alert") for r in rules]
    expect(set(names) == EXPECTED_ALERTS, f"{ALERTS}: alerts {sorted(names)} differ from {sorted(EXPECTED_ALERTS)}")
    expect(len(names) == len(set(names)), f"{ALERTS}: duplicate alert names")
    for r in rules:
        expect(r.get("labels", {}).get("severity") in ("critical", "warning", "info"), f"{ALERTS}: {r.get('alert')} needs a severity label")
        expect("summary" in r.get("annotations", {}), f"{ALERTS}: {r.get('alert')} needs a summary annotation")
    prom = yaml.safe_load(PROMETHEUS.read_text())
    targets = [t for sc in prom.get("scrape_configs", []) for s in sc.get("static_configs", []) for t in s.get("targets", [])]
    expect(f"localhost:{METRICS_PORT}" in targets, f"{PROMETHEUS}: must scrape localhost:{METRICS_PORT}")
    expect(any(sc.get("file_sd_configs") for sc in prom.get("scrape_configs", [])), f"{PROMETHEUS}: keep the file_sd example")
    expect("alerts.yml" in prom.get("rule_files", []), f"{PROMETHEUS}: must load alerts.yml")
    print(f"alerts: {ALERTS} defines {', '.join(sorted(EXPECTED_ALERTS))}; {PROMETHEUS} scrapes localhost:{METRICS_PORT}")


GRAFANA_VARS = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")


def promql_of_template(expr):
    """A Grafana query with its variables replaced, so promtool can parse it."""
    ranges = {"__rate_interval": "1m", "__interval": "1m", "__range": "1h"}
    return GRAFANA_VARS.sub(lambda m: ranges.get(m.group(1) or m.group(2), "x"), expr)


def dashboard_panels(dash):
    for p in dash.get("panels", []):
        yield p
        for q in p.get("panels", []) or []:
            yield q


def dashboard_exprs():
    dash = json.loads(DASHBOARD.read_text())
    return [(p.get("id"), t.get("refId"), t.get("expr", "")) for p in dashboard_panels(dash) for t in p.get("targets", []) or []]


def check_grafana(out_rules):
    dash = json.loads(DASHBOARD.read_text())
    expect(isinstance(dash.get("title"), str) and dash["title"], f"{DASHBOARD}: title is missing")
    expect(isinstance(dash.get("uid"), str) and re.fullmatch(r"[A-Za-z0-9_-]{1,40}", dash["uid"]), f"{DASHBOARD}: uid must be 1-40 of [A-Za-z0-9_-]")
    expect(isinstance(dash.get("schemaVersion"), int) and 36 <= dash["schemaVersion"] <= 41, f"{DASHBOARD}: schemaVersion should be around 39")
    variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    ds = variables.get("DS_PROMETHEUS", {})
    expect(ds.get("type") == "datasource" and ds.get("query") == "prometheus", f"{DASHBOARD}: needs the datasource variable DS_PROMETHEUS (type datasource, query prometheus)")
    ds_ref = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
    for name, v in variables.items():
        if v.get("type") == "query":
            expect(v.get("datasource") == ds_ref, f"{DASHBOARD}: variable {name} must use ${{DS_PROMETHEUS}}")

    ids, boxes, count = set(), [], 0
    for p in dashboard_panels(dash):
        where = f"{DASHBOARD}: panel {p.get('id')} ({p.get('title')!r})"
        pid = p.get("id")
        expect(isinstance(pid, int), f"{where}: id must be an integer")
        expect(pid not in ids, f"{where}: duplicate id")
        ids.add(pid)
        expect(isinstance(p.get("type"), str) and p["type"], f"{where}: type is missing")
        expect(p.get("title"), f"{where}: title is missing")
        g = p.get("gridPos", {})
        if expect(all(isinstance(g.get(k), int) for k in "hwxy"), f"{where}: gridPos needs integer h, w, x, y"):
            expect(g["w"] >= 1 and g["h"] >= 1 and g["x"] >= 0 and g["y"] >= 0 and g["x"] + g["w"] <= 24, f"{where}: gridPos outside the 24-column grid")
            for other_id, o in boxes:
                overlap = g["x"] < o["x"] + o["w"] and o["x"] < g["x"] + g["w"] and g["y"] < o["y"] + o["h"] and o["y"] < g["y"] + g["h"]
                expect(not overlap, f"{where}: overlaps panel {other_id}")
            boxes.append((pid, g))
        if p.get("type") == "row":
            continue
        count += 1
        expect(p.get("datasource") == ds_ref, f"{where}: datasource must be ${{DS_PROMETHEUS}}")
        targets = p.get("targets") or []
        expect(targets, f"{where}: no targets")
        refs = [t.get("refId") for t in targets]
        expect(len(refs) == len(set(refs)) and all(refs), f"{where}: refIds must be unique and set")
        for t in targets:
            expect(isinstance(t.get("expr"), str) and t["expr"].strip(), f"{where}: target {t.get('refId')} has no expr")
            expect(t.get("datasource", ds_ref) == ds_ref, f"{where}: target {t.get('refId')} must use ${{DS_PROMETHEUS}}")

    # Every PromQL expression goes through promtool as a recording rule.
    rules = [{"record": f"lanner:dashboard:panel{pid}_{ref}", "expr": promql_of_template(e)} for pid, ref, e in dashboard_exprs()]
    for _, v in variables.items():
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        m = re.fullmatch(r"label_values\((.*),\s*\w+\)", q or "")
        if v.get("type") == "query":
            if expect(m is not None, f"{DASHBOARD}: variable {v['name']} should be label_values(selector, label)"):
                rules.append({"record": f"lanner:dashboard:var_{v['name']}", "expr": promql_of_template(m.group(1))})
    Path(out_rules).write_text(yaml.safe_dump({"groups": [{"name": "lanner-dashboard-queries", "rules": rules}]}, sort_keys=False))
    print(f"grafana: {DASHBOARD} has {count} panels with ids, types, gridPos and targets; {len(rules)} queries written for promtool")


# ------------------------------------------------------------- metric names

ALWAYS_LABELS = {"job", "instance"}
NON_LANNER_METRICS = {"up"}
LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
SELECTOR = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)?\s*\{([^}]*)\}")
MATCHER = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*\"")


def load_metrics():
    """({exposed series name: label set}, {metric name as listed})."""
    series, listed = {}, set()
    types = {"counter", "gauge", "histogram", "summary"}
    for n, line in enumerate(METRICS_FILE.read_text().splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split()
        if not expect(len(parts) == 3, f"{METRICS_FILE}:{n}: expected 'name type labels'"):
            continue
        name, kind, labels = parts
        expect(re.fullmatch(r"lanner_[a-z0-9_]+", name) is not None, f"{METRICS_FILE}:{n}: names start with lanner_")
        expect(kind in types, f"{METRICS_FILE}:{n}: unknown type {kind}")
        expect(kind != "counter" or name.endswith("_total"), f"{METRICS_FILE}:{n}: counters end in _total")
        expect(name not in listed, f"{METRICS_FILE}:{n}: {name} listed twice")
        listed.add(name)
        labels = set() if labels == "-" else set(labels.split(","))
        if kind == "histogram":
            series[name + "_bucket"] = (name, labels | {"le"})
            series[name + "_sum"] = (name, labels)
            series[name + "_count"] = (name, labels)
        else:
            series[name] = (name, labels)
    return series, listed


def check_names(where, expr, series, used):
    expr = promql_of_template(expr)
    stripped = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    names = set(re.findall(r"\blanner_[A-Za-z0-9_]*", stripped))
    labels_available = set(ALWAYS_LABELS)
    for name in names:
        if expect(name in series, f"{where}: unknown metric {name} (not in {METRICS_FILE})"):
            metric, labels = series[name]
            labels_available |= labels
            used.add(metric)
    for m in SELECTOR.finditer(stripped):
        metric = m.group(1)
        if metric and not metric.startswith("lanner_"):
            expect(metric in NON_LANNER_METRICS, f"{where}: unexpected metric {metric}")
    for m in SELECTOR.finditer(expr):
        for label, _ in MATCHER.findall(m.group(2)):
            expect(label in labels_available, f"{where}: label {label} is not a label of {sorted(names) or m.group(1)}")
    for group in LABEL_LISTS.findall(stripped):
        for label in filter(None, (x.strip() for x in group.split(","))):
            expect(label in labels_available, f"{where}: grouping label {label} is not a label of {sorted(names)}")


def check_metric_names():
    series, listed = load_metrics()
    used = set()
    for pid, ref, expr in dashboard_exprs():
        check_names(f"{DASHBOARD} panel {pid}/{ref}", expr, series, used)
    dash = json.loads(DASHBOARD.read_text())
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        if v.get("type") == "query":
            check_names(f"{DASHBOARD} variable {v.get('name')}", q, series, set())
    for r in alert_rules():
        check_names(f"{ALERTS} {r.get('alert')}", r.get("expr", ""), series, set())
    missing = sorted(listed - used)
    expect(not missing, f"{DASHBOARD}: metrics never shown on the dashboard: {', '.join(missing)}")
    print(f"metric-names: every metric and label in {DASHBOARD.name} and {ALERTS.name} is one of the {len(listed)} in {METRICS_FILE}")


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    check, args = sys.argv[1], sys.argv[2:]
    {
        "systemd": check_systemd,
        "lanner-conf": check_lanner_conf,
        "docker": check_docker,
        "kubernetes": check_kubernetes,
        "k8s-core-files": lambda: check_kubernetes(list_core=True),
        "alerts": check_alerts,
        "grafana": lambda: check_grafana(*args),
        "metric-names": check_metric_names,
    }[check]()
    for p in problems:
        print(f"FAIL: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

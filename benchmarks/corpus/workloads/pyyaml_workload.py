"""Workload: load config files with PyYAML's pure-Python SafeLoader and dump them back.

What a user loading configs runs: a Kubernetes-style multi-document manifest stream, a CI
pipeline config, and a large application config with anchors, aliases, flow collections and
multi-line strings; each loaded with `yaml.safe_load` / `safe_load_all` and dumped with
`yaml.safe_dump` (block and flow styles), then loaded again to check the round trip.
`safe_load` always uses the pure-Python `SafeLoader` (never `CSafeLoader`), whatever
`yaml.__with_libyaml__` says.
"""

import yaml
from _text import words

# The pure-Python path whatever `yaml.__with_libyaml__` says: safe_load/safe_load_all/safe_dump
# name SafeLoader / SafeDumper (yaml/loader.py, yaml/dumper.py), never CSafeLoader / CSafeDumper.
for api, pure in [
    (yaml.safe_load, "SafeLoader"),
    (yaml.safe_load_all, "SafeLoader"),
    (yaml.safe_dump, "SafeDumper"),
    (yaml.safe_dump_all, "SafeDumper"),
]:
    assert pure in api.__code__.co_names and "C" + pure not in api.__code__.co_names, api
assert yaml.SafeLoader.__module__ == "yaml.loader" and yaml.SafeDumper.__module__ == "yaml.dumper"


def kubernetes_stream(services: int) -> str:
    """A `kubectl apply -f` stream: per service a Deployment, a Service and a ConfigMap."""
    docs = []
    for s in range(services):
        w = words(12, s)
        name = f"{w[0]}-{w[1]}-{s}"
        docs.append(
            f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: prod
  labels: {{app: {name}, tier: backend, team: "{w[2]}"}}
  annotations:
    deployment.kubernetes.io/revision: "{s % 7 + 1}"
    description: >-
      The {w[3]} service handles {w[4]} and {w[5]}
      requests for the {w[6]} pipeline.
spec:
  replicas: {s % 5 + 1}
  selector:
    matchLabels:
      app: {name}
  strategy:
    type: RollingUpdate
    rollingUpdate: {{maxSurge: 25%, maxUnavailable: 0}}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
        - name: {w[0]}
          image: registry.example.com/{w[0]}/{w[1]}:1.{s % 10}.{s % 3}
          imagePullPolicy: IfNotPresent
          args: ["--port=8080", "--log-level=info", "--workers={s % 8 + 1}"]
          ports:
            - containerPort: 8080
              protocol: TCP
            - {{containerPort: 9090, name: metrics}}
          env:
            - name: {w[7].upper()}_URL
              value: "http://{w[7]}.prod.svc.cluster.local:{8000 + s}"
            - name: TIMEOUT_SECONDS
              value: "{s % 30 + 5}"
            - name: FEATURE_FLAGS
              value: '{w[8]},{w[9]},{w[10]}'
          resources:
            requests: {{cpu: {100 + s % 4 * 50}m, memory: {128 + s % 3 * 64}Mi}}
            limits:
              cpu: "1"
              memory: 512Mi
          livenessProbe:
            httpGet: {{path: /healthz, port: 8080}}
            initialDelaySeconds: 10
            periodSeconds: 15
          readinessProbe:
            httpGet:
              path: /ready
              port: 8080
            failureThreshold: 3
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: prod
spec:
  type: ClusterIP
  selector: {{app: {name}}}
  ports:
    - {{name: http, port: 80, targetPort: 8080}}
    - {{name: metrics, port: 9090, targetPort: 9090}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config
data:
  settings.ini: |
    [server]
    host = 0.0.0.0
    port = 8080
    # {w[11]} tuning
    max_connections = {s * 13 % 1000}
  enabled: "true"
  retries: "{s % 4}"
"""
        )
    return "---\n".join(docs)


def ci_config(jobs: int) -> str:
    """A GitHub-Actions-style pipeline: a matrix, steps with multi-line `run` scripts."""
    parts = [
        """name: CI
on:
  push:
    branches: [main, 'release/**']
  pull_request:
    types: [opened, synchronize, reopened]
env:
  PYTHONUNBUFFERED: "1"
  FORCE_COLOR: 1
concurrency:
  group: ${{ github.workflow }}-${{ github.ref }}
  cancel-in-progress: true
jobs:
"""
    ]
    for j in range(jobs):
        w = words(8, j)
        parts.append(
            f"""  {w[0]}-{j}:
    name: {w[0].title()} {w[1]} ({j})
    runs-on: ${{{{ matrix.os }}}}
    timeout-minutes: {10 + j % 20}
    needs: [{w[2]}-{max(j - 1, 0)}]
    strategy:
      fail-fast: false
      matrix:
        os: [ubuntu-latest, macos-latest, windows-latest]
        python: ["3.9", "3.10", "3.11", "3.12"]
        include:
          - os: ubuntu-latest
            python: "3.13"
            experimental: true
    steps:
      - uses: actions/checkout@v4
        with: {{fetch-depth: 0}}
      - uses: actions/setup-python@v5
        with:
          python-version: ${{{{ matrix.python }}}}
          cache: pip
      - name: Install {w[3]}
        run: |
          python -m pip install --upgrade pip
          pip install -e '.[test]'
          pip install {w[4]} {w[5]}
      - name: Test
        run: >
          pytest -q --maxfail=1
          --junitxml=reports/{w[6]}-{j}.xml
        env:
          {w[7].upper()}: "on"
          SEED: {j * 7919 % 10007}
"""
        )
    return "".join(parts)


def app_config(regions: int) -> str:
    """A large application config: anchors and merge keys, aliases, nested maps, scalars."""
    parts = [
        """defaults: &defaults
  timeout: 30
  retries: 3
  backoff: {initial: 0.5, max: 30.0, multiplier: 2}
  tls: &tls
    enabled: yes
    verify: true
    ciphers: [ECDHE-RSA-AES128-GCM-SHA256, ECDHE-RSA-AES256-GCM-SHA384]
  created: 2024-05-01T10:00:00Z
  owners: &owners
    - alice@example.com
    - bob@example.com
regions:
"""
    ]
    for r in range(regions):
        w = words(10, r)
        parts.append(
            f"""  {w[0]}-{r}:
    <<: *defaults
    timeout: {r % 60 + 1}
    endpoint: https://{w[1]}.{w[2]}.example.com/api/v{r % 3 + 1}
    weight: {r * 0.37 % 1:.3f}
    enabled: {"true" if r % 3 else "false"}
    tls: *tls
    owners: *owners
    maintenance_window: ~
    started: {2000 + r % 25}-{r % 12 + 1:02d}-{r % 28 + 1:02d}
    limits: &limits_{r}
      requests_per_second: {r * 17 % 5000}
      burst: 0x{r * 31 % 4096:x}
      max_body: 1_048_576
    replicas:
      - {{zone: {w[3]}-a, count: {r % 4 + 1}, limits: *limits_{r}}}
      - {{zone: {w[3]}-b, count: {r % 3 + 1}}}
    tags: [{w[4]}, {w[5]}, {w[6]}, "{w[7]}:{r}"]
    notes: |
      Region {r} serves the {w[8]} and {w[9]} workloads.
      Escalate to the on-call owner; see the runbook.
    message: "line one\\nline two with \\"quotes\\" and \\t tab"
"""
        )
    return "".join(parts)


K8S = kubernetes_stream(100)
CI = ci_config(80)
APP = app_config(200)

documents = list(yaml.safe_load_all(K8S))
ci = yaml.safe_load(CI)
app = yaml.safe_load(APP)

block = yaml.safe_dump_all(documents, sort_keys=False)
flow = yaml.safe_dump(ci, default_flow_style=True, width=100)
dumped_app = yaml.safe_dump(app, sort_keys=True, allow_unicode=True)

assert list(yaml.safe_load_all(block)) == documents
assert yaml.safe_load(flow) == ci
assert yaml.safe_load(dumped_app) == app
print(len(documents), len(ci["jobs"]), len(app["regions"]), len(block), len(flow), len(dumped_app))

"""The Kubernetes manifests (deploy/k8s, kustomize) render, validate and agree with the platform.

- a small kustomize renderer (the fields the base uses: resources, namespace, labels, images;
  any other field fails the test rather than being ignored);
- every built-in resource validates against the Kubernetes JSON schemas (``kubernetes-validate``,
  strict: unknown fields are errors);
- CloudNativePG ``Cluster`` resources validate against the operator's own CRD schema (fetched once
  from its Go module into the cache, see pfdo_devstack.k8s_crds), made strict the same way;
- Strimzi ``Kafka``/``KafkaNodePool``/``KafkaTopic`` resources against a strict schema of the
  fields we use (Strimzi's CRD files are not published to a registry this project reaches);
- KafkaTopic resources match the contracts' topic settings exactly, and the committed file is
  what the generator writes; workloads, probes, settings names and routes match the services;
- at the autoscaler's most pods, each service's pools fit its database's ``max_connections``.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from urllib.parse import urlsplit
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from pfdo_contracts.topics import ALL_TOPICS, SERVICES, consumer_group
from pfdo_devstack.config import StackConfig, repo_root
from pfdo_devstack.gateway import template_path
from pfdo_devstack.k8s_crds import ensure_cnpg_crds
from pfdo_devstack.k8s_topics import KAFKA_CLUSTER, render as render_topics, output_path as topics_path
from pfdo_devstack.kafka import KAFKA_VERSION
from pfdo_devstack.services import PORTAL, service_env
from pfdo_plumbing.kafka.topics import TopicNames
from pfdo_plumbing.settings import ServiceSettings

from pfdo_navigator.settings import NavigatorSettings

BASE = repo_root() / "deploy" / "k8s" / "base"
K8S_VERSION = "1.30.0"
"""The oldest Kubernetes minor the manifests target (autoscaling/v2, policy/v1, restricted PSA)."""
CONTAINER_PORT = 8000
DEV_ONLY_SETTINGS = {"PFDO_DEV_KEYS_DIR", "PFDO_DEV_ISSUER_ENABLED"}
CRD_GROUPS = ("kafka.strimzi.io/", "postgresql.cnpg.io/")
CLUSTER_SCOPED = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "IngressClass",
                  "PersistentVolume", "StorageClass", "PriorityClass"}


# ---- a tiny kustomize ----------------------------------------------------------------------------
_SUPPORTED = {"apiVersion", "kind", "namespace", "labels", "resources", "images"}


def _pod_specs(res: dict) -> list[dict]:
    spec = res.get("spec", {})
    if res["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        return [spec["template"]["spec"]]
    if res["kind"] == "CronJob":
        return [spec["jobTemplate"]["spec"]["template"]["spec"]]
    return []


def render_kustomization(folder: Path) -> list[dict]:
    k = yaml.safe_load((folder / "kustomization.yaml").read_text())
    unsupported = set(k) - _SUPPORTED
    assert not unsupported, f"the test renderer does not implement {sorted(unsupported)}: extend it"
    out: list[dict] = []
    for entry in k.get("resources", []):
        path = (folder / entry).resolve()
        assert folder.resolve() in path.parents, f"{entry}: kustomize refuses files outside the folder"
        if path.is_dir():
            out += render_kustomization(path)
        else:
            out += [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    out = copy.deepcopy(out)
    for res in out:
        meta = res.setdefault("metadata", {})
        if k.get("namespace"):
            if res["kind"] == "Namespace":
                meta["name"] = k["namespace"]
            elif res["kind"] not in CLUSTER_SCOPED:
                meta["namespace"] = k["namespace"]
        for entry in k.get("labels", []):
            assert set(entry) <= {"pairs", "includeSelectors"} and not entry.get("includeSelectors")
            meta.setdefault("labels", {}).update(entry["pairs"])
        for image in k.get("images", []):
            for pod in _pod_specs(res):
                for c in pod.get("containers", []) + pod.get("initContainers", []):
                    name = c["image"].rsplit(":", 1)[0] if ":" in c["image"].rsplit("/", 1)[-1] else c["image"]
                    if name == image["name"]:
                        c["image"] = f"{image.get('newName', name)}:{image.get('newTag', 'latest')}"
    return out


@pytest.fixture(scope="module")
def resources() -> list[dict]:
    return render_kustomization(BASE)


def _by_kind(resources: list[dict], kind: str) -> dict[str, dict]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


# ---- rendering -----------------------------------------------------------------------------------
def test_kustomization_renders_every_part(resources: list[dict]) -> None:
    keys = [(r["kind"], r["metadata"]["name"]) for r in resources]
    assert len(keys) == len(set(keys)), "duplicate resources"
    for kind in ("Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"):
        assert set(_by_kind(resources, kind)) == {*SERVICES, PORTAL}, kind
    assert set(_by_kind(resources, "Job")) == {f"{s}-migrate" for s in (*SERVICES, PORTAL)}
    assert set(_by_kind(resources, "Cluster")) == {f"pfdo-{s}-db" for s in (*SERVICES, PORTAL)}
    assert set(_by_kind(resources, "Kafka")) == {KAFKA_CLUSTER}
    assert len(_by_kind(resources, "KafkaNodePool")) == 1
    assert len(_by_kind(resources, "KafkaTopic")) == len(ALL_TOPICS) + len(SERVICES)
    assert _by_kind(resources, "Ingress") and _by_kind(resources, "ConfigMap")
    for r in resources:
        assert r["metadata"]["labels"]["app.kubernetes.io/part-of"] == "pfdo"
        if r["kind"] != "Namespace":
            assert r["metadata"]["namespace"] == "pfdo", r["metadata"]["name"]
    deployment = _by_kind(resources, "Deployment")["billing"]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "pfdo/billing:0.1.0"


def test_renderer_refuses_what_it_does_not_implement(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\npatches: []\n")
    with pytest.raises(AssertionError, match="patches"):
        render_kustomization(tmp_path)


# ---- built-in resources against the Kubernetes schemas -------------------------------------------
def test_builtin_resources_validate_against_kubernetes_schemas(resources: list[dict]) -> None:
    builtin = [r for r in resources if not r["apiVersion"].startswith(CRD_GROUPS)]
    assert len(builtin) >= 4 * 5 + 4
    for res in builtin:
        try:
            kubernetes_validate.validate(res, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{res['kind']}/{res['metadata']['name']}: {exc.message} at {list(exc.path)}")


def test_kubernetes_validation_is_strict(resources: list[dict]) -> None:
    deployment = copy.deepcopy(_by_kind(resources, "Deployment")["billing"])
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}  # a typo
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)
    hpa = copy.deepcopy(_by_kind(resources, "HorizontalPodAutoscaler")["billing"])
    hpa["spec"]["minReplicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(hpa, K8S_VERSION, strict=True)


# ---- CloudNativePG against its CRD -----------------------------------------------------------------
def _strict(schema: Any) -> Any:
    """Structural CRD schema -> JSON Schema that rejects unknown fields (kubectl --validate=strict)."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items() if not k.startswith("x-kubernetes-")}
        if (
            schema.get("type") == "object" and "properties" in schema and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        if schema.get("x-kubernetes-int-or-string"):
            out.pop("type", None)
            out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        if schema.get("nullable"):
            out.pop("nullable")
        return out
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    return schema


def _crd_validator(crd_file: Path, version: str) -> jsonschema.Validator:
    crd = yaml.safe_load(crd_file.read_text())
    [v] = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema = _strict(v["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = {"type": "object"}  # metadata is checked by the API server itself
    return jsonschema.Draft7Validator(schema)


@pytest.fixture(scope="module")
def cnpg_validator() -> jsonschema.Validator:
    return _crd_validator(ensure_cnpg_crds() / "postgresql.cnpg.io_clusters.yaml", "v1")


def test_cloudnative_pg_clusters_validate_against_the_crd(resources, cnpg_validator) -> None:
    clusters = _by_kind(resources, "Cluster")
    for name, cluster in clusters.items():
        assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
        errors = sorted(cnpg_validator.iter_errors(cluster), key=str)
        assert not errors, f"{name}: " + "; ".join(f"{e.message} at {list(e.path)}" for e in errors[:5])
        assert cluster["spec"]["instances"] >= 3
    bad = copy.deepcopy(clusters["pfdo-billing-db"])
    bad["spec"]["storage"]["sizee"] = "1Gi"
    assert list(cnpg_validator.iter_errors(bad)), "the CRD check must reject unknown fields"
    bad = copy.deepcopy(clusters["pfdo-billing-db"])
    bad["spec"]["instances"] = "three"
    assert list(cnpg_validator.iter_errors(bad))


# ---- Strimzi: a strict schema of the fields we use --------------------------------------------------
_NAME = {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", "maxLength": 253}
_META = {
    "type": "object", "additionalProperties": False, "required": ["name"],
    "properties": {
        "name": _NAME, "namespace": _NAME,
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
_QUANTITY = {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": r"^[0-9.]+(m|Ki|Mi|Gi|Ti|k|M|G)?$"}]}
_RESOURCES = {
    "type": "object", "additionalProperties": False,
    "properties": {k: {"type": "object", "additionalProperties": False,
                       "properties": {"cpu": _QUANTITY, "memory": _QUANTITY}} for k in ("requests", "limits")},
}
_CONFIG = {"type": "object", "additionalProperties": {"type": ["string", "integer", "number", "boolean"]}}


def _crd(kind: str, spec: dict) -> dict:
    return {
        "type": "object", "additionalProperties": False, "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {"apiVersion": {"const": "kafka.strimzi.io/v1beta2"}, "kind": {"const": kind},
                       "metadata": _META, "spec": spec},
    }


STRIMZI_SCHEMAS = {
    "KafkaTopic": _crd("KafkaTopic", {
        "type": "object", "additionalProperties": False, "required": ["partitions", "replicas"],
        "properties": {
            "topicName": {"type": "string", "pattern": r"^[a-zA-Z0-9._-]{1,249}$"},
            "partitions": {"type": "integer", "minimum": 1},
            "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
            "config": _CONFIG,
        },
    }),
    "KafkaNodePool": _crd("KafkaNodePool", {
        "type": "object", "additionalProperties": False, "required": ["replicas", "roles", "storage"],
        "properties": {
            "replicas": {"type": "integer", "minimum": 0},
            "roles": {"type": "array", "minItems": 1, "uniqueItems": True,
                      "items": {"enum": ["controller", "broker"]}},
            "storage": {
                "type": "object", "additionalProperties": False, "required": ["type"],
                "properties": {
                    "type": {"enum": ["ephemeral", "persistent-claim", "jbod"]},
                    "volumes": {"type": "array", "items": {
                        "type": "object", "additionalProperties": False, "required": ["type"],
                        "properties": {
                            "id": {"type": "integer", "minimum": 0},
                            "type": {"enum": ["ephemeral", "persistent-claim"]},
                            "size": {"type": "string", "pattern": r"^[0-9]+(Mi|Gi|Ti)$"},
                            "class": {"type": "string"},
                            "deleteClaim": {"type": "boolean"},
                            "kraftMetadata": {"enum": ["shared"]},
                        },
                    }},
                },
            },
            "resources": _RESOURCES,
            "jvmOptions": {"type": "object", "additionalProperties": False, "properties": {
                "-Xms": {"type": "string", "pattern": r"^[0-9]+[mMgG]?$"},
                "-Xmx": {"type": "string", "pattern": r"^[0-9]+[mMgG]?$"},
            }},
        },
    }),
    "Kafka": _crd("Kafka", {
        "type": "object", "additionalProperties": False, "required": ["kafka"],
        "properties": {
            "kafka": {
                "type": "object", "additionalProperties": False, "required": ["listeners"],
                "properties": {
                    "version": {"type": "string"},
                    "listeners": {"type": "array", "minItems": 1, "items": {
                        "type": "object", "additionalProperties": False, "required": ["name", "port", "type", "tls"],
                        "properties": {
                            "name": {"type": "string", "pattern": r"^[a-z0-9]{1,11}$"},
                            "port": {"type": "integer", "minimum": 9092},
                            "type": {"enum": ["internal", "route", "loadbalancer", "nodeport", "ingress", "cluster-ip"]},
                            "tls": {"type": "boolean"},
                        },
                    }},
                    "config": _CONFIG,
                    "rack": {"type": "object", "additionalProperties": False, "required": ["topologyKey"],
                             "properties": {"topologyKey": {"type": "string"}}},
                },
            },
            "entityOperator": {"type": "object", "additionalProperties": False, "properties": {
                op: {"type": "object", "additionalProperties": False, "properties": {"resources": _RESOURCES}}
                for op in ("topicOperator", "userOperator")
            }},
        },
    }),
}
# Kafka options that Strimzi manages itself and refuses in spec.kafka.config
STRIMZI_FORBIDDEN_PREFIXES = ("listeners", "advertised.", "broker.", "listener.", "host.name", "port",
                              "inter.broker.listener.name", "sasl.", "ssl.", "security.", "password.",
                              "log.dir", "zookeeper.", "authorizer.", "super.user", "node.id",
                              "process.roles", "controller.", "metadata.log.dir")


def test_strimzi_resources_validate_structurally(resources: list[dict]) -> None:
    strimzi = [r for r in resources if r["apiVersion"].startswith("kafka.strimzi.io/")]
    assert {r["kind"] for r in strimzi} == set(STRIMZI_SCHEMAS)
    for res in strimzi:
        errors = list(jsonschema.Draft7Validator(STRIMZI_SCHEMAS[res["kind"]]).iter_errors(res))
        assert not errors, f"{res['kind']}/{res['metadata']['name']}: {[e.message for e in errors[:5]]}"
    [kafka] = _by_kind(resources, "Kafka").values()
    forbidden = [k for k in kafka["spec"]["kafka"]["config"] if k.startswith(STRIMZI_FORBIDDEN_PREFIXES)]
    assert not forbidden, f"Strimzi refuses these options in spec.kafka.config: {forbidden}"
    topic = copy.deepcopy(next(r for r in strimzi if r["kind"] == "KafkaTopic"))
    topic["spec"]["replica"] = 3
    assert list(jsonschema.Draft7Validator(STRIMZI_SCHEMAS["KafkaTopic"]).iter_errors(topic))


def test_kafka_cluster_is_three_kraft_nodes_of_the_pinned_version(resources: list[dict]) -> None:
    [kafka] = _by_kind(resources, "Kafka").values()
    [pool] = _by_kind(resources, "KafkaNodePool").values()
    assert kafka["spec"]["kafka"]["version"] == KAFKA_VERSION
    assert kafka["metadata"]["annotations"] == {"strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled"}
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    assert pool["spec"]["replicas"] == 3 and set(pool["spec"]["roles"]) == {"controller", "broker"}
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == config["offsets.topic.replication.factor"] == 3
    assert config["min.insync.replicas"] == config["transaction.state.log.min.isr"] == 2
    assert config["auto.create.topics.enable"] is False


# ---- topics: generated from the contracts ----------------------------------------------------------
def test_kafka_topics_match_the_contracts_exactly(resources: list[dict]) -> None:
    topics = {r["spec"]["topicName"]: r for r in _by_kind(resources, "KafkaTopic").values()}
    names = TopicNames()
    dead_letters = {names.dead_letter(s) for s in SERVICES}
    assert set(topics) == {t.name for t in ALL_TOPICS} | dead_letters
    [pool] = _by_kind(resources, "KafkaNodePool").values()
    for t in ALL_TOPICS:
        spec = topics[t.name]["spec"]
        assert spec["partitions"] == t.partitions, t.name
        assert spec["replicas"] == t.replication_factor == 3, t.name
        expected = {"min.insync.replicas": t.min_insync_replicas, "retention.ms": t.retention_ms}
        expected.update({k: int(v) if re.fullmatch(r"-?\d+", v) else v for k, v in t.config.items()})
        assert spec["config"] == expected, t.name
        assert spec["config"]["min.insync.replicas"] == 2
        assert topics[t.name]["metadata"]["labels"]["strimzi.io/cluster"] == KAFKA_CLUSTER
    for name in dead_letters:
        spec = topics[name]["spec"]
        assert spec["replicas"] == 3 and spec["config"]["min.insync.replicas"] == 2
    for r in topics.values():
        assert r["spec"]["replicas"] <= pool["spec"]["replicas"]
        assert r["spec"]["config"]["min.insync.replicas"] < r["spec"]["replicas"]  # one broker may be down


def test_committed_topic_file_is_what_the_generator_writes() -> None:
    assert topics_path().read_text() == render_topics(), (
        "deploy/k8s/base/kafka-topics.yaml is out of date: run python -m pfdo_devstack.k8s_topics"
    )


# ---- workloads ---------------------------------------------------------------------------------------
def _env_names(container: dict, configmaps: dict[str, dict]) -> set[str]:
    names = {e["name"] for e in container.get("env", [])}
    for src in container.get("envFrom", []):
        names |= set(configmaps[src["configMapRef"]["name"]]["data"])
    return names


@pytest.mark.parametrize("svc", SERVICES)
def test_service_workload(resources: list[dict], svc: str) -> None:
    deployment = _by_kind(resources, "Deployment")[svc]
    pod = deployment["spec"]["template"]
    [c] = pod["spec"]["containers"]
    port = {p["name"]: p["containerPort"] for p in c["ports"]}["http"]
    assert port == CONTAINER_PORT
    assert c["readinessProbe"]["httpGet"] == {"path": f"/api/{svc}/ready", "port": "http"}
    assert c["livenessProbe"]["httpGet"] == {"path": f"/api/{svc}/health", "port": "http"}
    assert c["resources"]["requests"]["cpu"] and c["resources"]["limits"]["memory"]
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert c["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]}}
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = _by_kind(resources, "Service")[svc]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["port"] == CONTAINER_PORT
    pdb = _by_kind(resources, "PodDisruptionBudget")[svc]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    hpa = _by_kind(resources, "HorizontalPodAutoscaler")[svc]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": svc}
    assert 2 <= hpa["spec"]["minReplicas"] == deployment["spec"]["replicas"] < hpa["spec"]["maxReplicas"]
    # the PDB keeps at least one pod of the HPA's minimum
    assert pdb["spec"]["maxUnavailable"] < hpa["spec"]["minReplicas"]

    # the same settings names as the local runner (less the development-only ones)
    configmaps = _by_kind(resources, "ConfigMap")
    local = set(service_env(StackConfig.for_tests(), svc, base={})) - DEV_ONLY_SETTINGS
    assert local <= _env_names(c, configmaps), sorted(local - _env_names(c, configmaps))
    env = {e["name"]: e for e in c["env"]}
    assert env["PFDO_SERVICE_NAME"]["value"] == svc

    # its own database: the CloudNativePG cluster's rw Service, app Secret and database name
    cluster = _by_kind(resources, "Cluster")[f"pfdo-{svc}-db"]
    assert cluster["spec"]["bootstrap"]["initdb"]["database"] == svc
    url = env["PFDO_DATABASE_URL"]["value"]
    assert url == f"postgresql+asyncpg://$(PFDO_DB_USER):$(PFDO_DB_PASSWORD)@pfdo-{svc}-db-rw:5432/{svc}"
    for var in ("PFDO_DB_USER", "PFDO_DB_PASSWORD"):
        assert env[var]["valueFrom"]["secretKeyRef"]["name"] == f"pfdo-{svc}-db-app"
        # dependent variables must be defined before the one that uses them
        assert list(env).index(var) < list(env).index("PFDO_DATABASE_URL")

    # the migration Job: same image, alembic of this service, same database
    job = _by_kind(resources, "Job")[f"{svc}-migrate"]
    [m] = job["spec"]["template"]["spec"]["containers"]
    assert m["image"] == c["image"]
    assert m["command"] == ["alembic", "-c", f"services/{svc}/alembic.ini", "upgrade", "head"]
    assert {e["name"]: e for e in m["env"]}["PFDO_DATABASE_URL"] == env["PFDO_DATABASE_URL"]
    assert (repo_root() / "services" / svc / "alembic.ini").exists()


CONNECTION_HEADROOM = 20
"""Connections of each database kept free of the services' pools: the migration Job, the
operator's and the replicas' own, an operator's psql."""
_POOLS = {"navigator": (("DB_POOL_SIZE", "DB_MAX_OVERFLOW"), ("SEARCH_POOL_SIZE", "SEARCH_MAX_OVERFLOW"))}


@pytest.mark.parametrize("svc", SERVICES)
def test_the_most_pods_fit_their_database_connections(resources: list[dict], svc: str) -> None:
    """At the HPA's most pods, every pod's pools full, the service's database still has room."""
    [c] = _by_kind(resources, "Deployment")[svc]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in c["env"]}
    settings = NavigatorSettings if svc == "navigator" else ServiceSettings

    def setting(name: str) -> int:
        value = env.get(f"PFDO_{name}")
        return int(value) if value is not None else settings.model_fields[name.lower()].default

    per_pod = sum(setting(size) + setting(overflow)
                  for size, overflow in _POOLS.get(svc, (("DB_POOL_SIZE", "DB_MAX_OVERFLOW"),)))
    pods = _by_kind(resources, "HorizontalPodAutoscaler")[svc]["spec"]["maxReplicas"]
    cluster = _by_kind(resources, "Cluster")[f"pfdo-{svc}-db"]
    limit = int(cluster["spec"]["postgresql"]["parameters"]["max_connections"])
    assert pods * per_pod <= limit - CONNECTION_HEADROOM, (svc, pods, per_pod, limit)


def test_shared_settings_point_at_the_kafka_cluster(resources: list[dict]) -> None:
    [config] = _by_kind(resources, "ConfigMap").values()
    [kafka] = _by_kind(resources, "Kafka").values()
    plain = [l for l in kafka["spec"]["kafka"]["listeners"] if not l["tls"]]
    assert config["data"]["PFDO_KAFKA_BOOTSTRAP"] == f"{kafka['metadata']['name']}-kafka-bootstrap:{plain[0]['port']}"
    assert config["data"]["PFDO_KAFKA_REPLICATION_FACTOR"] == "3"
    for svc in SERVICES:
        assert config["data"][f"PFDO_{svc.upper()}_URL"] == f"http://{svc}:{CONTAINER_PORT}"
    # consumer groups are per service (instances share the work): named by the contracts
    assert consumer_group("billing") == "pfdo-billing"


def test_ingress_routes_like_the_gateway(resources: list[dict]) -> None:
    routes, closed = {}, {}
    for ing in _by_kind(resources, "Ingress").values():
        if ing["metadata"]["name"] == "pfdo-portal":
            continue  # its own host (test_portal_workload)
        denied = ing["metadata"]["annotations"].get("nginx.ingress.kubernetes.io/denylist-source-range")
        for rule in ing["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                route = (p["pathType"], p["backend"]["service"]["name"], p["backend"]["service"]["port"]["name"])
                (closed if denied else routes)[p["path"]] = route
                if denied:  # closed to every address, IPv4 and IPv6
                    assert set(denied.split(",")) == {"0.0.0.0/0", "::/0"}
    assert routes == {f"/api/{s}/": ("Prefix", s, "http") for s in SERVICES}
    template = template_path(StackConfig.for_tests()).read_text()
    assert set(re.findall(r"location (/api/[a-z]+/) \{", template)) == set(routes)
    limits = {ing["metadata"]["name"]: ing["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
              for ing in _by_kind(resources, "Ingress").values() if ing["metadata"]["name"] != "pfdo-metrics-closed"}
    # as BODY_LIMIT / ATTENDANCE_BODY_LIMIT
    assert limits == {"pfdo-api": "1m", "pfdo-navigator": "16m", "pfdo-portal": "1m"}
    # what Prometheus scrapes from each pod is closed at the edge, as the gateway closes it
    scraped = {}
    for deployment in _by_kind(resources, "Deployment").values():
        annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
        if "prometheus.io/path" in annotations:
            scraped[annotations["prometheus.io/path"]] = deployment["metadata"]["name"]
    assert set(scraped) == {f"/api/{s}/metrics" for s in SERVICES}
    assert closed == {path: ("Exact", svc, "http") for path, svc in scraped.items()}


def test_portal_workload(resources: list[dict]) -> None:
    """The portal: its pages at its own host, the public API at the API's public address (the
    only way it reads the platform), its sessions in its own database, its secrets from a Secret."""
    deployment = _by_kind(resources, "Deployment")[PORTAL]
    pod = deployment["spec"]["template"]
    [c] = pod["spec"]["containers"]
    assert c["image"] == "pfdo/portal:0.1.0" and {p["name"]: p["containerPort"] for p in c["ports"]}["http"] == 8000
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert c[probe]["httpGet"] == {"path": "/health", "port": "http"}
    assert c["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]}}
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True and "envFrom" not in c  # no Kafka, no service settings
    env = {e["name"]: e for e in c["env"]}
    local = set(service_env(StackConfig.for_tests(), PORTAL, base={}))
    assert local <= set(env), sorted(local - set(env))
    assert env["PFDO_PORTAL_API_URL"]["value"] == "https://api.pfdo.example/api/"
    assert env["PFDO_PORTAL_DATABASE_URL"]["value"] == (
        "postgresql+asyncpg://$(PFDO_DB_USER):$(PFDO_DB_PASSWORD)@pfdo-portal-db-rw:5432/portal")
    for secret in ("PFDO_PORTAL_OIDC_CLIENT_SECRET", "PFDO_PORTAL_SESSION_SECRET"):
        assert env[secret]["valueFrom"]["secretKeyRef"]["name"] == "pfdo-portal-secrets"
    assert env["PFDO_PORTAL_SESSION_COOKIE_SECURE"]["value"] == "true"
    assert _by_kind(resources, "Cluster")["pfdo-portal-db"]["spec"]["bootstrap"]["initdb"]["database"] == "portal"
    [m] = _by_kind(resources, "Job")["portal-migrate"]["spec"]["template"]["spec"]["containers"]
    assert m["image"] == c["image"] and m["command"] == ["alembic", "-c", "portal/alembic.ini", "upgrade", "head"]
    assert {e["name"]: e for e in m["env"]}["PFDO_PORTAL_DATABASE_URL"] == env["PFDO_PORTAL_DATABASE_URL"]
    [rule] = _by_kind(resources, "Ingress")["pfdo-portal"]["spec"]["rules"]
    assert rule["host"] == "portal.pfdo.example"
    assert [(p["path"], p["pathType"], p["backend"]["service"]["name"]) for p in rule["http"]["paths"]] == [
        ("/", "Prefix", PORTAL)]
    assert urlsplit(env["PFDO_PORTAL_OIDC_REDIRECT_URI"]["value"]).hostname == rule["host"]
    hpa = _by_kind(resources, "HorizontalPodAutoscaler")[PORTAL]
    assert 2 <= hpa["spec"]["minReplicas"] == deployment["spec"]["replicas"] < hpa["spec"]["maxReplicas"]

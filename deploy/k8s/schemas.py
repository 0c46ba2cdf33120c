#!/usr/bin/python3
"""schemas.py — JSON schemas for kubeconform, made from data the package registries hold.

  kubernetes SRC OUT KIND/VERSION...   from the per-kind schemas of the kubernetes-validate wheel
                                       (PyPI), whose $refs point at one shared _definitions.json:
                                       writes OUT/<kind>-<group>-<version>.json with the
                                       definitions it uses inlined (kubeconform compiles each
                                       schema alone and cannot follow such references)
  crd CRD.yaml OUT                     from a CustomResourceDefinition (the KEDA Go module's
                                       config/crd/bases/*.yaml): OUT/<group>/<kind>_<version>.json
                                       for each served version, strict (no unknown fields), as
                                       kubeconform's openapi2jsonschema does

Run by deploy/k8s/tools.sh; reads YAML with python3-yaml (Debian).
"""
import json
import os
import re
import sys

import yaml


def die(msg):
    print("schemas.py: " + msg, file=sys.stderr)
    sys.exit(2)


def kubernetes(src, out, kinds):
    with open(os.path.join(src, "_definitions.json"), encoding="utf-8") as f:
        defs = json.load(f)["$defs"]
    os.makedirs(out, exist_ok=True)
    ref = re.compile(r"^(?:/api/_definitions\.json)?#/\$defs/(.+)$")
    for name in kinds:
        path = os.path.join(src, name + ".json")
        if not os.path.exists(path):
            die("no schema %s in %s" % (name, src))
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        used = {}

        def walk(node):
            if isinstance(node, dict):
                r = node.get("$ref")
                if isinstance(r, str):
                    m = ref.match(r)
                    if m is None:
                        die("%s: unexpected $ref %s" % (name, r))
                    node["$ref"] = "#/$defs/" + m.group(1)
                    if m.group(1) not in used:
                        if m.group(1) not in defs:
                            die("%s: $ref to unknown definition %s" % (name, m.group(1)))
                        used[m.group(1)] = json.loads(json.dumps(defs[m.group(1)]))
                        walk(used[m.group(1)])
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(doc)
        doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        doc["$defs"] = used
        with open(os.path.join(out, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, separators=(",", ":"))


def strict(node):
    """Objects with properties reject unknown ones; int-or-string becomes a oneOf."""
    if isinstance(node, dict):
        if node.get("x-kubernetes-int-or-string"):
            node.pop("type", None)
            node["oneOf"] = [{"type": "string"}, {"type": "integer"}]
        if "properties" in node and "additionalProperties" not in node and \
                not node.get("x-kubernetes-preserve-unknown-fields"):
            node["additionalProperties"] = False
        for v in node.values():
            strict(v)
    elif isinstance(node, list):
        for v in node:
            strict(v)


def crd(path, out):
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    if doc.get("kind") != "CustomResourceDefinition":
        die("%s is not a CustomResourceDefinition" % path)
    group = doc["spec"]["group"]
    kind = doc["spec"]["names"]["kind"].lower()
    os.makedirs(os.path.join(out, group), exist_ok=True)
    n = 0
    for v in doc["spec"]["versions"]:
        if not v.get("served"):
            continue
        schema = v["schema"]["openAPIV3Schema"]
        strict(schema)
        # apiVersion and kind are checked exactly, metadata as an object
        props = schema.setdefault("properties", {})
        props["apiVersion"] = {"type": "string", "enum": [group + "/" + v["name"]]}
        props["kind"] = {"type": "string", "enum": [doc["spec"]["names"]["kind"]]}
        props.setdefault("metadata", {"type": "object"})
        with open(os.path.join(out, group, "%s_%s.json" % (kind, v["name"])), "w",
                  encoding="utf-8") as f:
            json.dump(schema, f, separators=(",", ":"))
        n += 1
    if n == 0:
        die("%s serves no version" % path)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "kubernetes":
        kubernetes(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif len(sys.argv) == 4 and sys.argv[1] == "crd":
        crd(sys.argv[2], sys.argv[3])
    else:
        print(__doc__)
        sys.exit(0 if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help") else 2)


if __name__ == "__main__":
    main()

"""Reduces the CloudFormation resource provider schemas that cfn-lint redistributes into the
compact data file `little` embeds (data/cfn-resource-schemas.json.gz). Run by scripts/schemas
with the virtualenv's Python (cfn-lint as locked in scripts/requirements/test-tools.txt); not
run by the build.

The decompressed file is text, one JSON document a line:
  line 1: the header {"format": 1, "source": ..., "cfn_lint": ..., "schema_date": ..., "sha256": ...,
          "region_missing": {region: [types us-east-1 has and the region lacks]}}
  then one line per resource type of us-east-1, sorted: ["AWS::X::Y", {reduced schema}]
A reduced schema keeps, per shape: t (JSON type or list), r (a definition name), p (properties),
q (required), e (enum), pt (pattern), n/x (min/max length), lo/hi (minimum/maximum),
a (0 when additionalProperties is false), i (items), mi/mx (min/max items), u (1 for unique
items), c (rules between an object's properties: {"k": kind, "s": [[names], ...]} where kind is
"one" (exactly one of the name sets is all there: oneOf of `required`s, cfn-lint's requiredXor),
"any" (at least one: anyOf of `required`s, requiredOr), "dep" (the first set's name needs the
second set's: dependentRequired, dependencies) or "excl" (the first set's name excludes the
second set's: dependentExcluded)); per type also d (definitions),
ro (read-only property paths, `/`-joined), co (create-only paths) and g (GetAtt attributes,
`*` for any one segment, a trailing `*` for any rest). Descriptions and everything else go.
"""
import gzip, hashlib, json, os, sys

import cfnlint
from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER

base = os.path.join(os.path.dirname(cfnlint.__file__), "data", "schemas")
out = sys.argv[1]


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    digest.update(os.path.relpath(path, base).encode() + b"\0" + data)
    return json.loads(data)


digest = hashlib.sha256()
providers = sorted(os.listdir(os.path.join(base, "providers")))
regions = {p[:-5]: load(os.path.join(base, "providers", p)) for p in providers if p.endswith(".json")}
version = load(os.path.join(base, "version.json"))
main = regions["us-east-1"]


def ref_name(ref):
    prefix = "#/definitions/"
    return ref[len(prefix):] if isinstance(ref, str) and ref.startswith(prefix) else None


def rules_of(s, defs):
    """The rules between an object's properties that `s` states (and the allOf branches with it):
    only combinations of plain `required` lists, which can be checked on names alone."""
    rules = []
    for comb, kind in (("oneOf", "one"), ("anyOf", "any")):
        bs = s.get(comb)
        plain = isinstance(bs, list) and bs and all(
            isinstance(b, dict) and set(b) == {"required"} and isinstance(b["required"], list) and b["required"]
            for b in bs
        )
        if plain:
            rules.append({"k": kind, "s": [sorted(b["required"]) for b in bs]})
    for key, kind in (("requiredXor", "one"), ("requiredOr", "any")):
        names = s.get(key)
        if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
            rules.append({"k": kind, "s": [[n] for n in names]})
    for key, kind in (("dependentRequired", "dep"), ("dependencies", "dep"), ("dependentExcluded", "excl")):
        d = s.get(key)
        if isinstance(d, dict):
            for name, others in sorted(d.items()):
                if isinstance(others, list) and others and all(isinstance(n, str) for n in others):
                    rules.append({"k": kind, "s": [[name], list(others)]})
    for b in s.get("allOf") or []:
        if isinstance(b, dict) and "$ref" in b:
            name = ref_name(b["$ref"])
            b = defs.get(name, {}) if name else {}
        if isinstance(b, dict):
            rules += rules_of(b, defs)
    return rules


def reduce(s, defs):
    """One shape. oneOf/anyOf/allOf branches lend their properties and types (and allOf its
    required) to the shape, so that known names are known; their alternatives are not checked."""
    if not isinstance(s, dict):
        return {}
    o = {}
    if "$ref" in s:
        name = ref_name(s["$ref"])
        if name is None or name not in defs:
            return {}  # an external or broken reference: anything goes
        o["r"] = name
    t = s.get("type")
    if isinstance(t, (str, list)):
        o["t"] = t
    props = {}
    for k, v in (s.get("properties") or {}).items():
        props[k] = reduce(v, defs)
    required = list(s.get("required") or []) if isinstance(s.get("required"), list) else []
    free = bool(s.get("patternProperties"))
    for comb in ("oneOf", "anyOf", "allOf"):
        for b in s.get(comb) or []:
            if not isinstance(b, dict):
                continue
            if "$ref" in b:
                name = ref_name(b["$ref"])
                b = defs.get(name, {}) if name else {}
            if b.get("patternProperties"):
                free = True
            for k, v in (b.get("properties") or {}).items():
                props.setdefault(k, reduce(v, defs))
            if comb == "allOf" and isinstance(b.get("required"), list):
                required += b["required"]
            bt = b.get("type")
            if "t" in o and bt is not None:
                have = o["t"] if isinstance(o["t"], list) else [o["t"]]
                for x in bt if isinstance(bt, list) else [bt]:
                    if x not in have:
                        have.append(x)
                o["t"] = have
    if props:
        o["p"] = props
    if required:
        o["q"] = sorted(set(required))
    if isinstance(s.get("enum"), list):
        o["e"] = s["enum"]
    if isinstance(s.get("pattern"), str):
        o["pt"] = s["pattern"]
    for src, dst in (("minLength", "n"), ("maxLength", "x"), ("minimum", "lo"), ("maximum", "hi")):
        if isinstance(s.get(src), (int, float)) and not isinstance(s.get(src), bool):
            o[dst] = s[src]
    if s.get("additionalProperties") is False and not free:
        o["a"] = 0
    if isinstance(s.get("items"), dict):
        o["i"] = reduce(s["items"], defs)
    for src, dst in (("minItems", "mi"), ("maxItems", "mx")):
        if isinstance(s.get(src), int) and not isinstance(s.get(src), bool):
            o[dst] = s[src]
    if s.get("uniqueItems") is True:
        o["u"] = 1
    rules = rules_of(s, defs)
    if rules:
        o["c"] = rules
    return o


def paths(pointers):
    out = []
    for p in pointers or []:
        if isinstance(p, str) and p.startswith("/properties/"):
            out.append(p[len("/properties/"):])
    return sorted(set(out))


def getatts(t):
    names = []
    for k in PROVIDER_SCHEMA_MANAGER.get_type_getatts(t, "us-east-1").keys():
        names.append(k.replace("\\..*", ".*").replace("\\.", "."))
    return sorted(set(names))


lines = []
for t in sorted(main):
    raw = load(os.path.join(base, "resources", main[t] + ".json"))
    defs = raw.get("definitions") or {}
    r = reduce(raw, defs)
    r.pop("t", None)
    red_defs = {k: reduce(v, defs) for k, v in defs.items()}
    if red_defs:
        r["d"] = red_defs
    ro, co = paths(raw.get("readOnlyProperties")), paths(raw.get("createOnlyProperties"))
    if ro:
        r["ro"] = ro
    if co:
        r["co"] = co
    g = getatts(t)
    if g:
        r["g"] = g
    lines.append(json.dumps([t, r], separators=(",", ":"), sort_keys=True))

missing = {
    region: sorted(set(main) - set(types)) for region, types in sorted(regions.items()) if region != "us-east-1"
}
header = {
    "format": 1,
    "source": "cfn-lint (PyPI) cfnlint/data/schemas: CloudFormation resource provider schemas",
    "cfn_lint": cfnlint.version.__version__,
    "schema_date": version.get("schema_date"),
    "sha256": digest.hexdigest(),
    "types": len(lines),
    "region_missing": {k: v for k, v in missing.items() if v},
}
text = json.dumps(header, separators=(",", ":"), sort_keys=True) + "\n" + "\n".join(lines) + "\n"
with open(out + ".tmp", "wb") as f:
    # mtime=0: the same inputs give the same bytes.
    with gzip.GzipFile(fileobj=f, mode="wb", compresslevel=9, mtime=0, filename="") as g:
        g.write(text.encode())
os.replace(out + ".tmp", out)
print(f"wrote {out}: {len(lines)} types, {len(text)} bytes, {os.path.getsize(out)} compressed", file=sys.stderr)

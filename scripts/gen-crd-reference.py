#!/usr/bin/env python3
"""Generate docs/crd-reference.md from the StillOnTime CustomResourceDefinition.

The reference is the hand-written prose of docs/crd-reference.intro.md followed by
what the CRD (crds/stillontime.app_stillontimes.yaml) says: group, names, scope,
printer columns, then one table each for spec and status listing every field by
its full path with its type, whether it is required, its schema default and
validation, and its description. Fields come in schema order, so the output is
deterministic.

Usage:
  scripts/gen-crd-reference.py [--check] [--output PATH] [--crd PATH]

Without --check it writes the reference (default docs/crd-reference.md). With
--check it writes nothing and exits 1, printing a unified diff and the command
to regenerate, when the file differs from what it would write. The test suite
runs --check (ctest -R crd_reference_current).
"""

import argparse
import difflib
import json
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CRD = os.path.join(ROOT, "crds", "stillontime.app_stillontimes.yaml")
DEFAULT_OUTPUT = os.path.join(ROOT, "docs", "crd-reference.md")
INTRO = os.path.join(ROOT, "docs", "crd-reference.intro.md")
COMMAND = "python3 scripts/gen-crd-reference.py"


def display_path(path):
    """The path relative to the repository when inside it, else as given."""
    rel = os.path.relpath(os.path.abspath(path), ROOT)
    return path if rel.startswith("..") else rel


def code(value):
    """A Markdown code span for value (strings as they are, the rest as JSON)."""
    text = value if isinstance(value, str) else json.dumps(value)
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}".replace("|", "\\|")


def prose(text):
    """Schema text as one table cell: one line, Markdown-significant characters escaped."""
    text = " ".join((text or "").split())
    for char in "\\`*<|":
        text = text.replace(char, "\\" + char)
    return text


def type_of(schema):
    """The field's type: int-or-string, []item, map[string]value, format in parentheses."""
    if schema.get("x-kubernetes-int-or-string"):
        kind = "int-or-string"
    elif schema.get("type") == "array":
        kind = "[]" + type_of(schema.get("items", {}))
    elif schema.get("type") == "object" and isinstance(schema.get("additionalProperties"), dict):
        kind = "map[string]" + type_of(schema["additionalProperties"])
    elif "type" in schema:
        kind = schema["type"]
    elif "anyOf" in schema or "oneOf" in schema:
        kind = " or ".join(type_of(s) for s in schema.get("anyOf", schema.get("oneOf")))
    else:
        kind = "any"
    if "format" in schema:
        kind += f" ({schema['format']})"
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        kind += ", unknown fields kept"
    if schema.get("x-kubernetes-embedded-resource"):
        kind += ", embedded resource"
    return kind


def bound(schema, low, high, name):
    """'name: low–high', 'name: ≥ low' or 'name: ≤ high' for a pair of schema bounds."""
    lo, hi = schema.get(low), schema.get(high)
    if lo is not None and hi is not None:
        return f"{name}: {lo}–{hi}"
    if lo is not None:
        return f"{name}: ≥ {lo}"
    if hi is not None:
        return f"{name}: ≤ {hi}"
    return None


def validation(schema):
    """What the API server applies or checks for this field, one item a line."""
    items = []
    if "default" in schema:
        items.append("default: " + code(schema["default"]))
    if schema.get("nullable"):
        items.append("nullable")
    if "enum" in schema:
        items.append("one of: " + ", ".join(code(v) for v in schema["enum"]))
    if "pattern" in schema:
        items.append("pattern: " + code(schema["pattern"]))
    value = bound(schema, "minimum", "maximum", "value")
    if value and schema.get("exclusiveMinimum"):
        value += " (minimum excluded)"
    if value and schema.get("exclusiveMaximum"):
        value += " (maximum excluded)"
    items += [value,
              f"multiple of {schema['multipleOf']}" if "multipleOf" in schema else None,
              bound(schema, "minLength", "maxLength", "length"),
              bound(schema, "minItems", "maxItems", "items"),
              bound(schema, "minProperties", "maxProperties", "properties")]
    if schema.get("uniqueItems"):
        items.append("unique items")
    if "x-kubernetes-list-type" in schema:
        keys = schema.get("x-kubernetes-list-map-keys")
        items.append("list type: " + code(schema["x-kubernetes-list-type"])
                     + (" keyed by " + ", ".join(code(k) for k in keys) if keys else ""))
    if "x-kubernetes-map-type" in schema:
        items.append("map type: " + code(schema["x-kubernetes-map-type"]))
    return "<br>".join(item for item in items if item)


def children(schema, path):
    """(path, schema, required) of the fields directly under an object, array or map."""
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        return children(schema["items"], path + "[]")
    if isinstance(schema.get("additionalProperties"), dict):
        return children(schema["additionalProperties"], path + ".<key>")
    required = set(schema.get("required", []))
    return [(f"{path}.{name}", sub, name in required)
            for name, sub in schema.get("properties", {}).items()]


def field_rows(schema, path):
    """Every field below schema, depth first in schema order, as table rows."""
    rows = []
    for sub_path, sub, required in children(schema, path):
        rows.append("| " + " | ".join([
            code(sub_path), code(type_of(sub)), "yes" if required else "no",
            validation(sub), prose(sub.get("description"))]) + " |")
        rows += field_rows(sub, sub_path)
    return rows


def resource_section(crd):
    """Group, version, names, scope, subresources and printer columns."""
    spec = crd["spec"]
    names = spec["names"]
    versions = ", ".join(
        code(f"{spec['group']}/{v['name']}")
        + " (" + (", ".join(flag for flag in ("served", "storage") if v.get(flag)) or "not served") + ")"
        for v in spec["versions"])
    lines = ["## Resource", "", "| | |", "|---|---|",
             f"| group | {code(spec['group'])} |",
             f"| apiVersion | {versions} |",
             f"| kind | {code(names['kind'])} (list {code(names.get('listKind', names['kind'] + 'List'))}) |",
             f"| plural | {code(names['plural'])} |",
             f"| singular | {code(names.get('singular', names['kind'].lower()))} |",
             f"| short names | {', '.join(code(n) for n in names.get('shortNames', [])) or 'none'} |",
             f"| categories | {', '.join(code(n) for n in names.get('categories', [])) or 'none'} |",
             f"| scope | {spec['scope']} |"]
    for version in spec["versions"]:
        sub = ", ".join(code(k) for k in version.get("subresources", {})) or "none"
        lines.append(f"| subresources ({version['name']}) | {sub} |")
    for version in spec["versions"]:
        lines += printer_columns(version)
    return lines


def printer_columns(version):
    """The `kubectl get` columns of one version."""
    columns = version.get("additionalPrinterColumns", [])
    if not columns:
        return []
    lines = ["", f"### `kubectl get` columns ({version['name']})", "",
             "| name | type | JSONPath | shown | description |", "|---|---|---|---|---|"]
    for c in columns:
        shown = "always" if c.get("priority", 0) == 0 else "with `-o wide`"
        lines.append(f"| {c['name']} | {c['type']} | {code(c['jsonPath'])} | {shown} "
                     f"| {prose(c.get('description'))} |")
    return lines


def schema_sections(version, several):
    """One section each for spec and status of one version."""
    root = version["schema"]["openAPIV3Schema"]
    required = set(root.get("required", []))
    lines = []
    for top in ("spec", "status"):
        schema = root.get("properties", {}).get(top)
        if schema is None:
            continue
        title = top.capitalize() + (f" ({version['name']})" if several else "")
        lines += ["", f"## {title}", "",
                  f"`{top}`: {type_of(schema)}, {'required' if top in required else 'optional'}. "
                  + prose(schema.get("description")), "",
                  "| field | type | required | schema default and validation | description |",
                  "|---|---|---|---|---|"]
        lines += field_rows(schema, top)
    return lines


def render(crd, intro, crd_path):
    """The whole reference as one string."""
    versions = crd["spec"]["versions"]
    lines = [f"<!-- Generated by `{COMMAND}` from {display_path(crd_path)} and "
             f"{display_path(INTRO)}; do not edit. -->",
             f"# {crd['spec']['names']['kind']} CRD reference", "",
             f"> Generated by `{COMMAND}` from `{display_path(crd_path)}` (everything from "
             f"[Resource](#resource) on) and `{display_path(INTRO)}` (the prose before it). "
             "Edit those and regenerate; the test `crd_reference_current` fails while this file is stale.",
             "", intro.strip(), ""]
    lines += resource_section(crd)
    lines += ["", "Field tables: a path with `[]` is an array's items. *required*: the API server "
              "refuses the object without the field (when its parent is present). *schema default "
              "and validation*: what the API server fills in or checks; the environment profile's "
              "defaults, written in the descriptions, are filled in by the operator instead."]
    for version in versions:
        lines += schema_sections(version, len(versions) > 1)
    return "\n".join(lines) + "\n"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 with a diff when the output file is not current")
    parser.add_argument("--output", default=DEFAULT_OUTPUT, help="default docs/crd-reference.md")
    parser.add_argument("--crd", default=DEFAULT_CRD, help="default crds/stillontime.app_stillontimes.yaml")
    args = parser.parse_args(argv)

    with open(args.crd, encoding="utf-8") as f:
        crd = yaml.safe_load(f)
    with open(INTRO, encoding="utf-8") as f:
        intro = f.read()
    text = render(crd, intro, args.crd)

    if not args.check:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
        return 0
    try:
        with open(args.output, encoding="utf-8") as f:
            current = f.read()
    except FileNotFoundError:
        current = ""
    if current == text:
        return 0
    sys.stdout.writelines(difflib.unified_diff(
        current.splitlines(keepends=True), text.splitlines(keepends=True),
        fromfile=display_path(args.output), tofile="generated"))
    regenerate = " ".join([COMMAND] + [a for a in argv if a != "--check"])
    print(f"\n{display_path(args.output)} is stale; regenerate it with: {regenerate}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

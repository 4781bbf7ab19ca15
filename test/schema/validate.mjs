// Validates a stream of rendered objects (stdin, multi-document YAML) with the
// kubernetes-models classes of their apiVersion/kind. Exits 1 on the first
// kind without a model or on any validation error; prints one line per object.
import { readFileSync } from "node:fs";
import yaml from "js-yaml";

const source = process.argv[2] ?? "stdin";
const docs = yaml.loadAll(readFileSync(0, "utf8")).filter((d) => d != null);

function modulePath(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "monitoring.coreos.com") {
    return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  }
  return group === "" ? `kubernetes-models/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`;
}

let failures = 0;
if (docs.length === 0) {
  console.log(`FAIL ${source}: no objects rendered`);
  process.exit(1);
}
for (const doc of docs) {
  const id = `${doc.apiVersion} ${doc.kind} ${doc.metadata?.namespace}/${doc.metadata?.name}`;
  let Model;
  try {
    const mod = await import(modulePath(doc.apiVersion, doc.kind));
    Model = mod[doc.kind];
  } catch (e) {
    console.log(`FAIL ${source}: ${id}: no model (${e.message})`);
    failures++;
    continue;
  }
  try {
    new Model(doc).validate();
    console.log(`ok   ${source}: ${id}`);
  } catch (e) {
    console.log(`FAIL ${source}: ${id}: ${e.message}`);
    failures++;
  }
}
process.exit(failures === 0 ? 0 : 1);

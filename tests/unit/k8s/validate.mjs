// Schema validation of rendered Kubernetes manifests (kubectl kustomize output),
// offline: every object against the pinned kubernetes-models /
// @kubernetes-models/keda / @kubernetes-models/prometheus-operator schemas, plus
// the cross-references a schema cannot see (selectors, ports, secrets, the
// scale target, the drain budget).
//
//   node tests/unit/k8s/validate.mjs RENDERED.yaml...
//   node tests/unit/k8s/validate.mjs --self-test     broken objects must be refused
//
// Exit 0 when every object is valid, 1 with one line per problem otherwise.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

/// The module holding the models of an apiVersion.
function modulePath(apiVersion) {
  if (apiVersion.startsWith("keda.sh/")) return `@kubernetes-models/keda/${apiVersion}`;
  if (apiVersion.startsWith("monitoring.coreos.com/")) return `@kubernetes-models/prometheus-operator/${apiVersion}`;
  return `kubernetes-models/${apiVersion}`;
}

async function schemaProblems(obj) {
  const where = `${obj.kind}/${obj.metadata?.name}`;
  let mod;
  try {
    mod = await import(modulePath(obj.apiVersion));
  } catch {
    return [`${where}: no schema for apiVersion ${obj.apiVersion}`];
  }
  const Model = mod[obj.kind];
  if (typeof Model !== "function") return [`${where}: no schema for ${obj.kind} in ${obj.apiVersion}`];
  try {
    new Model(obj).validate();
    return [];
  } catch (e) {
    return [`${where}: ${e.message.split("\n").slice(0, 6).join(" | ")}`];
  }
}

const matches = (selector, labels) =>
  Object.entries(selector ?? {}).every(([k, v]) => (labels ?? {})[k] === v);

function podTemplates(objects) {
  const out = [];
  for (const o of objects) {
    if (["Deployment", "StatefulSet"].includes(o.kind)) out.push({ owner: o, spec: o.spec.template });
    if (o.kind === "Job") out.push({ owner: o, spec: o.spec.template });
  }
  return out;
}

/// What a schema cannot check: names that must point at something rendered.
function crossProblems(objects) {
  const problems = [];
  const byKind = (k) => objects.filter((o) => o.kind === k);
  const templates = podTemplates(objects);
  const secrets = new Set(byKind("Secret").map((s) => s.metadata.name));
  const configMaps = new Set(byKind("ConfigMap").map((c) => c.metadata.name));
  const generated = secrets.size > 0; // the production overlay leaves secrets to the operator

  for (const s of byKind("Service")) {
    const pods = templates.filter((t) => matches(s.spec.selector, t.spec.metadata.labels));
    if (pods.length === 0) {
      problems.push(`Service/${s.metadata.name}: its selector matches no pod template`);
      continue;
    }
    for (const p of s.spec.ports ?? []) {
      if (typeof p.targetPort !== "string") continue;
      const named = pods.some((t) =>
        t.spec.spec.containers.some((c) => (c.ports ?? []).some((cp) => cp.name === p.targetPort)));
      if (!named) problems.push(`Service/${s.metadata.name}: targetPort ${p.targetPort} is no container port`);
    }
  }
  for (const n of byKind("NetworkPolicy")) {
    const pods = templates.filter((t) => matches(n.spec.podSelector.matchLabels, t.spec.metadata.labels));
    if (pods.length === 0) problems.push(`NetworkPolicy/${n.metadata.name}: its podSelector matches no pod template`);
    for (const rule of n.spec.ingress ?? [])
      for (const p of rule.ports ?? [])
        if (typeof p.port === "string" &&
            !pods.some((t) => t.spec.spec.containers.some((c) => (c.ports ?? []).some((cp) => cp.name === p.port))))
          problems.push(`NetworkPolicy/${n.metadata.name}: port ${p.port} is no container port of its pods`);
  }
  for (const m of byKind("ServiceMonitor")) {
    const services = byKind("Service").filter((s) => matches(m.spec.selector.matchLabels, s.metadata.labels));
    if (services.length === 0) problems.push(`ServiceMonitor/${m.metadata.name}: its selector matches no Service`);
    for (const e of m.spec.endpoints ?? [])
      if (!services.some((s) => s.spec.ports.some((p) => p.name === e.port)))
        problems.push(`ServiceMonitor/${m.metadata.name}: no selected Service has a port ${e.port}`);
  }
  for (const p of byKind("PodDisruptionBudget"))
    if (!templates.some((t) => matches(p.spec.selector.matchLabels, t.spec.metadata.labels)))
      problems.push(`PodDisruptionBudget/${p.metadata.name}: its selector matches no pod template`);
  for (const so of byKind("ScaledObject")) {
    const target = objects.find((o) => o.kind === "Deployment" && o.metadata.name === so.spec.scaleTargetRef.name);
    if (!target) problems.push(`ScaledObject/${so.metadata.name}: no Deployment ${so.spec.scaleTargetRef.name}`);
    for (const t of so.spec.triggers) {
      const auth = t.authenticationRef?.name;
      if (auth && !objects.some((o) => o.kind === "TriggerAuthentication" && o.metadata.name === auth))
        problems.push(`ScaledObject/${so.metadata.name}: no TriggerAuthentication ${auth}`);
      if (t.type === "postgresql" && !/syncforce\.mappings/.test(t.metadata.query))
        problems.push(`ScaledObject/${so.metadata.name}: the query must count syncforce.mappings (unit weight 1 per mapping)`);
    }
  }
  for (const { owner, spec } of templates) {
    const where = `${owner.kind}/${owner.metadata.name}`;
    const pod = spec.spec;
    for (const c of pod.containers) {
      const refs = (c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef.name] : []));
      for (const r of refs)
        if (generated && !secrets.has(r)) problems.push(`${where}: secret ${r} is not generated`);
      const mounts = new Set((c.volumeMounts ?? []).map((m) => m.name));
      const claims = (owner.spec.volumeClaimTemplates ?? []).map((t) => t.metadata.name);
      for (const m of mounts)
        if (!(pod.volumes ?? []).some((v) => v.name === m) && !claims.includes(m))
          problems.push(`${where}: volume ${m} is not declared`);
    }
    for (const v of pod.volumes ?? []) {
      if (v.secret && generated && !secrets.has(v.secret.secretName))
        problems.push(`${where}: secret ${v.secret.secretName} is not generated`);
      if (v.configMap && !configMaps.has(v.configMap.name))
        problems.push(`${where}: config map ${v.configMap.name} is not generated`);
    }
    const node = pod.containers.find((c) => (c.args ?? []).some((a) => a.startsWith("--grpc-address")));
    if (!node) continue;
    // The drain must finish before Kubernetes kills the pod.
    const arg = (name) => (node.args.find((a) => a.startsWith(`${name}=`)) ?? "").split("=")[1];
    const shutdown = Number(arg("--shutdown-timeout") ?? 10);
    const preStop = Number(node.lifecycle?.preStop?.exec?.command?.at(-1) ?? 0);
    const grace = pod.terminationGracePeriodSeconds ?? 30;
    if (!(grace > shutdown + preStop))
      problems.push(`${where}: terminationGracePeriodSeconds ${grace} leaves no room for preStop ${preStop} s + --shutdown-timeout ${shutdown} s`);
    for (const probe of ["livenessProbe", "readinessProbe"])
      if (!node[probe]?.grpc) problems.push(`${where}: ${probe} must use grpc.health.v1`);
    if (node.readinessProbe?.grpc?.service !== "readiness")
      problems.push(`${where}: readinessProbe must ask the service "readiness"`);
    const env = Object.fromEntries((node.env ?? []).map((e) => [e.name, e]));
    if (env.POD_IP?.valueFrom?.fieldRef?.fieldPath !== "status.podIP")
      problems.push(`${where}: POD_IP must come from the downward API (status.podIP)`);
    if (!/^\$\(POD_IP\):\d+$/.test(env.SYNCFORCE_ADVERTISE_ADDRESS?.value ?? ""))
      problems.push(`${where}: SYNCFORCE_ADVERTISE_ADDRESS must be $(POD_IP):PORT`);
    const dirs = (arg("--secret-dirs") ?? "").split(",").filter(Boolean);
    const cluster = arg("--cluster-secret-file") ?? "";
    const admin = arg("--admin-token-file") ?? "";
    for (const d of dirs)
      for (const own of [cluster, admin])
        if (own && own.startsWith(d.endsWith("/") ? d : d + "/"))
          problems.push(`${where}: ${own} lies under --secret-dirs ${d}: a connection could send it to Salesforce`);
  }
  return problems;
}

async function validate(objects) {
  const problems = [];
  for (const o of objects) problems.push(...(await schemaProblems(o)));
  problems.push(...crossProblems(objects));
  return problems;
}

function load(file) {
  const objects = [];
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
    const o = doc.toJS();
    if (!o) continue;
    // kustomize folds long base64 values over lines; the API server's decoder
    // skips the newlines, the schema's "byte" format does not.
    if (o.kind === "Secret" && o.data)
      for (const k of Object.keys(o.data)) o.data[k] = String(o.data[k]).replace(/\s+/g, "");
    objects.push(o);
  }
  return objects;
}

async function selfTest() {
  // Each broken object must be refused, or the validation proves nothing.
  const deployment = {
    apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" },
    spec: { replicas: "three", selector: { matchLabels: { a: "b" } },
            template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "i" }] } } },
  };
  const scaled = { apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject", metadata: { name: "s" },
                   spec: { scaleTargetRef: {}, triggers: "postgresql" } };
  const monitor = { apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", metadata: { name: "m" },
                    spec: { endpoints: "metrics" } };
  const unknown = { apiVersion: "example.com/v1", kind: "Thing", metadata: { name: "t" } };
  const monitorOfNothing = { apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", metadata: { name: "n" },
                             spec: { selector: { matchLabels: { app: "nothing" } }, endpoints: [{ port: "metrics" }] } };
  const orphan = { apiVersion: "v1", kind: "Service", metadata: { name: "orphan" },
                   spec: { selector: { app: "nothing" }, ports: [{ port: 1 }] } };
  let failed = 0;
  for (const [name, objs] of [["replicas as text", [deployment]], ["ScaledObject without triggers", [scaled]],
                              ["ServiceMonitor endpoints as text", [monitor]], ["unknown kind", [unknown]],
                              ["Service selecting nothing", [orphan]],
                              ["ServiceMonitor selecting nothing", [monitorOfNothing]]]) {
    const problems = await validate(objs);
    if (problems.length === 0) { console.log(`self-test: ${name} was NOT refused`); failed++; }
    else console.log(`self-test: ${name} refused: ${problems[0].slice(0, 160)}`);
  }
  return failed ? 1 : 0;
}

async function main(args) {
  if (args[0] === "--self-test") return selfTest();
  if (args.length === 0) {
    console.error("usage: validate.mjs RENDERED.yaml... | --self-test");
    return 2;
  }
  let bad = 0;
  for (const file of args) {
    const objects = load(file);
    const problems = await validate(objects);
    for (const p of problems) console.log(`${file}: ${p}`);
    console.log(`${file}: ${objects.length} objects, ${problems.length} problems ` +
                `(${objects.map((o) => o.kind).join(", ")})`);
    if (problems.length) bad++;
  }
  return bad ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));

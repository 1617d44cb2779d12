/**
 * Turns the resources a run registered into review files: Kubernetes manifests laid out for
 * kustomize, the full resource list, and the resource and capacity report. Output depends only on
 * the registered resources and the config, never on time or order of registration.
 */
import { Document, stringify } from "yaml";
import { costSection } from "./cost";
import {
    capacityWithoutScaleOut,
    describeBffCapacity,
    formatRps,
    globalLimitCapacity,
    ISTIO_PROXY_RESOURCES,
    StackConfig,
} from "../components/config";
import {
    addResources,
    describeCpu,
    describeMemory,
    formatCpu,
    formatMemory,
    instanceCapacity,
    globalLimitCeiling,
    ISTIO_PROXY_ANNOTATIONS,
    parseResources,
    ResourceAmount,
    scaleResources,
    ZERO,
    KubeObject,
} from "../components/shared";
import { addonWorkloads, expectedOnCluster } from "../components/addons";
import { RegisteredResource, SECRET_MARKER, UNKNOWN_MARKER, UNKNOWN_SECRET_MARKER } from "./mock-runtime";

export type { KubeObject };

const KUBE_TYPE = /^kubernetes:[\w.-]*\/?\w+:\w+$/;

/** Sorts object keys at every level (apiVersion, kind, metadata first at the top) for stable output. */
export function sortDeep(value: unknown): unknown {
    if (Array.isArray(value)) {
        return value.map(sortDeep);
    }
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(
            Object.keys(value as object)
                .sort()
                .map((k) => [k, sortDeep((value as Record<string, unknown>)[k])]),
        );
    }
    return value;
}

function orderObject(object: Record<string, unknown>): KubeObject {
    const { apiVersion, kind, metadata, ...rest } = sortDeep(object) as Record<string, unknown>;
    return { apiVersion, kind, metadata, ...rest } as KubeObject;
}

/**
 * A Secret's `data` and `stringData` are secret as a whole in Pulumi (the typed class wraps them):
 * they arrive as one marker. Render them as a map with one masked entry, so the manifest keeps its
 * shape (and validates) while showing that the values exist and are hidden.
 */
function maskSecretMaps(inputs: Record<string, unknown>): Record<string, unknown> {
    if (inputs.kind !== "Secret") {
        return inputs;
    }
    const masked = { ...inputs };
    for (const field of ["data", "stringData"]) {
        // Unknown in a preview, secret otherwise: either way one masked entry.
        if (masked[field] === SECRET_MARKER || masked[field] === UNKNOWN_MARKER || masked[field] === UNKNOWN_SECRET_MARKER) {
            masked[field] = { [SECRET_MARKER]: masked[field] };
        }
    }
    return masked;
}

/** Every Kubernetes object among the registered resources, whichever provider it goes through. */
export function kubernetesObjects(resources: RegisteredResource[]): KubeObject[] {
    return resources
        .filter((r) => r.custom && KUBE_TYPE.test(r.type) && typeof r.inputs.kind === "string")
        .map((r) => orderObject(maskSecretMaps(r.inputs)))
        .sort((a, b) => objectPath(a).localeCompare(objectPath(b)));
}

/** `manifests/`-relative file of an object: `<namespace|_cluster>/<app>/<kind>-<name>.yaml`. */
export function objectPath(object: KubeObject): string {
    const namespace = object.metadata.namespace ?? "_cluster";
    const app = object.metadata.labels?.["app.kubernetes.io/name"] ?? object.metadata.name;
    return `${namespace}/${app}/${object.kind.toLowerCase()}-${object.metadata.name}.yaml`;
}

/**
 * Plain scalars a YAML 1.1 reader resolves differently from YAML 1.2: the `yaml` package's YAML 1.1
 * schema (booleans `y|n|yes|no|on|off|true|false` in their spec casings, octal `0755`, sexagesimal
 * `1:30`, `1_000`, timestamps, `<<`), plus every casing of those booleans, `null` and `~`, as some
 * readers match them case-insensitively. kubectl reads manifests with sigs.k8s.io/yaml, which
 * decodes with gopkg.in/yaml.v2 and so turns an unquoted `no` into `false` (its `Unmarshal` doc,
 * kubernetes-sigs/yaml `yaml.go`; a string field then receives "false"). The YAML 1.1 booleans:
 * https://yaml.org/type/bool.html.
 */
const YAML_11_COMPAT = [
    ...new Document(null, { version: "1.1" }).schema.tags,
    {
        tag: "tag:bff-platform,2026:yaml-1.1-word",
        default: true,
        test: /^(?:y|yes|n|no|true|false|on|off|null|~)$/i,
        resolve: (value: string) => value,
    },
];

/**
 * Stringifies for kubectl, Argo CD and any YAML 1.1 or 1.2 reader: a string that either would read
 * as something else is quoted (the `yaml` package's `compat` option), so every reader gets the same
 * value.
 */
export function yaml(value: unknown): string {
    return stringify(value, { lineWidth: 0, sortMapEntries: false, aliasDuplicateObjects: false, compat: YAML_11_COMPAT });
}

function kustomization(resources: string[]): string {
    return yaml({ apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources: [...resources].sort() });
}

/** Files under `manifests/`: one per object, and a kustomization.yaml per app and per namespace. */
export function renderManifests(objects: KubeObject[]): Map<string, string> {
    const files = new Map<string, string>();
    const byDirectory = new Map<string, string[]>();
    for (const object of objects) {
        const path = objectPath(object);
        if (files.has(path)) {
            throw new Error(`two objects render to manifests/${path}: ${object.kind} ${object.metadata.name}`);
        }
        files.set(path, yaml(object));
        const directory = path.slice(0, path.lastIndexOf("/"));
        byDirectory.set(directory, [...(byDirectory.get(directory) ?? []), path.slice(directory.length + 1)]);
    }
    const appsByNamespace = new Map<string, string[]>();
    for (const [directory, names] of byDirectory) {
        files.set(`${directory}/kustomization.yaml`, kustomization(names));
        const [namespace, app] = directory.split("/");
        appsByNamespace.set(namespace, [...(appsByNamespace.get(namespace) ?? []), app]);
    }
    for (const [namespace, apps] of appsByNamespace) {
        files.set(`${namespace}/kustomization.yaml`, kustomization(apps));
    }
    return new Map([...files.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** `resources.json`: every registered resource, sorted by URN, keys sorted. */
export function renderResourcesJson(resources: RegisteredResource[]): string {
    return `${JSON.stringify(sortDeep(resources), null, 2)}\n`;
}

/* ------------------------------------------------------------------ report */

/** A pod-running object with what the report needs. */
export interface WorkloadFigures {
    namespace: string;
    name: string;
    kind: string;
    nodeRole: string;
    minReplicas: number;
    maxReplicas: number;
    /** Requests of one pod: all containers, native sidecars and the injected istio-proxy. */
    podRequests: ResourceAmount;
    /** What istio-proxy contributes to podRequests (zero when the pod is not meshed). */
    proxyRequests: ResourceAmount;
}

type PodTemplate = {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec?: {
        containers?: { name?: string; resources?: { requests?: { cpu?: string; memory?: string } } }[];
        initContainers?: { restartPolicy?: string; resources?: { requests?: { cpu?: string; memory?: string } } }[];
        nodeSelector?: Record<string, string>;
    };
};

const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "Rollout"]);

/** Whether istio-proxy is injected into a pod of this template in this namespace. */
function isMeshed(template: PodTemplate, namespaceLabels: Record<string, string>): boolean {
    const podSetting = template.metadata?.labels?.["sidecar.istio.io/inject"];
    if (podSetting !== undefined) {
        return podSetting === "true";
    }
    return namespaceLabels["istio-injection"] === "enabled";
}

/** Replica range and per-pod requests of every Deployment, StatefulSet and Rollout. */
export function workloadFigures(objects: KubeObject[]): WorkloadFigures[] {
    const namespaceLabels = new Map(objects.filter((o) => o.kind === "Namespace").map((o) => [o.metadata.name, o.metadata.labels ?? {}]));
    const hpas = objects.filter((o) => o.kind === "HorizontalPodAutoscaler");
    return objects
        .filter((o) => WORKLOAD_KINDS.has(o.kind))
        .map((o) => {
            const spec = o.spec as { replicas?: number; template?: PodTemplate };
            const template = spec.template ?? {};
            const namespace = o.metadata.namespace ?? "default";
            const hpa = hpas.find((h) => {
                const ref = (h.spec as { scaleTargetRef: { kind: string; name: string } }).scaleTargetRef;
                return h.metadata.namespace === namespace && ref.kind === o.kind && ref.name === o.metadata.name;
            });
            const hpaSpec = hpa?.spec as { minReplicas?: number; maxReplicas: number } | undefined;
            const containers = [
                ...(template.spec?.containers ?? []).filter((c) => c.name !== "istio-proxy"),
                // Native sidecars (restartPolicy: Always) run beside the app for the pod's whole life.
                ...(template.spec?.initContainers ?? []).filter((c) => c.restartPolicy === "Always"),
            ];
            const annotations = template.metadata?.annotations ?? {};
            // A gateway declares its istio-proxy container with its resources (the gateway injection
            // template sets none and ignores the annotations); a sidecar is sized by the annotations.
            const declaredProxy = (template.spec?.containers ?? []).find((c) => c.name === "istio-proxy");
            let proxyRequests = ZERO;
            if (declaredProxy !== undefined) {
                proxyRequests = parseResources(declaredProxy.resources?.requests);
            } else if (isMeshed(template, namespaceLabels.get(namespace) ?? {})) {
                proxyRequests = parseResources({
                    cpu: annotations[ISTIO_PROXY_ANNOTATIONS.cpu] ?? ISTIO_PROXY_RESOURCES.requests.cpu,
                    memory: annotations[ISTIO_PROXY_ANNOTATIONS.memory] ?? ISTIO_PROXY_RESOURCES.requests.memory,
                });
            }
            return {
                namespace,
                name: o.metadata.name,
                kind: o.kind,
                nodeRole: template.spec?.nodeSelector?.["node-role"] ?? "any",
                minReplicas: hpaSpec?.minReplicas ?? spec.replicas ?? 1,
                maxReplicas: hpaSpec?.maxReplicas ?? spec.replicas ?? 1,
                podRequests: addResources(...containers.map((c) => parseResources(c.resources?.requests)), proxyRequests),
                proxyRequests,
            };
        });
}

function cpuMem(amount: ResourceAmount): string {
    return `${formatCpu(amount.cpuMillis)} / ${formatMemory(amount.memoryBytes)}`;
}

function table(header: string[], rows: string[][]): string {
    const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
    return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** `report.md`: requests × replicas per workload and node role (docs/design.md §1) and the capacity figures of §5. */
export function renderReport(config: StackConfig, stack: string, objects: KubeObject[]): string {
    const workloads = workloadFigures(objects);
    const sections: string[] = [`# Resource report: stack \`${stack}\` (environment \`${config.environment}\`)`, ""];
    sections.push(
        "Requests are per pod and include istio-proxy where the pod is meshed; totals multiply them by the replica range " +
            "(HPA min..max, or the fixed count). The HPA measures CPU utilization against these summed requests.",
        "",
        "## Workloads",
        "",
        table(
            [
                "namespace",
                "workload",
                "node role",
                "replicas",
                "requests per pod (cpu / memory)",
                "of which istio-proxy",
                "total at min",
                "total at max",
            ],
            workloads.map((w) => [
                w.namespace,
                `${w.kind} ${w.name}`,
                w.nodeRole,
                w.minReplicas === w.maxReplicas ? String(w.minReplicas) : `${w.minReplicas}..${w.maxReplicas}`,
                cpuMem(w.podRequests),
                cpuMem(w.proxyRequests),
                cpuMem(scaleResources(w.podRequests, w.minReplicas)),
                cpuMem(scaleResources(w.podRequests, w.maxReplicas)),
            ]),
        ),
        "",
        ...addonsSection(config, objects),
        "## Totals per node role",
        "",
        "Workloads above and the cluster add-ons.",
        "",
    );
    const counted = [...workloads, ...addonWorkloads(config).map((a) => ({ ...a, podRequests: parseResources(a.requests) }))];
    const roles = [...new Set([...counted.map((w) => w.nodeRole), ...config.nodePools.map((p) => p.role)])].sort();
    sections.push(
        table(
            ["node role", "requests at min", "requests at max", "node pool capacity at min..max size", "fits at max"],
            roles.map((role) => {
                const mine = counted.filter((w) => w.nodeRole === role);
                const atMin = addResources(...mine.map((w) => scaleResources(w.podRequests, w.minReplicas)));
                const atMax = addResources(...mine.map((w) => scaleResources(w.podRequests, w.maxReplicas)));
                const pools = config.nodePools.filter((p) => p.role === role);
                const perNode = pools.map((p) => ({ pool: p, capacity: instanceCapacity(p.instanceTypes[0]) }));
                const known = perNode.every((p) => p.capacity !== undefined) && pools.length > 0;
                const capacityAt = (size: "minSize" | "maxSize") =>
                    addResources(...perNode.map(({ pool, capacity }) => scaleResources(capacity as ResourceAmount, pool[size])));
                const maxCapacity = known ? capacityAt("maxSize") : undefined;
                return [
                    role,
                    `${describeCpu(atMin.cpuMillis)}, ${describeMemory(atMin.memoryBytes)}`,
                    `${describeCpu(atMax.cpuMillis)}, ${describeMemory(atMax.memoryBytes)}`,
                    pools.length === 0
                        ? "no pool"
                        : known
                          ? `${describeCpu(capacityAt("minSize").cpuMillis)}..${describeCpu((maxCapacity as ResourceAmount).cpuMillis)}, ` +
                            `${describeMemory(capacityAt("minSize").memoryBytes)}..${describeMemory((maxCapacity as ResourceAmount).memoryBytes)}`
                          : "unknown instance type",
                    maxCapacity === undefined
                        ? "n/a"
                        : atMax.cpuMillis <= maxCapacity.cpuMillis && atMax.memoryBytes <= maxCapacity.memoryBytes
                          ? "yes"
                          : "**no**",
                ];
            }),
        ),
        "",
        "Node capacity is the instance's vCPU and memory; allocatable is lower (kubelet, system reservations, DaemonSets).",
        "",
        "## Capacity (Handbook ch. 15)",
        "",
    );

    const capacityRows = config.services.flatMap((s) => {
        const capacity = capacityWithoutScaleOut(s);
        const workload = workloads.find((w) => w.name === s.name && w.namespace === config.appNamespace);
        return capacity === undefined ? [] : [{ service: s, perPod: workload?.podRequests.cpuMillis ?? 0, ...capacity }];
    });
    if (capacityRows.length === 0) {
        sections.push("No service declares `capacity` (HPA trigger rps from a load test): nothing to compute.", "");
    } else {
        sections.push(
            "max rps without scale-out = (total requests.cpu at max / per-pod requests.cpu) × HPA trigger rps per pod.",
            "",
            table(
                [
                    "service",
                    "per-pod cpu request",
                    "max replicas",
                    "HPA trigger rps/pod",
                    "max rps without scale-out",
                    "local limit rps/pod",
                    "pod performance limit rps",
                ],
                capacityRows.map((r) => [
                    r.service.name,
                    formatCpu(r.perPod),
                    String(r.pods),
                    String(r.triggerRpsPerPod),
                    String(r.maxRps),
                    r.service.rateLimit?.local === undefined ? "-" : String(r.service.rateLimit.local.requestsPerSecond),
                    r.service.capacity?.podPerformanceRps === undefined ? "-" : String(r.service.capacity.podPerformanceRps),
                ]),
            ),
            "",
        );
        const bffRps = capacityRows.reduce((sum, r) => sum + r.maxRps, 0);
        const backendRps = config.backends.length === 0 ? undefined : Math.min(...config.backends.map((b) => b.maxRps));
        sections.push(
            `BFF capacity without scale-out (services with capacity figures): ${bffRps} rps. ` +
                `Smallest backend capacity: ${backendRps === undefined ? "not declared" : `${backendRps} rps`}. ` +
                `Ceiling for a global limit: ${globalLimitCeiling(bffRps, backendRps)} rps.`,
            "",
        );
    }
    sections.push(...globalLimitsSection(config));
    sections.push("", ...costSection(config));
    return `${sections.join("\n").trimEnd()}\n`;
}

/**
 * The cluster add-ons this stack installs (chart versions, namespace, requests × replicas; a
 * DaemonSet runs once per node of every pool) and those it expects on the cluster instead.
 */
function addonsSection(config: StackConfig, objects: KubeObject[]): string[] {
    const rows = addonWorkloads(config).map((a) => {
        const perPod = parseResources(a.requests);
        return [
            a.title,
            a.charts,
            a.namespace,
            a.workload,
            a.nodeRole,
            a.minReplicas === a.maxReplicas ? String(a.minReplicas) : `${a.minReplicas}..${a.maxReplicas}`,
            cpuMem(perPod),
            cpuMem(scaleResources(perPod, a.maxReplicas)),
        ];
    });
    const expected = expectedOnCluster(config, objects).map(
        (e) =>
            `- \`addons.${e.addon}.enabled: false\`: expects ${e.title} on the cluster` +
            (e.usedBy.length === 0 ? "." : ` (used by: ${e.usedBy.join(", ")}).`),
    );
    return [
        "## Cluster add-ons",
        "",
        "Installed by this stack as Helm releases (`components/addons`); their pods count against the node pools below.",
        "",
        table(["add-on", "charts", "namespace", "workload", "node role", "replicas", "requests per pod", "total at max"], rows),
        "",
        ...(expected.length === 0 ? [] : [...expected, ""]),
    ];
}

/** Markdown table cell text: a pipe would end the cell. */
function cell(text: string): string {
    return text.replace(/\|/g, "\\|");
}

/**
 * The global limits of `rateLimits.global` against their ceiling (docs/design.md §5): what each lets
 * through, the services it reaches, and min(their capacity without scale-out, smallest backend).
 */
function globalLimitsSection(config: StackConfig): string[] {
    const global = config.rateLimits.global;
    if (global === undefined) {
        return [];
    }
    const rows = global.limits.map((limit) => {
        const capacity = globalLimitCapacity(limit, config, config.backends);
        const unknown = capacity.covered.filter((c) => c.maxRps === undefined).map((c) => c.name);
        return [
            limit.name,
            limit.path !== undefined ? cell(`\`PATH ${limit.path}\``) : cell(`\`${limit.pathRegex as string}\``),
            `${limit.requestsPerUnit}/${limit.unit} = ${formatRps(capacity.rps)}`,
            capacity.covered.length === 0 ? "none" : capacity.covered.map((c) => `${c.name} (${c.hosts.join(", ")})`).join(", "),
            capacity.bffRps === undefined
                ? "unknown"
                : `${describeBffCapacity(capacity)}${unknown.length === 0 ? "" : `; unknown: ${unknown.join(", ")}`}`,
            capacity.backend === undefined ? "not declared" : `${formatRps(capacity.backend.maxRps)} (${capacity.backend.name})`,
            capacity.ceiling === undefined ? "none known" : formatRps(capacity.ceiling),
            capacity.ceiling === undefined ? "n/a" : capacity.rps <= capacity.ceiling ? "yes" : "**no**",
        ];
    });
    return [
        "### Global limits",
        "",
        "Each global limit's average rate against min(capacity without scale-out of the services its requests reach, " +
            "smallest backend); services without `capacity` figures are left out of the sum.",
        "",
        table(
            [
                "limit",
                "descriptor",
                "limit rps",
                "services reached",
                "BFF capacity without scale-out",
                "smallest backend (rps)",
                "ceiling (rps)",
                "within",
            ],
            rows,
        ),
        "",
    ];
}

/* ----------------------------------------------------------------- summary */

/** `name count` cells in aligned columns, as many per line as fit in `width` characters. */
function grid(counts: Map<string, number>, width: number, indent: string): string[] {
    const cells = [...counts.entries()].sort(([a], [b]) => a.localeCompare(b));
    const nameWidth = Math.max(...cells.map(([name]) => name.length));
    const countWidth = Math.max(...cells.map(([, count]) => String(count).length));
    const cellWidth = nameWidth + 1 + countWidth;
    const perLine = Math.max(1, Math.floor((width - indent.length + 3) / (cellWidth + 3)));
    const lines: string[] = [];
    for (let i = 0; i < cells.length; i += perLine) {
        lines.push(
            indent +
                cells
                    .slice(i, i + perLine)
                    .map(([name, count]) => `${name.padEnd(nameWidth)} ${String(count).padStart(countWidth)}`)
                    .join("   ")
                    .trimEnd(),
        );
    }
    return lines;
}

function countBy<T>(items: T[], keyOf: (item: T) => string): Map<string, number> {
    const counts = new Map<string, number>();
    for (const item of items) {
        counts.set(keyOf(item), (counts.get(keyOf(item)) ?? 0) + 1);
    }
    return counts;
}

/**
 * What synth prints after writing: objects per kind and per app (over all namespaces, e.g. a
 * service's objects and its Argo CD Application) in compact tables, where it wrote, and where to look next.
 * Depends only on the objects and the arguments, so the same run prints the same text.
 */
export function renderSummary(args: { stack: string; mode: string; out: string; resourceCount: number; objects: KubeObject[] }): string {
    const { objects } = args;
    // The app of an object is its directory under manifests/<namespace>/ (its app.kubernetes.io/name).
    const apps = countBy(objects, (o) => objectPath(o).split("/")[1]);
    const kinds = countBy(objects, (o) => o.kind);
    return [
        `synth: stack ${args.stack} (${args.mode}): ${args.resourceCount} Pulumi resources, ${objects.length} Kubernetes objects, ` +
            "all valid against the upstream schemas",
        `synth: wrote ${args.out}`,
        `  objects per kind (${kinds.size}):`,
        ...grid(kinds, 100, "    "),
        `  objects per app (${apps.size}):`,
        ...grid(apps, 100, "    "),
        "  next: report.md (requests × replicas per workload and node role, capacity, global limits),",
        "        resources.json (every Pulumi resource: options, dependencies, inputs), manifests/ (kustomize-ready)",
        "",
    ].join("\n");
}

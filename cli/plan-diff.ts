/**
 * The plan of a change, computed offline from two renders of a stack (`resources.json` of synth):
 * which resources a real `pulumi up` would create, update, replace or delete, and which fields
 * change, grouped by app. Pure functions over recorded resources; `cli/plan.ts` renders the two
 * sides and prints the result.
 *
 * What "replace" means here is what the engine's providers decide, not a guess from the diff:
 * - Kubernetes: pulumi-kubernetes replaces an object when one of its "force new" paths changes
 *   (`metadata.name`, `metadata.namespace`, and per kind: a Deployment's `spec.selector`, a Job's
 *   `spec.selector`/`spec.template`, a ConfigMap's `data`/`binaryData` and a Secret's
 *   `type`/`data`/`stringData` (immutable by default), a Service's `spec.clusterIP`/`spec.type`, a
 *   RoleBinding's `roleRef`): pulumi/pulumi-kubernetes `provider/pkg/provider/diff.go` (`forceNew`).
 *   Objects written by a render provider (`renderYamlToDirectory`, Argo CD delivery) only rewrite a
 *   file: they are shown as updates.
 * - AWS: the fields the Terraform AWS provider marks "Forces new resource" for the resources this
 *   program creates (a resource's own name, an EKS cluster's role, a node group's instance types,
 *   capacity type, disk size, subnets and node role, an ElastiCache group's id and subnet group).
 * - random: every argument of `random.RandomPassword` forces a new password.
 * - Any resource whose provider changes is replaced.
 * A protected resource (`protect: true`) that would be replaced or deleted is flagged: the engine
 * refuses the operation.
 */

import type { RegisteredResource } from "./mock-runtime";

/** One resource as synth records it in `resources.json`: the mock runtime's record of a registration. */
export type PlannedResource = RegisteredResource;

export type Action = "create" | "update" | "replace" | "delete";

/** One changed field; `undefined` means absent on that side. */
export interface FieldChange {
    path: string;
    before?: unknown;
    after?: unknown;
}

export interface PlanStep {
    action: Action;
    urn: string;
    /** `Rollout frontend/pc-web` for Kubernetes objects, `aws:eks/nodeGroup:NodeGroup frontend-production-worker` otherwise. */
    label: string;
    /** The app the resource belongs to (its `app.kubernetes.io/name`, else the nearest component). */
    app: string;
    changes: FieldChange[];
    /** Why the engine would replace it (field paths or "provider"). */
    replaceReasons: string[];
    protected: boolean;
    /** A Kubernetes object written to a file by a render provider (Argo CD delivery). */
    rendered: boolean;
}

export interface Plan {
    steps: PlanStep[];
    unchanged: number;
}

const KUBE_TYPE = /^kubernetes:(?:([\w.-]+)\/)?(v[\w]+):(\w+)$/;

/** pulumi-kubernetes' force-new paths per `group/version/Kind` (provider/pkg/provider/diff.go). */
const KUBE_FORCE_NEW: Record<string, string[]> = {
    "apps/v1/Deployment": ["spec.selector"],
    "apps/v1/StatefulSet": [
        "spec.podManagementPolicy",
        "spec.revisionHistoryLimit",
        "spec.selector",
        "spec.serviceName",
        "spec.volumeClaimTemplates",
    ],
    "batch/v1/Job": ["spec.selector", "spec.template"],
    "core/v1/ConfigMap": ["binaryData", "data"],
    "core/v1/Secret": ["type", "stringData", "data"],
    "core/v1/Service": ["spec.clusterIP", "spec.type"],
    "core/v1/PersistentVolumeClaim": ["spec"],
    "rbac.authorization.k8s.io/v1/RoleBinding": ["roleRef"],
    "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ["roleRef"],
    "storage.k8s.io/v1/StorageClass": ["parameters", "provisioner"],
};

/** Terraform AWS provider "Forces new resource" fields of the AWS resources this program creates. */
const AWS_FORCE_NEW: Record<string, string[]> = {
    "aws:eks/cluster:Cluster": ["roleArn"],
    "aws:eks/nodeGroup:NodeGroup": [
        "clusterName",
        "nodeGroupName",
        "nodeGroupNamePrefix",
        "nodeRoleArn",
        "subnetIds",
        "instanceTypes",
        "capacityType",
        "diskSize",
        "amiType",
    ],
    "aws:elasticache/replicationGroup:ReplicationGroup": ["replicationGroupId", "subnetGroupName", "engine"],
    "aws:elasticache/subnetGroup:SubnetGroup": ["name"],
    "aws:ec2/securityGroup:SecurityGroup": ["name", "namePrefix", "description", "vpcId"],
    "aws:eks/accessEntry:AccessEntry": ["clusterName", "principalArn"],
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": ["clusterName", "principalArn", "policyArn"],
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ["role", "policyArn"],
};

/** Every AWS resource is replaced when its own name changes. */
const AWS_NAME_FIELDS = ["name", "namePrefix"];

function isRecord(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Elements matched by their `name` when every element has a distinct one (containers, ports, env). */
function namedElements(list: unknown[]): Map<string, unknown> | undefined {
    const byName = new Map<string, unknown>();
    for (const item of list) {
        if (!isRecord(item) || typeof item.name !== "string" || byName.has(item.name)) {
            return undefined;
        }
        byName.set(item.name, item);
    }
    return byName;
}

function equal(a: unknown, b: unknown): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
}

/** Every leaf that differs between `before` and `after`, with a readable path (`containers[app].image`). */
export function diffValues(before: unknown, after: unknown, path = "", out: FieldChange[] = []): FieldChange[] {
    if (equal(before, after)) {
        return out;
    }
    // Keys that are not identifiers (label names such as `app.kubernetes.io/version`) are quoted.
    const join = (key: string) =>
        /^[A-Za-z_$][\w$-]*$/.test(key) ? (path === "" ? key : `${path}.${key}`) : `${path}[${JSON.stringify(key)}]`;
    if (isRecord(before) && isRecord(after)) {
        const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
        for (const key of keys) {
            diffValues(before[key], after[key], join(key), out);
        }
        return out;
    }
    if (Array.isArray(before) && Array.isArray(after)) {
        const oldNamed = namedElements(before);
        const newNamed = namedElements(after);
        if (oldNamed !== undefined && newNamed !== undefined && before.length > 0 && after.length > 0) {
            const names = [...new Set([...oldNamed.keys(), ...newNamed.keys()])];
            for (const name of names) {
                diffValues(oldNamed.get(name), newNamed.get(name), `${path}[${name}]`, out);
            }
            return out;
        }
        if (before.length === after.length) {
            before.forEach((item, i) => diffValues(item, after[i], `${path}[${i}]`, out));
            return out;
        }
    }
    out.push({ path, before, after });
    return out;
}

/** Whether `path` (a diff path) lies at or under a dotted force-new field. */
function under(path: string, field: string): boolean {
    return path === field || path.startsWith(`${field}.`) || path.startsWith(`${field}[`);
}

function kubeKey(type: string): string | undefined {
    const match = KUBE_TYPE.exec(type);
    return match === null ? undefined : `${match[1] ?? "core"}/${match[2]}/${match[3]}`;
}

/** The fields among `changes` that make the engine replace a resource of `type`. */
export function replacementFields(type: string, changes: FieldChange[]): string[] {
    const inputPaths = changes.map((c) => c.path);
    const kube = kubeKey(type);
    let fields: string[];
    if (kube !== undefined) {
        fields = ["metadata.name", "metadata.namespace", ...(KUBE_FORCE_NEW[kube] ?? [])];
    } else if (type.startsWith("aws:")) {
        fields = [...AWS_NAME_FIELDS, ...(AWS_FORCE_NEW[type] ?? [])];
    } else if (type === "random:index/randomPassword:RandomPassword") {
        return inputPaths.length > 0 ? [...new Set(inputPaths.map((p) => p.split(/[.[]/)[0]))].sort() : [];
    } else {
        return [];
    }
    return fields.filter((field) => inputPaths.some((p) => under(p, field)));
}

function labelOf(resource: PlannedResource): string {
    if (kubeKey(resource.type) !== undefined && isRecord(resource.inputs.metadata)) {
        const metadata = resource.inputs.metadata;
        const kind = String(resource.inputs.kind ?? resource.type.split(":").pop());
        const name = String(metadata.name ?? resource.name);
        return typeof metadata.namespace === "string" ? `${kind} ${metadata.namespace}/${name}` : `${kind} ${name}`;
    }
    return `${resource.type} ${resource.name}`;
}

function appOf(resource: PlannedResource, byUrn: Map<string, PlannedResource>): string {
    const metadata = resource.inputs.metadata;
    if (isRecord(metadata) && isRecord(metadata.labels) && typeof metadata.labels["app.kubernetes.io/name"] === "string") {
        return metadata.labels["app.kubernetes.io/name"];
    }
    // The nearest component above it: the service, the gateway, the cluster, ...
    let parent = resource.parent === undefined ? undefined : byUrn.get(resource.parent);
    while (parent !== undefined) {
        if (!parent.custom && parent.type !== "pulumi:pulumi:Stack") {
            return parent.name;
        }
        parent = parent.parent === undefined ? undefined : byUrn.get(parent.parent);
    }
    return "stack";
}

function isRendered(resource: PlannedResource, byUrn: Map<string, PlannedResource>): boolean {
    const provider = resource.provider === undefined ? undefined : byUrn.get(resource.provider.split("::").slice(0, 4).join("::"));
    return provider !== undefined && typeof provider.inputs.renderYamlToDirectory === "string";
}

/** The recorded options that belong in a diff besides the inputs. */
function options(resource: PlannedResource): Record<string, unknown> {
    return { protect: resource.protect, ignoreChanges: resource.ignoreChanges, deleteBeforeReplace: resource.deleteBeforeReplace };
}

/** The plan from `before` to `after`, steps in a stable order (app, then label). */
export function planResources(before: PlannedResource[], after: PlannedResource[]): Plan {
    const oldByUrn = new Map(before.map((r) => [r.urn, r]));
    const newByUrn = new Map(after.map((r) => [r.urn, r]));
    const steps: PlanStep[] = [];
    let unchanged = 0;
    for (const resource of after) {
        const old = oldByUrn.get(resource.urn);
        const rendered = isRendered(resource, newByUrn);
        if (old === undefined) {
            steps.push({
                action: "create",
                urn: resource.urn,
                label: labelOf(resource),
                app: appOf(resource, newByUrn),
                changes: [],
                replaceReasons: [],
                protected: resource.protect,
                rendered,
            });
            continue;
        }
        const changes = [
            ...diffValues(old.inputs, resource.inputs),
            ...diffValues(options(old), options(resource)).map((c) => ({ ...c, path: `(option) ${c.path}` })),
        ];
        const providerChanged = (old.provider ?? "") !== (resource.provider ?? "");
        if (changes.length === 0 && !providerChanged) {
            unchanged++;
            continue;
        }
        const reasons = [...replacementFields(resource.type, changes), ...(providerChanged ? ["provider"] : [])];
        if (providerChanged) {
            changes.push({ path: "(option) provider", before: old.provider, after: resource.provider });
        }
        steps.push({
            action: reasons.length > 0 && !rendered ? "replace" : "update",
            urn: resource.urn,
            label: labelOf(resource),
            app: appOf(resource, newByUrn),
            changes,
            replaceReasons: rendered ? [] : reasons,
            protected: old.protect || resource.protect,
            rendered,
        });
    }
    for (const resource of before) {
        if (!newByUrn.has(resource.urn)) {
            steps.push({
                action: "delete",
                urn: resource.urn,
                label: labelOf(resource),
                app: appOf(resource, oldByUrn),
                changes: [],
                replaceReasons: [],
                protected: resource.protect,
                rendered: isRendered(resource, oldByUrn),
            });
        }
    }
    steps.sort((a, b) => (a.app === b.app ? (a.label < b.label ? -1 : a.label > b.label ? 1 : 0) : a.app < b.app ? -1 : 1));
    return { steps, unchanged };
}

/* ------------------------------------------------------------------ formatting */

const SYMBOL: Record<Action, string> = { create: "+", update: "~", replace: "+-", delete: "-" };
const ACTIONS: Action[] = ["create", "update", "replace", "delete"];

export function counts(plan: Plan): Record<Action, number> {
    const result: Record<Action, number> = { create: 0, update: 0, replace: 0, delete: 0 };
    for (const step of plan.steps) {
        result[step.action]++;
    }
    return result;
}

export function summaryLine(plan: Plan): string {
    const c = counts(plan);
    return `${c.create} to create, ${c.update} to update, ${c.replace} to replace, ${c.delete} to delete; ${plan.unchanged} unchanged`;
}

/** Steps the reader must look at: replacements and deletions (protected or not), updates of protected resources. */
export function warnings(plan: Plan): string[] {
    const lines: string[] = [];
    for (const step of plan.steps) {
        if (step.protected && (step.action === "replace" || step.action === "delete")) {
            lines.push(`${step.action} of protected ${step.label}: pulumi up refuses it (protect: true)`);
        } else if (step.action === "replace") {
            lines.push(`replace ${step.label} (${step.replaceReasons.join(", ")})`);
        } else if (step.action === "delete" && !step.rendered) {
            lines.push(`delete ${step.label}`);
        } else if (step.protected && step.action === "update") {
            lines.push(`update of protected ${step.label}`);
        }
    }
    return lines;
}

function short(value: unknown, max = 100): string {
    if (value === undefined) {
        return "(absent)";
    }
    const text = JSON.stringify(value);
    return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A line diff of two multi-line strings (longest common subsequence), `-`/`+` lines only. */
export function lineDiff(before: string, after: string): string[] {
    const a = before.split("\n");
    const b = after.split("\n");
    const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
    for (let i = a.length - 1; i >= 0; i--) {
        for (let j = b.length - 1; j >= 0; j--) {
            lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
        }
    }
    const out: string[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
        if (i < a.length && j < b.length && a[i] === b[j]) {
            i++;
            j++;
        } else if (i < a.length && (j === b.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
            out.push(`- ${a[i++]}`);
        } else {
            out.push(`+ ${b[j++]}`);
        }
    }
    return out;
}

/** The changed fields of one step, one line each (multi-line strings as a line diff below their path). */
export function changeLines(step: PlanStep, maxFields = Infinity): string[] {
    const lines: string[] = [];
    for (const change of step.changes.slice(0, maxFields)) {
        if (typeof change.before === "string" && typeof change.after === "string" && (change.before + change.after).includes("\n")) {
            const diff = lineDiff(change.before, change.after);
            lines.push(`${change.path}: ${diff.length} line${diff.length === 1 ? "" : "s"} changed`);
            if (maxFields === Infinity) {
                lines.push(...diff.map((l) => `    ${l}`));
            }
        } else {
            lines.push(`${change.path}: ${short(change.before)} -> ${short(change.after)}`);
        }
    }
    if (step.changes.length > maxFields) {
        lines.push(`… and ${step.changes.length - maxFields} more field${step.changes.length - maxFields === 1 ? "" : "s"}`);
    }
    return lines;
}

function stepHeader(step: PlanStep): string {
    const notes = [
        ...(step.action === "replace" ? [`replace: ${step.replaceReasons.join(", ")}`] : []),
        ...(step.protected ? ["protected"] : []),
        ...(step.rendered ? ["rendered file"] : []),
    ];
    return `${SYMBOL[step.action]} ${step.label}${notes.length > 0 ? ` [${notes.join("; ")}]` : ""}`;
}

function byApp(plan: Plan): Map<string, PlanStep[]> {
    const groups = new Map<string, PlanStep[]>();
    for (const step of plan.steps) {
        groups.set(step.app, [...(groups.get(step.app) ?? []), step]);
    }
    return groups;
}

/** The plan as a terminal shows it: grouped by app, a few fields per resource. */
export function formatText(plan: Plan, title: string, maxFields = 8): string {
    const lines = [title, `  ${summaryLine(plan)}`];
    for (const warning of warnings(plan)) {
        lines.push(`  ! ${warning}`);
    }
    for (const [app, steps] of byApp(plan)) {
        lines.push("", `${app} (${steps.length})`);
        for (const step of steps) {
            lines.push(`  ${stepHeader(step)}`);
            lines.push(...changeLines(step, maxFields).map((l) => `      ${l}`));
        }
    }
    return `${lines.join("\n")}\n`;
}

/** GitHub caps a comment at 65,536 characters; the folded diff is cut well below that. */
const MARKDOWN_DETAILS_LIMIT = 50_000;

/** The plan as a pull-request comment: counts per app, warnings, and the full diff folded. */
export function formatMarkdown(plan: Plan, title: string): string {
    const c = counts(plan);
    const lines = [`### ${title}`, "", `**${summaryLine(plan)}**`, ""];
    const notes = warnings(plan);
    if (notes.length > 0) {
        lines.push("> [!WARNING]", ...notes.map((n) => `> - ${n.replace(/`/g, "'")}`), "");
    }
    if (plan.steps.length === 0) {
        lines.push("No changes.");
        return `${lines.join("\n")}\n`;
    }
    lines.push(`| app | ${ACTIONS.join(" | ")} |`, `|---|${ACTIONS.map(() => "---:").join("|")}|`);
    for (const [app, steps] of byApp(plan)) {
        const n = (a: Action) => steps.filter((s) => s.action === a).length;
        lines.push(`| ${app} | ${ACTIONS.map(n).join(" | ")} |`);
    }
    lines.push(`| **all** | ${ACTIONS.map((a) => `**${c[a]}**`).join(" | ")} |`, "");
    const details: string[] = [];
    for (const [app, steps] of byApp(plan)) {
        details.push(`# ${app}`);
        for (const step of steps) {
            details.push(stepHeader(step), ...changeLines(step).map((l) => `    ${l}`));
        }
    }
    let body = details.join("\n");
    if (body.length > MARKDOWN_DETAILS_LIMIT) {
        body = `${body.slice(0, MARKDOWN_DETAILS_LIMIT)}\n… cut at ${MARKDOWN_DETAILS_LIMIT} characters: run npm run plan locally for the rest`;
    }
    lines.push(
        "<details><summary>Changed resources and fields</summary>",
        "",
        "```diff",
        body.replace(/```/g, "'''"),
        "```",
        "",
        "</details>",
    );
    return `${lines.join("\n")}\n`;
}

/**
 * The platform's policies as plain functions over a resource's type, name, inputs and `protect`
 * flag. The CrossGuard pack (index.ts) wraps them for `pulumi preview --policy-pack policy`, and
 * the tests run them over the recorded resources of every committed stack, so a violation fails
 * `npm test` with the resource named.
 *
 * Kubernetes objects are read from their inputs (`apiVersion`, `kind`, `metadata`, `spec`): every
 * pod template (Deployment, StatefulSet, DaemonSet, Job, CronJob, Argo Rollout, Pod) and the
 * sidecars an IstioOperator's overlays add to the gateway Istio renders.
 */
import { DIGEST_PENDING, UIDS } from "../components/config";
import { ADDON_NAMESPACE_COMPONENT, HIGH_ID_FLOOR } from "../components/shared";

/** One resource as the rules see it. */
export interface CheckedResource {
    /** Pulumi type token, e.g. `kubernetes:apps/v1:Deployment`. */
    type: string;
    /** Pulumi logical name. */
    name: string;
    inputs: Record<string, unknown>;
    protect: boolean;
}

export interface ResourceRule {
    name: string;
    description: string;
    /** The violations of one resource, as sentences naming the container or field. */
    check(resource: CheckedResource): string[];
}

export interface StackRule {
    name: string;
    description: string;
    /** The violations over every resource of the stack, each with the resource it concerns. */
    check(resources: CheckedResource[]): { resource: CheckedResource; message: string }[];
}

/** A violation with the policy and the resource: `policy: type name: message`. */
export interface Violation {
    policy: string;
    resource: string;
    message: string;
}

type Obj = Record<string, unknown>;

function obj(value: unknown): Obj {
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Obj) : {};
}

function list(value: unknown): Obj[] {
    return Array.isArray(value) ? value.map(obj) : [];
}

function str(value: unknown): string | undefined {
    return typeof value === "string" ? value : undefined;
}

/** A pod spec found in a resource's inputs, and where. */
interface PodSpecAt {
    where: string;
    spec: Obj;
}

const TEMPLATE_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Rollout"]);

/** Every pod spec a Kubernetes object defines (none for other resources). */
function podSpecs(resource: CheckedResource): PodSpecAt[] {
    if (!resource.type.startsWith("kubernetes:")) {
        return [];
    }
    const kind = str(resource.inputs.kind);
    const spec = obj(resource.inputs.spec);
    if (kind === "Pod") {
        return [{ where: "pod", spec }];
    }
    if (kind !== undefined && TEMPLATE_KINDS.has(kind)) {
        return spec.template === undefined ? [] : [{ where: "pod template", spec: obj(obj(spec.template).spec) }];
    }
    if (kind === "CronJob") {
        return [{ where: "job template", spec: obj(obj(obj(obj(spec.jobTemplate).spec).template).spec) }];
    }
    if (kind === "IstioOperator") {
        // The sidecars, init containers and pod settings the overlays add to Istio's gateway Deployment.
        return list(obj(spec.components).ingressGateways).map((gateway) => {
            const k8s = obj(gateway.k8s);
            const patches = list(k8s.overlays).flatMap((overlay) => list(overlay.patches));
            const value = (path: string) => patches.filter((p) => p.path === path).map((p) => p.value);
            return {
                where: `ingress gateway ${str(gateway.name) ?? "?"}`,
                spec: {
                    containers: value("spec.template.spec.containers[-1]"),
                    initContainers: value("spec.template.spec.initContainers").flatMap((v) => (Array.isArray(v) ? v : [])),
                    securityContext: k8s.securityContext,
                    automountServiceAccountToken: value("spec.template.spec.automountServiceAccountToken")[0],
                },
            };
        });
    }
    return [];
}

interface ContainerAt {
    name: string;
    init: boolean;
    container: Obj;
    pod: Obj;
}

function containersOf(at: PodSpecAt): ContainerAt[] {
    return [
        ...list(at.spec.initContainers).map((container) => ({ name: str(container.name) ?? "?", init: true, container, pod: at.spec })),
        ...list(at.spec.containers).map((container) => ({ name: str(container.name) ?? "?", init: false, container, pod: at.spec })),
    ];
}

function describe(c: ContainerAt): string {
    return `${c.init ? "init container" : "container"} ${c.name}`;
}

/**
 * istio-proxy declared for istiod's injector (`image: auto`): the injector replaces the image with
 * the control plane's pinned proxy image, so its image is not ours to pin.
 */
function isInjectedProxy(c: ContainerAt): boolean {
    return c.name === "istio-proxy" && str(c.container.image) === "auto";
}

/**
 * The one root container allowed: an init container holding only CHOWN (every other capability
 * dropped, no escalation, read-only root), which gives a hostPath directory to the pod's user
 * (components/ingress-gateway/render.ts says why it cannot be avoided).
 */
function isChownOnlyInit(c: ContainerAt): boolean {
    const security = obj(c.container.securityContext);
    const capabilities = obj(security.capabilities);
    const add = Array.isArray(capabilities.add) ? capabilities.add : [];
    const drop = Array.isArray(capabilities.drop) ? capabilities.drop : [];
    return (
        c.init &&
        add.length === 1 &&
        add[0] === "CHOWN" &&
        drop.includes("ALL") &&
        security.allowPrivilegeEscalation === false &&
        security.readOnlyRootFilesystem === true
    );
}

function perContainer(resource: CheckedResource, check: (c: ContainerAt, at: PodSpecAt) => string[]): string[] {
    return podSpecs(resource).flatMap((at) => containersOf(at).flatMap((c) => check(c, at).map((m) => `${at.where}: ${describe(c)} ${m}`)));
}

const noPrivilegedContainers: ResourceRule = {
    name: "no-privileged-containers",
    description: "No privileged container, no privilege escalation, every capability dropped, no host namespaces.",
    check: (resource) => [
        ...podSpecs(resource).flatMap((at) =>
            ["hostNetwork", "hostPID", "hostIPC"].filter((field) => at.spec[field] === true).map((field) => `${at.where}: sets ${field}`),
        ),
        ...perContainer(resource, (c) => {
            const security = obj(c.container.securityContext);
            const capabilities = obj(security.capabilities);
            const drop = Array.isArray(capabilities.drop) ? capabilities.drop : [];
            const add = Array.isArray(capabilities.add) ? capabilities.add : [];
            const problems: string[] = [];
            if (security.privileged === true) {
                problems.push("is privileged");
            }
            if (security.allowPrivilegeEscalation !== false) {
                problems.push("does not set allowPrivilegeEscalation: false");
            }
            if (!drop.includes("ALL")) {
                problems.push("does not drop ALL capabilities");
            }
            if (add.length > 0 && !isChownOnlyInit(c)) {
                problems.push(`adds capabilities ${add.join(", ")}`);
            }
            return problems;
        }),
    ],
};

const requestsAndLimits: ResourceRule = {
    name: "requests-and-limits",
    description:
        "Every container requests CPU and memory and has a memory limit (a CPU limit is optional: it throttles, and the request already reserves the CPU).",
    check: (resource) =>
        perContainer(resource, (c) => {
            const resources = obj(c.container.resources);
            const requests = obj(resources.requests);
            const limits = obj(resources.limits);
            return [
                ...(requests.cpu === undefined ? ["has no requests.cpu"] : []),
                ...(requests.memory === undefined ? ["has no requests.memory"] : []),
                ...(limits.memory === undefined ? ["has no limits.memory"] : []),
            ];
        }),
};

/** `repository[:tag][@digest]` split; the tag is after the last ':' of the last path segment. */
export function parseImage(image: string): { repository: string; tag?: string; digest?: string } {
    const [name, digest] = image.split("@");
    const slash = name.lastIndexOf("/");
    const colon = name.lastIndexOf(":");
    return colon > slash
        ? { repository: name.slice(0, colon), tag: name.slice(colon + 1), digest }
        : { repository: name, tag: undefined, digest };
}

/** The team's own images: ECR repositories of an AWS account, whose tags are immutable. */
const OWN_REGISTRY = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\//;

const noLatestTag: ResourceRule = {
    name: "no-latest-tag",
    description: "Every image names a version: a tag other than `latest` (no tag means `latest`).",
    check: (resource) =>
        perContainer(resource, (c) => {
            if (isInjectedProxy(c)) {
                return [];
            }
            const image = str(c.container.image);
            if (image === undefined) {
                return ["has no image"];
            }
            const { tag } = parseImage(image);
            return tag === undefined || tag === "latest" ? [`uses ${image}: name a version tag, not latest`] : [];
        }),
};

const thirdPartyImageDigest: ResourceRule = {
    name: "third-party-image-digest",
    description:
        "Every image from outside the team's ECR repositories is pinned by tag and digest (`name:tag@sha256:…`), unless listed in DIGEST_PENDING with its reason.",
    check: (resource) =>
        perContainer(resource, (c) => {
            const image = str(c.container.image);
            if (image === undefined || isInjectedProxy(c) || OWN_REGISTRY.test(image)) {
                return [];
            }
            const { repository, tag, digest } = parseImage(image);
            if (digest !== undefined && /^sha256:[0-9a-f]{64}$/.test(digest) && tag !== undefined) {
                return [];
            }
            if (digest === undefined && DIGEST_PENDING[`${repository}:${tag}`] !== undefined) {
                return [];
            }
            return [`uses ${image}: pin third-party images as name:tag@sha256:<digest> (components/config IMAGES)`];
        }),
};

/** Resources whose loss loses data or the cluster: deleting one takes `pulumi state unprotect` first. */
export const STATEFUL_TYPES = [
    "aws:eks/cluster:Cluster",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:elasticache/cluster:Cluster",
    "aws:kms/key:Key",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:rds/cluster:Cluster",
    "aws:rds/instance:Instance",
    "aws:dynamodb/table:Table",
];

const protectedStatefulResources: ResourceRule = {
    name: "protected-stateful-resources",
    description: "The EKS cluster, ElastiCache, KMS keys, buckets and databases are registered with `protect: true`.",
    check: (resource) => (STATEFUL_TYPES.includes(resource.type) && !resource.protect ? ["is stateful and not protected"] : []),
};

const nonRoot: ResourceRule = {
    name: "non-root",
    description: `Every container runs as non-root with an explicit uid and gid of at least ${HIGH_ID_FLOOR} (istio-proxy: ${UIDS.istioProxy}), a read-only root filesystem and the RuntimeDefault seccomp profile; the one exception is an init container that only holds CHOWN.`,
    check: (resource) =>
        perContainer(resource, (c, at) => {
            if (isChownOnlyInit(c)) {
                return [];
            }
            const security = obj(c.container.securityContext);
            const pod = obj(at.spec.securityContext);
            const effective = (field: string) => (security[field] !== undefined ? security[field] : pod[field]);
            const floor = isInjectedProxy(c) ? UIDS.istioProxy : HIGH_ID_FLOOR;
            const problems: string[] = [];
            if (effective("runAsNonRoot") !== true) {
                problems.push("does not set runAsNonRoot: true");
            }
            for (const field of ["runAsUser", "runAsGroup"]) {
                const id = effective(field);
                if (typeof id !== "number") {
                    problems.push(`has no explicit ${field} (the image would decide)`);
                } else if (id < floor) {
                    problems.push(`runs with ${field} ${id}, below ${floor}`);
                }
            }
            if (security.readOnlyRootFilesystem !== true) {
                problems.push("does not set readOnlyRootFilesystem: true");
            }
            if (str(obj(effective("seccompProfile")).type) !== "RuntimeDefault") {
                problems.push("has no RuntimeDefault seccomp profile");
            }
            return problems;
        }),
};

const noAutomountedToken: ResourceRule = {
    name: "no-automounted-token",
    description:
        "No pod and no ServiceAccount mounts an API token automatically: nothing this program runs reads the Kubernetes API (istio-proxy uses its own projected istio-token).",
    check: (resource) => {
        const problems = podSpecs(resource)
            .filter((at) => at.spec.automountServiceAccountToken !== false)
            .map((at) => `${at.where}: does not set automountServiceAccountToken: false`);
        if (resource.type === "kubernetes:core/v1:ServiceAccount" && resource.inputs.automountServiceAccountToken !== false) {
            problems.push("does not set automountServiceAccountToken: false");
        }
        return problems;
    },
};

export const RESOURCE_RULES: ResourceRule[] = [
    noPrivilegedContainers,
    requestsAndLimits,
    noLatestTag,
    thirdPartyImageDigest,
    protectedStatefulResources,
    nonRoot,
    noAutomountedToken,
];

function isDefaultDenyIngress(inputs: Obj): boolean {
    const spec = obj(inputs.spec);
    const selector = obj(spec.podSelector);
    const selectsAll = Object.keys(obj(selector.matchLabels)).length === 0 && list(selector.matchExpressions).length === 0;
    const types = Array.isArray(spec.policyTypes) ? spec.policyTypes : ["Ingress"];
    return selectsAll && types.includes("Ingress") && list(spec.ingress).length === 0;
}

const defaultDenyPerNamespace: StackRule = {
    name: "default-deny-ingress-per-namespace",
    description:
        "Every namespace the stack creates for its own workloads has a NetworkPolicy that selects all its pods and allows no ingress (add-on namespaces hold the charts' pods, whose ingress the charts define).",
    check: (resources) => {
        const denied = new Set(
            resources
                .filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" && isDefaultDenyIngress(r.inputs))
                .map((r) => str(obj(r.inputs.metadata).namespace)),
        );
        const addonNamespace = (r: CheckedResource) =>
            str(obj(obj(r.inputs.metadata).labels)["app.kubernetes.io/component"]) === ADDON_NAMESPACE_COMPONENT;
        return resources
            .filter((r) => r.type === "kubernetes:core/v1:Namespace" && !addonNamespace(r) && !denied.has(str(obj(r.inputs.metadata).name)))
            .map((resource) => ({
                resource,
                message: `namespace ${str(obj(resource.inputs.metadata).name) ?? "?"} has no default-deny ingress NetworkPolicy`,
            }));
    },
};

export const STACK_RULES: StackRule[] = [defaultDenyPerNamespace];

/** Every violation of every rule over a stack's resources, in rule then resource order. */
export function evaluatePolicies(resources: CheckedResource[]): Violation[] {
    const label = (r: CheckedResource) => `${r.type} ${r.name}`;
    return [
        ...RESOURCE_RULES.flatMap((rule) =>
            resources.flatMap((r) => rule.check(r).map((message) => ({ policy: rule.name, resource: label(r), message }))),
        ),
        ...STACK_RULES.flatMap((rule) =>
            rule.check(resources).map((v) => ({ policy: rule.name, resource: label(v.resource), message: v.message })),
        ),
    ];
}

/**
 * NetworkPolicy objects as plain data, and an evaluator of what a set of them allows.
 *
 * The builders write `networking.k8s.io/v1` NetworkPolicies for ingress only. The evaluator applies
 * the API's documented semantics (kubernetes.io/docs/concepts/services-networking/network-policies/):
 * a pod selected by no policy with `Ingress` in its `policyTypes` accepts everything; a selected pod
 * accepts a connection when one rule of one selecting policy matches both its source and its port;
 * rules only ever add. Traffic from the pod's own node (kubelet probes) is always allowed, as the
 * Amazon VPC CNI's network policy agent does (aws/aws-network-policy-agent#65: the node IP is
 * always allowed so liveness and readiness probes keep working).
 */
import type { KubeObject } from "./kube";
import { Labels, sortKeys } from "./labels";

/** Label every namespace carries with its own name (Kubernetes 1.22+, immutable). */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

export interface LabelSelectorRequirement {
    key: string;
    operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    values?: string[];
}

export interface LabelSelector {
    matchLabels?: Labels;
    matchExpressions?: LabelSelectorRequirement[];
}

export interface NetworkPolicyPeer {
    podSelector?: LabelSelector;
    namespaceSelector?: LabelSelector;
    ipBlock?: { cidr: string; except?: string[] };
}

export interface NetworkPolicyPort {
    protocol?: "TCP" | "UDP" | "SCTP";
    /** A number, or the name of a container port of the selected pods. Absent: every port. */
    port?: number | string;
    endPort?: number;
}

export interface IngressRule {
    /** Absent or empty: every source, inside and outside the cluster. */
    from?: NetworkPolicyPeer[];
    /** Absent or empty: every port. */
    ports?: NetworkPolicyPort[];
}

export interface NetworkPolicySpec {
    podSelector: LabelSelector;
    policyTypes?: ("Ingress" | "Egress")[];
    ingress?: IngressRule[];
    egress?: unknown[];
}

/** A NetworkPolicy as plain data. */
export interface NetworkPolicyObject extends KubeObject {
    spec: NetworkPolicySpec;
}

/** Name of the default-deny policy in every namespace this program creates. */
export const DEFAULT_DENY_INGRESS = "default-deny-ingress";

/**
 * Selects every pod of the namespace and allows no ingress: a pod accepts only what another
 * policy allows it. Egress is not restricted (see the policies' README section for why).
 */
export function defaultDenyIngress(namespace: string, labels: Labels): NetworkPolicyObject {
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: DEFAULT_DENY_INGRESS, namespace, labels },
        spec: { podSelector: {}, policyTypes: ["Ingress"] },
    };
}

/** A policy that lets the pods of `podSelector` accept what `rules` describe. */
export function allowIngress(args: {
    name: string;
    namespace: string;
    labels: Labels;
    podSelector: LabelSelector;
    rules: IngressRule[];
}): NetworkPolicyObject {
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: args.name, namespace: args.namespace, labels: args.labels },
        spec: { podSelector: args.podSelector, policyTypes: ["Ingress"], ingress: args.rules },
    };
}

/** The pods labelled `podLabels` in the namespace named `namespace`. */
export function podsInNamespace(namespace: string, podLabels: Labels): NetworkPolicyPeer {
    return { namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } }, podSelector: { matchLabels: sortKeys(podLabels) } };
}

/** Every pod of the namespaces labelled `namespaceLabels`. */
export function podsInNamespacesLabelled(namespaceLabels: Labels): NetworkPolicyPeer {
    return { namespaceSelector: { matchLabels: sortKeys(namespaceLabels) } };
}

/** TCP ports, by number or container port name. */
export function tcpPorts(...ports: (number | string)[]): NetworkPolicyPort[] {
    return ports.map((port) => ({ protocol: "TCP", port }));
}

/** Whether `labels` satisfy `selector`; an empty selector matches everything. */
export function selectorMatches(selector: LabelSelector, labels: Labels): boolean {
    for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
        if (labels[key] !== value) {
            return false;
        }
    }
    for (const requirement of selector.matchExpressions ?? []) {
        const present = Object.prototype.hasOwnProperty.call(labels, requirement.key);
        // Stryker disable next-line ArrayDeclaration: equivalent for valid selectors, the API server requires values with In and NotIn.
        const values = requirement.values ?? [];
        const ok =
            requirement.operator === "In"
                ? present && values.includes(labels[requirement.key])
                : requirement.operator === "NotIn"
                  ? !present || !values.includes(labels[requirement.key])
                  : requirement.operator === "Exists"
                    ? present
                    : !present;
        if (!ok) {
            return false;
        }
    }
    return true;
}

/** A pod as the evaluator sees it. */
export interface PodEndpoint {
    kind: "pod";
    namespace: string;
    /** Labels of the namespace; `kubernetes.io/metadata.name` is added. */
    namespaceLabels?: Labels;
    labels: Labels;
}

/** Where a connection comes from: a pod, the destination's own node (kubelet), or outside the cluster. */
export type ConnectionSource = PodEndpoint | { kind: "node" } | { kind: "external"; ip: string };

/** Where a connection goes: a pod and one of its ports (with the container port's name, if it has one). */
export interface ConnectionTarget {
    namespace: string;
    labels: Labels;
    port: number;
    portName?: string;
    /** Default TCP. */
    protocol?: "TCP" | "UDP" | "SCTP";
}

function ipv4(address: string): number {
    const parts = address.split(".").map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
        throw new RangeError(`not an IPv4 address: ${address}`);
    }
    return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

function inCidr(ip: string, cidr: string): boolean {
    const [base, bits] = cidr.split("/");
    const prefix = Number(bits);
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    return (ipv4(ip) & mask) >>> 0 === (ipv4(base) & mask) >>> 0;
}

function peerMatches(peer: NetworkPolicyPeer, policyNamespace: string, source: ConnectionSource): boolean {
    if (peer.ipBlock !== undefined) {
        // Pod IPs are not matched here: ipBlock is meant for addresses outside the cluster.
        return (
            source.kind === "external" &&
            inCidr(source.ip, peer.ipBlock.cidr) &&
            !(peer.ipBlock.except ?? []).some((cidr) => inCidr(source.ip, cidr))
        );
    }
    if (source.kind !== "pod") {
        return false;
    }
    const namespaceLabels = { ...source.namespaceLabels, [NAMESPACE_NAME_LABEL]: source.namespace };
    const namespaceOk =
        peer.namespaceSelector === undefined
            ? source.namespace === policyNamespace
            : selectorMatches(peer.namespaceSelector, namespaceLabels);
    const podOk = peer.podSelector === undefined || selectorMatches(peer.podSelector, source.labels);
    return namespaceOk && podOk;
}

function portMatches(port: NetworkPolicyPort, target: ConnectionTarget): boolean {
    if ((port.protocol ?? "TCP") !== (target.protocol ?? "TCP")) {
        return false;
    }
    if (port.port === undefined) {
        return true;
    }
    if (typeof port.port === "string") {
        return target.portName === port.port;
    }
    return port.endPort === undefined ? target.port === port.port : target.port >= port.port && target.port <= port.endPort;
}

function isIngressPolicy(spec: NetworkPolicySpec): boolean {
    // Without policyTypes, Ingress is always implied (Egress only when egress rules exist).
    return spec.policyTypes === undefined || spec.policyTypes.includes("Ingress");
}

/** Whether `policies` (every NetworkPolicy of the cluster) let `source` open a connection to `target`. */
export function ingressAllowed(policies: NetworkPolicyObject[], source: ConnectionSource, target: ConnectionTarget): boolean {
    const selecting = policies.filter(
        (policy) =>
            policy.metadata.namespace === target.namespace &&
            isIngressPolicy(policy.spec) &&
            selectorMatches(policy.spec.podSelector, target.labels),
    );
    if (selecting.length === 0 || source.kind === "node") {
        return true;
    }
    return selecting.some((policy) =>
        (policy.spec.ingress ?? []).some(
            (rule) =>
                (rule.ports === undefined || rule.ports.length === 0 || rule.ports.some((port) => portMatches(port, target))) &&
                (rule.from === undefined ||
                    rule.from.length === 0 ||
                    rule.from.some((peer) => peerMatches(peer, policy.metadata.namespace as string, source))),
        ),
    );
}

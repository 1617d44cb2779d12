import assert from "node:assert/strict";
import {
    ConnectionSource,
    ConnectionTarget,
    ingressAllowed,
    LabelSelectorRequirement,
    NetworkPolicyObject,
    selectorMatches,
} from "../components/shared";
import { RunResult } from "../cli/mock-runtime";
import { editConfig, findResource, oncePerRun, resourcesOfType, run, runStack, stackFile } from "./support/program";

/** Every NetworkPolicy a committed stack registers, as applied. */
function policiesOf(result: RunResult): NetworkPolicyObject[] {
    return resourcesOfType(result, "kubernetes:networking.k8s.io/v1:NetworkPolicy").map((r) => r.inputs as unknown as NetworkPolicyObject);
}

/** The pod template labels of a workload of a stack run. */
function podLabels(result: RunResult, type: string, name: string): Record<string, string> {
    const spec = findResource(result, type, name).inputs.spec as any;
    return (type.endsWith(":CronJob") ? spec.jobTemplate.spec.template : spec.template).metadata.labels;
}

const POLICY_LABELS = {
    app: "network-policies",
    "app.kubernetes.io/component": "network-policy",
    "app.kubernetes.io/instance": "network-policies",
    "app.kubernetes.io/managed-by": "pulumi",
    "app.kubernetes.io/name": "network-policies",
    "app.kubernetes.io/part-of": "frontend",
};

// Pods as they run in production (labels of the rendered pod templates that matter here).
const GATEWAY_POD = {
    kind: "pod",
    namespace: "frontend-gateway",
    labels: { istio: "istio-ingressgateway", app: "istio-ingressgateway" },
} as const;
const PC_WEB_POD = {
    kind: "pod",
    namespace: "frontend",
    labels: { "app.kubernetes.io/component": "bff", "app.kubernetes.io/name": "pc-web" },
} as const;
const SP_WEB_POD = {
    kind: "pod",
    namespace: "frontend",
    labels: { "app.kubernetes.io/component": "bff", "app.kubernetes.io/name": "sp-web" },
} as const;
const MIGRATION_JOB_POD = {
    kind: "pod",
    namespace: "frontend",
    labels: { "app.kubernetes.io/component": "job", "app.kubernetes.io/name": "account-web" },
} as const;
const PROMETHEUS_POD = {
    kind: "pod",
    namespace: "monitoring",
    namespaceLabels: { "frontend-platform/metrics-scraper": "true" },
    labels: { app: "prometheus" },
} as const;
const OTHER_NAMESPACE_POD = { kind: "pod", namespace: "default", labels: { app: "debug" } } as const;
const RATELIMIT_POD = {
    kind: "pod",
    namespace: "frontend-ratelimit",
    labels: { "app.kubernetes.io/name": "ratelimit", "app.kubernetes.io/instance": "ratelimit" },
} as const;
const INTERNET = { kind: "external", ip: "203.0.113.7" } as const;
const NODE = { kind: "node" } as const;

/** pc-web's nginx limiter port (the Service's target), its app port, istio-proxy's merged metrics. */
const PC_WEB_LIMITER = { ...PC_WEB_POD, port: 8079, portName: "http-limited" };
const PC_WEB_APP = { ...PC_WEB_POD, port: 3000, portName: "http" };
const PC_WEB_METRICS = { ...PC_WEB_POD, port: 15020 };
const JOB_PORT = { ...MIGRATION_JOB_POD, port: 3000, portName: "http" };
const GATEWAY_HTTPS = { ...GATEWAY_POD, port: 8443, portName: "https" };
const GATEWAY_PROXY_HTTPS = { ...GATEWAY_POD, port: 33443 };
const GATEWAY_FLUENT_BIT_METRICS = { ...GATEWAY_POD, port: 2020, portName: "http-metrics" };
const RATELIMIT_GRPC = { ...RATELIMIT_POD, port: 8081, portName: "grpc" };
const RATELIMIT_HTTP = { ...RATELIMIT_POD, port: 8080, portName: "http" };

describe("network policies", () => {
    let productionRun: RunResult;
    let production: NetworkPolicyObject[];
    let dev: NetworkPolicyObject[];
    // One program at a time: the mock runtime's settings are global to the process.
    const runs = oncePerRun(async () => [await runStack("production"), await runStack("dev")]);
    beforeEach(async () => {
        const [productionResult, devResult] = await runs();
        productionRun = productionResult;
        production = policiesOf(productionRun);
        dev = policiesOf(devResult);
    });

    it("is evaluated below with the labels the rendered pods really carry", () => {
        const subset = (labels: Record<string, string>, actual: Record<string, string>) =>
            assert.deepEqual(Object.fromEntries(Object.keys(labels).map((k) => [k, actual[k]])), labels);
        subset(GATEWAY_POD.labels, podLabels(productionRun, "kubernetes:apps/v1:Deployment", "istio-ingressgateway"));
        subset(PC_WEB_POD.labels, podLabels(productionRun, "kubernetes:argoproj.io/v1alpha1:Rollout", "pc-web"));
        subset(SP_WEB_POD.labels, podLabels(productionRun, "kubernetes:argoproj.io/v1alpha1:Rollout", "sp-web"));
        subset(MIGRATION_JOB_POD.labels, podLabels(productionRun, "kubernetes:batch/v1:Job", "account-web-db-migrate"));
        subset(MIGRATION_JOB_POD.labels, podLabels(productionRun, "kubernetes:batch/v1:CronJob", "account-web-purge-sessions"));
        subset(RATELIMIT_POD.labels, podLabels(productionRun, "kubernetes:apps/v1:Deployment", "ratelimit"));
    });

    it("denies all ingress by default in the app, gateway and rate-limit namespaces", () => {
        const denies = production.filter((p) => p.metadata.name === "default-deny-ingress");
        assert.deepEqual(
            denies.map((p) => p.metadata.namespace),
            ["frontend", "frontend-gateway", "frontend-ratelimit"],
        );
        assert.deepEqual(denies[0], {
            apiVersion: "networking.k8s.io/v1",
            kind: "NetworkPolicy",
            metadata: { name: "default-deny-ingress", namespace: "frontend", labels: POLICY_LABELS },
            spec: { podSelector: {}, policyTypes: ["Ingress"] },
        });
    });

    it("lets only the gateway pods reach the BFF pods' serving ports (by number), and scrapers their metrics", () => {
        const byName = (name: string) => production.find((p) => p.metadata.name === name);
        assert.deepEqual(byName("bff-from-gateways")?.spec, {
            podSelector: { matchLabels: { "app.kubernetes.io/component": "bff" } },
            policyTypes: ["Ingress"],
            ingress: [
                {
                    from: [
                        {
                            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "frontend-gateway" } },
                            podSelector: { matchLabels: { istio: "istio-ingressgateway" } },
                        },
                    ],
                    // The app ports of nodejs and ruby (3000), php (8080) and scala (9000), and the nginx limiter's.
                    ports: [
                        { protocol: "TCP", port: 3000 },
                        { protocol: "TCP", port: 8079 },
                        { protocol: "TCP", port: 8080 },
                        { protocol: "TCP", port: 9000 },
                    ],
                },
            ],
        });
        assert.deepEqual(byName("bff-from-metrics-scrapers")?.spec.ingress, [
            {
                from: [{ namespaceSelector: { matchLabels: { "frontend-platform/metrics-scraper": "true" } } }],
                ports: [
                    { protocol: "TCP", port: 3000 },
                    { protocol: "TCP", port: 8080 },
                    { protocol: "TCP", port: 9000 },
                    { protocol: "TCP", port: 15020 },
                    { protocol: "TCP", port: 15090 },
                ],
            },
        ]);
    });

    it("names every port by number: the VPC CNI's controller does not resolve named ports of ingress rules", () => {
        for (const policy of [...production, ...dev]) {
            for (const rule of policy.spec.ingress ?? []) {
                for (const port of rule.ports ?? []) {
                    assert.equal(typeof port.port, "number", `${policy.metadata.namespace}/${policy.metadata.name}: ${String(port.port)}`);
                }
            }
        }
    });

    it("opens the gateway to clients on nginx's ports only: 8080, and 8443 with TLS", () => {
        const clients = (policies: NetworkPolicyObject[]) => policies.find((p) => p.metadata.name === "istio-ingressgateway-from-clients");
        assert.deepEqual(clients(production)?.spec, {
            podSelector: { matchLabels: { istio: "istio-ingressgateway" } },
            policyTypes: ["Ingress"],
            ingress: [
                {
                    ports: [
                        { protocol: "TCP", port: 8080 },
                        { protocol: "TCP", port: 8443 },
                    ],
                },
            ],
        });
        // Dev serves plain HTTP only.
        assert.deepEqual(clients(dev)?.spec.ingress, [{ ports: [{ protocol: "TCP", port: 8080 }] }]);
    });

    it("also opens the load balancer's health check port when the Service names one", async () => {
        const configMap = editConfig(stackFile("dev").configMap, "gateways", (gateways) => {
            gateways[0].serviceAnnotations = { "service.beta.kubernetes.io/aws-load-balancer-healthcheck-port": "8082" };
            return gateways;
        });
        const policies = policiesOf(await run(configMap));
        const clients = policies.find((p) => p.metadata.name === "istio-ingressgateway-from-clients");
        assert.deepEqual(clients?.spec.ingress, [
            {
                ports: [
                    { protocol: "TCP", port: 8080 },
                    { protocol: "TCP", port: 8082 },
                ],
            },
        ]);
    });

    describe("what production's policies allow", () => {
        const allowed = (source: ConnectionSource, target: ConnectionTarget) => ingressAllowed(production, source, target);

        it("lets the gateway reach a BFF through its limiter, and no other pod reach it at all", () => {
            assert.equal(allowed(GATEWAY_POD, PC_WEB_LIMITER), true);
            assert.equal(allowed(GATEWAY_POD, PC_WEB_APP), true);
            assert.equal(allowed(SP_WEB_POD, PC_WEB_LIMITER), false, "another BFF would skip the gateway's rate limits");
            assert.equal(allowed(SP_WEB_POD, PC_WEB_APP), false);
            assert.equal(allowed(OTHER_NAMESPACE_POD, PC_WEB_LIMITER), false);
            assert.equal(allowed(INTERNET, PC_WEB_LIMITER), false);
        });

        it("lets a scraper read metrics, not call the limiter", () => {
            assert.equal(allowed(PROMETHEUS_POD, PC_WEB_METRICS), true);
            assert.equal(allowed(PROMETHEUS_POD, PC_WEB_LIMITER), false);
            assert.equal(allowed({ ...PROMETHEUS_POD, namespaceLabels: {} }, PC_WEB_METRICS), false, "an unlabelled namespace");
            assert.equal(allowed(PROMETHEUS_POD, GATEWAY_FLUENT_BIT_METRICS), true);
        });

        it("lets nothing but the node (kubelet probes) reach a Job", () => {
            assert.equal(allowed(GATEWAY_POD, JOB_PORT), false);
            assert.equal(allowed(PROMETHEUS_POD, JOB_PORT), false);
            assert.equal(allowed(SP_WEB_POD, JOB_PORT), false);
            assert.equal(allowed(NODE, JOB_PORT), true);
        });

        it("lets clients reach nginx but not istio-proxy's listeners behind it", () => {
            assert.equal(allowed(INTERNET, GATEWAY_HTTPS), true);
            assert.equal(allowed(INTERNET, GATEWAY_PROXY_HTTPS), false, "33443 would skip nginx and its access log");
            assert.equal(allowed(PC_WEB_POD, GATEWAY_PROXY_HTTPS), false);
            assert.equal(allowed(INTERNET, GATEWAY_FLUENT_BIT_METRICS), false);
        });

        it("lets only the gateway call ratelimit, on gRPC", () => {
            assert.equal(allowed(GATEWAY_POD, RATELIMIT_GRPC), true);
            assert.equal(allowed(GATEWAY_POD, RATELIMIT_HTTP), false);
            assert.equal(allowed(PC_WEB_POD, RATELIMIT_GRPC), false);
        });
    });

    it("lets only ratelimit reach dev's Redis", () => {
        const redis = {
            namespace: "frontend-ratelimit",
            labels: { "app.kubernetes.io/name": "ratelimit-redis", "app.kubernetes.io/instance": "ratelimit-redis" },
            port: 6379,
            portName: "redis",
        };
        assert.equal(ingressAllowed(dev, RATELIMIT_POD, redis), true);
        assert.equal(ingressAllowed(dev, GATEWAY_POD, redis), false);
        assert.equal(ingressAllowed(dev, PC_WEB_POD, redis), false);
    });
});

describe("the NetworkPolicy evaluator", () => {
    const policy = (namespace: string, spec: NetworkPolicyObject["spec"]): NetworkPolicyObject => ({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "p", namespace },
        spec,
    });
    const target = { namespace: "a", labels: { app: "web" }, port: 80 };
    const podIn = (namespace: string, labels: Record<string, string> = {}) => ({ kind: "pod", namespace, labels }) as const;

    it("allows everything to a pod no policy selects, and nothing but the node once one does", () => {
        assert.equal(ingressAllowed([], podIn("b"), target), true);
        const other = policy("a", { podSelector: { matchLabels: { app: "db" } }, policyTypes: ["Ingress"] });
        assert.equal(ingressAllowed([other], podIn("b"), target), true);
        const deny = policy("a", { podSelector: {}, policyTypes: ["Ingress"] });
        assert.equal(ingressAllowed([deny], podIn("a"), target), false);
        assert.equal(ingressAllowed([deny], { kind: "node" }, target), true);
        const egressOnly = policy("a", { podSelector: {}, policyTypes: ["Egress"] });
        assert.equal(ingressAllowed([egressOnly], podIn("b"), target), true);
    });

    it("reads a podSelector alone as the policy's own namespace, and both selectors as one peer", () => {
        const samePods = policy("a", { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { role: "client" } } }] }] });
        assert.equal(ingressAllowed([samePods], podIn("a", { role: "client" }), target), true);
        assert.equal(ingressAllowed([samePods], podIn("b", { role: "client" }), target), false);
        const both = policy("a", {
            podSelector: {},
            ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "x" } }, podSelector: { matchLabels: { role: "client" } } }] }],
        });
        const inTeam = (labels: Record<string, string>) =>
            ({ kind: "pod", namespace: "b", namespaceLabels: { team: "x" }, labels }) as const;
        assert.equal(ingressAllowed([both], inTeam({ role: "client" }), target), true);
        assert.equal(ingressAllowed([both], inTeam({ role: "other" }), target), false);
        // Two peers instead of one: either selector suffices.
        const either = policy("a", {
            podSelector: {},
            ingress: [
                { from: [{ namespaceSelector: { matchLabels: { team: "x" } } }, { podSelector: { matchLabels: { role: "client" } } }] },
            ],
        });
        assert.equal(ingressAllowed([either], inTeam({ role: "other" }), target), true);
    });

    it("matches ports by number, range and container port name, and protocol", () => {
        const ports = policy("a", {
            podSelector: {},
            ingress: [{ ports: [{ port: "http" }, { protocol: "TCP", port: 9000, endPort: 9010 }, { protocol: "UDP", port: 53 }] }],
        });
        const at = (port: number, portName?: string, protocol?: "TCP" | "UDP") => ({ ...target, port, portName, protocol });
        assert.equal(ingressAllowed([ports], podIn("b"), at(8080, "http")), true);
        assert.equal(ingressAllowed([ports], podIn("b"), at(8080)), false);
        assert.equal(ingressAllowed([ports], podIn("b"), at(9005)), true);
        assert.equal(ingressAllowed([ports], podIn("b"), at(9011)), false);
        assert.equal(ingressAllowed([ports], podIn("b"), at(53)), false);
        assert.equal(ingressAllowed([ports], podIn("b"), at(53, undefined, "UDP")), true);
    });

    it("matches ipBlocks against addresses outside the cluster only", () => {
        const block = policy("a", {
            podSelector: {},
            ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/16", except: ["10.0.5.0/24"] } }] }],
        });
        assert.equal(ingressAllowed([block], { kind: "external", ip: "10.0.1.9" }, target), true);
        assert.equal(ingressAllowed([block], { kind: "external", ip: "10.0.5.9" }, target), false);
        assert.equal(ingressAllowed([block], { kind: "external", ip: "10.1.0.1" }, target), false);
    });

    it("evaluates matchExpressions", () => {
        const labels = { tier: "web", env: "prod" };
        const matches = (expression: LabelSelectorRequirement) => selectorMatches({ matchExpressions: [expression] }, labels);
        assert.equal(matches({ key: "tier", operator: "In", values: ["web", "api"] }), true);
        assert.equal(matches({ key: "tier", operator: "In", values: ["api"] }), false);
        assert.equal(matches({ key: "job", operator: "In", values: ["web"] }), false);
        assert.equal(matches({ key: "env", operator: "NotIn", values: ["prod"] }), false);
        assert.equal(matches({ key: "env", operator: "NotIn", values: ["dev"] }), true);
        // NotIn matches a pod without the label (Kubernetes label selector semantics).
        assert.equal(matches({ key: "job", operator: "NotIn", values: ["prod"] }), true);
        assert.equal(matches({ key: "job", operator: "DoesNotExist" }), true);
        assert.equal(matches({ key: "tier", operator: "DoesNotExist" }), false);
        assert.equal(matches({ key: "job", operator: "Exists" }), false);
        assert.equal(matches({ key: "tier", operator: "Exists" }), true);
    });

    it("applies a policy only to pods of its own namespace", () => {
        const denyInB = policy("b", { podSelector: {}, policyTypes: ["Ingress"] });
        assert.equal(ingressAllowed([denyInB], podIn("c"), target), true);
        assert.equal(ingressAllowed([denyInB], podIn("c"), { ...target, namespace: "b" }), false);
    });

    it("reads empty ports or from lists as all ports or all sources", () => {
        const allPorts = policy("a", { podSelector: {}, ingress: [{ ports: [], from: [{ podSelector: {} }] }] });
        assert.equal(ingressAllowed([allPorts], podIn("a"), { ...target, port: 12345 }), true);
        const allSources = policy("a", { podSelector: {}, ingress: [{ ports: [{ port: 80 }], from: [] }] });
        assert.equal(ingressAllowed([allSources], podIn("z"), target), true);
        assert.equal(ingressAllowed([allSources], { kind: "external", ip: "198.51.100.1" }, target), true);
        assert.equal(ingressAllowed([allSources], podIn("z"), { ...target, port: 81 }), false);
        // A port entry with a protocol only: every port of that protocol.
        const anyTcp = policy("a", { podSelector: {}, ingress: [{ ports: [{ protocol: "TCP" }] }] });
        assert.equal(ingressAllowed([anyTcp], podIn("z"), { ...target, port: 12345 }), true);
        assert.equal(ingressAllowed([anyTcp], podIn("z"), { ...target, protocol: "UDP" }), false);
    });

    it("includes both ends of a port range", () => {
        const range = policy("a", { podSelector: {}, ingress: [{ ports: [{ port: 9000, endPort: 9010 }] }] });
        for (const [port, allowed] of [
            [8999, false],
            [9000, true],
            [9010, true],
            [9011, false],
        ] as const) {
            assert.equal(ingressAllowed([range], podIn("z"), { ...target, port }), allowed, String(port));
        }
    });

    it("matches CIDRs by prefix, /0 as every address, and any of several exceptions", () => {
        const anywhere = policy("a", { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }] });
        assert.equal(ingressAllowed([anywhere], { kind: "external", ip: "203.0.113.7" }, target), true);
        const block = policy("a", {
            podSelector: {},
            ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/16", except: ["10.0.5.0/24", "10.0.6.0/24"] } }] }],
        });
        assert.equal(ingressAllowed([block], { kind: "external", ip: "10.0.6.1" }, target), false);
        assert.equal(ingressAllowed([block], { kind: "external", ip: "10.0.255.255" }, target), true);
        assert.equal(ingressAllowed([block], { kind: "external", ip: "10.0.0.0" }, target), true);
    });

    it("refuses what is not an IPv4 address, naming it", () => {
        const block = policy("a", { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/16" } }] }] });
        for (const ip of ["10.0.1", "10.0.1.256", "10.0.-1.1", "10.0.1.x", "10.0.1.1.1"]) {
            assert.throws(() => ingressAllowed([block], { kind: "external", ip }, target), {
                name: "RangeError",
                message: `not an IPv4 address: ${ip}`,
            });
        }
    });
});

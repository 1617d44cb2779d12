/**
 * The values operators rely on when nodes drain, pods stop, load drops or a certificate is issued,
 * pinned as literals on the objects the program renders for the committed stacks. Expected values
 * are written here, never read from the defaults tables or built with the code under test: a
 * changed default must fail here and be changed here on purpose.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { parseStackConfig } from "../components/config";
import { KubeObject, kubernetesObjects } from "../cli/render";
import { configProblems, editConfig, renderedObjects, run, runStack, stackFile, StackName } from "./support/program";

/** Every BFF service of each committed stack, sorted. */
const SERVICES: Record<StackName, string[]> = {
    dev: ["account-web", "pc-watch", "pc-web", "sp-web"],
    production: [
        "account-web",
        "ads-bff",
        "comment-bff",
        "embed-web",
        "gift-bff",
        "notification-bff",
        "pc-timeshift",
        "pc-watch",
        "pc-web",
        "pc-web-v2",
        "ranking-bff",
        "search-bff",
        "sp-timeshift",
        "sp-watch",
        "sp-web",
    ],
};

/** Services with the nginx leaky-bucket sidecar (`rateLimit.local.type: nginx`; pc-web-v2 and sp-watch inherit it). */
const NGINX_LIMITED: Record<StackName, string[]> = {
    dev: ["pc-web"],
    production: ["pc-watch", "pc-web", "pc-web-v2", "sp-watch", "sp-web"],
};

/** Start-up allowance in failed 5 s probes: nodejs and php 30 s (6), ruby 60 s (12), scala 120 s (24). */
const STARTUP_FAILURES: Record<StackName, Record<string, number>> = {
    dev: { "account-web": 12 },
    production: { "account-web": 12, "notification-bff": 24 },
};

/** HPAs with the replica ranges of the stack files (the gateway's included). */
const HPAS: Record<StackName, Record<string, [number, number]>> = {
    dev: { "frontend-gateway/istio-ingressgateway": [1, 2] },
    production: {
        "frontend/account-web": [3, 8],
        "frontend/comment-bff": [4, 16],
        "frontend/embed-web": [3, 10],
        "frontend/gift-bff": [3, 10],
        "frontend/notification-bff": [2, 6],
        "frontend/pc-timeshift": [4, 12],
        "frontend/pc-watch": [12, 40],
        "frontend/pc-web": [10, 20],
        "frontend/pc-web-v2": [2, 4],
        "frontend/ranking-bff": [3, 8],
        "frontend/search-bff": [4, 12],
        "frontend/sp-timeshift": [4, 12],
        "frontend/sp-watch": [12, 40],
        "frontend/sp-web": [10, 20],
        "frontend-gateway/istio-ingressgateway": [3, 6],
    },
};

const APP_HEALTH = { path: "/healthz", port: "http" };

type Rendered = KubeObject & Record<string, any>;

const keyOf = (object: KubeObject) => `${object.metadata.namespace ?? ""}/${object.metadata.name}`;

function ofKind(objects: KubeObject[], kind: string): Rendered[] {
    return objects.filter((o) => o.kind === kind) as Rendered[];
}

function one(objects: KubeObject[], kind: string, key: string): Rendered {
    const found = ofKind(objects, kind).filter((o) => keyOf(o) === key);
    assert.equal(found.length, 1, `expected one ${kind} ${key}, found ${found.length}`);
    return found[0];
}

function container(workload: Rendered, name: string): Record<string, any> {
    const found = workload.spec.template.spec.containers.filter((c: { name: string }) => c.name === name);
    assert.equal(found.length, 1, `expected one container ${name} in ${keyOf(workload)}`);
    return found[0];
}

/** The Rollout (or, for a rollingUpdate service, the Deployment) of each service, in the order of SERVICES. */
function serviceWorkloads(objects: KubeObject[], stack: StackName): Rendered[] {
    const workloads = [...ofKind(objects, "Rollout"), ...ofKind(objects, "Deployment")].filter((o) => o.metadata.namespace === "frontend");
    assert.deepEqual(workloads.map((o) => o.metadata.name).sort(), SERVICES[stack]);
    return SERVICES[stack].map((name) => workloads.find((o) => o.metadata.name === name) as Rendered);
}

/** JSON with keys sorted at every level, written here as the README defines the content hash. */
function sortedJson(value: unknown): string {
    if (Array.isArray(value)) {
        return `[${value.map(sortedJson).join(",")}]`;
    }
    if (value !== null && typeof value === "object") {
        const entries = Object.keys(value)
            .sort()
            .map((k) => `${JSON.stringify(k)}:${sortedJson((value as Record<string, unknown>)[k])}`);
        return `{${entries.join(",")}}`;
    }
    return JSON.stringify(value);
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

for (const stack of ["dev", "production"] as const) {
    describe(`operational values of the ${stack} stack`, () => {
        it("lets a node drain evict one pod at a time from every workload (PDB maxUnavailable 1; 0 would block every drain)", async () => {
            const objects = await renderedObjects(stack);
            const budgets = ofKind(objects, "PodDisruptionBudget");
            const expected = [
                ...SERVICES[stack].map((s) => `frontend/${s}`),
                "frontend-gateway/istio-ingressgateway",
                "frontend-ratelimit/ratelimit",
            ].sort();
            assert.deepEqual(budgets.map(keyOf).sort(), expected);
            for (const budget of budgets) {
                const name = budget.metadata.name;
                assert.deepEqual(
                    budget.spec,
                    {
                        maxUnavailable: 1,
                        selector: { matchLabels: { "app.kubernetes.io/instance": name, "app.kubernetes.io/name": name } },
                    },
                    keyOf(budget),
                );
            }
        });

        it("budgets the pods their workloads run: each PDB selects exactly the labels of its workload's pods", async () => {
            const objects = await renderedObjects(stack);
            const workloads = [...ofKind(objects, "Rollout"), ...ofKind(objects, "Deployment")].filter(
                (o) => o.metadata.name !== "ratelimit-redis",
            );
            assert.equal(workloads.length, SERVICES[stack].length + 2);
            for (const workload of workloads) {
                const budget = one(objects, "PodDisruptionBudget", keyOf(workload));
                assert.deepEqual(budget.spec.selector, workload.spec.selector, keyOf(workload));
                for (const [label, value] of Object.entries(budget.spec.selector.matchLabels)) {
                    assert.equal(workload.spec.template.metadata.labels[label], value, `${keyOf(workload)} pod label ${label}`);
                }
            }
        });

        it("gives BFF pods 30 s after SIGTERM, of which the app sleeps 5 s in preStop while the endpoints are removed", async () => {
            for (const workload of serviceWorkloads(await renderedObjects(stack), stack)) {
                assert.equal(workload.spec.template.spec.terminationGracePeriodSeconds, 30, keyOf(workload));
                assert.deepEqual(
                    container(workload, "app").lifecycle,
                    { preStop: { exec: { command: ["sh", "-c", "sleep 5"] } } },
                    keyOf(workload),
                );
            }
        });

        it("probes every BFF app on /healthz: start-up by runtime, out of the endpoints after 3 failures (15 s), restarted after 6 (60 s)", async () => {
            for (const workload of serviceWorkloads(await renderedObjects(stack), stack)) {
                const app = container(workload, "app");
                const name = workload.metadata.name;
                const startupFailures = STARTUP_FAILURES[stack][name] ?? 6;
                assert.deepEqual(
                    app.startupProbe,
                    { httpGet: APP_HEALTH, periodSeconds: 5, failureThreshold: startupFailures, timeoutSeconds: 2 },
                    name,
                );
                assert.deepEqual(
                    app.readinessProbe,
                    { httpGet: APP_HEALTH, periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 2 },
                    name,
                );
                assert.deepEqual(
                    app.livenessProbe,
                    { httpGet: APP_HEALTH, periodSeconds: 10, failureThreshold: 6, timeoutSeconds: 2 },
                    name,
                );
            }
        });

        it("sends traffic to the nginx limiter sidecar only once it accepts connections (tcpSocket on http-limited every 5 s), keeps it 5 s while the endpoints drop the pod, restarts it after 30 s without /healthz", async () => {
            const workloads = serviceWorkloads(await renderedObjects(stack), stack);
            const limited = workloads.filter((w) =>
                w.spec.template.spec.containers.some((c: { name: string }) => c.name === "rate-limiter"),
            );
            assert.deepEqual(
                limited.map((w) => w.metadata.name),
                NGINX_LIMITED[stack],
            );
            for (const workload of limited) {
                const limiter = container(workload, "rate-limiter");
                assert.deepEqual(limiter.readinessProbe, { tcpSocket: { port: "http-limited" }, periodSeconds: 5 }, keyOf(workload));
                // Without preStop the kubelet stops nginx at once and istio-proxy's requests to 8079 are refused
                // until the endpoints catch up; the app's 5 s sleep does not cover the sidecar.
                assert.deepEqual(limiter.lifecycle, { preStop: { sleep: { seconds: 5 } } }, keyOf(workload));
                assert.deepEqual(
                    limiter.livenessProbe,
                    { httpGet: { path: "/healthz", port: "limiter-health" }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
                    keyOf(workload),
                );
                assert.deepEqual(
                    limiter.ports,
                    [
                        { name: "http-limited", containerPort: 8079, protocol: "TCP" },
                        // nginx's own /healthz for the liveness probe, a port no Service targets.
                        { name: "limiter-health", containerPort: 8078, protocol: "TCP" },
                    ],
                    `${keyOf(workload)}: the probed port is the limiter's`,
                );
            }
            for (const workload of workloads.filter((w) => !limited.includes(w))) {
                assert.deepEqual(
                    workload.spec.template.spec.containers.map((c: { name: string }) => c.name),
                    ["app"],
                    keyOf(workload),
                );
            }
        });

        it("never takes a serving pod away before its replacement is ready during a rollout (maxUnavailable 0)", async () => {
            const objects = await renderedObjects(stack);
            const rollouts = ofKind(objects, "Rollout");
            assert.equal(rollouts.length, stack === "dev" ? 4 : 14);
            for (const rollout of rollouts) {
                assert.equal(rollout.spec.strategy.canary.maxUnavailable, 0, keyOf(rollout));
            }
            const deployments = ofKind(objects, "Deployment").filter((d) => d.metadata.name !== "ratelimit-redis");
            assert.deepEqual(deployments.map(keyOf).sort(), [
                "frontend-gateway/istio-ingressgateway",
                "frontend-ratelimit/ratelimit",
                ...(stack === "production" ? ["frontend/ads-bff"] : []),
            ]);
            for (const deployment of deployments) {
                assert.equal(deployment.spec.strategy.type, "RollingUpdate", keyOf(deployment));
                assert.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0, keyOf(deployment));
            }
        });

        it("gives the gateway pod 70 s: nginx drains after a 5 s preStop, istio-proxy drains 30 s, fluent-bit (a native sidecar) stops last", async () => {
            const gateway = one(await renderedObjects(stack), "Deployment", "frontend-gateway/istio-ingressgateway");
            const spec = gateway.spec.template.spec;
            // The longest route timeout (15 s) + nginx's 5 s preStop + worker_shutdown_timeout margin, within istio-proxy's drain.
            assert.equal(spec.terminationGracePeriodSeconds, 70);
            assert.equal(gateway.spec.template.metadata.annotations["proxy.istio.io/config"], "terminationDrainDuration: 30s\n");
            assert.deepEqual(
                spec.containers.map((c: { name: string }) => c.name),
                ["istio-proxy", "sidecar-nginx"],
            );
            // fluent-bit is an init container that keeps running (restartPolicy Always): the kubelet stops it after the others.
            assert.deepEqual(
                spec.initContainers.map((c: { name: string; restartPolicy?: string }) => [c.name, c.restartPolicy ?? null]),
                [
                    ["log-dir-owner", null],
                    ["sidecar-fluent-bit", "Always"],
                ],
            );
            assert.deepEqual(container(gateway, "sidecar-nginx").lifecycle, { preStop: { sleep: { seconds: 5 } } });
        });

        it("probes the gateway's nginx on /healthz (out after 15 s, restarted after 30 s) and fluent-bit on its HTTP server", async () => {
            const gateway = one(await renderedObjects(stack), "Deployment", "frontend-gateway/istio-ingressgateway");
            const nginx = container(gateway, "sidecar-nginx");
            const nginxHealth = { path: "/healthz", port: "nginx-health" };
            assert.deepEqual(nginx.readinessProbe, { httpGet: nginxHealth, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 });
            assert.deepEqual(nginx.livenessProbe, { httpGet: nginxHealth, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 });
            const fluentBit = gateway.spec.template.spec.initContainers.find((c: { name: string }) => c.name === "sidecar-fluent-bit");
            assert.deepEqual(fluentBit.readinessProbe, {
                httpGet: { path: "/api/v1/metrics/prometheus", port: "http-metrics" },
                failureThreshold: 3,
                timeoutSeconds: 3,
            });
            assert.deepEqual(fluentBit.livenessProbe, {
                httpGet: { path: "/", port: "http-metrics" },
                failureThreshold: 3,
                timeoutSeconds: 3,
            });
            // nginx starts only once fluent-bit listens (a native sidecar's startup gates the main containers).
            assert.deepEqual(fluentBit.startupProbe, {
                httpGet: { path: "/", port: "http-metrics" },
                periodSeconds: 1,
                failureThreshold: 30,
                timeoutSeconds: 3,
            });
            assert.equal(nginx.startupProbe, undefined);
        });

        it("keeps ratelimit serving 5 s after SIGTERM within 30 s, out of the endpoints after 2 failed /healthcheck, 60 s to start", async () => {
            const ratelimit = one(await renderedObjects(stack), "Deployment", "frontend-ratelimit/ratelimit");
            assert.equal(ratelimit.spec.template.spec.terminationGracePeriodSeconds, 30);
            const main = container(ratelimit, "ratelimit");
            const healthcheck = { path: "/healthcheck", port: "http" };
            assert.deepEqual(main.lifecycle, { preStop: { exec: { command: ["sleep", "5"] } } });
            assert.deepEqual(main.readinessProbe, { httpGet: healthcheck, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 2 });
            assert.deepEqual(main.startupProbe, { httpGet: healthcheck, periodSeconds: 2, failureThreshold: 30, timeoutSeconds: 2 });
            // A Redis outage is not cured by restarts: liveness only checks that the gRPC port answers.
            assert.deepEqual(main.livenessProbe, {
                tcpSocket: { port: "grpc" },
                periodSeconds: 10,
                failureThreshold: 6,
                timeoutSeconds: 2,
            });
        });

        it("spreads the replicas of every serving workload over zones, so losing one zone leaves pods serving", async () => {
            const objects = await renderedObjects(stack);
            const workloads = [...ofKind(objects, "Rollout"), ...ofKind(objects, "Deployment")].filter(
                (o) => o.metadata.name !== "ratelimit-redis",
            );
            assert.equal(workloads.length, SERVICES[stack].length + 2);
            for (const workload of workloads) {
                const name = workload.metadata.name;
                assert.deepEqual(
                    workload.spec.template.spec.topologySpreadConstraints,
                    [
                        {
                            maxSkew: 1,
                            topologyKey: "topology.kubernetes.io/zone",
                            whenUnsatisfiable: "ScheduleAnyway",
                            labelSelector: { matchLabels: { "app.kubernetes.io/instance": name, "app.kubernetes.io/name": name } },
                        },
                    ],
                    keyOf(workload),
                );
            }
        });

        it("sizes the gateway's istio-proxy on its container, the CPU limit included (500m/2, 256Mi/1Gi): the gateway template reads no proxy annotation", async () => {
            const gateway = one(await renderedObjects(stack), "Deployment", "frontend-gateway/istio-ingressgateway");
            assert.deepEqual(container(gateway, "istio-proxy").resources, {
                requests: { cpu: "500m", memory: "256Mi" },
                limits: { cpu: "2", memory: "1Gi" },
            });
            const annotations = gateway.spec.template.metadata.annotations;
            assert.deepEqual(
                Object.keys(annotations).filter((key) => key.startsWith("sidecar.istio.io/proxy")),
                [],
            );
        });

        it("scales every HPA down only after 300 s of lower load, so a short dip does not remove pods the next peak needs", async () => {
            const hpas = ofKind(await renderedObjects(stack), "HorizontalPodAutoscaler");
            assert.deepEqual(hpas.map(keyOf).sort(), Object.keys(HPAS[stack]).sort());
            for (const hpa of hpas) {
                const [min, max] = HPAS[stack][keyOf(hpa)];
                assert.equal(hpa.spec.minReplicas, min, keyOf(hpa));
                assert.equal(hpa.spec.maxReplicas, max, keyOf(hpa));
                assert.deepEqual(hpa.spec.behavior, { scaleDown: { stabilizationWindowSeconds: 300 } }, keyOf(hpa));
            }
        });
    });
}

describe("what the program registers for the production stack", () => {
    const objectsOf = (objects: KubeObject[], app: string) =>
        objects
            .filter((o) => o.metadata.namespace === "frontend" && o.metadata.labels?.["app.kubernetes.io/name"] === app)
            .map((o) => `${o.kind} ${o.metadata.name}`)
            .sort();

    it("registers every object a service needs: its canary analysis, its legacy ServiceEntry, its envoy local limit", async () => {
        const objects = await renderedObjects("production");
        assert.deepEqual(objectsOf(objects, "pc-web"), [
            "AnalysisTemplate pc-web-analysis",
            "ConfigMap pc-web-env",
            "ConfigMap pc-web-rate-limiter",
            "DestinationRule pc-web",
            "DestinationRule pc-web-canary",
            "DestinationRule pc-web-stable",
            "HorizontalPodAutoscaler pc-web",
            // The release's static files, uploaded before the Rollout's new pods serve pages naming them.
            "Job pc-web-static-upload-2-14-0",
            "PodDisruptionBudget pc-web",
            "Rollout pc-web",
            "Service pc-web",
            "Service pc-web-canary",
            "Service pc-web-stable",
            "ServiceAccount pc-web-static-upload",
            "VirtualService pc-web",
        ]);
        assert.deepEqual(objectsOf(objects, "ads-bff"), [
            "ConfigMap ads-bff-env",
            "Deployment ads-bff",
            "DestinationRule ads-bff",
            "PodDisruptionBudget ads-bff",
            "Service ads-bff",
            "ServiceEntry ads-bff-legacy",
            "VirtualService ads-bff",
        ]);
        assert.ok(objectsOf(objects, "comment-bff").includes("EnvoyFilter comment-bff-local-ratelimit"));
    });

    it("creates certificates only after cert-manager and their issuer, and the gateway Deployment only after its ConfigMaps", async () => {
        const result = await runStack("production");
        const urnOf = (kind: string, name: string) => {
            const found = result.resources.filter((r) => r.inputs.kind === kind && (r.inputs.metadata as { name?: string })?.name === name);
            assert.equal(found.length, 1, `${kind} ${name}`);
            return found[0];
        };
        const configMaps = ["istio-ingressgateway-error-pages", "istio-ingressgateway-fluent-bit", "istio-ingressgateway-nginx"].map(
            (name) => urnOf("ConfigMap", name).urn,
        );
        const deployment = urnOf("Deployment", "istio-ingressgateway");
        // Built-in kinds go through the typed classes (a typed Secret keeps its data secret as a whole).
        assert.equal(deployment.type, "kubernetes:apps/v1:Deployment");
        assert.equal(urnOf("ConfigMap", "istio-ingressgateway-nginx").type, "kubernetes:core/v1:ConfigMap");
        for (const urn of configMaps) {
            assert.ok(deployment.dependencies.includes(urn), `the Deployment waits for ${urn}`);
        }
        for (const [kind, name] of [
            ["Service", "istio-ingressgateway"],
            ["HorizontalPodAutoscaler", "istio-ingressgateway"],
            ["PodDisruptionBudget", "istio-ingressgateway"],
        ]) {
            assert.deepEqual(
                urnOf(kind, name).dependencies.filter((urn) => configMaps.includes(urn)),
                [],
                `${kind} does not wait for the ConfigMaps`,
            );
        }
        // cert-manager is an add-on: its Helm release (components/addons).
        const certManager = result.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.name === "cert-manager");
        assert.equal(certManager.length, 1);
        const issuer = urnOf("ClusterIssuer", "istio-ingressgateway-issuer");
        assert.ok(issuer.dependencies.includes(certManager[0].urn), "the ClusterIssuer waits for cert-manager");
        for (const host of ["pc-example-com", "sp-example-com"]) {
            const certificate = urnOf("Certificate", host);
            assert.ok(certificate.dependencies.includes(certManager[0].urn), `Certificate ${host} waits for cert-manager`);
            assert.ok(certificate.dependencies.includes(issuer.urn), `Certificate ${host} waits for its issuer`);
        }
    });
});

describe("operational values of the dev stack's in-cluster Redis", () => {
    it("probes Redis on its port (out after 30 s, restarted after 60 s) and gives it 30 s to stop; production has none", async () => {
        const redis = one(await renderedObjects("dev"), "Deployment", "frontend-ratelimit/ratelimit-redis");
        assert.equal(redis.spec.template.spec.terminationGracePeriodSeconds, 30);
        // A high uid of its own, not the image's 999: the entrypoint chowns only as root, and every path
        // Redis writes is a volume (fsGroup makes it the group's).
        assert.deepEqual(redis.spec.template.spec.securityContext, {
            fsGroup: 10999,
            runAsGroup: 10999,
            runAsNonRoot: true,
            runAsUser: 10999,
            seccompProfile: { type: "RuntimeDefault" },
        });
        const main = container(redis, "redis");
        assert.deepEqual(main.readinessProbe, { tcpSocket: { port: "redis" }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 });
        assert.deepEqual(main.livenessProbe, { tcpSocket: { port: "redis" }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 6 });
        assert.deepEqual(
            ofKind(await renderedObjects("production"), "Deployment").filter((d) => d.metadata.name === "ratelimit-redis"),
            [],
        );
    });
});

describe("certificates from ACME", () => {
    const LETS_ENCRYPT_PRODUCTION = "https://acme-v02.api.letsencrypt.org/directory";
    const LETS_ENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory";

    it("asks Let's Encrypt's production directory by default, whose certificates browsers trust (staging's are not)", async () => {
        const issuers = ofKind(await renderedObjects("production"), "ClusterIssuer");
        assert.deepEqual(issuers.map(keyOf), ["/istio-ingressgateway-issuer"]);
        assert.equal(issuers[0].spec.acme.server, LETS_ENCRYPT_PRODUCTION);
    });

    it("uses a configured ACME server as written (staging, for a stack that issues often)", async () => {
        const configMap = editConfig(stackFile("production").configMap, "gateways", (gateways: any[]) => {
            gateways[0].tls.issuer.acme.server = LETS_ENCRYPT_STAGING;
            return gateways;
        });
        const objects = kubernetesObjects((await run(configMap, "up", "production")).resources);
        const issuers = ofKind(objects, "ClusterIssuer");
        assert.equal(issuers.length, 1);
        assert.equal(issuers[0].spec.acme.server, LETS_ENCRYPT_STAGING);
    });
});

describe("requests and limits", () => {
    /** Production with pc-web's (services[0]) resources and its first Job's replaced. */
    function withResources(resources: object): Record<string, string> {
        return editConfig(stackFile("production").configMap, "services", (services: any[]) => {
            services[0].resources = resources;
            return services;
        });
    }

    it("accepts requests equal to limits (Guaranteed QoS), also when the same quantity is written differently", async () => {
        const equal = { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "1000m", memory: "1024Mi" } };
        const { config } = parseStackConfig(withResources(equal), "production");
        assert.deepEqual(config.services[0].resources, equal);
        const accountWeb = editConfig(stackFile("production").configMap, "services", (services: any[]) => {
            const account = services.find((s) => s.name === "account-web");
            account.jobs[0].resources = { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "500m", memory: "512Mi" } };
            return services;
        });
        assert.doesNotThrow(() => parseStackConfig(accountWeb, "production"));
        const objects = kubernetesObjects((await run(withResources(equal), "up", "production")).resources);
        assert.deepEqual(container(one(objects, "Rollout", "frontend/pc-web"), "app").resources, equal);
    });

    it("rejects requests one step above limits: 1001m over a limit of 1 CPU, 1025Mi over 1Gi", () => {
        assert.deepEqual(
            configProblems(withResources({ requests: { cpu: "1001m", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } })),
            ["bff-platform:services[pc-web].resources.requests.cpu: 1001m is above limits.cpu 1"],
        );
        assert.deepEqual(configProblems(withResources({ requests: { cpu: "1", memory: "1025Mi" }, limits: { cpu: "1", memory: "1Gi" } })), [
            "bff-platform:services[pc-web].resources.requests.memory: 1025Mi is above limits.memory 1Gi",
        ]);
    });
});

describe("the gateway's content hash follows its ConfigMaps' content", () => {
    const GATEWAY_CONFIG_MAPS = ["istio-ingressgateway-error-pages", "istio-ingressgateway-fluent-bit", "istio-ingressgateway-nginx"];
    const HASH = "dependency.config-map.content-hash";

    /** Production's gateway in `mode`, logging `cookies` (the committed stack for its own mode and cookies). */
    async function gatewayObjects(mode: string, cookies: string[]): Promise<KubeObject[]> {
        if (mode === "gatewayInjection" && cookies.join() === "user_session_id,ab_group") {
            return renderedObjects("production");
        }
        const configMap = editConfig(stackFile("production").configMap, "gateways", (gateways: any[]) => {
            gateways[0].mode = mode;
            gateways[0].accessLog.cookies = cookies;
            return gateways;
        });
        return kubernetesObjects((await run(configMap, "up", "production")).resources);
    }

    /** The pod annotation, and the sha256 of the sorted-key JSON of {ConfigMap name: data} of the three ConfigMaps the pod mounts. */
    async function gatewayHash(mode: string, cookies: string[]): Promise<{ annotation: string; expected: string }> {
        const objects = await gatewayObjects(mode, cookies);
        const configMaps = ofKind(objects, "ConfigMap").filter((c) => GATEWAY_CONFIG_MAPS.includes(c.metadata.name));
        assert.deepEqual(
            configMaps.map(keyOf).sort(),
            GATEWAY_CONFIG_MAPS.map((n) => `frontend-gateway/${n}`),
        );
        const expected = sha256(sortedJson(Object.fromEntries(configMaps.map((c) => [c.metadata.name, c.data]))));
        const annotation =
            mode === "gatewayInjection"
                ? one(objects, "Deployment", "frontend-gateway/istio-ingressgateway").spec.template.metadata.annotations[HASH]
                : one(objects, "IstioOperator", "frontend-gateway/istio-ingressgateway").spec.components.ingressGateways[0].k8s
                      .podAnnotations[HASH];
        return { annotation, expected };
    }

    for (const mode of ["gatewayInjection", "istioOperator"]) {
        it(`${mode}: is the sha256 of the mounted ConfigMaps, and changes with them so the pods roll`, async () => {
            const before = await gatewayHash(mode, ["user_session_id", "ab_group"]);
            assert.match(before.annotation, /^[0-9a-f]{64}$/);
            assert.equal(before.annotation, before.expected);
            const after = await gatewayHash(mode, ["user_session_id"]);
            assert.equal(after.annotation, after.expected);
            assert.notEqual(after.annotation, before.annotation);
        });
    }
});

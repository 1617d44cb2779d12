import assert from "node:assert/strict";
import { allObjects, renderBffService, rolloutRoutesOf, rolloutSteps, serviceNames } from "../components/bff-service";
import { parseStackConfig, ServiceConfig, serviceSchema } from "../components/config";
import { CONTENT_HASH_ANNOTATION } from "../components/shared";
import { renderResourcesJson } from "../cli/render";
import { editConfig, resourcesOfType, run, stackFile } from "./support/program";
import { validateKubeObject } from "./support/schemas";

const productionServices = () => parseStackConfig(stackFile("production").configMap, "production").config.services;
const service = (name: string): ServiceConfig => {
    const found = productionServices().find((s) => s.name === name);
    assert.ok(found, name);
    return found;
};
/** A service entry as the schema fills it, from a few fields. */
const entry = (fields: Record<string, unknown>): ServiceConfig =>
    serviceSchema.parse({
        name: "demo",
        runtime: "nodejs",
        image: "registry.example.com/demo",
        version: "1.0.0",
        replicas: 2,
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
        ...fields,
    });
/**
 * The render context of production. A function, called inside each test: the configuration is parsed
 * while a test runs, never while mocha loads the file, so that mutation testing can tell which
 * tests read each line of components/config (code run at load counts as run by no test).
 */
const ctx = () => ({ environment: "production", namespace: "frontend", services: productionServices() });

/**
 * The phase Argo Rollouts gives one measurement (utils/evaluate/evaluate.go, EvaluateResult): Failed
 * when the failure condition holds, Inconclusive when neither holds, else Successful. The conditions
 * use only `!`, `&&`, comparisons, `len`, `isNaN` and `isNil`, which mean the same in expr-lang
 * (Argo's engine) and JavaScript; `isNil` is true for a nil result, as Argo's isNilFunc.
 */
function phaseOf(metric: { successCondition: string; failureCondition: string }, result: unknown): string {
    const evaluate = (condition: string) =>
        new Function("result", "isNil", "isNaN", "len", `return (${condition});`)(
            result,
            () => result === null,
            (x: number) => Number.isNaN(x),
            (x: unknown[]) => x.length,
        ) as boolean;
    if (evaluate(metric.failureCondition)) {
        return "Failed";
    }
    return evaluate(metric.successCondition) ? "Successful" : "Inconclusive";
}
/** Rendered objects as plain data (their declared type is the generic KubeObject). */
const render = (s: ServiceConfig, context = ctx()): any => renderBffService(s, context);

describe("BFF service: workload", () => {
    it("selects its pods with the same labels it puts on them, in every selector", () => {
        const rendered = render(service("pc-web"));
        const podLabels = rendered.workload.spec.template.metadata.labels;
        const selector = rendered.workload.spec.selector.matchLabels;
        for (const [key, value] of Object.entries(selector)) {
            assert.equal(podLabels[key], value, key);
        }
        assert.deepEqual(
            rendered.services.map((s: any) => s.metadata.name),
            ["pc-web", "pc-web-stable", "pc-web-canary"],
        );
        for (const svc of rendered.services) {
            assert.deepEqual(svc.spec.selector, selector, svc.metadata.name);
        }
        assert.deepEqual(rendered.podDisruptionBudget.spec.selector.matchLabels, selector);
        assert.equal(podLabels.app, "pc-web");
        assert.equal(podLabels.version, "2.14.0");
        assert.equal(podLabels["app.kubernetes.io/version"], "2.14.0");
        assert.equal(podLabels["tags.datadoghq.com/version"], "2.14.0");
    });

    it("puts the recommended labels on every object, and the version labels on the workload and its pods only (a release changes one object)", () => {
        const rendered = render(service("account-web"));
        const objects = allObjects(rendered);
        assert.ok(objects.length >= 6, "ConfigMap, workload, Services, VirtualService, DestinationRules, PDB");
        for (const object of objects) {
            const labels = object.metadata.labels ?? {};
            for (const key of ["name", "instance", "component", "part-of", "managed-by"]) {
                assert.ok(labels[`app.kubernetes.io/${key}`], `${object.kind} ${object.metadata.name} lacks app.kubernetes.io/${key}`);
            }
            assert.equal(labels.app, "account-web");
            const versioned = object === rendered.workload;
            assert.equal(labels["app.kubernetes.io/version"], versioned ? "7.3.0" : undefined, `${object.kind} ${object.metadata.name}`);
            assert.equal(labels.version, versioned ? "7.3.0" : undefined, `${object.kind} ${object.metadata.name}`);
        }
        const podLabels = rendered.workload.spec.template.metadata.labels;
        assert.equal(podLabels["app.kubernetes.io/version"], "7.3.0");
        assert.equal(podLabels.version, "7.3.0");
    });

    it("rolls the pods when the ConfigMap changes, through the sha256 content hash", () => {
        const hash = (r: any) => r.workload.spec.template.metadata.annotations[CONTENT_HASH_ANNOTATION];
        const before = render(service("pc-web"));
        const after = render({ ...service("pc-web"), env: { ...service("pc-web").env, FEATURE_X: "on" } });
        assert.match(hash(before), /^[0-9a-f]{64}$/);
        assert.notEqual(hash(after), hash(before));
        assert.equal(after.configMap.data.FEATURE_X, "on");
        // A version bump alone does not change the config, so it does not change the hash.
        assert.equal(hash(render({ ...service("pc-web"), version: "2.15.0" })), hash(before));
    });

    it("configures by environment: runtime defaults, RELEASE_ENV, the service's env; CPU through the Downward API", () => {
        const rendered = render(service("account-web"));
        assert.deepEqual(rendered.configMap.data, { RAILS_ENV: "production", RAILS_LOG_TO_STDOUT: "1", RELEASE_ENV: "production" });
        const container = rendered.workload.spec.template.spec.containers[0];
        assert.deepEqual(container.env[0], {
            name: "CPU_REQUEST_MILLICORES",
            valueFrom: { resourceFieldRef: { containerName: "app", resource: "requests.cpu", divisor: "1m" } },
        });
        assert.deepEqual(container.envFrom, [{ configMapRef: { name: "account-web-env" } }]);
        assert.equal(render(entry({ env: { RELEASE_ENV: "staging-2" } })).configMap.data.RELEASE_ENV, "staging-2");
    });

    it("shuts down gracefully: preStop sleep shorter than the grace period, probes, no unavailable pod", () => {
        const rendered = render(service("pc-web"));
        const pod = rendered.workload.spec.template.spec;
        const container = pod.containers[0];
        const sleep = Number(/sleep (\d+)/.exec(container.lifecycle.preStop.exec.command.join(" "))?.[1]);
        assert.equal(sleep, 5);
        assert.ok(pod.terminationGracePeriodSeconds > sleep);
        for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
            assert.equal(container[probe].httpGet.path, "/healthz", probe);
        }
        assert.equal(rendered.workload.spec.strategy.canary.maxUnavailable, 0);
        const deployment = render(service("ads-bff")).workload;
        assert.deepEqual(deployment.spec.strategy, { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } });
    });

    it("gives slow runtimes a longer start before liveness applies", () => {
        const startup = (s: ServiceConfig) => {
            const probe = render(s).workload.spec.template.spec.containers[0].startupProbe;
            return probe.periodSeconds * probe.failureThreshold;
        };
        assert.equal(startup(service("pc-web")), 30);
        assert.equal(startup(service("account-web")), 60);
        assert.equal(startup(service("notification-bff")), 120);
        assert.equal(render(service("notification-bff")).configMap.data.JAVA_TOOL_OPTIONS, "-XX:MaxRAMPercentage=75.0");
    });

    it("runs on worker nodes, spread over hosts, with istio-proxy sized through annotations", () => {
        const template = render(service("pc-web")).workload.spec.template;
        assert.deepEqual(template.spec.nodeSelector, { "node-role": "worker" });
        const term = template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
        assert.equal(term.topologyKey, "kubernetes.io/hostname");
        assert.equal(term.labelSelector.matchLabels["app.kubernetes.io/name"], "pc-web");
        assert.equal(template.metadata.annotations["sidecar.istio.io/proxyCPU"], "100m");
        assert.equal(template.metadata.annotations["sidecar.istio.io/proxyMemory"], "128Mi");
        assert.equal(template.metadata.annotations["prometheus.io/scrape"], "true");
        assert.deepEqual(JSON.parse(template.metadata.annotations["ad.datadoghq.com/app.logs"]), [{ source: "nodejs", service: "pc-web" }]);
    });

    it("runs unprivileged, as non-root, with a read-only root filesystem", () => {
        const pod = render(service("pc-web")).workload.spec.template.spec;
        assert.deepEqual(pod.containers[0].securityContext, {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ["ALL"] },
        });
        // The app and its Jobs run as uid/gid 10001, whatever user the image declares.
        const restricted = {
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            fsGroup: 10001,
            seccompProfile: { type: "RuntimeDefault" },
        };
        assert.deepEqual(pod.securityContext, restricted);
        assert.equal(pod.automountServiceAccountToken, false);
        for (const job of render(service("account-web")).jobs) {
            const jobPod = job.kind === "CronJob" ? job.spec.jobTemplate.spec.template.spec : job.spec.template.spec;
            assert.deepEqual(jobPod.securityContext, restricted, job.metadata.name);
            assert.equal(jobPod.automountServiceAccountToken, false, job.metadata.name);
        }
    });

    it("uses the runtime template's port unless the service sets one", () => {
        const port = (s: ServiceConfig) => render(s).workload.spec.template.spec.containers[0].ports[0].containerPort;
        assert.equal(port(service("pc-web")), 3000);
        assert.equal(port(service("notification-bff")), 9000);
        assert.equal(port(service("ads-bff")), 8080);
        assert.equal(port({ ...service("pc-web"), port: 8081 }), 8081);
    });
});

describe("BFF service: canary with Argo Rollouts (docs/design.md §3)", () => {
    it("renders the handbook's Rollout: stable and canary Services, Istio route, 33% surge, dynamic stable scale", () => {
        const rollout = render(service("sp-web")).workload;
        assert.equal(rollout.apiVersion, "argoproj.io/v1alpha1");
        assert.equal(rollout.kind, "Rollout");
        const canary = rollout.spec.strategy.canary;
        assert.equal(canary.canaryService, "sp-web-canary");
        assert.equal(canary.stableService, "sp-web-stable");
        assert.equal(canary.maxSurge, "33%");
        assert.equal(canary.dynamicStableScale, true);
        assert.deepEqual(canary.trafficRouting, { istio: { virtualServices: [{ name: "sp-web", routes: ["http-sp-web-primary"] }] } });
        assert.deepEqual(canary.steps, [
            { setCanaryScale: { matchTrafficWeight: true } },
            { pause: { duration: 60 } },
            { setWeight: 34 },
            { setCanaryScale: { matchTrafficWeight: true } },
            { pause: { duration: 60 } },
            { setWeight: 67 },
            { setCanaryScale: { matchTrafficWeight: true } },
            { pause: { duration: 60 } },
            { setWeight: 100 },
        ]);
    });

    it("lists both destinations on the primary route, stable 100 and canary 0", () => {
        const vs = render(service("sp-web")).virtualService;
        const primary = vs.spec.http.find((r: any) => r.name === "http-sp-web-primary");
        assert.deepEqual(
            primary.route.map((d: any) => [d.destination.host, d.weight]),
            [
                ["sp-web-stable.frontend.svc.cluster.local", 100],
                ["sp-web-canary.frontend.svc.cluster.local", 0],
            ],
        );
    });

    it("runs an analysis after each pause that follows a weight change, with the canary version", () => {
        const rendered = render(service("pc-web"));
        const steps = rendered.workload.spec.strategy.canary.steps;
        const analyses = steps.map((s: any, i: number) => (s.analysis ? i : -1)).filter((i: number) => i >= 0);
        assert.equal(analyses.length, 2, "none before the first weight change");
        for (const i of analyses) {
            assert.deepEqual(steps[i - 1], { pause: { duration: 60 } });
            assert.deepEqual(steps[i].analysis, {
                templates: [{ templateName: "pc-web-analysis" }],
                args: [
                    { name: "service-name", value: "pc-web" },
                    { name: "canary-version", value: "2.14.0" },
                ],
            });
        }
    });

    it("measures Datadog error rate and p99 over a 5-minute window, summed, from metrics the Istio integration publishes", () => {
        const [errors, latency] = render(service("pc-web")).analysisTemplate.spec.metrics;
        const tags = "destination_app:{{args.service-name}},destination_version:{{args.canary-version}},kube_namespace:frontend";
        assert.deepEqual(errors.provider, {
            datadog: {
                apiVersion: "v2",
                interval: "5m",
                aggregator: "sum",
                queries: {
                    ok: `sum:istio.mesh.request.count{${tags},!response_code:5*}.as_count()`,
                    total: `sum:istio.mesh.request.count{${tags}}.as_count()`,
                },
                formula: "1 - ok / total",
            },
        });
        assert.deepEqual(latency.provider, {
            datadog: {
                apiVersion: "v2",
                interval: "5m",
                aggregator: "percentile",
                queries: { p99: `p99:istio.mesh.request.duration.milliseconds.bucket{${tags}}` },
            },
        });
        for (const metric of [errors, latency]) {
            assert.deepEqual([metric.interval, metric.count, metric.failureLimit, metric.inconclusiveLimit], ["1m", 3, 1, 0]);
        }
    });

    it("makes a measurement without data Inconclusive (the rollout pauses), never Successful", () => {
        const [errors, latency] = render(service("pc-web")).analysisTemplate.spec.metrics;
        assert.deepEqual(
            [errors, latency].map((m: any) => [m.name, m.successCondition, m.failureCondition]),
            [
                ["error-rate", "!isNil(result) && !isNaN(result) && result <= 0.01", "!isNil(result) && !isNaN(result) && result > 0.01"],
                ["latency-p99", "!isNil(result) && !isNaN(result) && result <= 800", "!isNil(result) && !isNaN(result) && result > 800"],
            ],
        );
        // Datadog's result: nil without data, else a number (possibly NaN from 0/0).
        assert.equal(phaseOf(errors, null), "Inconclusive");
        assert.equal(phaseOf(errors, NaN), "Inconclusive");
        assert.equal(phaseOf(errors, 0), "Successful");
        assert.equal(phaseOf(errors, 0.01), "Successful");
        assert.equal(phaseOf(errors, 0.02), "Failed");
        assert.equal(phaseOf(latency, null), "Inconclusive");
        assert.equal(phaseOf(latency, 1200), "Failed");
    });

    it("queries Istio's standard metrics when the analysis uses Prometheus", () => {
        const s = entry({
            hpa: undefined,
            canary: { analysis: { provider: "prometheus", prometheusAddress: "http://prometheus.monitoring:9090", maxLatencyP99Ms: 500 } },
        });
        const template = render(s).analysisTemplate;
        const [errors, latency] = template.spec.metrics;
        const selector =
            'reporter="destination",destination_workload_namespace="frontend",destination_app="{{args.service-name}}",destination_version="{{args.canary-version}}"';
        assert.deepEqual(errors.provider, {
            prometheus: {
                address: "http://prometheus.monitoring:9090",
                // No 5xx series at all is 0 errors, not an empty vector.
                query:
                    `(sum(rate(istio_requests_total{${selector},response_code=~"5.."}[2m])) or vector(0))` +
                    ` / sum(rate(istio_requests_total{${selector}}[2m]))`,
            },
        });
        assert.equal(
            latency.provider.prometheus.query,
            `histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{${selector}}[2m])) by (le))`,
        );
        assert.equal(latency.successCondition, "len(result) > 0 && !isNaN(result[0]) && result[0] <= 500");
        assert.equal(latency.failureCondition, "len(result) > 0 && !isNaN(result[0]) && result[0] > 500");
        // Prometheus's result is a vector: empty without series, NaN without requests (0/0).
        assert.equal(phaseOf(latency, []), "Inconclusive");
        assert.equal(phaseOf(latency, [NaN]), "Inconclusive");
        assert.equal(phaseOf(latency, [420]), "Successful");
        assert.equal(phaseOf(latency, [501]), "Failed");
        assert.equal(phaseOf(errors, [0]), "Successful");
    });

    it("waits for a manual promotion on pause 0 and ends without a scale step at 100%", () => {
        const steps = rolloutSteps(
            entry({ canary: { steps: [{ setWeight: 10 }, { pause: 0 }, { setWeight: 100 }] } }),
            serviceNames(entry({}), "frontend"),
        );
        assert.deepEqual(steps, [
            { setCanaryScale: { matchTrafficWeight: true } },
            { setWeight: 10 },
            { setCanaryScale: { matchTrafficWeight: true } },
            { pause: {} },
            { setWeight: 100 },
        ]);
    });

    it("uses a plain Deployment and one Service when a service opts out of canaries", () => {
        const rendered = render(service("ads-bff"));
        assert.equal(rendered.workload.kind, "Deployment");
        assert.deepEqual(
            rendered.services.map((s: any) => s.metadata.name),
            ["ads-bff"],
        );
        assert.equal(rendered.analysisTemplate, undefined);
    });
});

describe("BFF service: routing and circuit breaking", () => {
    it("routes previews by header and query to the preview service before the default route", () => {
        const http = render(service("pc-web")).virtualService.spec.http;
        assert.deepEqual(
            http.map((r: any) => r.name),
            ["http-pc-web-preview-0", "http-pc-web-preview-1", "http-pc-web-primary"],
        );
        assert.deepEqual(http[0].match, [{ headers: { preview: { exact: "v2" } } }]);
        assert.deepEqual(http[1].match, [{ queryParams: { preview: { exact: "v2" } } }]);
        assert.equal(http[2].match, undefined, "the primary route takes what the host route delegated");
    });

    it("sends previews of a canary service through its stable/canary split, which its Rollout moves", () => {
        // pc-web-v2 is a canary: `preview: v2` must follow its rollout, not reach old and new pods alike.
        const http = render(service("pc-web")).virtualService.spec.http;
        for (const preview of http.slice(0, 2)) {
            assert.deepEqual(preview.route, [
                { destination: { host: "pc-web-v2-stable.frontend.svc.cluster.local", port: { number: 3000 } }, weight: 100 },
                { destination: { host: "pc-web-v2-canary.frontend.svc.cluster.local", port: { number: 3000 } }, weight: 0 },
            ]);
        }
        assert.deepEqual(render(service("pc-web-v2")).workload.spec.strategy.canary.trafficRouting, {
            istio: {
                virtualServices: [
                    { name: "pc-web-v2", routes: ["http-pc-web-v2-primary"] },
                    { name: "pc-web", routes: ["http-pc-web-preview-0", "http-pc-web-preview-1"] },
                ],
            },
        });
        assert.deepEqual(
            render(service("pc-web")).rolloutOwnedRoutes.map((r: any) => `${r.virtualService}/${r.route}`),
            ["pc-web/http-pc-web-primary", "pc-web/http-pc-web-preview-0", "pc-web/http-pc-web-preview-1"],
        );
        // A rollingUpdate target has one set of pods: its plain Service.
        const services = productionServices().map((s) => (s.name === "pc-web-v2" ? { ...s, strategy: "rollingUpdate" as const } : s));
        const plain = render(service("pc-web"), { ...ctx(), services }).virtualService.spec.http;
        assert.deepEqual(plain[0].route, [{ destination: { host: "pc-web-v2.frontend.svc.cluster.local", port: { number: 3000 } } }]);
        assert.deepEqual(render(service("pc-web"), { ...ctx(), services }).rolloutOwnedRoutes, [
            { virtualService: "pc-web", route: "http-pc-web-primary" },
        ]);
    });

    it("is a delegate without hosts when the service has routes, and a mesh route for its own host otherwise", () => {
        assert.equal(render(service("pc-web")).virtualService.spec.hosts, undefined);
        assert.deepEqual(render(service("pc-web-v2")).virtualService.spec.hosts, ["pc-web-v2.frontend.svc.cluster.local"]);
    });

    it("sets timeouts and retries of connection failures only", () => {
        const primary = render(service("search-bff")).virtualService.spec.http.at(-1);
        assert.equal(primary.timeout, "15s");
        assert.deepEqual(primary.retries, { attempts: 2, perTryTimeout: "5s", retryOn: "connect-failure,refused-stream,unavailable" });
    });

    it("mirrors a share of the traffic to a shadow service", () => {
        const s = entry({ mirror: { service: "pc-web", percentage: 10 } });
        const primary = render(s).virtualService.spec.http.at(-1);
        assert.deepEqual(primary.mirror, { host: "pc-web.frontend.svc.cluster.local", port: { number: 3000 } });
        assert.deepEqual(primary.mirrorPercentage, { value: 10 });
    });

    it("limits connections and ejects failing pods on every host the routes use", () => {
        const rules = render(service("pc-web")).destinationRules;
        assert.deepEqual(
            rules.map((r: any) => r.spec.host),
            ["pc-web.frontend.svc.cluster.local", "pc-web-stable.frontend.svc.cluster.local", "pc-web-canary.frontend.svc.cluster.local"],
        );
        assert.deepEqual(rules[0].spec.trafficPolicy, {
            connectionPool: {
                tcp: { maxConnections: 1024, connectTimeout: "3s" },
                http: { http1MaxPendingRequests: 256, http2MaxRequests: 1024 },
            },
            outlierDetection: { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s", maxEjectionPercent: 50 },
        });
        const custom = render(entry({ circuitBreaker: { maxRequests: 50, consecutive5xxErrors: 2 } })).destinationRules[0].spec
            .trafficPolicy;
        assert.equal(custom.connectionPool.http.http2MaxRequests, 50);
        assert.equal(custom.outlierDetection.consecutive5xxErrors, 2);
        assert.equal(custom.connectionPool.tcp.maxConnections, 1024, "unset fields keep their default");
    });

    it("switches a migrating service between the legacy upstream and its pods by weight, with an override header first", () => {
        const rendered = render(service("ads-bff"));
        assert.deepEqual(rendered.legacyServiceEntry.spec, {
            hosts: ["ads.legacy.example.internal"],
            location: "MESH_EXTERNAL",
            resolution: "DNS",
            ports: [{ number: 80, name: "http", protocol: "HTTP" }],
        });
        const [override, primary] = rendered.virtualService.spec.http;
        assert.deepEqual(override.match, [{ headers: { "x-kubernetes": { exact: "1" } } }]);
        assert.deepEqual(override.route, [{ destination: { host: "ads-bff.frontend.svc.cluster.local", port: { number: 8080 } } }]);
        assert.deepEqual(
            primary.route.map((d: any) => [d.destination.host, d.weight]),
            [
                ["ads-bff.frontend.svc.cluster.local", 50],
                ["ads.legacy.example.internal", 50],
            ],
        );
        // Rolling back is one value.
        const rolledBack = render({ ...service("ads-bff"), migration: { ...service("ads-bff").migration!, legacyWeight: 100 } });
        assert.deepEqual(
            rolledBack.virtualService.spec.http[1].route.map((d: any) => d.weight),
            [0, 100],
        );
    });
});

describe("BFF service: autoscaling, disruption budget, jobs", () => {
    it("scales the Rollout on the whole pod's CPU, and never sets replicas beside an HPA", () => {
        const rendered = render(service("pc-web"));
        assert.equal(rendered.workload.spec.replicas, undefined);
        assert.deepEqual(rendered.horizontalPodAutoscaler.spec.scaleTargetRef, {
            apiVersion: "argoproj.io/v1alpha1",
            kind: "Rollout",
            name: "pc-web",
        });
        assert.equal(rendered.horizontalPodAutoscaler.spec.minReplicas, 10);
        assert.equal(rendered.horizontalPodAutoscaler.spec.maxReplicas, 20);
        assert.deepEqual(rendered.horizontalPodAutoscaler.spec.metrics, [
            { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } },
        ]);
        const fixed = render(service("ads-bff"));
        assert.equal(fixed.workload.spec.replicas, 3);
        assert.equal(fixed.horizontalPodAutoscaler, undefined);
    });

    it("scales on an External (Datadog) metric", () => {
        const s = entry({
            replicas: undefined,
            hpa: { minReplicas: 2, maxReplicas: 10, external: { metricName: "datadogmetric@frontend:demo-rps", targetAverageValue: "40" } },
        });
        assert.deepEqual(render(s).horizontalPodAutoscaler.spec.metrics, [
            {
                type: "External",
                external: { metric: { name: "datadogmetric@frontend:demo-rps" }, target: { type: "AverageValue", averageValue: "40" } },
            },
        ]);
    });

    it("selects the External metric by its labels when the service names some", () => {
        const s = entry({
            replicas: undefined,
            hpa: {
                minReplicas: 2,
                maxReplicas: 10,
                external: { metricName: "trace.http.request.hits", selector: { service: "demo" }, targetAverageValue: "40" },
            },
        });
        assert.deepEqual(render(s).horizontalPodAutoscaler.spec.metrics[0].external.metric, {
            name: "trace.http.request.hits",
            selector: { matchLabels: { service: "demo" } },
        });
    });

    it("renders Jobs as Argo CD PreSync hooks and CronJobs, none with the istio sidecar or a TTL", () => {
        const [job, cron] = render(service("account-web")).jobs;
        assert.equal(job.kind, "Job");
        assert.equal(job.metadata.name, "account-web-db-migrate");
        assert.equal(job.metadata.annotations["argocd.argoproj.io/hook"], "PreSync");
        assert.equal(job.metadata.annotations["argocd.argoproj.io/hook-delete-policy"], "BeforeHookCreation");
        assert.equal(job.spec.ttlSecondsAfterFinished, undefined);
        assert.equal(job.spec.template.metadata.labels["sidecar.istio.io/inject"], "false");
        assert.deepEqual(job.spec.template.spec.containers[0].command, ["bin/rails", "db:migrate"]);
        assert.equal(
            job.spec.template.spec.containers[0].image,
            "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/frontend/account-web:7.3.0",
        );
        // The PreSync hook runs before the sync applies the ConfigMap: its environment is inlined.
        assert.equal(job.spec.template.spec.containers[0].envFrom, undefined);
        assert.deepEqual(job.spec.template.spec.containers[0].env, [
            { name: "RAILS_ENV", value: "production" },
            { name: "RAILS_LOG_TO_STDOUT", value: "1" },
            { name: "RELEASE_ENV", value: "production" },
        ]);
        assert.equal(cron.kind, "CronJob");
        assert.equal(cron.spec.schedule, "0 4 * * *");
        assert.equal(cron.spec.concurrencyPolicy, "Forbid");
        // 04:00 in the stack's time zone, not in the controller manager's (UTC on EKS).
        assert.equal(cron.spec.timeZone, "Asia/Tokyo");
        assert.equal(cron.spec.jobTemplate.spec.template.metadata.labels["sidecar.istio.io/inject"], "false");
    });

    it("reads CronJob schedules in the job's time zone, else the stack's, and refuses a time zone without a schedule", () => {
        const withJobs = (jobs: unknown[], stackTimeZone?: string) => {
            let configMap = editConfig(stackFile("production").configMap, "services", (services) => {
                services.find((s: any) => s.name === "account-web").jobs = jobs;
                return services;
            });
            if (stackTimeZone !== undefined) {
                configMap = { ...configMap, "bff-platform:timeZone": stackTimeZone };
            }
            return parseStackConfig(configMap, "production").config;
        };
        const cronOf = (config: any) =>
            renderBffService(
                config.services.find((s: any) => s.name === "account-web"),
                { ...ctx(), timeZone: config.timeZone },
            ).jobs[0] as any;
        const nightly = { name: "purge", schedule: "0 4 * * *", command: ["bin/rails", "sessions:purge"] };
        assert.equal(cronOf(withJobs([nightly])).spec.timeZone, "Asia/Tokyo", "the default stack time zone");
        assert.equal(cronOf(withJobs([nightly], "Europe/Berlin")).spec.timeZone, "Europe/Berlin");
        assert.equal(cronOf(withJobs([{ ...nightly, timeZone: "UTC" }], "Europe/Berlin")).spec.timeZone, "UTC");
        assert.throws(
            () => withJobs([{ name: "migrate", timeZone: "UTC", command: ["bin/rails", "db:migrate"] }]),
            (e: any) =>
                e.problems.some((p: string) =>
                    /services\[account-web\]\.jobs\[migrate\]\.timeZone: applies to a scheduled job \(a CronJob\) only: set schedule, or remove timeZone/.test(
                        p,
                    ),
                ),
        );
        assert.throws(
            () => withJobs([{ ...nightly, timeZone: "Tokyo time" }]),
            (e: any) => e.problems.some((p: string) => /jobs\[purge\]\.timeZone: "Tokyo time" must be an IANA time zone name/.test(p)),
        );
    });

    it("validates every object of every production service against the upstream schemas", async () => {
        const problems: string[] = [];
        const context = ctx();
        assert.equal(context.services.length, 15);
        for (const s of context.services) {
            for (const object of allObjects(renderBffService(s, context))) {
                for (const problem of await validateKubeObject(object)) {
                    problems.push(`${object.kind} ${object.metadata.name}: ${problem}`);
                }
            }
        }
        assert.deepEqual(problems, []);
    });
});

describe("BFF service: local rate limits (docs/design.md §5)", () => {
    it("puts the nginx leaky bucket between istio-proxy and the app: the Services target the sidecar", () => {
        const rendered = render(service("pc-web"));
        const pod = rendered.workload.spec.template.spec;
        const sidecar = pod.containers.find((c: any) => c.name === "rate-limiter");
        assert.ok(sidecar, "sidecar present");
        assert.deepEqual(sidecar.ports[0], { name: "http-limited", containerPort: 8079, protocol: "TCP" });
        for (const svc of rendered.services) {
            assert.equal(svc.spec.ports[0].targetPort, "http-limited", svc.metadata.name);
            assert.equal(svc.spec.ports[0].port, 3000, "callers and VirtualServices keep the service port");
        }
        const conf = rendered.limiterConfigMap.data["nginx.conf"];
        assert.match(conf, /limit_req_zone "pod" zone=pod:1m rate=10r\/s;/);
        assert.match(conf, /limit_req zone=pod burst=50 delay=10;/);
        assert.match(conf, /limit_req_status 429;/);
        assert.match(conf, /server 127\.0\.0\.1:3000;/);
        assert.match(conf, /listen 8079;/);
    });

    it("runs the sidecar unprivileged with its own small requests, counted in the pod", () => {
        const sidecar = render(service("pc-web")).workload.spec.template.spec.containers[1];
        assert.equal(sidecar.securityContext.runAsNonRoot, true);
        assert.equal(sidecar.securityContext.runAsUser, 10101);
        assert.equal(sidecar.securityContext.runAsGroup, 10101);
        assert.equal(sidecar.securityContext.readOnlyRootFilesystem, true);
        assert.equal(sidecar.securityContext.privileged, undefined);
        assert.deepEqual(sidecar.resources.requests, { cpu: "50m", memory: "32Mi" });
    });

    it("restarts a limiter that stops answering: liveness on nginx's own /healthz, on a port no Service targets", () => {
        const rendered = render(service("pc-web"));
        const sidecar = rendered.workload.spec.template.spec.containers[1];
        assert.deepEqual(sidecar.livenessProbe, {
            httpGet: { path: "/healthz", port: "limiter-health" },
            periodSeconds: 10,
            timeoutSeconds: 2,
            failureThreshold: 3,
        });
        assert.deepEqual(sidecar.ports, [
            { name: "http-limited", containerPort: 8079, protocol: "TCP" },
            { name: "limiter-health", containerPort: 8078, protocol: "TCP" },
        ]);
        assert.match(rendered.limiterConfigMap.data["nginx.conf"], /listen 8078;\s+location = \/healthz \{\s+return 204;/);
        for (const svc of rendered.services) {
            assert.deepEqual(
                svc.spec.ports.map((p: any) => p.targetPort),
                ["http-limited"],
            );
        }
    });

    it("rolls the pods when the limit changes", () => {
        const hash = (s: ServiceConfig) => render(s).workload.spec.template.metadata.annotations[CONTENT_HASH_ANNOTATION];
        const base = service("pc-web");
        const tighter = { ...base, rateLimit: { local: { ...base.rateLimit!.local!, requestsPerSecond: 9 } } };
        assert.notEqual(hash(tighter), hash(base));
    });

    it("configures envoy's token bucket on inbound traffic, enabled and enforced for every request", () => {
        const rendered = render(service("comment-bff"));
        const filter = rendered.localRateLimitFilter;
        assert.equal(filter.apiVersion, "networking.istio.io/v1alpha3");
        assert.equal(filter.metadata.name, "comment-bff-local-ratelimit");
        assert.deepEqual(filter.spec.workloadSelector.labels, rendered.names.selector);
        const [patch] = filter.spec.configPatches;
        assert.equal(patch.applyTo, "HTTP_FILTER");
        assert.equal(patch.match.context, "SIDECAR_INBOUND");
        assert.equal(patch.match.listener.portNumber, 3000);
        const config = patch.patch.value.typed_config;
        assert.equal(patch.patch.value.name, "envoy.filters.http.local_ratelimit");
        assert.deepEqual(config.token_bucket, { max_tokens: 40, tokens_per_fill: 20, fill_interval: "1s" });
        for (const flag of [config.filter_enabled, config.filter_enforced]) {
            assert.deepEqual(flag.default_value, { numerator: 100, denominator: "HUNDRED" }, "both default to 0%: off");
        }
        assert.equal(rendered.limiterConfigMap, undefined);
        assert.equal(rendered.workload.spec.template.spec.containers.length, 1, "no nginx sidecar with envoy");
        assert.equal(rendered.services[0].spec.ports[0].targetPort, "http");
    });

    it("adds neither limiter to a service without a local limit", () => {
        const rendered = render(service("search-bff"));
        assert.equal(rendered.localRateLimitFilter, undefined);
        assert.equal(rendered.limiterConfigMap, undefined);
    });
});

describe("BFF service in the program", () => {
    it("changes one object on a version bump, the service's Rollout, and in it only the version: no rename, no other object", async () => {
        // pc-web without static files here: a release of a service with staticAssets also adds its
        // upload Job and removes the previous one (tests/static-assets.test.ts).
        const base = editConfig(stackFile("production").configMap, "services", (services) => {
            delete services[0].staticAssets;
            return services;
        });
        const bumped = editConfig(base, "services", (services) => {
            services[0].version = "2.15.0";
            return services;
        });
        const before = await run(base, "up", "production");
        const after = await run(bumped, "up", "production");
        assert.deepEqual(
            after.resources.map((r) => r.urn),
            before.resources.map((r) => r.urn),
            "same resources, same names",
        );
        const changed = after.resources.filter((r, i) => renderResourcesJson([r]) !== renderResourcesJson([before.resources[i]]));
        // pc-web-v2 extends pc-web but pins its own version: only pc-web's Rollout changes.
        assert.deepEqual(
            changed.map((r) => `${r.type} ${r.name}`),
            ["kubernetes:argoproj.io/v1alpha1:Rollout pc-web"],
        );
        const old = before.resources.find((r) => r.urn === changed[0].urn);
        assert.ok(old);
        assert.equal(renderResourcesJson(changed), renderResourcesJson([old]).replaceAll("2.14.0", "2.15.0"), "only the version");
        assert.equal(resourcesOfType(after, "kubernetes:argoproj.io/v1alpha1:Rollout").length, 14);
    });
});

describe("BFF service: a rollingUpdate service", () => {
    it("sends all its traffic to its one Service, with no weights for a Rollout to move", () => {
        const rolling = entry({ strategy: "rollingUpdate" });
        const rendered = render(rolling, { ...ctx(), services: [...productionServices(), rolling] });
        const [primary] = rendered.virtualService.spec.http;
        assert.deepEqual(primary.route, [{ destination: { host: "demo.frontend.svc.cluster.local", port: { number: 3000 } } }]);
        assert.deepEqual(rolloutRoutesOf(rolling, { ...ctx(), services: [rolling] }), []);
        assert.equal(rendered.analysisTemplate, undefined);
    });
});

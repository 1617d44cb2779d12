import assert from "node:assert/strict";
import { configNameSources, derivedObjects, parseStackConfig } from "../components/config";
import { kubernetesObjects } from "../cli/render";
import { editConfig, run, stackFile } from "./support/program";

/** Objects whose names are fixed by the program, not derived from config (their namespace is). */
const FIXED_NAMESPACE_CONTENT = new Set(["frontend-ratelimit"]);

describe("derived object names", () => {
    const variants: [string, () => Record<string, string>][] = [
        // dev: gatewayInjection, in-cluster Redis; the production variant: every other kind of object.
        ["dev", () => stackFile("dev").configMap],
        [
            "production with an istioOperator gateway, TLS and envoy local limits",
            () => {
                let configMap = editConfig(stackFile("production").configMap, "gateways", (gateways) => {
                    gateways[0].mode = "istioOperator";
                    gateways[0].istioOperator = { install: "operator" };
                    gateways[0].tls = { issuer: { ca: { secretName: "frontend-private-ca" } } };
                    return gateways;
                });
                configMap = editConfig(configMap, "services", (services) => {
                    services[0].rateLimit.local = { type: "envoy", requestsPerSecond: 10, burst: 5 };
                    return services;
                });
                return configMap;
            },
        ],
    ];
    for (const [what, configMapOf] of variants) {
        it(`predicts every Kubernetes object the program registers, and no other: ${what}`, async () => {
            const configMap = configMapOf();
            const environment = configMap["bff-platform:environment"];
            const { config } = parseStackConfig(configMap, environment);
            const predicted = new Set(derivedObjects(configNameSources(config)).map((o) => `${o.kind} ${o.namespace ?? "-"} ${o.name}`));
            const result = await run(configMap, "up", environment);
            const missed = kubernetesObjects(result.resources)
                .filter((o) => !FIXED_NAMESPACE_CONTENT.has(o.metadata.namespace ?? ""))
                .map((o) => `${o.kind} ${o.metadata.namespace ?? "-"} ${o.metadata.name}`)
                .filter((key) => !predicted.has(key));
            assert.deepEqual(missed, []);
            // And nothing it does not register: a prediction too many would refuse a name nothing uses.
            // The one exception is a reservation: the child Applications' directory, so no app takes its name.
            const registered = new Set(
                kubernetesObjects(result.resources).map((o) => `${o.kind} ${o.metadata.namespace ?? "-"} ${o.metadata.name}`),
            );
            assert.deepEqual(
                [...predicted].filter((key) => !registered.has(key)),
                ["Application argocd applications"],
            );
        });
    }
    it("describes each derived object as a name-collision message names it (names of services, gateways and hosts as *)", () => {
        const operator = editConfig(stackFile("production").configMap, "gateways", (gateways) => {
            gateways[0].mode = "istioOperator";
            gateways[0].istioOperator = { install: "operator" };
            gateways[0].tls = { issuer: { ca: { secretName: "frontend-private-ca" } } };
            return gateways;
        });
        const descriptions = new Set<string>();
        for (const [stack, configMap] of [
            ["dev", stackFile("dev").configMap],
            ["production", stackFile("production").configMap],
            ["production", operator],
        ] as const) {
            const { config } = parseStackConfig(configMap, stack);
            for (const o of derivedObjects(configNameSources(config))) {
                const what = o.what.endsWith(` ${o.value}`)
                    ? `${o.what.slice(0, -o.value.length)}*`
                    : o.what.replace(/ of host [a-z0-9-]+$/, " of host *");
                descriptions.add(`${o.kind}: ${what}`);
            }
        }
        assert.deepEqual([...descriptions].sort(), [
            "AnalysisTemplate: AnalysisTemplate of service *",
            "AppProject: the team's AppProject",
            "Application: Application and manifests directory of gateway *",
            "Application: Application and manifests directory of service *",
            "Application: the child Applications' directory",
            "Application: the host routes' app",
            "Application: the root Application",
            "Certificate: Certificate of host *",
            "ClusterIssuer: ClusterIssuer of gateway *",
            "ConfigMap: ConfigMap of service *",
            "ConfigMap: error pages ConfigMap of gateway *",
            "ConfigMap: fluent-bit ConfigMap of gateway *",
            "ConfigMap: nginx ConfigMap of gateway *",
            "ConfigMap: rate-limiter ConfigMap of service *",
            "CronJob: CronJob of service account-web",
            "CronJob: the Argo CD backup's CronJob",
            "Deployment: Deployment of gateway *",
            "Deployment: workload of service *",
            "DestinationRule: DestinationRule of service *",
            "DestinationRule: canary DestinationRule of service *",
            "DestinationRule: stable DestinationRule of service *",
            "EnvoyFilter: global rate limit EnvoyFilter of gateway *",
            "EnvoyFilter: global rate limit actions EnvoyFilter of gateway *",
            "EnvoyFilter: local rate limit EnvoyFilter of service *",
            "Gateway: Gateway of host *",
            "HorizontalPodAutoscaler: HorizontalPodAutoscaler of gateway *",
            "HorizontalPodAutoscaler: HorizontalPodAutoscaler of service *",
            "IstioOperator: IstioOperator of gateway *",
            "Job: Job of service account-web",
            "Job: static upload Job of service *",
            "Namespace: app namespace",
            "Namespace: argoRollouts add-on's namespace",
            "Namespace: argocd add-on's namespace",
            "Namespace: awsLoadBalancerController add-on's namespace",
            "Namespace: certManager add-on's namespace",
            "Namespace: clusterAutoscaler add-on's namespace",
            "Namespace: datadog add-on's namespace",
            "Namespace: gateway namespace",
            "Namespace: istio add-on's namespace",
            "Namespace: metricsServer add-on's namespace",
            "Namespace: rate limit namespace (istio-injection disabled)",
            "NetworkPolicy: NetworkPolicy admitting clients to gateway *",
            "NetworkPolicy: NetworkPolicy admitting the gateways to the BFFs",
            "NetworkPolicy: NetworkPolicy admitting the metrics scrapers to gateway *",
            "NetworkPolicy: NetworkPolicy admitting the metrics scrapers to the BFFs",
            "NetworkPolicy: default-deny NetworkPolicy of a gateway namespace",
            "NetworkPolicy: default-deny NetworkPolicy of the app namespace",
            "PodDisruptionBudget: PodDisruptionBudget of gateway *",
            "PodDisruptionBudget: PodDisruptionBudget of service *",
            "Role: Role of gateway *",
            "Role: the Argo CD backup's Role",
            "RoleBinding: RoleBinding of gateway *",
            "RoleBinding: the Argo CD backup's RoleBinding",
            "Rollout: workload of service *",
            "Secret: Argo CD's repository Secret",
            "Secret: Datadog keys Secret",
            "Service: Service of gateway *",
            "Service: Service of service *",
            "Service: canary Service of service *",
            "Service: stable Service of service *",
            "ServiceAccount: ServiceAccount of gateway *",
            "ServiceAccount: static upload ServiceAccount of service *",
            "ServiceAccount: the Argo CD backup's ServiceAccount",
            "ServiceEntry: legacy ServiceEntry of service *",
            "VirtualService: VirtualService of service *",
            "VirtualService: root VirtualService of host *",
        ]);
    });
});

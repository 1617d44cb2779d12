import assert from "node:assert/strict";
import { renderBffService } from "../components/bff-service";
import { parseStackConfig, ServiceConfig } from "../components/config";
import { CONTENT_HASH_ANNOTATION } from "../components/shared";
import { renderResourcesJson } from "../tools/render";
import { editConfig, resourcesOfType, run, stackFile } from "./support/program";

const productionServices = () => parseStackConfig(stackFile("production").configMap).config.services;
const service = (name: string): ServiceConfig => {
    const found = productionServices().find((s) => s.name === name);
    assert.ok(found, name);
    return found;
};
const ctx = { environment: "production", namespace: "frontend" };
/** Rendered objects as plain data: their declared types wrap every field in pulumi.Input. */
const render = (s: ServiceConfig): any => renderBffService(s, ctx);

describe("BFF service objects", () => {
    it("selects its pods with the same labels it puts on them", () => {
        const rendered = render(service("pc-web"));
        const podLabels = rendered.deployment.spec.template.metadata?.labels as Record<string, string>;
        const selector = rendered.deployment.spec.selector.matchLabels as Record<string, string>;
        for (const [key, value] of Object.entries(selector)) {
            assert.equal(podLabels[key], value, key);
        }
        assert.deepEqual(rendered.service.spec.selector, selector);
        assert.deepEqual((rendered.podDisruptionBudget.spec.selector as { matchLabels: unknown }).matchLabels, selector);
        assert.equal(podLabels.app, "pc-web");
        assert.equal(podLabels.version, "2.14.0");
        assert.equal(podLabels["app.kubernetes.io/version"], "2.14.0");
    });

    it("rolls the pods when the ConfigMap changes, through the sha256 content hash", () => {
        const before = render(service("pc-web"));
        const after = render({ ...service("pc-web"), env: { ...service("pc-web").env, FEATURE_X: "on" } });
        const hash = (r: any) => (r.deployment.spec.template.metadata?.annotations as Record<string, string>)[CONTENT_HASH_ANNOTATION];
        assert.match(hash(before), /^[0-9a-f]{64}$/);
        assert.notEqual(hash(after), hash(before));
        assert.equal(after.configMap.data.FEATURE_X, "on");
        // A version bump alone does not change the config, so it does not change the hash.
        assert.equal(hash(render({ ...service("pc-web"), version: "2.15.0" })), hash(before));
    });

    it("sets RELEASE_ENV and passes the CPU request through the Downward API", () => {
        const rendered = render(service("account-web"));
        assert.equal(rendered.configMap.data.RELEASE_ENV, "production");
        const container = rendered.deployment.spec.template.spec?.containers[0] as any;
        assert.deepEqual(container.env[0], {
            name: "CPU_REQUEST_MILLICORES",
            valueFrom: { resourceFieldRef: { containerName: "app", resource: "requests.cpu", divisor: "1m" } },
        });
        assert.deepEqual(container.envFrom, [{ configMapRef: { name: "account-web-env" } }]);
    });

    it("shuts down gracefully: preStop sleep shorter than the grace period, probes, no unavailable pod during rollout", () => {
        const rendered = render(service("pc-web"));
        const pod = rendered.deployment.spec.template.spec as any;
        const container = pod.containers[0];
        const sleep = Number(/sleep (\d+)/.exec(container.lifecycle.preStop.exec.command.join(" "))?.[1]);
        assert.equal(sleep, 5);
        assert.ok(pod.terminationGracePeriodSeconds > sleep);
        assert.equal(container.readinessProbe.httpGet.path, "/healthz");
        assert.equal(container.livenessProbe.httpGet.path, "/healthz");
        assert.deepEqual(rendered.deployment.spec.strategy, {
            type: "RollingUpdate",
            rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 },
        });
    });

    it("runs on worker nodes, spread over hosts, with istio-proxy sized through annotations", () => {
        const rendered = render(service("pc-web"));
        const pod = rendered.deployment.spec.template.spec as any;
        assert.deepEqual(pod.nodeSelector, { "node-role": "worker" });
        const term = pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
        assert.equal(term.topologyKey, "kubernetes.io/hostname");
        assert.equal(term.labelSelector.matchLabels["app.kubernetes.io/name"], "pc-web");
        const annotations = rendered.deployment.spec.template.metadata?.annotations as Record<string, string>;
        assert.equal(annotations["sidecar.istio.io/proxyCPU"], "100m");
        assert.equal(annotations["sidecar.istio.io/proxyMemory"], "128Mi");
    });

    it("runs unprivileged, as non-root, with a read-only root filesystem", () => {
        const pod = render(service("pc-web")).deployment.spec.template.spec as any;
        assert.deepEqual(pod.containers[0].securityContext, {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ["ALL"] },
        });
        assert.equal(pod.automountServiceAccountToken, false);
    });

    it("lets the HPA own the replica count when there is one, and fixes it otherwise", () => {
        const scaled = render(service("pc-web"));
        assert.equal(scaled.deployment.spec.replicas, undefined);
        assert.deepEqual(scaled.horizontalPodAutoscaler?.spec.scaleTargetRef, {
            apiVersion: "apps/v1",
            kind: "Deployment",
            name: "pc-web",
        });
        assert.equal(scaled.horizontalPodAutoscaler?.spec.minReplicas, 10);
        assert.equal(scaled.horizontalPodAutoscaler?.spec.maxReplicas, 20);
        const fixed = render(service("ads-bff"));
        assert.equal(fixed.deployment.spec.replicas, 3);
        assert.equal(fixed.horizontalPodAutoscaler, undefined);
    });

    it("uses the runtime template's port unless the service sets one", () => {
        const port = (s: ServiceConfig) => (render(s).deployment.spec.template.spec as any).containers[0].ports[0].containerPort;
        assert.equal(port(service("pc-web")), 3000);
        assert.equal(port(service("notification-bff")), 9000);
        assert.equal(port(service("ads-bff")), 8080);
        assert.equal(port({ ...service("pc-web"), port: 8081 }), 8081);
    });

    it("changes only the bumped service's image and version labels on a version bump: no rename, no other object", async () => {
        const base = stackFile("production").configMap;
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
        assert.deepEqual(changed.map((r) => `${r.type} ${r.name}`).sort(), [
            "kubernetes:apps/v1:Deployment pc-web",
            "kubernetes:autoscaling/v2:HorizontalPodAutoscaler pc-web",
            "kubernetes:core/v1:ConfigMap pc-web-env",
            "kubernetes:core/v1:Service pc-web",
            "kubernetes:policy/v1:PodDisruptionBudget pc-web",
        ]);
        const text = (r: (typeof changed)[number]) => renderResourcesJson([r]);
        for (const resource of changed) {
            const old = before.resources.find((r) => r.urn === resource.urn);
            assert.ok(old);
            assert.equal(text(resource), text(old).replaceAll("2.14.0", "2.15.0"), `${resource.name}: only the version differs`);
        }
        assert.equal(resourcesOfType(after, "kubernetes:apps/v1:Deployment").length, 14);
    });
});

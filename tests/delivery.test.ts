import assert from "node:assert/strict";
import { ConfigError, parseStackConfig } from "../components/config";
import { childApplication, rootApplication } from "../components/delivery";
import { RegisteredResource } from "../cli/mock-runtime";
import { editConfig, findResource, resourcesOfType, run, runStack, stackFile } from "./support/program";
import { validateKubeObject } from "./support/schemas";

const APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application";
const production = () => parseStackConfig(stackFile("production").configMap, "production").config;
const providerUrn = (r: RegisteredResource) => (r.provider ?? "").split("::").slice(0, -1).join("::");

describe("delivery with Argo CD (app-of-apps, SYSTEM.md §2)", () => {
    it("applies frontend-apps to the cluster and renders one child Application per app into its directory", async () => {
        const result = await runStack("production");
        const root = findResource(result, APPLICATION, "frontend-apps");
        assert.match(providerUrn(root), /pulumi:providers:kubernetes::frontend-production-k8s$/);
        const spec = root.inputs.spec as any;
        assert.equal(spec.source.path, "kubernetes/overlays/production/applications");
        assert.equal(spec.source.targetRevision, "release/production");
        assert.deepEqual(spec.syncPolicy.automated, { prune: true, selfHeal: true });
        assert.deepEqual((root.inputs.metadata as any).finalizers, ["resources-finalizer.argocd.argoproj.io"]);
        assert.equal((root.inputs.metadata as any).namespace, "argocd");

        const children = resourcesOfType(result, APPLICATION).filter((r) => r.name !== "frontend-apps");
        const config = production();
        assert.deepEqual(
            children.map((c) => c.name).sort(),
            [...config.services.map((s) => s.name), "host-routes", "istio-ingressgateway"].sort(),
        );
        const gateway = children.find((c) => c.name === "istio-ingressgateway") as RegisteredResource;
        assert.equal((gateway.inputs.spec as any).destination.namespace, "frontend-gateway");
        assert.equal((gateway.inputs.spec as any).source.path, "kubernetes/overlays/production/istio-ingressgateway");
        const renderDir = (r: RegisteredResource) => result.resources.find((p) => p.urn === providerUrn(r))?.inputs.renderYamlToDirectory;
        for (const child of children) {
            assert.equal(renderDir(child), "kubernetes/overlays/production/applications");
        }
    });

    it("points each child at its app directory and namespace, with waves and Slack notifications", () => {
        const config = production();
        const app = childApplication({ name: "pc-web", namespace: "frontend", syncWave: 0 }, config) as any;
        assert.equal(app.spec.source.path, "kubernetes/overlays/production/pc-web");
        assert.equal(app.spec.destination.namespace, "frontend");
        assert.equal(app.metadata.annotations["argocd.argoproj.io/sync-wave"], "0", "a quoted integer");
        assert.equal(app.metadata.annotations["notifications.argoproj.io/subscribe.on-sync-failed.slack"], "frontend-deploy");
        assert.deepEqual(app.metadata.finalizers, ["resources-finalizer.argocd.argoproj.io"]);
    });

    it("ignores the VirtualService weights Argo Rollouts moves, and keeps them on sync", () => {
        const app = childApplication({ name: "pc-web", namespace: "frontend", syncWave: 0 }, production()) as any;
        assert.deepEqual(app.spec.ignoreDifferences, [
            { group: "networking.istio.io", kind: "VirtualService", jqPathExpressions: [".spec.http[].route[].weight"] },
        ]);
        assert.ok(app.spec.syncPolicy.syncOptions.includes("RespectIgnoreDifferences=true"));
    });

    it("syncs the host routes after every service, since they delegate to the services' VirtualServices", async () => {
        const result = await runStack("production");
        const waves = new Map(
            resourcesOfType(result, APPLICATION)
                .filter((r) => r.name !== "frontend-apps")
                .map((r) => [r.name, Number((r.inputs.metadata as any).annotations["argocd.argoproj.io/sync-wave"])]),
        );
        const routes = waves.get("host-routes") as number;
        for (const [name, wave] of waves) {
            if (name !== "host-routes") {
                assert.ok(wave < routes, `${name} (${wave}) before host-routes (${routes})`);
            }
        }
    });

    it("creates no Application in direct mode", async () => {
        const direct = await run(
            editConfig(stackFile("production").configMap, "delivery", (d) => ({ ...d, mode: "direct" })),
            "up",
            "production",
        );
        assert.deepEqual(resourcesOfType(direct, APPLICATION), []);
    });

    it("refuses service names that belong to the platform's app directories", () => {
        const configMap = editConfig(stackFile("production").configMap, "services", (services) => {
            services[2].name = "host-routes";
            return services;
        });
        assert.throws(
            () => parseStackConfig(configMap, "production"),
            (e: unknown) =>
                e instanceof ConfigError &&
                e.problems.includes(
                    'bff-platform:services[2].name: "host-routes" is reserved for the platform\'s own app directory (reserved: host-routes, applications)',
                ),
        );
    });

    it("validates the Applications against the Argo CD schema", async () => {
        const config = production();
        assert.deepEqual(await validateKubeObject(rootApplication(config)), []);
        assert.deepEqual(await validateKubeObject(childApplication({ name: "pc-web", namespace: "frontend", syncWave: 2 }, config)), []);
    });
});

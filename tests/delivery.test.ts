import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { ConfigError, parseStackConfig } from "../components/config";
import { childApplication, rootApplication } from "../components/delivery";
import { RegisteredResource } from "../cli/mock-runtime";
import { editConfig, findResource, resourcesOfType, run, runStack, stackFile } from "./support/program";
import { validateKubeObject } from "./support/schemas";
import { findBinary } from "../harness/nginx";

const APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application";
const VIRTUAL_SERVICE = "kubernetes:networking.istio.io/v1:VirtualService";
const production = () => parseStackConfig(stackFile("production").configMap, "production").config;
const providerUrn = (r: RegisteredResource) => (r.provider ?? "").split("::").slice(0, -1).join("::");

describe("delivery with Argo CD (app-of-apps, docs/design.md §2)", () => {
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

    it("ignores only the weights Argo Rollouts moves, by route name, and keeps them on sync", () => {
        const app = childApplication(
            {
                name: "pc-web",
                namespace: "frontend",
                syncWave: 0,
                rolloutRoutes: [
                    { virtualService: "pc-web", route: "http-pc-web-preview-0" },
                    { virtualService: "pc-web", route: "http-pc-web-primary" },
                ],
            },
            production(),
        ) as any;
        assert.deepEqual(app.spec.ignoreDifferences, [
            {
                group: "networking.istio.io",
                kind: "VirtualService",
                name: "pc-web",
                jqPathExpressions: [
                    '.spec.http[] | select(.name == "http-pc-web-preview-0") | .route[].weight',
                    '.spec.http[] | select(.name == "http-pc-web-primary") | .route[].weight',
                ],
            },
        ]);
        assert.ok(app.spec.syncPolicy.syncOptions.includes("RespectIgnoreDifferences=true"));
        const plain = childApplication({ name: "ads-bff", namespace: "frontend", syncWave: 0 }, production()) as any;
        assert.equal(plain.spec.ignoreDifferences, undefined, "nothing ignored where no Rollout moves weights");
    });

    it("retries a failed sync with backoff, children and root alike", async () => {
        const result = await runStack("production");
        for (const app of resourcesOfType(result, APPLICATION)) {
            assert.deepEqual(
                (app.inputs.spec as any).syncPolicy.retry,
                { limit: 5, backoff: { duration: "10s", factor: 2, maxDuration: "3m" } },
                app.name,
            );
        }
    });

    it("lets a migration's legacyWeight reach the cluster while canary weights stay with Argo Rollouts (jq as Argo CD runs it)", async () => {
        // Argo CD normalizes the live and desired objects with gojq's `del(<jqPathExpression>)`
        // (util/argo/normalizers/diff_normalizer.go); jq has the same semantics for these paths.
        const result = await runStack("production");
        const removedWeights = (app: string): Map<string, number[]> => {
            const application = findResource(result, APPLICATION, app).inputs.spec as any;
            const virtualService = findResource(result, VIRTUAL_SERVICE, app).inputs as any;
            let normalized = virtualService;
            for (const entry of application.ignoreDifferences ?? []) {
                assert.equal(entry.name, app);
                for (const expression of entry.jqPathExpressions) {
                    const out = spawnSync(findBinary("jq"), ["-c", `del(${expression})`], { input: JSON.stringify(normalized) });
                    assert.equal(out.status, 0, `${expression}: ${out.stderr}`);
                    normalized = JSON.parse(out.stdout.toString());
                }
            }
            const weights = (vs: any) =>
                new Map<string, number[]>(vs.spec.http.map((r: any) => [r.name, r.route.map((d: any) => d.weight)]));
            const before = weights(virtualService);
            const after = weights(normalized);
            return new Map([...before].filter(([name]) => JSON.stringify(before.get(name)) !== JSON.stringify(after.get(name))));
        };
        // pc-web: its canary route and its preview routes to the canary pc-web-v2, nothing else.
        assert.deepEqual([...removedWeights("pc-web").keys()], ["http-pc-web-preview-0", "http-pc-web-preview-1", "http-pc-web-primary"]);
        // ads-bff migrates: its 50/50 split between pods and the legacy upstream is synced like any field.
        assert.deepEqual([...removedWeights("ads-bff").keys()], []);
        assert.deepEqual(
            (findResource(result, VIRTUAL_SERVICE, "ads-bff").inputs as any).spec.http.at(-1).route.map((d: any) => d.weight),
            [50, 50],
        );
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

    it("applies nothing to the cluster directly that carries the tracking label of an Argo CD app", async () => {
        // Argo CD 2.x tracks by `app.kubernetes.io/instance` (docs/user-guide/resource_tracking.md):
        // an object with an app's value that is not in the app's directory is pruned by that app.
        const result = await runStack("production");
        const apps = new Set(resourcesOfType(result, APPLICATION).map((a) => a.name));
        const direct = result.resources.filter(
            (r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm") && /-k8s$/.test(providerUrn(r)),
        );
        assert.ok(
            direct.some((r) => r.type.endsWith(":ClusterIssuer")),
            "the ClusterIssuer is applied directly",
        );
        for (const resource of direct) {
            const instance = (resource.inputs.metadata as any)?.labels?.["app.kubernetes.io/instance"];
            assert.ok(instance === undefined || !apps.has(instance), `${resource.type} ${resource.name} carries ${instance}`);
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

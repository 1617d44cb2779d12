/**
 * Order of creation, proven offline on the recorded registrations of the committed stacks: what
 * the engine will wait for is exactly the recorded `dependencies` of a resource and of its
 * parents. A first `pulumi up` completes only if, for every object Pulumi applies to the cluster,
 * the resource that installs its CRD, its namespace and (for a Helm release) the node group its
 * pods schedule onto come first.
 */
import assert from "node:assert/strict";
import { ADDON_DEFAULTS, addonNodeRole, addonProviding, ADDONS } from "../components/addons";
import { AddonName, parseStackConfig, StackConfig } from "../components/config";
import { RegisteredResource, RunResult } from "../cli/mock-runtime";
import { renderReport, kubernetesObjects } from "../cli/render";
import { editConfig, findResource, oncePerRun, run, runStack, stackFile, STACKS } from "./support/program";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";

interface Verdict {
    violations: string[];
    /** How many rules were checked, per rule: a checker that checks nothing proves nothing. */
    checked: { crd: number; namespace: number; nodeGroup: number };
}

/** Custom resources: API groups with a dot that Kubernetes itself does not serve (`*.k8s.io`). */
function customGroup(type: string): string | undefined {
    const match = /^kubernetes:([\w.-]+)\/\w+:\w+$/.exec(type);
    const group = match?.[1];
    return group !== undefined && group.includes(".") && !group.endsWith(".k8s.io") && group !== "helm.sh" ? group : undefined;
}

/**
 * Checks the three rules on a recorded graph. Only what Pulumi applies to the cluster is checked:
 * objects written to Argo CD's directory (`renderYamlToDirectory`) never talk to the API server.
 */
function checkOrderOfCreation(resources: RegisteredResource[], config: StackConfig): Verdict {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const clusterProvider = resources.find((r) => r.type === "pulumi:providers:kubernetes" && r.inputs.kubeconfig !== undefined);
    assert.ok(clusterProvider !== undefined, "the cluster's Kubernetes provider");
    const appliedToCluster = (r: RegisteredResource) => r.provider?.startsWith(`${clusterProvider.urn}::`) === true;
    /** The resource or one of its parents lists `target` among its dependencies. */
    const waitsFor = (r: RegisteredResource, target: RegisteredResource): boolean => {
        for (
            let current: RegisteredResource | undefined = r;
            current !== undefined;
            current = current.parent ? byUrn.get(current.parent) : undefined
        ) {
            if (current.dependencies.includes(target.urn)) {
                return true;
            }
        }
        return false;
    };
    const releases = resources.filter((r) => r.type === RELEASE);
    const releaseOfChart = (chart: string) => releases.find((r) => r.inputs.chart === chart);
    const namespaces = new Map(
        resources.filter((r) => r.type === NAMESPACE).map((r) => [(r.inputs.metadata as { name: string }).name, r] as const),
    );
    const nodeGroups = resources.filter((r) => r.type === NODE_GROUP);
    const violations: string[] = [];
    const checked = { crd: 0, namespace: 0, nodeGroup: 0 };
    const label = (r: RegisteredResource) => `${r.type.split(":").pop()} ${r.name}`;

    for (const r of resources.filter(appliedToCluster)) {
        const group = customGroup(r.type);
        if (group !== undefined) {
            const addon = addonProviding(String(r.inputs.apiVersion), String(r.inputs.kind));
            if (addon === undefined) {
                violations.push(`${label(r)}: no add-on provides ${group}/${String(r.inputs.kind)}`);
            } else if (config.addons[addon].enabled) {
                checked.crd++;
                const installer = releaseOfChart(ADDON_DEFAULTS[addon].charts[0].chart);
                if (installer === undefined || !waitsFor(r, installer)) {
                    violations.push(
                        `${label(r)}: does not wait for release ${ADDON_DEFAULTS[addon].charts[0].release}, which installs its CRD`,
                    );
                }
            }
        }
        const namespace = r.type === RELEASE ? r.inputs.namespace : (r.inputs.metadata as { namespace?: string } | undefined)?.namespace;
        const namespaceResource = typeof namespace === "string" ? namespaces.get(namespace) : undefined;
        if (namespaceResource !== undefined) {
            checked.namespace++;
            if (!waitsFor(r, namespaceResource)) {
                violations.push(`${label(r)}: does not wait for its namespace ${String(namespace)}`);
            }
        }
    }
    for (const release of releases) {
        const addon = (Object.keys(ADDON_DEFAULTS) as AddonName[]).find((a) =>
            ADDON_DEFAULTS[a].charts.some((c) => c.chart === release.inputs.chart),
        );
        assert.ok(addon !== undefined, `release ${release.name} belongs to an add-on`);
        const role = addonNodeRole(config);
        const targets =
            ADDONS[addon].schedule === "everyNode"
                ? nodeGroups
                : nodeGroups.filter((g) => (g.inputs.labels as Record<string, string>)["node-role"] === role);
        assert.ok(targets.length > 0, `a node group for release ${release.name}`);
        for (const group of targets) {
            checked.nodeGroup++;
            if (!waitsFor(release, group)) {
                violations.push(`${label(release)}: does not wait for node group ${group.name} it schedules onto`);
            }
        }
    }
    return { violations: violations.sort(), checked };
}

/** A copy of the graph where `from` (and its parents) no longer list `to`: one `dependsOn` removed. */
function withoutEdge(resources: RegisteredResource[], from: RegisteredResource, to: RegisteredResource): RegisteredResource[] {
    const ancestors = new Set<string>();
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    for (
        let current: RegisteredResource | undefined = from;
        current !== undefined;
        current = current.parent ? byUrn.get(current.parent) : undefined
    ) {
        ancestors.add(current.urn);
    }
    return resources.map((r) => (ancestors.has(r.urn) ? { ...r, dependencies: r.dependencies.filter((d) => d !== to.urn) } : r));
}

function configOf(stack: (typeof STACKS)[number]): StackConfig {
    const file = stackFile(stack);
    return parseStackConfig(file.configMap, stack, { secretKeys: file.secretKeys, secretPaths: file.placeholders }).config;
}

describe("order of creation on the recorded graph", () => {
    for (const stack of STACKS) {
        for (const mode of ["up", "preview"] as const) {
            it(`${stack} (${mode}): every object waits for its CRD's release, its namespace, and every release for its node group`, async () => {
                const result = await runStack(stack, mode);
                const verdict = checkOrderOfCreation(result.resources, configOf(stack));
                assert.deepEqual(verdict.violations, []);
                // The rules were exercised: releases of all eight add-ons, objects in namespaces, CRs applied to the cluster.
                assert.ok(verdict.checked.crd >= (stack === "dev" ? 3 : 4), `CRD checks: ${verdict.checked.crd}`);
                assert.ok(verdict.checked.namespace >= 15, `namespace checks: ${verdict.checked.namespace}`);
                assert.ok(verdict.checked.nodeGroup >= 9, `node group checks: ${verdict.checked.nodeGroup}`);
            });
        }
    }

    it("production in direct mode: every Rollout, VirtualService and Gateway applied by Pulumi waits for Istio and Argo Rollouts", async () => {
        const file = stackFile("production");
        const configMap = editConfig(file.configMap, "delivery", (d) => ({ ...d, mode: "direct" }));
        const result = await run(configMap, "up", "production", file.secretKeys);
        const verdict = checkOrderOfCreation(
            result.resources,
            parseStackConfig(configMap, "production", { secretKeys: file.secretKeys, secretPaths: file.placeholders }).config,
        );
        assert.deepEqual(verdict.violations, []);
        // 14 Rollouts, their VirtualServices, DestinationRules, AnalysisTemplates, Gateways, EnvoyFilters, issuer, certificates.
        assert.ok(verdict.checked.crd > 60, `CRD checks: ${verdict.checked.crd}`);
    });

    it("passes dependsOn down to each child: a Rollout itself lists the Istio and Argo Rollouts releases", async () => {
        const file = stackFile("production");
        const configMap = editConfig(file.configMap, "delivery", (d) => ({ ...d, mode: "direct" }));
        const result = await run(configMap, "up", "production", file.secretKeys);
        const rollout = findResource(result, "kubernetes:argoproj.io/v1alpha1:Rollout", "pc-web");
        for (const release of ["istio-base", "istiod", "argo-rollouts"]) {
            assert.ok(rollout.dependencies.includes(findResource(result, RELEASE, release).urn), release);
        }
        assert.ok(rollout.dependencies.includes(findResource(result, NAMESPACE, "frontend").urn), "its namespace");
        // Every other object of the service too: the engine deletes in the order of a resource's own
        // dependencies, not its parent's, so a namespace removed with its services goes last.
        const component = findResource(result, "bff-platform:service:BffService", "pc-web");
        const children = result.resources.filter((r) => r.parent === component.urn && r.type.startsWith("kubernetes:"));
        assert.ok(children.length >= 8, `${children.length} objects`);
        for (const child of children) {
            assert.ok(child.dependencies.includes(findResource(result, NAMESPACE, "frontend").urn), `${child.type} ${child.name}`);
        }
    });

    describe("fails when one dependsOn is removed", () => {
        let result: RunResult;
        let config: StackConfig;
        const productionRun = oncePerRun(() => runStack("production"));
        beforeEach(async () => {
            result = await productionRun();
            config = configOf("production");
        });

        it("the root Application without Argo CD's release", () => {
            const application = findResource(result, "kubernetes:argoproj.io/v1alpha1:Application", "frontend-apps");
            const argocd = findResource(result, RELEASE, "argo-cd");
            const verdict = checkOrderOfCreation(withoutEdge(result.resources, application, argocd), config);
            assert.deepEqual(verdict.violations, ["Application frontend-apps: does not wait for release argo-cd, which installs its CRD"]);
        });

        it("an EnvoyFilter without Istio's base chart", () => {
            const filter = result.resources.find((r) => r.type === "kubernetes:networking.istio.io/v1alpha3:EnvoyFilter");
            assert.ok(filter !== undefined);
            const base = findResource(result, RELEASE, "istio-base");
            const verdict = checkOrderOfCreation(withoutEdge(result.resources, filter, base), config);
            assert.deepEqual(verdict.violations, [
                `EnvoyFilter ${filter.name}: does not wait for release istio-base, which installs its CRD`,
            ]);
        });

        it("the Cluster Autoscaler's release without the system node group", () => {
            const release = findResource(result, RELEASE, "cluster-autoscaler");
            const group = findResource(result, NODE_GROUP, "frontend-production-system");
            const verdict = checkOrderOfCreation(withoutEdge(result.resources, release, group), config);
            assert.deepEqual(verdict.violations, [
                "Release cluster-autoscaler: does not wait for node group frontend-production-system it schedules onto",
            ]);
        });

        it("cert-manager's release without its namespace", () => {
            const release = findResource(result, RELEASE, "cert-manager");
            const namespace = result.resources.find(
                (r) => r.type === NAMESPACE && (r.inputs.metadata as { name: string }).name === "cert-manager",
            );
            assert.ok(namespace !== undefined);
            const verdict = checkOrderOfCreation(withoutEdge(result.resources, release, namespace), config);
            assert.deepEqual(verdict.violations, ["Release cert-manager: does not wait for its namespace cert-manager"]);
        });
    });

    it("a disabled add-on installs nothing and its custom resources are expected on the cluster", async () => {
        const file = stackFile("production");
        const configMap = editConfig(file.configMap, "addons", (a) => ({ ...a, argoRollouts: { enabled: false } }));
        const delivered = editConfig(configMap, "delivery", (d) => ({ ...d, mode: "direct" }));
        const result = await run(delivered, "up", "production", file.secretKeys);
        const config = parseStackConfig(delivered, "production", { secretKeys: file.secretKeys, secretPaths: file.placeholders }).config;
        assert.equal(
            result.resources.some((r) => r.type === RELEASE && r.inputs.chart === "argo-rollouts"),
            false,
        );
        assert.deepEqual(checkOrderOfCreation(result.resources, config).violations, []);
        const report = renderReport(config, "production", kubernetesObjects(result.resources));
        assert.match(
            report,
            /- `addons\.argoRollouts\.enabled: false`: expects Argo Rollouts on the cluster \(used by: AnalysisTemplate, Rollout\)\./,
        );
    });
});

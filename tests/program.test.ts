import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { ConfigError } from "../components/config";
import { MockRunError, RegisteredResource, runProgram, SECRET_MARKER, UNKNOWN_MARKER, UNKNOWN_SECRET_MARKER } from "../cli/mock-runtime";
import { editConfig, findResource, resourcesOfType, run, runStack, stackFile, STACKS } from "./support/program";

describe("the program under the mock runtime", () => {
    for (const stack of STACKS) {
        it(`registers the same resources for ${stack} in preview as in up`, async () => {
            const up = await runStack(stack, "up");
            const preview = await runStack(stack, "preview");
            assert.ok(up.resources.length > 30, `${up.resources.length} resources`);
            assert.deepEqual(
                preview.resources.map((r) => r.urn),
                up.resources.map((r) => r.urn),
            );
        });
    }

    it("still registers every Kubernetes object when the new cluster's kubeconfig is unknown (first preview)", async () => {
        const preview = await runStack("production", "preview");
        const provider = findResource(preview, "pulumi:providers:kubernetes", "frontend-production-k8s");
        assert.equal(
            provider.inputs.kubeconfig,
            UNKNOWN_SECRET_MARKER,
            "the endpoint of a cluster not yet created is unknown, and the kubeconfig stays secret",
        );
        assert.equal(resourcesOfType(preview, "kubernetes:argoproj.io/v1alpha1:Rollout").length, 14);
        findResource(preview, "kubernetes:apps/v1:Deployment", "ads-bff");
        const cluster = findResource(preview, "aws:eks/cluster:Cluster", "frontend-production");
        assert.equal(cluster.inputs.roleArn, UNKNOWN_MARKER, "the role ARN is only known after the role exists");
        assert.equal(preview.outputs.kubeconfig, SECRET_MARKER);
    });

    it("fails on a bad config before registering any resource", async () => {
        const registered: RegisteredResource[] = [];
        const configMap = editConfig(stackFile("dev").configMap, "services", (services) => {
            services[0].replicas = -1;
            return services;
        });
        await assert.rejects(
            runProgram(() => import("../stacks").then((m) => m.main()), {
                project: "bff-platform",
                stack: "dev",
                configMap,
                onRegister: (r) => registered.push(r),
            }),
            (error: unknown) =>
                error instanceof ConfigError && /services\[pc-web\]\.replicas: must be at least 0, got -1/.test(error.message),
        );
        assert.deepEqual(registered, []);
    });

    it("protects the cluster and its secrets key, the stateful resources", async () => {
        const result = await runStack("production");
        assert.equal(findResource(result, "aws:eks/cluster:Cluster", "frontend-production").protect, true);
        assert.equal(findResource(result, "aws:kms/key:Key", "frontend-production-secrets").protect, true);
    });

    it("leaves the node group size to the Cluster Autoscaler and labels nodes by role", async () => {
        const result = await runStack("production");
        const groups = resourcesOfType(result, "aws:eks/nodeGroup:NodeGroup");
        assert.deepEqual(
            groups.map((g) => g.name),
            ["frontend-production-gateway", "frontend-production-system", "frontend-production-worker"],
        );
        for (const group of groups) {
            assert.deepEqual(group.ignoreChanges, ["scalingConfig.desiredSize"]);
            assert.equal((group.inputs.tags as Record<string, string>)["k8s.io/cluster-autoscaler/enabled"], "true");
        }
        const gateway = findResource(result, "aws:eks/nodeGroup:NodeGroup", "frontend-production-gateway");
        assert.deepEqual(gateway.inputs.labels, { "node-role": "gateway" });
        assert.deepEqual(gateway.inputs.taints, [{ key: "dedicated", value: "gateway", effect: "NO_SCHEDULE" }]);
        assert.deepEqual(findResource(result, "aws:eks/nodeGroup:NodeGroup", "frontend-production-worker").inputs.taints, []);
    });

    it("keeps the cluster endpoint private and the kubeconfig secret", async () => {
        const result = await runStack("production");
        const cluster = findResource(result, "aws:eks/cluster:Cluster", "frontend-production");
        const vpc = cluster.inputs.vpcConfig as Record<string, unknown>;
        assert.equal(vpc.endpointPublicAccess, false);
        assert.equal(vpc.endpointPrivateAccess, true);
        assert.equal(result.outputs.kubeconfig, SECRET_MARKER);
        assert.equal(findResource(result, "pulumi:providers:kubernetes", "frontend-production-k8s").inputs.kubeconfig, SECRET_MARKER);
    });

    it("delivers app objects through Argo CD's directory in argocd mode and to the cluster in direct mode", async () => {
        const clusterProviderOf = (r: RegisteredResource) => (r.provider ?? "").split("::").slice(0, -1).join("::");
        const argocd = await runStack("production");
        const deployment = findResource(argocd, "kubernetes:argoproj.io/v1alpha1:Rollout", "pc-web");
        const renderProvider = argocd.resources.find((r) => r.urn === clusterProviderOf(deployment));
        assert.equal(renderProvider?.inputs.renderYamlToDirectory, "kubernetes/overlays/production/pc-web");
        const namespace = findResource(argocd, "kubernetes:core/v1:Namespace", "frontend");
        assert.match(clusterProviderOf(namespace), /pulumi:providers:kubernetes::frontend-production-k8s$/, "namespaces go to the cluster");

        const direct = await run(
            editConfig(stackFile("production").configMap, "delivery", (d) => ({ ...d, mode: "direct" })),
            "up",
            "production",
        );
        const directDeployment = findResource(direct, "kubernetes:argoproj.io/v1alpha1:Rollout", "pc-web");
        assert.match(clusterProviderOf(directDeployment), /pulumi:providers:kubernetes::frontend-production-k8s$/);
        assert.equal(resourcesOfType(direct, "pulumi:providers:kubernetes").length, 1);
    });

    it("labels the app namespace for istio-proxy injection", async () => {
        const result = await runStack("dev");
        const labels = (
            findResource(result, "kubernetes:core/v1:Namespace", "frontend").inputs.metadata as { labels: Record<string, string> }
        ).labels;
        assert.equal(labels["istio-injection"], "enabled");
        const gatewayLabels = (
            findResource(result, "kubernetes:core/v1:Namespace", "frontend-gateway").inputs.metadata as { labels: Record<string, string> }
        ).labels;
        assert.equal(gatewayLabels["istio-injection"], undefined);
    });
});

describe("the mock runtime's own checks", () => {
    const options = { project: "p", stack: "s", configMap: {} };

    it("fails on duplicate URNs, which the SDK's mocks accept silently", async () => {
        await assert.rejects(
            runProgram(async () => {
                new k8s.core.v1.ConfigMap("same", { metadata: { name: "a" } });
                new k8s.core.v1.ConfigMap("same", { metadata: { name: "b" } });
            }, options),
            (error: unknown) =>
                error instanceof MockRunError && /duplicate URN urn:pulumi:s::p::kubernetes:core\/v1:ConfigMap::same/.test(error.message),
        );
    });

    it("fails on errors that surface only as unhandled rejections", async () => {
        await assert.rejects(
            runProgram(async () => {
                new k8s.core.v1.ConfigMap("broken", {
                    metadata: { name: "broken" },
                    data: {
                        key: pulumi.output("x").apply((): string => {
                            throw new Error("boom in apply");
                        }),
                    },
                });
            }, options),
            (error: unknown) => error instanceof MockRunError && /unhandled rejection: .*boom in apply/.test(error.message),
        );
    });

    it("masks secrets in recorded inputs and outputs", async () => {
        const result = await runProgram(async () => {
            new k8s.core.v1.ConfigMap("with-secret", { metadata: { name: "s" }, data: { token: pulumi.secret("hunter2") } });
            return { token: pulumi.secret("hunter2") };
        }, options);
        assert.equal(JSON.stringify(result).includes("hunter2"), false);
        assert.deepEqual(result.resources[0].inputs.data, { token: SECRET_MARKER });
        assert.equal(result.outputs.token, SECRET_MARKER);
    });
});

/**
 * Cluster add-ons under the mock runtime: the releases each committed stack installs with their
 * pinned charts, namespaces and placement; turning one off; the EKS managed add-ons; deployer
 * access to the private endpoint; secrets that never reach a rendered file.
 */
import assert from "node:assert/strict";
import { addonOrder } from "../components/addons";
import { parseStackConfig } from "../components/config";
import { RunResult, SECRET_MARKER } from "../cli/mock-runtime";
import { synthesizeStackFile } from "../cli/synth";
import { configProblems, editConfig, findResource, oncePerRun, resourcesOfType, run, runStack, stackFile } from "./support/program";

const RELEASE = "kubernetes:helm.sh/v3:Release";

function releases(result: RunResult): [string, string, string, string][] {
    return resourcesOfType(result, RELEASE)
        .map((r) => {
            const repo = (r.inputs.repositoryOpts as { repo: string }).repo;
            return [String(r.inputs.chart), String(r.inputs.version), repo, String(r.inputs.namespace)] as [string, string, string, string];
        })
        .sort(([a], [b]) => a.localeCompare(b));
}

describe("cluster add-ons", () => {
    let production: RunResult;
    const productionRun = oncePerRun(() => runStack("production"));
    beforeEach(async () => {
        production = await productionRun();
    });

    it("installs every add-on of production from its pinned chart, repository and namespace", () => {
        assert.deepEqual(releases(production), [
            ["argo-cd", "10.1.1", "https://argoproj.github.io/argo-helm", "argocd"],
            ["argo-rollouts", "2.41.0", "https://argoproj.github.io/argo-helm", "argo-rollouts"],
            ["aws-load-balancer-controller", "3.5.0", "https://aws.github.io/eks-charts", "aws-load-balancer-controller"],
            ["base", "1.30.4", "https://istio-release.storage.googleapis.com/charts", "istio-system"],
            ["cert-manager", "v1.21.1", "https://charts.jetstack.io", "cert-manager"],
            ["cluster-autoscaler", "9.59.0", "https://kubernetes.github.io/autoscaler", "cluster-autoscaler"],
            ["datadog", "3.240.0", "https://helm.datadoghq.com", "datadog"],
            ["istiod", "1.30.4", "https://istio-release.storage.googleapis.com/charts", "istio-system"],
            ["metrics-server", "3.13.1", "https://kubernetes-sigs.github.io/metrics-server/", "metrics-server"],
        ]);
    });

    it("runs add-on pods on the system pool when the stack has one, on workers otherwise", async () => {
        const values = (result: RunResult, name: string) => findResource(result, RELEASE, name).inputs.values as Record<string, any>;
        assert.deepEqual(values(production, "istiod").nodeSelector, { "node-role": "system" });
        assert.deepEqual(values(production, "metrics-server").nodeSelector, { "node-role": "system" });
        assert.deepEqual(values(production, "argo-rollouts").controller.nodeSelector, { "node-role": "system" });
        assert.deepEqual(values(production, "argo-cd").global.nodeSelector, { "kubernetes.io/os": "linux", "node-role": "system" });
        assert.deepEqual(values(production, "cert-manager").webhook.nodeSelector, { "node-role": "system" });
        assert.deepEqual(values(production, "datadog").clusterAgent.nodeSelector, { "node-role": "system" });
        // The node agent is a DaemonSet: it tolerates the gateway nodes' taint.
        assert.deepEqual(values(production, "datadog").agents.tolerations, [
            { key: "dedicated", operator: "Equal", value: "gateway", effect: "NoSchedule" },
        ]);
        const dev = await runStack("dev");
        assert.deepEqual(values(dev, "cluster-autoscaler").nodeSelector, { "node-role": "worker" });
    });

    it("pins istiod to a revision that serves the default injection label", () => {
        const istiod = findResource(production, RELEASE, "istiod").inputs.values as Record<string, unknown>;
        assert.equal(istiod.revision, "1-30");
        assert.deepEqual(istiod.revisionTags, ["default"]);
        assert.deepEqual(findResource(production, RELEASE, "istio-base").inputs.values, { defaultRevision: "1-30" });
        assert.ok(
            findResource(production, RELEASE, "istiod").dependencies.includes(findResource(production, RELEASE, "istio-base").urn),
            "istiod after base (its CRDs)",
        );
    });

    it("configures the Cluster Autoscaler for this cluster's groups and Kubernetes minor", () => {
        const values = findResource(production, RELEASE, "cluster-autoscaler").inputs.values as Record<string, any>;
        assert.deepEqual(values.autoDiscovery, { clusterName: "frontend-production" });
        assert.equal(values.awsRegion, "ap-northeast-1");
        assert.deepEqual(values.image, { tag: "v1.33.6" });
        assert.equal(values.extraArgs["scan-interval"], "10s");
    });

    it("enables the Cluster Agent's external metrics provider with keys from a Secret, never in values", () => {
        const values = findResource(production, RELEASE, "datadog").inputs.values as Record<string, any>;
        assert.deepEqual(values.clusterAgent.metricsProvider, { enabled: true });
        assert.equal(values.datadog.apiKeyExistingSecret, "datadog-keys");
        assert.equal(values.datadog.appKeyExistingSecret, "datadog-keys");
        assert.equal(values.datadog.apiKey, undefined);
        const secret = findResource(production, "kubernetes:core/v1:Secret", "datadog-keys");
        assert.equal(secret.inputs.stringData, SECRET_MARKER);
    });

    it("configures Argo CD to assess Application health, so sync waves between child Applications wait", () => {
        const values = findResource(production, RELEASE, "argo-cd").inputs.values as { configs: { cm: Record<string, string> } };
        const lua = values.configs.cm["resource.customizations.health.argoproj.io_Application"];
        assert.match(lua, /^hs = \{\}\nhs\.status = "Progressing"\n/);
        assert.match(lua, /hs\.status = obj\.status\.health\.status\n/);
    });

    it("gives Argo CD the repository credentials as a labelled Secret whose values stay secret", () => {
        const secret = findResource(production, "kubernetes:core/v1:Secret", "frontend-repository");
        const metadata = secret.inputs.metadata as { namespace: string; labels: Record<string, string> };
        assert.equal(metadata.namespace, "argocd");
        assert.equal(metadata.labels["argocd.argoproj.io/secret-type"], "repository");
        assert.equal(secret.inputs.stringData, SECRET_MARKER);
    });

    it("writes no add-on secret into a rendered file", async () => {
        const file = stackFile("production");
        const configMap = editConfig(file.configMap, "addons", (a) => ({
            ...a,
            datadog: { ...a.datadog, apiKey: "dd-api-key-that-must-not-leak", appKey: "dd-app-key-that-must-not-leak" },
            argocd: { repoCredentials: { username: "bot", password: "repo-token-that-must-not-leak" } },
        }));
        const synth = await synthesizeStackFile({
            project: "bff-platform",
            stack: "production",
            stackFile: { configMap, secretKeys: ["bff-platform:addons"], placeholders: [] },
        });
        for (const [path, content] of synth.files) {
            assert.equal(/must-not-leak/.test(content), false, path);
        }
    });

    it("orders add-ons from their declared dependencies, not from list order", () => {
        const config = parseStackConfig(stackFile("production").configMap, "production").config;
        const order = addonOrder(config);
        assert.ok(order.indexOf("istio") < order.indexOf("argoRollouts"), "Argo Rollouts after Istio");
        const rollouts = findResource(production, RELEASE, "argo-rollouts");
        assert.ok(rollouts.dependencies.includes(findResource(production, RELEASE, "istiod").urn));
    });

    it("turning an add-on off removes its release, namespace, identity and Secrets", async () => {
        const file = stackFile("production");
        const configMap = editConfig(file.configMap, "addons", (a) => ({
            ...a,
            certManager: { enabled: false },
            datadog: { enabled: false },
        }));
        const result = await run(configMap, "up", "production", file.secretKeys);
        const charts = releases(result).map(([chart]) => chart);
        assert.equal(charts.includes("cert-manager"), false);
        assert.equal(charts.includes("datadog"), false);
        assert.equal(charts.length, 7);
        const names = result.resources.map((r) => r.name);
        for (const gone of ["frontend-production-cert-manager", "datadog-keys"]) {
            assert.equal(names.includes(gone), false, gone);
        }
        assert.equal(
            resourcesOfType(result, "kubernetes:core/v1:Namespace").some(
                (n) => (n.inputs.metadata as { name: string }).name === "cert-manager",
            ),
            false,
        );
        // The gateway's issuer and certificates remain: they expect cert-manager on the cluster.
        findResource(result, "kubernetes:cert-manager.io/v1:ClusterIssuer", "istio-ingressgateway-issuer");
        // cert-manager: namespace, release, IAM role, policy, attachment, Pod Identity association; Datadog: namespace, release, Secret.
        assert.equal(result.resources.length, production.resources.length - 9);
    });

    it("installs the EKS managed add-ons, with network policy enforcement on in the VPC CNI", () => {
        const addons = resourcesOfType(production, "aws:eks/addon:Addon");
        assert.deepEqual(addons.map((a) => a.inputs.addonName).sort(), ["coredns", "eks-pod-identity-agent", "kube-proxy", "vpc-cni"]);
        const cni = findResource(production, "aws:eks/addon:Addon", "frontend-production-vpc-cni");
        assert.equal(cni.inputs.configurationValues, '{"enableNetworkPolicy":"true"}');
        const group = findResource(production, "aws:eks/nodeGroup:NodeGroup", "frontend-production-worker");
        assert.ok(group.dependencies.includes(cni.urn), "nodes join with network policies enforced");
    });

    it("opens port 443 of the cluster security group to the deployer, before the Kubernetes provider is used", () => {
        const rule = findResource(
            production,
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "frontend-production-deployer-cidr-0",
        );
        assert.deepEqual(
            { ...rule.inputs, description: undefined, tags: undefined },
            {
                securityGroupId: "sg-0c1a2b3c4d5e6f708",
                ipProtocol: "tcp",
                fromPort: 443,
                toPort: 443,
                cidrIpv4: "10.20.0.0/24",
                description: undefined,
                tags: undefined,
            },
        );
        const provider = findResource(production, "pulumi:providers:kubernetes", "frontend-production-k8s");
        assert.ok(provider.dependencies.includes(rule.urn));
    });

    it("refuses a private endpoint without a deployer path, and Datadog without its keys", () => {
        const file = stackFile("dev");
        const noPath = editConfig(file.configMap, "cluster", (c) => ({ ...c, deployerCidrs: undefined }));
        assert.deepEqual(configProblems(noPath), [
            "bff-platform:cluster.deployerCidrs: the API endpoint is private (endpointPublicAccess: false) and no deployer path is configured: set cluster.deployerCidrs and/or cluster.deployerSecurityGroupIds to the network of the machine that runs `pulumi up`",
        ]);
        const bySecurityGroup = editConfig(noPath, "cluster", (c) => ({ ...c, deployerSecurityGroupIds: ["sg-0123456789abcdef0"] }));
        assert.doesNotThrow(() => parseStackConfig(bySecurityGroup, "dev"));
        const noKeys = editConfig(file.configMap, "addons", (a) => ({ ...a, datadog: { site: "datadoghq.com" } }));
        assert.deepEqual(configProblems(noKeys), [
            "bff-platform:addons.datadog.apiKey: is required while the Datadog add-on is enabled: pulumi config set --secret --path 'addons.datadog.apiKey' <key>, or set addons.datadog.enabled: false",
            "bff-platform:addons.datadog.appKey: is required while the Datadog add-on is enabled: pulumi config set --secret --path 'addons.datadog.appKey' <key>, or set addons.datadog.enabled: false",
        ]);
        const typo = editConfig(file.configMap, "addons", (a) => ({ ...a, argoRollout: { enabled: false } }));
        assert.match(configProblems(typo)[0], /^bff-platform:addons\.argoRollout: unknown key; did you mean "argoRollouts"\?/);
    });
});

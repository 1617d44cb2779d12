import assert from "node:assert/strict";
import { RegisteredResource } from "../cli/mock-runtime";
import { packPolicies } from "../policy/pack";
import { CheckedResource, evaluatePolicies, parseImage, RESOURCE_RULES, STACK_RULES } from "../policy/rules";
import { runStack, STACKS } from "./support/program";

function checked(resource: RegisteredResource): CheckedResource {
    return { type: resource.type, name: resource.name, inputs: resource.inputs, protect: resource.protect };
}

/** A Deployment whose one container is `container` (and the pod settings `pod`). */
function deployment(container: Record<string, unknown>, pod: Record<string, unknown> = {}): CheckedResource {
    return {
        type: "kubernetes:apps/v1:Deployment",
        name: "web",
        protect: false,
        inputs: {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "web", namespace: "frontend" },
            spec: { template: { spec: { containers: [container], ...pod } } },
        },
    };
}

/** A container and pod that pass every rule; each test breaks one thing. */
const GOOD_CONTAINER = {
    name: "app",
    image: "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/frontend/pc-web:2.14.0",
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
    securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] },
    },
};
const GOOD_POD = {
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: { type: "RuntimeDefault" } },
};

function violations(resource: CheckedResource): string[] {
    return evaluatePolicies([resource]).map((v) => `${v.policy}: ${v.resource}: ${v.message}`);
}

describe("the policy pack", () => {
    for (const stack of STACKS) {
        it(`finds no violation in the ${stack} stack`, async () => {
            const result = await runStack(stack);
            const found = evaluatePolicies(result.resources.map(checked));
            assert.deepEqual(
                found.map((v) => `${v.policy}: ${v.resource}: ${v.message}`),
                [],
            );
        });
    }

    it("passes a restricted Deployment of an ECR image", () => {
        assert.deepEqual(violations(deployment(GOOD_CONTAINER, GOOD_POD)), []);
    });

    it("names the resource and container of a privileged container", () => {
        const container = { ...GOOD_CONTAINER, securityContext: { ...GOOD_CONTAINER.securityContext, privileged: true } };
        assert.deepEqual(violations(deployment(container, GOOD_POD)), [
            "no-privileged-containers: kubernetes:apps/v1:Deployment web: pod template: container app is privileged",
        ]);
    });

    it("refuses added capabilities, privilege escalation and host namespaces", () => {
        const container = {
            ...GOOD_CONTAINER,
            securityContext: { readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"], add: ["NET_ADMIN"] } },
        };
        assert.deepEqual(violations(deployment(container, { ...GOOD_POD, hostNetwork: true })), [
            "no-privileged-containers: kubernetes:apps/v1:Deployment web: pod template: sets hostNetwork",
            "no-privileged-containers: kubernetes:apps/v1:Deployment web: pod template: container app does not set allowPrivilegeEscalation: false",
            "no-privileged-containers: kubernetes:apps/v1:Deployment web: pod template: container app adds capabilities NET_ADMIN",
        ]);
    });

    it("requires CPU and memory requests and a memory limit on every container", () => {
        const container = { ...GOOD_CONTAINER, resources: { requests: { cpu: "100m" } } };
        assert.deepEqual(violations(deployment(container, GOOD_POD)), [
            "requests-and-limits: kubernetes:apps/v1:Deployment web: pod template: container app has no requests.memory",
            "requests-and-limits: kubernetes:apps/v1:Deployment web: pod template: container app has no limits.memory",
        ]);
    });

    it("refuses the latest tag and an untagged image, and third-party images without a digest", () => {
        for (const image of ["redis", "redis:latest"]) {
            assert.deepEqual(violations(deployment({ ...GOOD_CONTAINER, image }, GOOD_POD)), [
                `no-latest-tag: kubernetes:apps/v1:Deployment web: pod template: container app uses ${image}: name a version tag, not latest`,
                `third-party-image-digest: kubernetes:apps/v1:Deployment web: pod template: container app uses ${image}: pin third-party images as name:tag@sha256:<digest> (components/config IMAGES)`,
            ]);
        }
        assert.deepEqual(violations(deployment({ ...GOOD_CONTAINER, image: "redis:7.2.11-alpine" }, GOOD_POD)), [
            "third-party-image-digest: kubernetes:apps/v1:Deployment web: pod template: container app uses redis:7.2.11-alpine: pin third-party images as name:tag@sha256:<digest> (components/config IMAGES)",
        ]);
        const pinned = "redis:7.2.11-alpine@sha256:cd3e4dbac9604660d08efac21b27daa2ae91dde1e19203b49ec8567050ba093f";
        assert.deepEqual(violations(deployment({ ...GOOD_CONTAINER, image: pinned }, GOOD_POD)), []);
    });

    it("accepts a tag without digest only for the images listed as pending", () => {
        assert.deepEqual(violations(deployment({ ...GOOD_CONTAINER, image: "fluent/fluent-bit:4.0.3" }, GOOD_POD)), []);
        assert.equal(violations(deployment({ ...GOOD_CONTAINER, image: "fluent/fluent-bit:4.0.4" }, GOOD_POD)).length, 1);
    });

    it("splits registry ports from tags", () => {
        assert.deepEqual(parseImage("registry.local:5000/team/app"), {
            repository: "registry.local:5000/team/app",
            tag: undefined,
            digest: undefined,
        });
        assert.deepEqual(parseImage("registry.local:5000/team/app:1.0@sha256:ab"), {
            repository: "registry.local:5000/team/app",
            tag: "1.0",
            digest: "sha256:ab",
        });
    });

    it("requires an explicit high uid and gid, read-only root and RuntimeDefault seccomp", () => {
        const pod = { automountServiceAccountToken: false, securityContext: { runAsNonRoot: true, runAsUser: 101 } };
        const container = { ...GOOD_CONTAINER, securityContext: { ...GOOD_CONTAINER.securityContext, readOnlyRootFilesystem: false } };
        assert.deepEqual(violations(deployment(container, pod)), [
            "non-root: kubernetes:apps/v1:Deployment web: pod template: container app runs with runAsUser 101, below 10000",
            "non-root: kubernetes:apps/v1:Deployment web: pod template: container app has no explicit runAsGroup (the image would decide)",
            "non-root: kubernetes:apps/v1:Deployment web: pod template: container app does not set readOnlyRootFilesystem: true",
            "non-root: kubernetes:apps/v1:Deployment web: pod template: container app has no RuntimeDefault seccomp profile",
        ]);
    });

    it("allows root only to an init container that holds nothing but CHOWN", () => {
        const chown = {
            name: "log-dir-owner",
            image: "nginx:1.28.0-alpine@sha256:30f1c0d78e0ad60901648be663a710bdadf19e4c10ac6782c235200619158284",
            resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } },
            securityContext: {
                runAsUser: 0,
                runAsNonRoot: false,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"], add: ["CHOWN"] },
            },
        };
        const withInit = (init: object) => deployment(GOOD_CONTAINER, { ...GOOD_POD, initContainers: [init] });
        assert.deepEqual(violations(withInit(chown)), []);
        const asMain = deployment({ ...chown, name: "app" }, GOOD_POD);
        assert.ok(
            violations(asMain).includes(
                "non-root: kubernetes:apps/v1:Deployment web: pod template: container app runs with runAsUser 0, below 10000",
            ),
        );
        const withFowner = {
            ...chown,
            securityContext: { ...chown.securityContext, capabilities: { drop: ["ALL"], add: ["CHOWN", "FOWNER"] } },
        };
        assert.ok(
            violations(withInit(withFowner)).includes(
                "no-privileged-containers: kubernetes:apps/v1:Deployment web: pod template: init container log-dir-owner adds capabilities CHOWN, FOWNER",
            ),
        );
    });

    it("requires automountServiceAccountToken: false on pod templates, CronJobs and ServiceAccounts", () => {
        const cronJob: CheckedResource = {
            type: "kubernetes:batch/v1:CronJob",
            name: "purge",
            protect: false,
            inputs: {
                kind: "CronJob",
                spec: {
                    jobTemplate: {
                        spec: { template: { spec: { ...GOOD_POD, containers: [GOOD_CONTAINER], automountServiceAccountToken: true } } },
                    },
                },
            },
        };
        const serviceAccount: CheckedResource = {
            type: "kubernetes:core/v1:ServiceAccount",
            name: "gw",
            protect: false,
            inputs: { kind: "ServiceAccount" },
        };
        assert.deepEqual(
            evaluatePolicies([cronJob, serviceAccount]).map((v) => `${v.resource}: ${v.message}`),
            [
                "kubernetes:batch/v1:CronJob purge: job template: does not set automountServiceAccountToken: false",
                "kubernetes:core/v1:ServiceAccount gw: does not set automountServiceAccountToken: false",
            ],
        );
    });

    it("requires protect on the EKS cluster, ElastiCache and KMS keys, not on the rest", () => {
        const resource = (type: string, protect: boolean): CheckedResource => ({ type, name: "x", protect, inputs: {} });
        assert.deepEqual(
            evaluatePolicies([
                resource("aws:eks/cluster:Cluster", false),
                resource("aws:elasticache/replicationGroup:ReplicationGroup", false),
                resource("aws:kms/key:Key", true),
                resource("aws:iam/role:Role", false),
            ]).map((v) => `${v.policy}: ${v.resource}: ${v.message}`),
            [
                "protected-stateful-resources: aws:eks/cluster:Cluster x: is stateful and not protected",
                "protected-stateful-resources: aws:elasticache/replicationGroup:ReplicationGroup x: is stateful and not protected",
            ],
        );
    });

    it("requires a default-deny ingress policy in every namespace the stack creates", () => {
        const namespace = (name: string): CheckedResource => ({
            type: "kubernetes:core/v1:Namespace",
            name,
            protect: false,
            inputs: { metadata: { name } },
        });
        const policy = (namespace: string, spec: object): CheckedResource => ({
            type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            name: `${namespace}-p`,
            protect: false,
            inputs: { metadata: { name: "p", namespace }, spec },
        });
        const found = evaluatePolicies([
            namespace("frontend"),
            namespace("frontend-gateway"),
            namespace("frontend-ratelimit"),
            policy("frontend", { podSelector: {}, policyTypes: ["Ingress"] }),
            // Selects only some pods: not a default deny.
            policy("frontend-gateway", { podSelector: { matchLabels: { app: "x" } }, policyTypes: ["Ingress"] }),
            // Allows something: not a deny.
            policy("frontend-ratelimit", { podSelector: {}, policyTypes: ["Ingress"], ingress: [{}] }),
        ]);
        assert.deepEqual(
            found.map((v) => `${v.policy}: ${v.resource}: ${v.message}`),
            [
                "default-deny-ingress-per-namespace: kubernetes:core/v1:Namespace frontend-gateway: namespace frontend-gateway has no default-deny ingress NetworkPolicy",
                "default-deny-ingress-per-namespace: kubernetes:core/v1:Namespace frontend-ratelimit: namespace frontend-ratelimit has no default-deny ingress NetworkPolicy",
            ],
        );
    });

    it("serves every rule, mandatory, through the CrossGuard policies the pack registers", () => {
        const policies = packPolicies();
        assert.deepEqual(
            policies.map((p) => [p.name, p.enforcementLevel]),
            [...RESOURCE_RULES, ...STACK_RULES].map((r) => [r.name, "mandatory"]),
        );
        const reported: string[] = [];
        const privileged = policies.find((p) => p.name === "no-privileged-containers");
        assert.ok(privileged !== undefined && "validateResource" in privileged && typeof privileged.validateResource === "function");
        const resource = deployment(
            { ...GOOD_CONTAINER, securityContext: { ...GOOD_CONTAINER.securityContext, privileged: true } },
            GOOD_POD,
        );
        void privileged.validateResource(
            { type: resource.type, name: resource.name, props: resource.inputs, opts: { protect: false } } as never,
            (message: string) => reported.push(message),
        );
        assert.deepEqual(reported, ["pod template: container app is privileged"]);
    });
});

/**
 * Every Kubernetes object the program renders, for every committed stack in `up` and `preview`
 * mode, is valid against the upstream schemas (kubernetes-models and the Istio, Argo Rollouts,
 * Argo CD and cert-manager CRD models), with no field the schema does not declare.
 */
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { parse } from "yaml";
import { Mode } from "../cli/mock-runtime";
import { STACKS, StackName, synthesizeStack } from "./support/program";
import { knownKinds, KubeObjectLike, modelFor, modelFromModule, validateKubeObject } from "../cli/schemas";

const MODES: Mode[] = ["up", "preview"];

/** Every kind the committed stacks render: the test fails if one of them stops being validated. */
const EXPECTED_KINDS = [
    "Namespace",
    "ConfigMap",
    "Deployment",
    "Service",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "PodDisruptionBudget",
    "HorizontalPodAutoscaler",
    "Job",
    "CronJob",
    "Rollout",
    "AnalysisTemplate",
    "VirtualService",
    "DestinationRule",
    "ServiceEntry",
    "EnvoyFilter",
    "Gateway",
    "Certificate",
    "ClusterIssuer",
    "Application",
];

interface Rendered {
    file: string;
    object: KubeObjectLike;
}

/** The files of a synth run of a committed stack (one run per stack and mode, shared by every test file). */
async function renderedFiles(stack: StackName, mode: Mode): Promise<Map<string, string>> {
    return (await synthesizeStack(stack, mode)).files;
}

/** The objects of `manifests/` (kustomization files aside) of a synth run. */
async function renderedObjects(stack: StackName, mode: Mode): Promise<Rendered[]> {
    const files = await renderedFiles(stack, mode);
    return [...files]
        .filter(([path]) => path.startsWith("manifests/") && path.endsWith(".yaml") && !path.endsWith("/kustomization.yaml"))
        .map(([file, content]) => ({
            file,
            object: parse(content) as KubeObjectLike,
        }));
}

describe("upstream schemas", () => {
    it("runs for every committed stack file", () => {
        // STACKS is found by name (Pulumi.*.yaml), so a new stack file is covered without a list to edit.
        assert.deepEqual([...STACKS].sort(), ["dev", "production", "qa"]);
    });

    describe("rendered objects", () => {
        const validatedKinds = new Map<string, Set<string>>();

        for (const stack of STACKS) {
            for (const mode of MODES) {
                it(`${stack} (${mode}): every object is valid`, async () => {
                    const rendered = await renderedObjects(stack, mode);
                    assert.ok(rendered.length > 0, "no object rendered");
                    const problems: string[] = [];
                    for (const { file, object } of rendered) {
                        problems.push(...(await validateKubeObject(object)).map((p) => `${file}: ${p}`));
                    }
                    assert.deepEqual(problems, [], `${problems.length} schema problems:\n${problems.join("\n")}`);
                    validatedKinds.set(`${stack} ${mode}`, new Set(rendered.map((r) => r.object.kind)));
                });
            }
        }

        for (const stack of STACKS) {
            for (const mode of MODES) {
                it(`${stack} (${mode}): every rendered file reads the same to YAML 1.1 and 1.2 readers`, async () => {
                    const files = [...(await renderedFiles(stack, mode))].filter(([path]) => path.endsWith(".yaml"));
                    assert.ok(files.length > 0, "no YAML rendered");
                    const different = files
                        .filter(([, content]) => !isDeepStrictEqual(parse(content, { version: "1.1" }), parse(content)))
                        .map(([path]) => path);
                    assert.deepEqual(different, [], "read differently by a YAML 1.1 reader (kubectl's sigs.k8s.io/yaml)");
                });
            }
        }

        it("quotes Redis's `no` arguments, which a YAML 1.1 reader would turn into false", async () => {
            const files = await renderedFiles("dev", "up");
            const redis = files.get("manifests/frontend-ratelimit/ratelimit-redis/deployment-ratelimit-redis.yaml") as string;
            assert.match(redis, /- --appendonly\n +- "no"\n/);
            const args = parse(redis, { version: "1.1" }).spec.template.spec.containers[0].args as unknown[];
            assert.equal(args[args.indexOf("--appendonly") + 1], "no");
        });

        it("covers every kind the program renders", async () => {
            const runs = STACKS.flatMap((stack) => MODES.map((mode) => `${stack} ${mode}`));
            for (const run of runs.filter((r) => !validatedKinds.has(r))) {
                // When run alone (e.g. with --grep), render what the tests above would have.
                const [stack, mode] = run.split(" ") as [StackName, Mode];
                validatedKinds.set(run, new Set((await renderedObjects(stack, mode)).map((r) => r.object.kind)));
            }
            const kinds = new Set([...validatedKinds.values()].flatMap((set) => [...set]));
            assert.deepEqual(
                EXPECTED_KINDS.filter((k) => !kinds.has(k)),
                [],
                `kinds rendered: ${[...kinds].sort().join(", ")}`,
            );
        });
    });

    describe("the validator", () => {
        const deployment = (spec: Record<string, unknown>): KubeObjectLike => ({
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "web", namespace: "frontend" },
            spec: {
                selector: { matchLabels: { app: "web" } },
                template: {
                    metadata: { labels: { app: "web" } },
                    spec: {
                        containers: [
                            {
                                name: "app",
                                image: "web:1",
                                resources: { requests: { cpu: "100m" } },
                            },
                        ],
                    },
                },
                ...spec,
            },
        });

        const virtualService = (spec: Record<string, unknown>): KubeObjectLike => ({
            apiVersion: "networking.istio.io/v1",
            kind: "VirtualService",
            metadata: { name: "web", namespace: "frontend" },
            spec,
        });

        it("knows every group of the five packages", async () => {
            const groups = new Set((await knownKinds()).map((k) => k.split(" ")[0]));
            for (const apiVersion of [
                "v1",
                "apps/v1",
                "autoscaling/v2",
                "policy/v1",
                "networking.istio.io/v1",
                "security.istio.io/v1",
                "install.istio.io/v1alpha1",
                "argoproj.io/v1alpha1",
                "cert-manager.io/v1",
            ]) {
                assert.ok(groups.has(apiVersion), `no kinds for ${apiVersion}`);
            }
        });

        it("loads each kind from its own module: the same class the package index exports", async () => {
            const kinds = await knownKinds();
            assert.ok(kinds.length > 300, `${kinds.length} kinds`);
            const differ: string[] = [];
            for (const kind of kinds) {
                const [apiVersion, name] = kind.split(" ");
                if ((await modelFromModule(apiVersion, name)) !== (await modelFor(apiVersion, name))) {
                    differ.push(kind);
                }
            }
            assert.deepEqual(differ, []);
            assert.equal(await modelFromModule("example.com/v1", "Widget"), undefined);
        });

        it("accepts a valid Deployment", async () => {
            assert.deepEqual(await validateKubeObject(deployment({ replicas: 3 })), []);
        });

        it("rejects a Deployment whose replicas is a string", async () => {
            assert.deepEqual(await validateKubeObject(deployment({ replicas: "3" })), ["/spec/replicas: must be integer"]);
        });

        it("rejects an apiVersion and kind without an upstream schema", async () => {
            const widget = {
                apiVersion: "example.com/v1",
                kind: "Widget",
                metadata: { name: "w" },
            };
            assert.deepEqual(await validateKubeObject(widget), ["no upstream schema for example.com/v1 Widget"]);
        });

        it("rejects fields the schema does not declare, at any depth", async () => {
            const typo = deployment({ replica: 3 });
            const spec = typo.spec as {
                template: { spec: { containers: Record<string, unknown>[] } };
            };
            spec.template.spec.containers[0].imagePullPolicyy = "Always";
            assert.deepEqual((await validateKubeObject(typo)).sort(), [
                "/spec/replica: unknown field (not in the upstream schema)",
                "/spec/template/spec/containers/0/imagePullPolicyy: unknown field (not in the upstream schema)",
            ]);
            assert.deepEqual(await validateKubeObject(typo, { unknownFields: false }), []);
        });

        it("rejects an Istio VirtualService with a wrongly typed field", async () => {
            const problems = await validateKubeObject(virtualService({ hosts: "web" }));
            assert.deepEqual(problems, ["/spec/hosts: must be array"]);
        });

        it("accepts a valid Istio VirtualService", async () => {
            const valid = virtualService({
                hosts: ["web.frontend.svc.cluster.local"],
                http: [
                    {
                        match: [{ uri: { prefix: "/api" } }],
                        retries: { attempts: 2, perTryTimeout: "2s", retryOn: "5xx" },
                        route: [
                            {
                                destination: { host: "web", port: { number: 80 } },
                                weight: 100,
                            },
                        ],
                        timeout: "5s",
                    },
                ],
            });
            assert.deepEqual(await validateKubeObject(valid), []);
        });

        it("accepts a valid IstioOperator (whose spec the CRD leaves free-form)", async () => {
            const operator = {
                apiVersion: "install.istio.io/v1alpha1",
                kind: "IstioOperator",
                metadata: { name: "control-plane", namespace: "istio-system" },
                spec: {
                    profile: "minimal",
                    meshConfig: { accessLogFile: "/dev/stdout" },
                    values: { global: { proxy: { privileged: false } } },
                },
            };
            assert.deepEqual(await validateKubeObject(operator), []);
        });

        it("accepts a valid Argo Rollout", async () => {
            const rollout = {
                apiVersion: "argoproj.io/v1alpha1",
                kind: "Rollout",
                metadata: { name: "web", namespace: "frontend" },
                spec: {
                    replicas: 3,
                    selector: { matchLabels: { app: "web" } },
                    template: {
                        metadata: { labels: { app: "web" } },
                        spec: { containers: [{ name: "app", image: "web:1" }] },
                    },
                    strategy: {
                        canary: {
                            steps: [{ setWeight: 20 }, { pause: { duration: "1m" } }],
                        },
                    },
                },
            };
            assert.deepEqual(await validateKubeObject(rollout), []);
        });

        it("accepts a valid Argo CD Application", async () => {
            const application = {
                apiVersion: "argoproj.io/v1alpha1",
                kind: "Application",
                metadata: { name: "frontend", namespace: "argocd" },
                spec: {
                    project: "default",
                    source: {
                        repoURL: "https://example.com/platform.git",
                        path: "manifests/frontend",
                        targetRevision: "main",
                        helm: { valuesObject: { replicas: 2, image: { tag: "1.0.0" } } },
                    },
                    destination: {
                        server: "https://kubernetes.default.svc",
                        namespace: "frontend",
                    },
                    syncPolicy: { automated: { prune: true, selfHeal: true } },
                },
            };
            assert.deepEqual(await validateKubeObject(application), []);
        });

        it("accepts a valid cert-manager Certificate", async () => {
            const certificate = {
                apiVersion: "cert-manager.io/v1",
                kind: "Certificate",
                metadata: { name: "web", namespace: "frontend-gateway" },
                spec: {
                    secretName: "web-tls",
                    dnsNames: ["web.example.com"],
                    duration: "2160h",
                    issuerRef: {
                        name: "letsencrypt",
                        kind: "ClusterIssuer",
                        group: "cert-manager.io",
                    },
                },
            };
            assert.deepEqual(await validateKubeObject(certificate), []);
        });
    });
});

import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { synthesize } from "../cli/synth";
import { PROJECT_DIR, synthesizeStack } from "./support/program";

const SYNTH = join(PROJECT_DIR, "cli", "synth.ts");

/** Runs the synth CLI in `cwd` as a user would, without a TTY or stdin. */
function synthCli(cwd: string, args: string[]) {
    return spawnSync(process.execPath, ["-r", require.resolve("../cli/register.js"), SYNTH, ...args], {
        cwd,
        encoding: "utf8",
        env: { ...process.env, TS_NODE_PROJECT: join(PROJECT_DIR, "tsconfig.json") },
        input: "",
        timeout: 60_000,
    });
}

describe("synth", () => {
    it("renders byte-identical output for the same config", async () => {
        const first = await synthesize({ stack: "production", projectDir: PROJECT_DIR });
        const second = await synthesize({ stack: "production", projectDir: PROJECT_DIR });
        assert.deepEqual([...second.files.keys()], [...first.files.keys()]);
        for (const [path, content] of first.files) {
            assert.equal(second.files.get(path), content, path);
        }
    });

    it("lays manifests out per namespace and app, each directory kustomize-ready", async () => {
        const { files } = await synthesizeStack("dev");
        const inApp = [...files.keys()].filter((p) => p.startsWith("manifests/frontend/pc-web/")).sort();
        assert.deepEqual(inApp, [
            "manifests/frontend/pc-web/configmap-pc-web-env.yaml",
            "manifests/frontend/pc-web/configmap-pc-web-rate-limiter.yaml",
            "manifests/frontend/pc-web/destinationrule-pc-web-canary.yaml",
            "manifests/frontend/pc-web/destinationrule-pc-web-stable.yaml",
            "manifests/frontend/pc-web/destinationrule-pc-web.yaml",
            "manifests/frontend/pc-web/kustomization.yaml",
            "manifests/frontend/pc-web/poddisruptionbudget-pc-web.yaml",
            "manifests/frontend/pc-web/rollout-pc-web.yaml",
            "manifests/frontend/pc-web/service-pc-web-canary.yaml",
            "manifests/frontend/pc-web/service-pc-web-stable.yaml",
            "manifests/frontend/pc-web/service-pc-web.yaml",
            "manifests/frontend/pc-web/virtualservice-pc-web.yaml",
        ]);
        const kustomization = parse(files.get("manifests/frontend/pc-web/kustomization.yaml") as string);
        assert.deepEqual(kustomization, {
            apiVersion: "kustomize.config.k8s.io/v1beta1",
            kind: "Kustomization",
            resources: inApp.map((p) => p.split("/").pop()).filter((f) => f !== "kustomization.yaml"),
        });
        const namespaceLevel = parse(files.get("manifests/frontend/kustomization.yaml") as string);
        assert.deepEqual(namespaceLevel.resources, ["account-web", "host-routes", "pc-watch", "pc-web", "sp-web"]);
        assert.ok(files.has("manifests/_cluster/frontend/namespace-frontend.yaml"), "cluster-scoped objects under _cluster");
        const rollout = parse(files.get("manifests/frontend/pc-web/rollout-pc-web.yaml") as string);
        assert.deepEqual(Object.keys(rollout).slice(0, 3), ["apiVersion", "kind", "metadata"]);
    });

    it("lists every Pulumi resource with type, parent and options in resources.json", async () => {
        const { files, resourceCount } = await synthesizeStack("dev");
        const resources = JSON.parse(files.get("resources.json") as string) as {
            urn: string;
            type: string;
            parent?: string;
            protect: boolean;
        }[];
        assert.equal(resources.length, resourceCount);
        assert.deepEqual(
            resources.map((r) => r.urn),
            resources.map((r) => r.urn).sort(),
        );
        const cluster = resources.find((r) => r.type === "aws:eks/cluster:Cluster");
        assert.equal(cluster?.protect, true);
        assert.match(cluster?.parent ?? "", /bff-platform:cluster:EksCluster::frontend-dev$/);
    });

    it("writes no secret: the kubeconfig stays masked everywhere", async () => {
        const { files } = await synthesizeStack("production");
        const all = [...files.values()].join("\n");
        assert.equal(all.includes("certificate-authority-data"), false);
        assert.equal(all.includes(Buffer.from("mock-ca-of-frontend-production").toString("base64")), false);
        const provider = JSON.parse(files.get("resources.json") as string).find(
            (r: { name: string }) => r.name === "frontend-production-k8s",
        );
        assert.equal(provider.inputs.kubeconfig, "[secret]");
    });

    it("reports requests × replicas per workload and node role, istio-proxy included", async () => {
        const { files } = await synthesizeStack("production");
        const report = files.get("report.md") as string;
        // pc-web: 500m/512Mi app + 50m/32Mi nginx rate limiter + 100m/128Mi istio-proxy, 10..20 replicas.
        // Workers: the sum over every service.
        assert.match(
            report,
            /\| frontend \| Rollout pc-web \| worker \| 10\.\.20 \| 650m \/ 672Mi \| 100m \/ 128Mi \| 6500m \/ 6720Mi \| 13 \/ 13440Mi \|/,
        );
        assert.match(report, /\| worker \| 37\.6 cores, 44\.31 GiB \| 100\.5 cores, 121\.25 GiB \|/);
        // Capacity: 20 pods × 8 rps at the HPA trigger.
        assert.match(report, /\| pc-web \| 650m \| 20 \| 8 \| 160 \| 10 \| 14 \|/);
        assert.match(report, /Ceiling for a global limit: 450 rps\./);
    });
});

describe("synth command line", () => {
    let project: string;

    before(() => {
        project = mkdtempSync(join(tmpdir(), "synth-cli-"));
        cpSync(join(PROJECT_DIR, "Pulumi.yaml"), join(project, "Pulumi.yaml"));
        const dev = readFileSync(join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8");
        writeFileSync(join(project, "Pulumi.dev.yaml"), dev);
        writeFileSync(
            join(project, "Pulumi.bad.yaml"),
            dev
                .replace("- name: pc-web\n", "- name: PC_Web\n")
                .replace("- name: sp-web\n      runtime: nodejs\n", "- name: sp-web\n      runtime: nodejs\n      replicsa: 2\n")
                .replace(
                    "replicas: 1\n      resources: { requests: { cpu: 100m, memory: 256Mi }, limits: { cpu: 500m, memory: 512Mi } }\n      routes: [{ host: pc, pathPrefix: /watch }]",
                    "replicas: -1\n      resources: { requests: { cpu: 100m, memory: 256Mi }, limits: { cpu: 500m, memory: 512Mi } }\n      routes: [{ host: pc, pathPrefix: /watch }]",
                ),
        );
    });

    after(() => rmSync(project, { recursive: true, force: true }));

    it("writes out/<stack>/ and says what it wrote", () => {
        const result = synthCli(project, ["--stack", "dev"]);
        assert.equal(result.status, 0, result.stderr);
        const said = /synth: stack dev \(up\): \d+ resources, (\d+) Kubernetes objects -> (.*out\/dev) \(\d+ ms\)/.exec(result.stdout);
        assert.ok(said, result.stdout);
        const written = readdirSync(join(project, "out", "dev", "manifests"), { recursive: true }).filter(
            (f) => String(f).endsWith(".yaml") && !String(f).endsWith("kustomization.yaml"),
        );
        assert.equal(written.length, Number(said[1]), "one file per object said");
        const report = readFileSync(join(project, "out", "dev", "report.md"), "utf8");
        assert.match(report, /^# Resource report: stack `dev`/);
    });

    it("rejects a bad config with exit status 2, one line per problem and no stack trace", () => {
        const result = synthCli(project, ["--stack", "bad", "--out", join(project, "bad-out")]);
        assert.equal(result.status, 2, result.stdout + result.stderr);
        const problems = result.stderr.split("\n").filter((line) => line.startsWith("  - "));
        assert.deepEqual(problems, [
            `  - bff-platform:services[0].name: "PC_Web" has characters or a shape Kubernetes rejects (allowed: lowercase letters, digits and '-', starting and ending with a letter or digit)`,
            `  - bff-platform:services[1].replicsa: unknown key; did you mean "replicas"? allowed keys: name, extends, runtime, image, version, strategy, canary, replicas, resources, hpa, capacity, rateLimit, port, healthPath, routes, previews, mirror, timeout, retries, circuitBreaker, migration, jobs, syncWave, env`,
            "  - bff-platform:services[2].replicas: must be at least 0, got -1",
        ]);
        assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
    });

    it("explains its usage", () => {
        const result = synthCli(project, []);
        assert.equal(result.status, 64);
        assert.match(result.stderr, /--stack is required\nusage: npm run synth -- --stack <name>/);
        const missing = synthCli(project, ["--stack", "qa"]);
        assert.equal(missing.status, 2);
        assert.match(missing.stderr, /Pulumi\.qa\.yaml/);
    });
});

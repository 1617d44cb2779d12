import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { checkOutputDirectory, MARKER_FILE, writeOutput } from "../cli/output";
import { yaml } from "../cli/render";
import { KubeObjectLike } from "../cli/schemas";
import { parseStackFile, StackFileError } from "../cli/stack-file";
import { projectStackConflicts, stackClaims, stackConflicts } from "../cli/stack-conflicts";
import { cli, parseArgs, synthesize, validateObjects } from "../cli/synth";
import { UserError } from "../cli/user-error";
import { PROJECT_DIR, stackFile, STACKS, synthesizeStack } from "./support/program";

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
        assert.deepEqual(namespaceLevel.resources, ["account-web", "host-routes", "network-policies", "pc-watch", "pc-web", "sp-web"]);
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
        // Workers: the sum over every service, plus the Datadog node agent (200m / 256Mi) on 6..30 worker nodes.
        assert.match(
            report,
            /\| frontend \| Rollout pc-web \| worker \| 10\.\.20 \| 650m \/ 672Mi \| 100m \/ 128Mi \| 6500m \/ 6720Mi \| 13 \/ 13440Mi \|/,
        );
        assert.match(report, /\| worker \| 38\.8 cores, 45\.81 GiB \| 106\.5 cores, 128\.75 GiB \|/);
        // Capacity: 20 pods × 8 rps at the HPA trigger.
        assert.match(report, /\| pc-web \| 650m \| 20 \| 8 \| 160 \| 10 \| 14 \|/);
        assert.match(report, /Ceiling for a global limit: 450 rps\./);
    });
});

/** Runs the synth command in-process in `cwd` and returns its exit status and text. */
async function synthIn(cwd: string, args: string[]) {
    let stdout = "";
    let stderr = "";
    const status = await cli(args, { cwd, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    return { status, stdout, stderr };
}

/** Every file under `dir` with its content, paths relative and sorted. */
function snapshot(dir: string): Record<string, string> {
    return Object.fromEntries(
        readdirSync(dir, { recursive: true, withFileTypes: true })
            .filter((entry) => entry.isFile())
            .map((entry) => join(entry.parentPath, entry.name))
            .sort()
            .map((path) => [path.slice(dir.length + 1), readFileSync(path, "utf8")]),
    );
}

describe("synth command line", () => {
    let project: string;
    const dev = readFileSync(join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8");

    before(() => {
        project = mkdtempSync(join(tmpdir(), "synth-cli-"));
        cpSync(join(PROJECT_DIR, "Pulumi.yaml"), join(project, "Pulumi.yaml"));
        writeFileSync(join(project, "Pulumi.dev.yaml"), dev);
    });

    after(() => rmSync(project, { recursive: true, force: true }));

    /** A stack file that exists only during `body`. */
    async function withStackFile<T>(stack: string, text: string, body: () => Promise<T>): Promise<T> {
        const file = join(project, `Pulumi.${stack}.yaml`);
        writeFileSync(file, text);
        try {
            return await body();
        } finally {
            rmSync(file);
        }
    }

    it("writes out/<stack>/ with its marker and prints a deterministic summary", async () => {
        // The one end-to-end run through `node`, as `npm run synth` does.
        const result = synthCli(project, ["--stack", "dev"]);
        assert.equal(result.status, 0, result.stderr);
        const out = join(project, "out", "dev");
        const said =
            /^synth: stack dev \(up\): \d+ Pulumi resources, (\d+) Kubernetes objects, all valid against the upstream schemas\nsynth: wrote (.*)\n/.exec(
                result.stdout,
            );
        assert.ok(said, result.stdout);
        assert.equal(said[2], out);
        const written = readdirSync(join(out, "manifests"), { recursive: true }).filter(
            (f) => String(f).endsWith(".yaml") && !String(f).endsWith("kustomization.yaml"),
        );
        assert.equal(written.length, Number(said[1]), "one file per object said");
        // dev: 4 services (pc-web, sp-web, pc-watch, account-web) with their Rollouts, the gateway's Deployment.
        assert.match(result.stdout, /\n {4}.*\bRollout +4\b/);
        // Per app: the files written under manifests/<namespace>/<app>/, counted here from the disk.
        const perApp = new Map<string, number>();
        for (const file of written.map(String)) {
            const app = file.split("/")[1];
            perApp.set(app, (perApp.get(app) ?? 0) + 1);
        }
        const printed = result.stdout.slice(result.stdout.indexOf("objects per app"), result.stdout.indexOf("next:"));
        const cells = [...printed.matchAll(/([a-z0-9-]+) +(\d+)(?= |$)/gm)].map((m) => [m[1], Number(m[2])]);
        assert.deepEqual(
            cells,
            [...perApp].sort(([a], [b]) => a.localeCompare(b)),
        );
        assert.ok(perApp.has("pc-web") && perApp.has("istio-ingressgateway"), [...perApp.keys()].join(", "));
        assert.match(result.stdout, /next: report\.md .*\n.*resources\.json/);
        assert.ok(result.stdout.split("\n").length <= 30, `one screen:\n${result.stdout}`);
        assert.equal(readFileSync(join(out, MARKER_FILE), "utf8").split("\n")[0], "bff-platform synth output");
        assert.match(readFileSync(join(out, "report.md"), "utf8"), /^# Resource report: stack `dev`/);
        const again = await synthIn(project, ["--stack=dev"]);
        assert.equal(again.status, 0, again.stderr);
        assert.equal(again.stdout, result.stdout, "same run, same text");
    });

    it("rejects a bad config with exit status 2, one line per problem and no stack trace", () => {
        const bad = dev
            .replace("bff-platform:environment: dev", "bff-platform:environment: bad")
            .replace("- name: pc-web\n", "- name: PC_Web\n")
            .replace("- name: sp-web\n      runtime: nodejs\n", "- name: sp-web\n      runtime: nodejs\n      replicsa: 2\n");
        writeFileSync(join(project, "Pulumi.bad.yaml"), bad);
        try {
            const result = synthCli(project, ["--stack", "bad", "--out", join(project, "bad-out")]);
            assert.equal(result.status, 2, result.stdout + result.stderr);
            const problems = result.stderr.split("\n").filter((line) => line.startsWith("  - "));
            assert.equal(problems.length, 2, result.stderr);
            assert.match(problems[0], /^ {2}- bff-platform:services\[(0|pc-web|PC_Web)[^\]]*\]\.name: "PC_Web" /);
            assert.match(problems[1], /^ {2}- bff-platform:services\[[^\]]*\]\.replicsa: unknown key; did you mean "replicas"\?/);
            assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
            assert.equal(existsSync(join(project, "bad-out")), false, "nothing written");
        } finally {
            rmSync(join(project, "Pulumi.bad.yaml"));
        }
    });

    describe("--out", () => {
        it("refuses the project directory (--out .) and leaves every file in place", async () => {
            const before = snapshot(project);
            const result = await synthIn(project, ["--stack", "dev", "--out", "."]);
            assert.equal(result.status, 2);
            assert.equal(
                result.stderr,
                `synth: refusing --out .: it contains ${project}, and synth replaces its output directory as a whole\n`,
            );
            assert.deepEqual(snapshot(project), before);
        });

        it("refuses a directory holding the user's files, which survive", async () => {
            const scratch = join(project, "scratch");
            mkdirSync(join(scratch, "notes"), { recursive: true });
            writeFileSync(join(scratch, "notes", "todo.txt"), "keep me\n");
            const result = await synthIn(project, ["--stack", "dev", "--out=scratch"]);
            assert.equal(result.status, 2);
            assert.equal(
                result.stderr,
                "synth: refusing --out scratch: it exists and is not an earlier synth output (no .bff-synth marker); " +
                    "synth replaces its output directory as a whole, so give a new directory or one synth wrote\n",
            );
            assert.deepEqual(snapshot(scratch), { "notes/todo.txt": "keep me\n" });
        });

        it("refuses a file, a parent of the working directory, and a marker with another first line", () => {
            const file = join(project, "a-file");
            writeFileSync(file, "x");
            assert.throws(() => checkOutputDirectory(file, [project]), /refusing --out .*a-file: it exists and is not a directory/);
            assert.throws(() => checkOutputDirectory(tmpdir(), [project]), /it contains .*, and synth replaces/);
            const fake = join(project, "fake");
            mkdirSync(fake);
            writeFileSync(join(fake, MARKER_FILE), "something else\n");
            assert.throws(() => checkOutputDirectory(fake, [project]), /no \.bff-synth marker/);
            assert.doesNotThrow(() => checkOutputDirectory(join(project, "new", "dir"), [project]));
            // What synth wrote before it had a marker is still an earlier output; one more file and it is not.
            const unmarked = join(project, "unmarked");
            mkdirSync(join(unmarked, "manifests"), { recursive: true });
            writeFileSync(join(unmarked, "report.md"), "# report\n");
            writeFileSync(join(unmarked, "resources.json"), "[]\n");
            assert.doesNotThrow(() => checkOutputDirectory(unmarked, [project]));
            writeFileSync(join(unmarked, "thesis.tex"), "mine\n");
            assert.throws(() => checkOutputDirectory(unmarked, [project]), /no \.bff-synth marker/);
        });

        it("replaces an earlier output as a whole, and a failed write leaves it whole", () => {
            const out = join(project, "replaced");
            writeOutput(
                out,
                new Map([
                    ["manifests/a.yaml", "a: 1\n"],
                    ["report.md", "one\n"],
                ]),
                [project],
            );
            writeOutput(out, new Map([["manifests/b.yaml", "b: 2\n"]]), [project]);
            const second = snapshot(out);
            assert.deepEqual(Object.keys(second), [MARKER_FILE, "manifests/b.yaml"], "the file of the first run is gone");
            // "x" as a file and as a directory: writing fails halfway through.
            assert.throws(
                () =>
                    writeOutput(
                        out,
                        new Map([
                            ["x", "1"],
                            ["x/y", "2"],
                        ]),
                        [project],
                    ),
                /ENOTDIR|EEXIST/,
            );
            assert.deepEqual(snapshot(out), second);
            assert.deepEqual(
                readdirSync(project).filter((name) => name.includes("synth-")),
                [],
                "no temporary directory left behind",
            );
        });

        it("removes what a killed run left beside its output, and nothing else", () => {
            const leftovers = join(project, "leftovers");
            mkdirSync(leftovers);
            const dead = ".out.synth-new-4194304-0123abcd"; // above Linux's largest pid_max: no such process
            const alive = `.out.synth-old-${process.pid}-0123abcd`;
            for (const name of [dead, alive, ".out.synth-new-notes", ".other.synth-new-4194304-0123abcd"]) {
                mkdirSync(join(leftovers, name, "manifests"), { recursive: true });
            }
            writeOutput(join(leftovers, "out"), new Map([["report.md", "r\n"]]), [project]);
            assert.deepEqual(
                readdirSync(leftovers).sort(),
                [alive, ".other.synth-new-4194304-0123abcd", ".out.synth-new-notes", "out"].sort(),
            );
        });

        it("leaves the previous output whole when the next run fails on its config", async () => {
            const out = join(project, "kept");
            writeOutput(out, new Map([["report.md", "earlier\n"]]), [project]);
            const before = snapshot(out);
            const result = await withStackFile("broken", "config:\n  aws:region: nowhere\n", () =>
                synthIn(project, ["--stack", "broken", "--out", out]),
            );
            assert.equal(result.status, 2, result.stderr);
            assert.deepEqual(snapshot(out), before);
        });
    });

    describe("stack files", () => {
        it("reports a YAML syntax error with file, line and column, exit status 2 and no stack trace", async () => {
            const text = dev.replace(
                "  bff-platform:environment: dev\n",
                "  bff-platform:environment: dev\n\tbff-platform:appNamespace: x\n",
            );
            const result = await withStackFile("tabbed", text, () => synthIn(project, ["--stack", "tabbed"]));
            assert.equal(result.status, 2);
            // The first error's place and text; how many follow depends on the rest of the dev stack file.
            assert.match(
                result.stderr,
                /^synth: Pulumi\.tabbed\.yaml:5:1: YAML syntax error: Tabs are not allowed as indentation \(and \d+ more errors after it, which may follow from this one\)\n$/,
            );
            const unclosed = await withStackFile("unclosed", "config:\n  aws:region: [ap-northeast-1\n", () =>
                synthIn(project, ["--stack", "unclosed"]),
            );
            assert.equal(unclosed.status, 2);
            assert.match(unclosed.stderr, /^synth: Pulumi\.unclosed\.yaml:3:1: YAML syntax error: Flow sequence .* end with a \]\n$/);
        });

        it("names the stacks present when the one asked for is missing", async () => {
            const result = await synthIn(project, ["--stack", "staging"]);
            assert.equal(result.status, 2);
            assert.equal(result.stderr, `synth: no stack file Pulumi.staging.yaml in ${project}; stacks present: dev\n`);
        });

        it("says so when the root is not a mapping or there is no config: mapping", () => {
            const problems = (text: string) => {
                try {
                    parseStackFile(text, "bff-platform", "Pulumi.x.yaml");
                } catch (error) {
                    assert.ok(error instanceof StackFileError, String(error));
                    return error.problems;
                }
                assert.fail("accepted");
            };
            assert.deepEqual(problems("- config\n"), ['Pulumi.x.yaml: a stack file is a mapping with a "config:" key, got a list']);
            assert.deepEqual(problems(""), ['Pulumi.x.yaml: a stack file is a mapping with a "config:" key, got an empty document']);
            assert.deepEqual(problems("secretsprovider: passphrase\nconfg:\n  aws:region: ap-northeast-1\n"), [
                'Pulumi.x.yaml: unknown top-level key "confg" (a stack file has: config, secretsprovider, encryptedkey, encryptionsalt, environment)',
                'Pulumi.x.yaml: no "config:" mapping: the stack\'s settings go under "config:" (see Pulumi.dev.yaml)',
            ]);
            assert.deepEqual(problems("config: [a, b]\n"), ['Pulumi.x.yaml: "config" must be a mapping of keys to values, got a list']);
            assert.deepEqual(problems("config:\n  a: 1\n  a: 2\n"), ["Pulumi.x.yaml:3:3: YAML syntax error: Map keys must be unique"]);
        });

        it("merges YAML merge keys as the Pulumi CLI's reader (yaml.v3) does: own keys first, then the first merged mapping", () => {
            const file = parseStackFile(
                [
                    "config:",
                    "  bff-platform:defaults: &defaults { replicas: 1, runtime: nodejs, port: 3000 }",
                    "  bff-platform:more: &more { port: 8080, timeout: 15s }",
                    "  bff-platform:service:",
                    "    <<: [*defaults, *more]",
                    "    replicas: 3",
                ].join("\n"),
                "bff-platform",
            );
            assert.deepEqual(JSON.parse(file.configMap["bff-platform:service"]), {
                replicas: 3,
                runtime: "nodejs",
                port: 3000,
                timeout: "15s",
            });
            assert.throws(
                () => parseStackFile("config:\n  bff-platform:service:\n    <<: 3\n", "bff-platform", "Pulumi.x.yaml"),
                /^StackFileError: Pulumi\.x\.yaml: .*a "<<" merge key takes a mapping or a list of mappings\)$/,
            );
        });

        it("reads scalars as the Pulumi CLI's reader (yaml.v3) does: 0755 is octal, 1_000 is 1000, yes is a string", () => {
            const file = parseStackFile(
                "config:\n  bff-platform:values: [0755, -010, 1_000, 08, 0o17, 0x1F, yes, on, '0755']\n",
                "bff-platform",
            );
            assert.deepEqual(JSON.parse(file.configMap["bff-platform:values"]), [493, -8, 1000, 8, 15, 31, "yes", "on", "0755"]);
        });
    });

    describe("arguments", () => {
        it("accepts --stack=<name> and --out=<dir> like --stack <name> and --out <dir>", () => {
            assert.deepEqual(parseArgs(["--stack=dev", "--out=x", "--preview"]), { stack: "dev", out: "x", mode: "preview" });
            assert.deepEqual(parseArgs(["--stack", "dev", "--out", "x"]), { stack: "dev", out: "x" });
        });

        it("explains a usage mistake with exit status 64", async () => {
            for (const [args, message] of [
                [[], "--stack is required"],
                [["--stack"], "--stack needs a value"],
                [["--stack="], "--stack needs a value"],
                [["--stack", "dev", "--stack", "qa"], "--stack is given twice"],
                [["--stack", "dev", "--verbose"], "unknown argument --verbose"],
                [["--stack", "../dev"], '--stack "../dev" is not a stack name (letters, digits, "-", "_", ".")'],
            ] as const) {
                const result = await synthIn(project, [...args]);
                assert.equal(result.status, 64, args.join(" "));
                assert.equal(
                    result.stderr,
                    `synth: ${message}\nusage: npm run synth -- --stack <name> [--out <dir>] [--preview]\n` +
                        "(npm run synth -- --help for outputs, modes and exit codes)\n",
                );
            }
        });

        it("--help explains the outputs, modes, checks and exit statuses", async () => {
            const result = await synthIn(project, ["--help"]);
            assert.equal(result.status, 0);
            for (const expected of [
                /--stack <name>, --stack=<name>/,
                /--preview +run as a first `pulumi preview`/,
                /manifests\/<namespace>\/<app>\//,
                /resources\.json/,
                /report\.md/,
                /\.bff-synth/,
                /\n {2}0 {3}written\n/,
                /\n {2}2 {3}bad input/,
                /\n {2}64 {2}usage/,
                /\n {2}1 {3}internal failure/,
            ]) {
                assert.match(result.stdout, expected);
            }
        });
    });

    describe("stacks of one project", () => {
        it("refuses a copied stack that shares the cluster name and hostnames, naming both files", async () => {
            const copy = dev.replace("bff-platform:environment: dev", "bff-platform:environment: copy");
            const result = await withStackFile("copy", copy, () => synthIn(project, ["--stack", "copy"]));
            assert.equal(result.status, 2, result.stderr);
            assert.equal(
                result.stderr,
                [
                    'synth: Pulumi.copy.yaml and Pulumi.dev.yaml both use the cluster name "frontend-dev" (bff-platform:cluster.name): each stack needs its own EKS cluster',
                    'synth: Pulumi.copy.yaml and Pulumi.dev.yaml both serve the hostname "pc.dev.example.com" (bff-platform:hosts): each environment needs its own hostnames',
                    'synth: Pulumi.copy.yaml and Pulumi.dev.yaml both serve the hostname "sp.dev.example.com" (bff-platform:hosts): each environment needs its own hostnames',
                    "",
                ].join("\n"),
            );
        });

        it("finds no conflict between the committed stacks", () => {
            for (const stack of STACKS) {
                const others = STACKS.filter((s) => s !== stack);
                assert.deepEqual(projectStackConflicts(PROJECT_DIR, stack, stackFile(stack), [...others]), [], stack);
            }
        });

        it("finds two stacks writing one GitOps directory, hostnames in any case", () => {
            const claims = (file: string, lines: string[]) =>
                stackClaims(file, parseStackFile(["config:", ...lines].join("\n"), "bff-platform"));
            const a = claims("Pulumi.a.yaml", [
                "  bff-platform:environment: qa",
                "  bff-platform:cluster: { name: frontend-a }",
                "  bff-platform:hosts: [{ name: pc, hostname: PC.example.com }]",
            ]);
            const b = claims("Pulumi.b.yaml", [
                "  bff-platform:environment: qa",
                "  bff-platform:cluster: { name: frontend-b }",
                "  bff-platform:delivery: { manifestsPath: kubernetes/overlays/ }",
                "  bff-platform:hosts: [{ name: pc, hostname: pc.example.com }]",
            ]);
            const direct = claims("Pulumi.c.yaml", ["  bff-platform:environment: qa", "  bff-platform:delivery: { mode: direct }"]);
            assert.deepEqual(stackConflicts(a, [b, direct]), [
                'Pulumi.a.yaml and Pulumi.b.yaml both write Argo CD manifests to "kubernetes/overlays/qa" (bff-platform:delivery.manifestsPath/bff-platform:environment): one would overwrite the other\'s GitOps directory',
                'Pulumi.a.yaml and Pulumi.b.yaml both serve the hostname "pc.example.com" (bff-platform:hosts): each environment needs its own hostnames',
            ]);
        });
    });
});

describe("synth output checks", () => {
    it("fails on an object the upstream schema rejects, listing each problem with its file", async () => {
        const deployment = {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "web", namespace: "frontend", labels: { "app.kubernetes.io/name": "web" } },
            spec: {
                replicas: "3",
                selector: { matchLabels: { app: "web" } },
                template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "app", image: "web:1" }] } },
            },
        } as KubeObjectLike;
        const error = await validateObjects([deployment as never]).then(
            () => assert.fail("accepted"),
            (e: unknown) => e,
        );
        assert.ok(error instanceof UserError);
        assert.deepEqual(error.lines("synth: "), [
            "synth: 1 object is invalid against the upstream schemas (nothing was written):",
            "  - manifests/frontend/web/deployment-web.yaml: /spec/replicas: must be integer",
        ]);
    });

    it("quotes every string a YAML 1.1 reader would read as something else", () => {
        const text = yaml({
            args: [
                "no",
                "yes",
                "On",
                "OFF",
                "y",
                "N",
                "yEs",
                "True",
                "0755",
                "1:30",
                "~",
                "null",
                "NULL",
                "2026-11-22",
                "1_000",
                "<<",
                "plain",
            ],
            n: "kept",
        });
        assert.equal(
            text,
            [
                "args:",
                '  - "no"',
                '  - "yes"',
                '  - "On"',
                '  - "OFF"',
                '  - "y"',
                '  - "N"',
                '  - "yEs"',
                '  - "True"',
                '  - "0755"',
                '  - "1:30"',
                '  - "~"',
                '  - "null"',
                '  - "NULL"',
                '  - "2026-11-22"',
                '  - "1_000"',
                '  - "<<"',
                "  - plain",
                '"n": kept',
                "",
            ].join("\n"),
        );
    });
});

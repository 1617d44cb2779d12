/**
 * `npm run plan -- --stack <name> [--base <git-ref>] [--format text|markdown]`
 *
 * The plan of a change, offline: renders the stack from the working tree and from a base commit
 * (default `HEAD`) with synth, and prints what a real `pulumi up` would create, update, replace or
 * delete, with the changed fields, grouped by app (`cli/plan-diff.ts`). `--format markdown` is short
 * enough for a pull-request comment, with the full diff folded.
 *
 * The base is rendered by the base commit's own program (`git archive` into a temporary directory,
 * this checkout's node_modules linked in, its `npm run synth`), so a change of the program is
 * planned as faithfully as a change of a stack file. A base without the stack file plans every
 * resource as created.
 *
 * Exit status: 0 no changes, 3 changes, 2 bad input (unknown ref, bad config, base does not
 * render), 64 usage, 1 internal failure.
 */
import { spawnSync } from "child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "fs";
import { tmpdir } from "os";
import { join, resolve } from "path";
import { ConfigError } from "../components/config";
import { Plan, PlannedResource, planResources, formatMarkdown, formatText } from "./plan-diff";
import { runAsMain, UsageError } from "./command";
import { UserError } from "./user-error";
import { synthesize } from "./synth";

export interface PlanOptions {
    stack: string;
    /** Git ref of the base; default `HEAD`. */
    base: string;
    format: "text" | "markdown";
    /** Project directory (Pulumi.yaml, stack files); default the current directory. */
    projectDir: string;
}

/** A mistake of the caller: one line, exit status 2. */
export class PlanInputError extends Error {}

function git(projectDir: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync("git", args, { cwd: projectDir, encoding: "utf8" });
    return { status: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

/** The working tree's render of the stack (in-process, as synth does it). */
export async function renderWorkingTree(stack: string, projectDir: string): Promise<PlannedResource[]> {
    const result = await synthesize({ stack, projectDir });
    return JSON.parse(result.files.get("resources.json") as string) as PlannedResource[];
}

/** The full commit id of `ref`, or a {@link PlanInputError} naming it. */
export function resolveCommit(projectDir: string, ref: string): string {
    if (ref.startsWith("-")) {
        throw new PlanInputError(`--base ${ref}: not a git ref`);
    }
    const found = git(projectDir, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
    if (found.status !== 0) {
        const inRepo = git(projectDir, ["rev-parse", "--is-inside-work-tree"]).status === 0;
        throw new PlanInputError(
            inRepo ? `--base ${ref}: no such commit in this repository` : `${projectDir} is not a git checkout: --base needs one`,
        );
    }
    return found.stdout.trim();
}

/**
 * The render of the stack at `commit`, by that commit's own program; `[]` when the commit has no
 * `Pulumi.<stack>.yaml` (a new stack: everything is created).
 */
export function renderCommit(stack: string, projectDir: string, commit: string): PlannedResource[] {
    const prefix = git(projectDir, ["rev-parse", "--show-prefix"]).stdout.trim();
    if (git(projectDir, ["cat-file", "-e", `${commit}:${prefix}Pulumi.${stack}.yaml`]).status !== 0) {
        return [];
    }
    const top = git(projectDir, ["rev-parse", "--show-toplevel"]).stdout.trim();
    const work = mkdtempSync(join(tmpdir(), "bff-plan-"));
    try {
        const archive = spawnSync("sh", ["-c", `git -C "$1" archive --format=tar "$2" | tar -x -C "$3"`, "sh", top, commit, work], {
            encoding: "utf8",
        });
        if (archive.status !== 0) {
            throw new Error(`git archive ${commit} failed: ${archive.stderr}`);
        }
        const baseDir = join(work, prefix);
        symlinkSync(resolve(projectDir, "node_modules"), join(baseDir, "node_modules"), "dir");
        const out = join(work, "plan-out");
        const synth = spawnSync("npm", ["run", "--silent", "synth", "--", "--stack", stack, "--out", out], {
            cwd: baseDir,
            encoding: "utf8",
            env: { ...process.env, npm_config_update_notifier: "false" },
        });
        if (synth.status !== 0 || !existsSync(join(out, "resources.json"))) {
            const said = `${synth.stderr}${synth.stdout}`.trim().split("\n").slice(0, 12).join("\n");
            throw new PlanInputError(`the base ${commit.slice(0, 12)} does not render stack ${stack}:\n${said}`);
        }
        return JSON.parse(readFileSync(join(out, "resources.json"), "utf8")) as PlannedResource[];
    } finally {
        rmSync(work, { recursive: true, force: true });
    }
}

/** The plan of the working tree against `options.base`, and its title. */
export async function planStack(options: Omit<PlanOptions, "format">): Promise<{ plan: Plan; title: string }> {
    const commit = resolveCommit(options.projectDir, options.base);
    const before = renderCommit(options.stack, options.projectDir, commit);
    const after = await renderWorkingTree(options.stack, options.projectDir);
    const title = `Plan of stack \`${options.stack}\`: ${options.base} (${commit.slice(0, 7)}) -> working tree`;
    return { plan: planResources(before, after), title };
}

const USAGE = `usage: npm run plan -- --stack <name> [--base <git-ref>] [--format text|markdown]

Renders the stack from the working tree and from the base commit (default HEAD) and prints what
\`pulumi up\` would create (+), update (~), replace (+-) or delete (-), with the changed fields,
grouped by app. Replacements, deletions and changes of protected resources are listed first.

  --stack <name>     the stack file Pulumi.<name>.yaml (also --stack=<name>)
  --base <git-ref>   what to compare with: a branch, tag or commit (default HEAD)
  --format <f>       text (default) or markdown (a pull-request comment, the full diff folded)

Exit status: 0 no changes, 3 changes, 2 bad input, 64 usage, 1 internal failure.`;

export function parsePlanArgs(argv: string[]): PlanOptions {
    const values: Record<string, string> = {};
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--help" || arg === "-h") {
            throw new UsageError("");
        }
        const match = /^--(stack|base|format)(?:=(.*))?$/.exec(arg);
        if (match === null) {
            throw new UsageError(`unknown argument ${arg}`);
        }
        const value = match[2] ?? argv[++i];
        if (value === undefined || value === "" || value.startsWith("--")) {
            throw new UsageError(`--${match[1]} needs a value`);
        }
        values[match[1]] = value;
    }
    if (values.stack === undefined) {
        throw new UsageError("--stack is required");
    }
    const format = values.format ?? "text";
    if (format !== "text" && format !== "markdown") {
        throw new UsageError(`--format ${format}: allowed values are text and markdown`);
    }
    return { stack: values.stack, base: values.base ?? "HEAD", format, projectDir: process.cwd() };
}

runAsMain(
    {
        name: "plan",
        usage: USAGE,
        parse: parsePlanArgs,
        async run(options) {
            const { plan, title } = await planStack(options).catch((error: unknown) => {
                throw error instanceof ConfigError ? new PlanInputError(`Pulumi.${options.stack}.yaml: ${error.message}`) : error;
            });
            process.stdout.write(options.format === "markdown" ? formatMarkdown(plan, title) : formatText(plan, title));
            return plan.steps.length === 0 ? 0 : 3;
        },
        userMistake: (error) =>
            error instanceof PlanInputError || error instanceof UserError || (error as NodeJS.ErrnoException).code === "ENOENT"
                ? (error as Error).message
                : undefined,
    },
    module,
);

/**
 * `npm run synth -- --stack <name> [--out <dir>] [--preview]` (`--help` for the whole story)
 *
 * Runs the program (the function `pulumi up` runs) under the Pulumi SDK mock runtime with the
 * configuration of `Pulumi.<name>.yaml`, checks every Kubernetes object against the upstream
 * schemas, and writes every object it would create:
 *   <out>/manifests/      Kubernetes objects, one directory per namespace and app, kustomize-ready
 *   <out>/resources.json  every Pulumi resource: type, name, parent, options, inputs (secrets masked)
 *   <out>/report.md       requests × replicas per workload and node role, capacity figures
 *   <out>/.bff-synth      the marker that lets the next run replace the directory
 * A user mistake exits with status 2 and one line per problem, never a stack trace.
 */
import { existsSync, readFileSync } from "fs";
import { join, resolve } from "path";
import { parse } from "yaml";
import { ConfigError, parseStackConfig } from "../components/config";
import { main } from "../stacks";
import { Mode, runProgram } from "./mock-runtime";
import { MARKER_FILE, checkOutputDirectory, writeOutput } from "./output";
import { KubeObject, kubernetesObjects, objectPath, renderManifests, renderReport, renderResourcesJson, renderSummary } from "./render";
import { validateKubeObject } from "./schemas";
import { projectStackConflicts } from "./stack-conflicts";
import { readStackFile, StackFile, stackNames } from "./stack-file";
import { UserError } from "./user-error";

export { writeOutput };

export interface SynthOptions {
    stack: string;
    /** Output directory; default `out/<stack>`. */
    out?: string;
    mode?: Mode;
    /** Project directory holding Pulumi.yaml and the stack files; default the current directory. */
    projectDir?: string;
}

export interface SynthResult {
    /** Relative path -> content, everything synth writes (the marker file aside). */
    files: Map<string, string>;
    /** The Kubernetes objects of `manifests/`, in file order. */
    objects: KubeObject[];
    resourceCount: number;
    objectCount: number;
    /** Config paths whose secure value was replaced by a placeholder. */
    placeholders: string[];
}

export function projectName(projectDir: string): string {
    const file = join(projectDir, "Pulumi.yaml");
    if (!existsSync(file)) {
        throw new UserError([`no Pulumi.yaml in ${projectDir}: run synth from the project directory`]);
    }
    const document = parse(readFileSync(file, "utf8")) as { name?: string } | null;
    if (typeof document?.name !== "string") {
        throw new UserError([`Pulumi.yaml: no project name ("name:")`]);
    }
    return document.name;
}

/**
 * Runs the program for a stack of a project directory and returns the files synth would write
 * (nothing is written). Fails with a {@link UserError} when the stack file is missing or unreadable,
 * or shares a cluster name, GitOps directory or hostname with another stack of the project, and
 * with a {@link ConfigError} when its configuration is invalid.
 */
export async function synthesize(options: SynthOptions): Promise<SynthResult> {
    const projectDir = options.projectDir ?? process.cwd();
    const project = projectName(projectDir);
    const stacks = stackNames(projectDir);
    if (!stacks.includes(options.stack)) {
        throw new UserError([
            `no stack file Pulumi.${options.stack}.yaml in ${projectDir}; ` +
                (stacks.length === 0 ? "there is no Pulumi.<stack>.yaml at all" : `stacks present: ${stacks.join(", ")}`),
        ]);
    }
    const stackFile = readStackFile(join(projectDir, `Pulumi.${options.stack}.yaml`), project);
    parseStackConfig(stackFile.configMap, options.stack, { secretKeys: stackFile.secretKeys, secretPaths: stackFile.placeholders });
    const conflicts = projectStackConflicts(
        projectDir,
        options.stack,
        stackFile,
        stacks.filter((s) => s !== options.stack),
    );
    if (conflicts.length > 0) {
        throw new UserError(conflicts);
    }
    return synthesizeStackFile({ project, stack: options.stack, stackFile, mode: options.mode });
}

/** Same as {@link synthesize}, for a stack file already read (or generated, as the benchmark does). */
export async function synthesizeStackFile(args: {
    project: string;
    stack: string;
    stackFile: StackFile;
    mode?: Mode;
}): Promise<SynthResult> {
    const { project, stack, stackFile } = args;
    const { config } = parseStackConfig(stackFile.configMap, stack, {
        secretKeys: stackFile.secretKeys,
        secretPaths: stackFile.placeholders,
    });
    const run = await runProgram(main, {
        project,
        stack,
        configMap: stackFile.configMap,
        secretKeys: stackFile.secretKeys,
        mode: args.mode ?? "up",
    });
    const objects = kubernetesObjects(run.resources);
    const files = new Map<string, string>();
    for (const [path, content] of renderManifests(objects)) {
        files.set(`manifests/${path}`, content);
    }
    files.set("resources.json", renderResourcesJson(run.resources));
    files.set("report.md", renderReport(config, stack, objects));
    return { files, objects, resourceCount: run.resources.length, objectCount: objects.length, placeholders: stackFile.placeholders };
}

/**
 * Every object checked against its upstream schema (the validator the tests use); fails with one
 * line per problem, `manifests/<path>: <JSON pointer>: <message>`.
 */
export async function validateObjects(objects: KubeObject[]): Promise<void> {
    const problems: string[] = [];
    for (const object of objects) {
        problems.push(...(await validateKubeObject(object)).map((p) => `manifests/${objectPath(object)}: ${p}`));
    }
    if (problems.length > 0) {
        const invalid = new Set(problems.map((p) => p.slice(0, p.indexOf(": ")))).size;
        throw new UserError(
            problems,
            `${invalid} object${invalid === 1 ? " is" : "s are"} invalid against the upstream schemas (nothing was written):`,
        );
    }
}

/* -------------------------------------------------------------- command line */

class UsageError extends Error {}

const USAGE = "usage: npm run synth -- --stack <name> [--out <dir>] [--preview]";

const HELP = `${USAGE}

Runs this project's Pulumi program offline, under the Pulumi SDK's mock runtime, with the
configuration of Pulumi.<name>.yaml, checks what it would create, and writes it out. No cloud
account, cluster or Pulumi CLI is used; secure: values become a placeholder (synth says which).

options:
  --stack <name>, --stack=<name>  the stack: reads Pulumi.<name>.yaml of the current directory
  --out <dir>, --out=<dir>        output directory, default out/<name>. It must not exist yet or be
                                  an earlier synth output (it holds ${MARKER_FILE}): synth replaces it
                                  as a whole, so it refuses any other existing directory
  --preview                       run as a first \`pulumi preview\` of a new stack sees the program:
                                  values the cloud computes appear as [unknown] (default: as \`pulumi up\`)
  -h, --help                      this text

checks, before anything is written:
  the stack file (YAML syntax with file:line:column, its shape), the configuration (every problem
  at once), that no other Pulumi.*.yaml shares its cluster name, GitOps directory or hostnames, and
  every Kubernetes object against the upstream Kubernetes, Istio, Argo and cert-manager schemas

writes into <dir>, atomically (a temporary sibling renamed into place; a failed run leaves the
previous output whole):
  manifests/<namespace>/<app>/  one YAML file per object, a kustomization.yaml per app and namespace
  resources.json                every Pulumi resource: type, parent, options, inputs ([secret] masked)
  report.md                     requests × replicas per workload and node role, capacity, global limits
  ${MARKER_FILE}                    the marker that lets the next run replace <dir>
Same configuration, byte-identical files.

exit status:
  0   written
  2   bad input: stack file, configuration, --out, stacks in conflict, invalid objects (one line each)
  64  usage: unknown or missing argument
  1   internal failure: a bug in synth or the program (printed with its stack trace)
`;

/** `--name value` or `--name=value`; the flags synth knows. */
export function parseArgs(argv: string[]): SynthOptions | "help" {
    const options: Partial<SynthOptions> = {};
    const given = new Set<string>();
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--help" || arg === "-h") {
            return "help";
        }
        const [flag, inline] =
            arg.startsWith("--") && arg.includes("=")
                ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
                : [arg, undefined];
        if (given.has(flag)) {
            throw new UsageError(`${flag} is given twice`);
        }
        given.add(flag);
        if (flag === "--stack" || flag === "--out") {
            const value = inline ?? argv[++i];
            if (value === undefined || value === "" || (inline === undefined && value.startsWith("-"))) {
                throw new UsageError(`${flag} needs a value`);
            }
            options[flag === "--stack" ? "stack" : "out"] = value;
        } else if (flag === "--preview" && inline === undefined) {
            options.mode = "preview";
        } else {
            throw new UsageError(`unknown argument ${arg}`);
        }
    }
    if (options.stack === undefined) {
        throw new UsageError("--stack is required");
    }
    // Pulumi stack names: letters, digits, "-", "_" and "." (and a file name: no path separators).
    if (!/^[A-Za-z0-9_.-]+$/.test(options.stack) || /^\.+$/.test(options.stack)) {
        throw new UsageError(`--stack ${JSON.stringify(options.stack)} is not a stack name (letters, digits, "-", "_", ".")`);
    }
    return options as SynthOptions;
}

/** Where the command line runs and writes its text; tests run it in-process with their own. */
export interface CliContext {
    cwd: string;
    stdout: (text: string) => void;
    stderr: (text: string) => void;
}

const PROCESS_CONTEXT: CliContext = {
    cwd: process.cwd(),
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
};

/** The synth command: returns the exit status (0, 2 or 64); an internal failure is thrown (status 1). */
export async function cli(argv: string[], context: CliContext = PROCESS_CONTEXT): Promise<number> {
    let options: SynthOptions | "help";
    try {
        options = parseArgs(argv);
    } catch (error) {
        if (error instanceof UsageError) {
            context.stderr(`synth: ${error.message}\n${USAGE}\n(npm run synth -- --help for outputs, modes and exit codes)\n`);
            return 64;
        }
        throw error;
    }
    if (options === "help") {
        context.stdout(HELP);
        return 0;
    }
    const projectDir = context.cwd;
    const shownOut = options.out ?? join("out", options.stack);
    const out = resolve(projectDir, shownOut);
    const mode = options.mode ?? "up";
    try {
        // Refuse a bad --out before spending time on the run; writeOutput checks again.
        checkOutputDirectory(out, [projectDir], shownOut);
        const result = await synthesize({ ...options, projectDir });
        await validateObjects(result.objects);
        writeOutput(out, result.files, [projectDir]);
        for (const path of result.placeholders) {
            context.stderr(`synth: ${path} is a secure value; it cannot be decrypted offline, so a placeholder stands in for it\n`);
        }
        context.stdout(renderSummary({ stack: options.stack, mode, out, resourceCount: result.resourceCount, objects: result.objects }));
        return 0;
    } catch (error) {
        if (error instanceof ConfigError) {
            context.stderr(`synth: Pulumi.${options.stack}.yaml: ${error.message}\n`);
            return 2;
        }
        if (error instanceof UserError) {
            context.stderr(`${error.lines("synth: ").join("\n")}\n`);
            return 2;
        }
        throw error;
    }
}

if (require.main === module) {
    cli(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (error) => {
            console.error("synth: internal failure (a bug, not your input):");
            console.error(error);
            process.exit(1);
        },
    );
}

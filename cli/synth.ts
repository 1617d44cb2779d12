/**
 * `npm run synth -- --stack <name> [--out <dir>] [--preview]`
 *
 * Runs the program (the function `pulumi up` runs) under the Pulumi SDK mock runtime with the
 * configuration of `Pulumi.<name>.yaml`, and writes every object it would create:
 *   <out>/manifests/      Kubernetes objects, one directory per namespace and app, kustomize-ready
 *   <out>/resources.json  every Pulumi resource: type, name, parent, options, inputs (secrets masked)
 *   <out>/report.md       requests × replicas per workload and node role, capacity figures
 * A bad configuration exits with status 2 and one line per problem.
 */
import { budgetWarning } from "./cost";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { dirname, join, resolve } from "path";
import { parse } from "yaml";
import { ConfigError, parseStackConfig } from "../components/config";
import { main } from "../stacks";
import { Mode, runProgram } from "./mock-runtime";
import { kubernetesObjects, renderManifests, renderReport, renderResourcesJson } from "./render";
import { readStackFile, StackFile } from "./stack-file";

export interface SynthOptions {
    stack: string;
    /** Output directory; default `out/<stack>`. */
    out?: string;
    mode?: Mode;
    /** Project directory holding Pulumi.yaml and the stack files; default the current directory. */
    projectDir?: string;
}

export interface SynthResult {
    /** Relative path -> content, everything synth writes. */
    files: Map<string, string>;
    resourceCount: number;
    objectCount: number;
    /** Config paths whose secure value was replaced by a placeholder. */
    placeholders: string[];
    /** Things the user should know that do not stop the run (a budget exceeded). */
    warnings: string[];
}

export function projectName(projectDir: string): string {
    const document = parse(readFileSync(join(projectDir, "Pulumi.yaml"), "utf8")) as { name?: string };
    if (typeof document.name !== "string") {
        throw new Error("Pulumi.yaml has no project name");
    }
    return document.name;
}

/** Runs the program for a stack and returns the files synth would write (nothing is written). */
export async function synthesize(options: SynthOptions): Promise<SynthResult> {
    const projectDir = options.projectDir ?? process.cwd();
    const project = projectName(projectDir);
    const stackFile = readStackFile(join(projectDir, `Pulumi.${options.stack}.yaml`), project);
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
    const { config } = parseStackConfig(stackFile.configMap, stackFile.secretKeys);
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
    const overBudget = budgetWarning(config);
    return {
        files,
        resourceCount: run.resources.length,
        objectCount: objects.length,
        placeholders: stackFile.placeholders,
        warnings: overBudget === undefined ? [] : [`stack ${stack} is ${overBudget}`],
    };
}

/** Writes the files of a synth result into `out`, replacing what an earlier run left there. */
export function writeOutput(out: string, files: Map<string, string>): void {
    rmSync(out, { recursive: true, force: true });
    for (const [path, content] of files) {
        const target = join(out, path);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, content);
    }
}

function parseArgs(argv: string[]): SynthOptions {
    const options: Partial<SynthOptions> = {};
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--stack" || arg === "--out") {
            const value = argv[++i];
            if (value === undefined || value.startsWith("--")) {
                throw new UsageError(`${arg} needs a value`);
            }
            options[arg === "--stack" ? "stack" : "out"] = value;
        } else if (arg === "--preview") {
            options.mode = "preview";
        } else if (arg === "--help" || arg === "-h") {
            throw new UsageError("");
        } else {
            throw new UsageError(`unknown argument ${arg}`);
        }
    }
    if (options.stack === undefined) {
        throw new UsageError("--stack is required");
    }
    return options as SynthOptions;
}

class UsageError extends Error {}

const USAGE = "usage: npm run synth -- --stack <name> [--out <dir>] [--preview]";

async function cli(): Promise<number> {
    let options: SynthOptions;
    try {
        options = parseArgs(process.argv.slice(2));
    } catch (error) {
        if (error instanceof UsageError) {
            console.error(error.message === "" ? USAGE : `synth: ${error.message}\n${USAGE}`);
            return error.message === "" ? 0 : 64;
        }
        throw error;
    }
    const out = resolve(options.out ?? join("out", options.stack));
    try {
        const started = process.hrtime.bigint();
        const result = await synthesize(options);
        writeOutput(out, result.files);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        for (const warning of result.warnings) {
            console.warn(`synth: warning: ${warning}`);
        }
        for (const path of result.placeholders) {
            console.warn(`synth: ${path} is a secure value; it cannot be decrypted offline, so a placeholder stands in for it`);
        }
        console.log(
            `synth: stack ${options.stack} (${options.mode ?? "up"}): ${result.resourceCount} resources, ` +
                `${result.objectCount} Kubernetes objects -> ${out} (${ms.toFixed(0)} ms)`,
        );
        return 0;
    } catch (error) {
        if (error instanceof ConfigError) {
            console.error(`synth: Pulumi.${options.stack}.yaml: ${error.message}`);
            return 2;
        }
        if ((error as NodeJS.ErrnoException).code === "ENOENT") {
            console.error(`synth: ${(error as Error).message}`);
            return 2;
        }
        throw error;
    }
}

if (require.main === module) {
    cli().then(
        (code) => process.exit(code),
        (error) => {
            console.error(error);
            process.exit(1);
        },
    );
}

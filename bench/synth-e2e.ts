/**
 * The production synth as a user runs it, against an anchor measured in the same run.
 *
 * - End to end: `npm run synth -- --stack production --out <new dir>` in a fresh process, wall time
 *   from spawn to exit; beside it the same command without npm (`node -r ./cli/register.js
 *   cli/synth.ts ...`), which shows what npm itself adds.
 * - Anchor: bench/cdk8s-anchor.js, a cdk8s 2 process that writes the same Kubernetes objects (read
 *   back from this run's synth output) as ApiObjects of one App, `app.synth()` into a new directory.
 * - Both are run in turn, `repeats` times; the minimum of each is compared (the machine may be busy,
 *   and the minimum is the run least disturbed by it). Target: synth <= 10x the anchor.
 * - Phases of one synth (bench/synth-phases.ts) under each loader set-up, adding one lever at a time,
 *   so each lever's share is measured rather than assumed.
 */
import { spawnSync } from "child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { parseAllDocuments } from "yaml";
import type { SynthPhases } from "./synth-phases";
import { table } from "./table";

const PROJECT_DIR = join(__dirname, "..");
const REGISTER = join(PROJECT_DIR, "cli", "register.js");
/** Production synth within this factor of the anchor. */
export const TARGET_RATIO = 10;

/** Environment changes: a value sets the variable, `undefined` removes it. */
type Env = Record<string, string | undefined>;

interface Timed {
    ms: number;
    stdout: string;
}

/** Runs a command to its end; wall time from spawn to exit. Fails with its output when it fails. */
function timed(command: string, args: string[], env: Env = {}): Timed {
    const merged: NodeJS.ProcessEnv = { ...process.env };
    for (const [name, value] of Object.entries(env)) {
        if (value === undefined) {
            delete merged[name];
        } else {
            merged[name] = value;
        }
    }
    const started = process.hrtime.bigint();
    const result = spawnSync(command, args, {
        cwd: PROJECT_DIR,
        env: merged,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
    });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) {
        throw new Error(`${[command, ...args].join(" ")} exited with ${result.status ?? result.signal}:\n${result.stderr}${result.stdout}`);
    }
    return { ms, stdout: result.stdout };
}

/** `npm run synth`, with the npm that runs this benchmark when there is one. */
function npmRunSynth(out: string): Timed {
    const args = ["run", "synth", "--", "--stack", "production", "--out", out];
    const npm = process.env.npm_execpath;
    return npm !== undefined && npm.endsWith(".js") ? timed(process.execPath, [npm, ...args]) : timed("npm", args);
}

function nodeSynth(out: string): Timed {
    return timed(process.execPath, ["-r", REGISTER, join("cli", "synth.ts"), "--stack", "production", "--out", out]);
}

/** Every Kubernetes object of a synth output: the YAML documents under it, less kustomize's own files. */
export function objectsOfOutput(dir: string): unknown[] {
    const objects: unknown[] = [];
    for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true }).sort((a, b) =>
        join(a.parentPath, a.name) < join(b.parentPath, b.name) ? -1 : 1,
    )) {
        if (!entry.isFile() || !/\.ya?ml$/.test(entry.name)) {
            continue;
        }
        for (const document of parseAllDocuments(readFileSync(join(entry.parentPath, entry.name), "utf8"))) {
            const object = document.toJS() as { apiVersion?: string; kind?: string } | null;
            if (object !== null && typeof object.kind === "string" && !object.apiVersion?.startsWith("kustomize.config.k8s.io/")) {
                objects.push(object);
            }
        }
    }
    return objects;
}

const min = (values: number[]) => Math.min(...values);
function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
const ms = (value: number) => value.toFixed(0);

/** One loader set-up of the phases table: what it adds, and how the worker is started. */
interface Setup {
    name: string;
    execArgv: string[];
    env: Env;
}

/**
 * Each lever's switch, set to turn it off: Node's compile cache, the transpile cache and the deferred
 * SDK dependencies (cli/register.js), and the SDK's own variable with which debuggablePromise keeps
 * its stack traces (cli/mock-runtime.ts).
 */
const LEVERS_OFF = {
    NODE_DISABLE_COMPILE_CACHE: "1",
    BFF_TS_CACHE: "0",
    BFF_DEFER_SDK_DEPS: "0",
    PULUMI_DEBUG_PROMISE_LEAKS: "1",
};
type Lever = keyof typeof LEVERS_OFF;

/** The environment with the first `count` levers (in the order of LEVERS_OFF) on, the others off. */
function leversOn(count: number): Env {
    return Object.fromEntries(
        (Object.keys(LEVERS_OFF) as Lever[]).map((name, index) => [name, index < count ? undefined : LEVERS_OFF[name]]),
    );
}

const SETUPS: Setup[] = [
    { name: "ts-node transpile-only (before)", execArgv: ["-r", "ts-node/register/transpile-only"], env: leversOn(0) },
    { name: "sucrase instead of ts-node", execArgv: ["-r", REGISTER], env: leversOn(0) },
    { name: "+ Node compile cache", execArgv: ["-r", REGISTER], env: leversOn(1) },
    { name: "+ transpile cache", execArgv: ["-r", REGISTER], env: leversOn(2) },
    { name: "+ SDK closure deps on first use", execArgv: ["-r", REGISTER], env: leversOn(3) },
    { name: "+ no per-promise stack traces (now)", execArgv: ["-r", REGISTER], env: leversOn(4) },
];

function phasesOf(setup: Setup, out: string): SynthPhases {
    const { stdout } = timed(process.execPath, [...setup.execArgv, join("bench", "synth-phases.ts"), out], setup.env);
    return JSON.parse(stdout.trim().split("\n").pop() as string) as SynthPhases;
}

/** Prints the comparison; returns whether the target was met. */
export function benchProductionSynth(repeats: number): boolean {
    const work = mkdtempSync(join(tmpdir(), "bff-bench-"));
    let run = 0;
    const fresh = () => join(work, `out-${run++}`);
    try {
        // A first run fills the transpile and compile caches, as a user's first synth does; it is
        // reported, not compared.
        const first = npmRunSynth(fresh());
        const objects = objectsOfOutput(join(work, "out-0"));
        const objectsFile = join(work, "objects.json");
        writeFileSync(objectsFile, JSON.stringify(objects));
        const cdk8sVersion = (require("cdk8s/package.json") as { version: string }).version;

        const npmMs: number[] = [];
        const nodeMs: number[] = [];
        const anchorMs: number[] = [];
        for (let i = 0; i < repeats; i++) {
            npmMs.push(npmRunSynth(fresh()).ms);
            nodeMs.push(nodeSynth(fresh()).ms);
            anchorMs.push(timed(process.execPath, [join("bench", "cdk8s-anchor.js"), objectsFile, fresh()]).ms);
        }
        const ratio = min(npmMs) / min(anchorMs);
        console.log(`bench: production synth end to end vs a cdk8s ${cdk8sVersion} process writing the same ${objects.length} objects`);
        console.log(`bench: fresh processes, in turn, ${repeats} times each; min (median) wall ms\n`);
        console.log(
            table(
                ["process", "min ms", "median ms"],
                [
                    ["npm run synth -- --stack production", ms(min(npmMs)), ms(median(npmMs))],
                    ["node -r ./cli/register.js cli/synth.ts --stack production", ms(min(nodeMs)), ms(median(nodeMs))],
                    [`anchor: cdk8s ${cdk8sVersion}, ${objects.length} ApiObjects, app.synth()`, ms(min(anchorMs)), ms(median(anchorMs))],
                ],
            ),
        );
        console.log(`\n(first npm run synth of this benchmark, filling the caches: ${ms(first.ms)} ms)`);
        const met = ratio <= TARGET_RATIO;
        console.log(
            `target: npm run synth within ${TARGET_RATIO}x the anchor: ${ms(min(npmMs))} / ${ms(min(anchorMs))} = ` +
                `${ratio.toFixed(1)}x -> ${met ? "met" : "NOT met"}\n`,
        );

        const phaseRepeats = Math.min(repeats, 3);
        console.log(`phases of one production synth in one process (min of ${phaseRepeats} each; levers added one at a time):\n`);
        const rows = SETUPS.map((setup) => {
            const runs = Array.from({ length: phaseRepeats }, () => phasesOf(setup, fresh()));
            const best = (pick: (p: SynthPhases) => number) => ms(min(runs.map(pick)));
            const total = (p: SynthPhases) => p.loaderMs + p.pulumiMs + p.programModulesMs + p.synthesizeMs + p.writeMs;
            return [
                setup.name,
                best((p) => p.loaderMs),
                best((p) => p.pulumiMs),
                best((p) => p.programModulesMs),
                best((p) => p.synthesizeMs),
                best((p) => p.writeMs),
                best(total),
            ];
        });
        console.log(table(["loader set-up", "node + loader", "@pulumi/pulumi", "program modules", "synthesize", "write", "total"], rows));
        console.log(
            "\nnode + loader: node's start and the TypeScript loader; @pulumi/pulumi: require of the SDK; program modules: " +
                "the program, synth and the provider SDKs they import; synthesize: validation, the program under mocks, rendering.",
        );
        return met;
    } finally {
        rmSync(work, { recursive: true, force: true });
    }
}

/**
 * One size of `npm run bench`, run in a fresh process so that its peak memory is its own:
 *   node -r ./cli/register.js bench/synth-worker.ts <services> [--repeats <n>]
 *
 * Generates a stack of <services> services from Pulumi.production.yaml, validates it, loads the
 * program, warms up with a small stack, then times `synthesizeStackFile` alone <n> times (default
 * 3). The result goes to the parent over IPC when forked by bench/index.ts, else to stdout as JSON.
 */
import { join } from "path";
import type { StackFile } from "../cli/stack-file";

export const PROJECT = "bff-platform";
const SERVICES_KEY = `${PROJECT}:services`;
/** Services of the warm-up run: enough to run every code path, small enough to be quick. */
const WARMUP_SERVICES = 10;

export interface WorkerResult {
    services: number;
    /** Time to require the program, the SDKs and synth (after the TypeScript loader, cli/register.js). */
    moduleLoadMs: number;
    warmupMs: number;
    runsMs: number[];
    medianMs: number;
    resources: number;
    objects: number;
    files: number;
    /** Peak resident set size of this process (process.resourceUsage().maxRSS), in MiB. */
    peakRssMiB: number;
}

interface RawService {
    name: string;
    routes?: { host: string; pathPrefix: string }[];
    [key: string]: unknown;
}

/** `svc-0042`: DNS label, zero-padded to at least 4 digits so names sort in order. */
export function serviceName(index: number, count: number): string {
    return `svc-${String(index).padStart(Math.max(4, String(count - 1).length), "0")}`;
}

/**
 * The production stack file with `bff-platform:services` replaced by `count` services cloned in
 * turn from the production ones: unique names, and each route of the template kept on its host
 * (pc and/or sp) with the path prefix `/<name>`. Every other key is kept as it is.
 */
export function generateStackFile(base: StackFile, count: number): StackFile {
    const raw = base.configMap[SERVICES_KEY];
    if (raw === undefined) {
        throw new Error(`the base stack file has no ${SERVICES_KEY}`);
    }
    const parsed = JSON.parse(raw) as RawService[];
    if (!Array.isArray(parsed) || parsed.length === 0) {
        throw new Error(`${SERVICES_KEY} of the base stack file is not a non-empty list`);
    }
    // Clones stand alone: inherited settings are resolved, and references to other services
    // (previews, mirrors) dropped, since the services they name are renamed. Loaded here, not at the
    // top, so that module loading is timed where runWorker measures it.
    const { resolveServiceExtends } = require("../components/config") as typeof import("../components/config");
    const templates = (
        resolveServiceExtends(parsed, (path, message) => {
            throw new Error(`${SERVICES_KEY}: ${path.join(".")}: ${message}`);
        }) as RawService[]
    ).map(({ extends: _base, previews: _previews, mirror: _mirror, ...rest }) => rest as RawService);
    const services: RawService[] = [];
    for (let i = 0; i < count; i++) {
        const template = templates[i % templates.length];
        const name = serviceName(i, count);
        const clone = JSON.parse(JSON.stringify(template)) as RawService;
        clone.name = name;
        clone.routes = (template.routes ?? []).map((route) => ({ host: route.host, pathPrefix: `/${name}` }));
        services.push(clone);
    }
    return {
        configMap: { ...base.configMap, [SERVICES_KEY]: JSON.stringify(services) },
        secretKeys: [...base.secretKeys],
        placeholders: [...base.placeholders],
    };
}

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function collectGarbage(): void {
    (globalThis as { gc?: () => void }).gc?.();
}

function elapsedMs(started: bigint): number {
    return Number(process.hrtime.bigint() - started) / 1e6;
}

export async function runWorker(services: number, repeats: number): Promise<WorkerResult> {
    const loadStarted = process.hrtime.bigint();
    const { readStackFile } = await import("../cli/stack-file");
    const { parseStackConfig } = await import("../components/config");
    const { synthesizeStackFile } = await import("../cli/synth");
    const moduleLoadMs = elapsedMs(loadStarted);

    const projectDir = join(__dirname, "..");
    const base = readStackFile(join(projectDir, "Pulumi.production.yaml"), PROJECT);
    const stackFile = generateStackFile(base, services);
    // Fails with a ConfigError listing every problem if the generator ever produces a bad stack.
    parseStackConfig(stackFile.configMap, "production", { secretKeys: stackFile.secretKeys });
    const synth = (file: StackFile) => synthesizeStackFile({ project: PROJECT, stack: "production", stackFile: file });

    const warmupStarted = process.hrtime.bigint();
    await synth(generateStackFile(base, Math.min(WARMUP_SERVICES, services)));
    const warmupMs = elapsedMs(warmupStarted);

    const runsMs: number[] = [];
    let last: Awaited<ReturnType<typeof synth>> | undefined;
    for (let i = 0; i < repeats; i++) {
        last = undefined;
        collectGarbage();
        const started = process.hrtime.bigint();
        last = await synth(stackFile);
        runsMs.push(elapsedMs(started));
    }
    if (last === undefined) {
        throw new Error("no timed run");
    }
    return {
        services,
        moduleLoadMs,
        warmupMs,
        runsMs,
        medianMs: median(runsMs),
        resources: last.resourceCount,
        objects: last.objectCount,
        files: last.files.size,
        peakRssMiB: process.resourceUsage().maxRSS / 1024,
    };
}

function parseWorkerArgs(argv: string[]): { services: number; repeats: number } {
    let services: number | undefined;
    let repeats = 3;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--repeats") {
            repeats = Number(argv[++i]);
        } else if (services === undefined) {
            services = Number(arg);
        } else {
            throw new Error(`unknown argument ${arg}`);
        }
    }
    if (services === undefined || !Number.isInteger(services) || services < 1) {
        throw new Error("usage: bench-worker.ts <services (a positive integer)> [--repeats <n>]");
    }
    if (!Number.isInteger(repeats) || repeats < 1) {
        throw new Error("--repeats must be a positive integer");
    }
    return { services, repeats };
}

if (require.main === module) {
    (async () => {
        const { services, repeats } = parseWorkerArgs(process.argv.slice(2));
        const result = await runWorker(services, repeats);
        if (process.send !== undefined) {
            await new Promise<void>((resolve, reject) =>
                process.send!(result, undefined, {}, (error) => (error ? reject(error) : resolve())),
            );
        } else {
            console.log(JSON.stringify(result));
        }
    })().then(
        () => process.exit(0),
        (error) => {
            console.error(`bench-worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
            process.exit(1);
        },
    );
}

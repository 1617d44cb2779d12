/**
 * One production synth in this process, timed phase by phase (`npm run bench` runs it in a fresh
 * process under each loader set-up it compares):
 *   node -r ./cli/register.js bench/synth-phases.ts <out dir>
 * Prints one JSON line: milliseconds since the process started (performance.now(), whose origin is
 * the process start) at the end of each phase.
 */
const startedMs = performance.now();

export interface SynthPhases {
    /** Node's start, the TypeScript loader and this file (before its first statement). */
    loaderMs: number;
    /** `require("@pulumi/pulumi")`. */
    pulumiMs: number;
    /** The program's modules and the provider SDKs they import (cli/synth and all it loads). */
    programModulesMs: number;
    /** Validation, the program under the mock runtime, rendering: `synthesize`. */
    synthesizeMs: number;
    /** Writing the files. */
    writeMs: number;
    objects: number;
}

async function main(out: string): Promise<SynthPhases> {
    require("@pulumi/pulumi");
    const pulumiLoaded = performance.now();
    const { synthesize, writeOutput } = require("../cli/synth") as typeof import("../cli/synth");
    const modulesLoaded = performance.now();
    const result = await synthesize({ stack: "production", projectDir: require("path").join(__dirname, "..") });
    const synthesized = performance.now();
    writeOutput(out, result.files);
    const written = performance.now();
    return {
        loaderMs: startedMs,
        pulumiMs: pulumiLoaded - startedMs,
        programModulesMs: modulesLoaded - pulumiLoaded,
        synthesizeMs: synthesized - modulesLoaded,
        writeMs: written - synthesized,
        objects: result.objectCount,
    };
}

if (require.main === module) {
    const out = process.argv[2];
    if (out === undefined) {
        console.error("usage: bench/synth-phases.ts <out dir>");
        process.exit(64);
    }
    main(out).then(
        (phases) => {
            console.log(JSON.stringify(phases));
            process.exit(0);
        },
        (error) => {
            console.error(error);
            process.exit(1);
        },
    );
}

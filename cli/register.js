// How the repository's own commands load TypeScript: `node -r ./cli/register.js <file>.ts` (synth,
// bench, mocha). `pulumi up` does not use this file: Pulumi's nodejs runtime runs index.ts with its
// own ts-node, as it always has.
//
// Four levers, each measured by `npm run bench` (its phases table adds them one at a time, with
// the switches NODE_DISABLE_COMPILE_CACHE=1, BFF_TS_CACHE=0 and BFF_DEFER_SDK_DEPS=0):
// 1. TypeScript is transpiled by sucrase instead of ts-node: type-only syntax removed and imports
//    turned into CommonJS requires, line numbers kept (stack traces point at the .ts lines without
//    source maps). Neither type-checks; `npm test` runs tsc for that.
// 2. Node's module compile cache (Node >= 22.1): the V8 code cache of every module compiled, kept
//    on disk (`<os tmpdir>/node-compile-cache`, or $NODE_COMPILE_CACHE) and reused while the
//    module's content is unchanged. https://nodejs.org/api/module.html#module-compile-cache
// 3. A transpile cache (below): an unchanged .ts file is not transpiled again.
// 4. Two dependencies of @pulumi/pulumi that only its closure serialization uses (serializing
//    functions and computing code paths for cloud functions, which this program never does) load on
//    first use instead of at `require("@pulumi/pulumi")`: typescript and @npmcli/arborist, ~0.2 s
//    of CPU (@pulumi/pulumi runtime/closure/codePaths.js and typescript-shim.js require them).
"use strict";
const Module = require("module");
const { createHash } = require("crypto");
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require("fs");
const { dirname, join } = require("path");

Module.enableCompileCache?.();

/**
 * Puts a stand-in for `request` (as `fromFile` resolves it) in the module cache: the real module is
 * loaded on the first property read. The stand-in says it is an ES module, so that TypeScript's
 * import helpers (`__importStar`, `__importDefault`) hand it back as is instead of copying every
 * property (which would load the module at once); `default` gives the module itself, as those
 * helpers would have.
 */
function loadOnFirstUse(request, fromFile) {
    let filename;
    try {
        filename = require.resolve(request, { paths: [dirname(fromFile)] });
    } catch {
        return;
    }
    if (require.cache[filename] !== undefined) {
        return;
    }
    let real;
    const load = () => {
        if (real === undefined) {
            delete require.cache[filename];
            real = require(filename);
        }
        return real;
    };
    const stub = new Module(filename);
    stub.filename = filename;
    stub.loaded = true;
    stub.exports = new Proxy(
        {},
        {
            get(_, key) {
                if (key === "__esModule") {
                    return true;
                }
                const target = load();
                return key === "default" && !(target && target.__esModule) ? target : target[key];
            },
            has: (_, key) => key in load(),
            ownKeys: () => Reflect.ownKeys(load()),
            getOwnPropertyDescriptor: (_, key) => {
                const descriptor = Reflect.getOwnPropertyDescriptor(load(), key);
                return descriptor === undefined ? undefined : { ...descriptor, configurable: true };
            },
        },
    );
    require.cache[filename] = stub;
}

try {
    const sdk = process.env.BFF_DEFER_SDK_DEPS === "0" ? undefined : require.resolve("@pulumi/pulumi/package.json");
    if (sdk !== undefined) {
        loadOnFirstUse("typescript", sdk);
        loadOnFirstUse("@npmcli/arborist", sdk);
    }
} catch {
    // No SDK here: nothing to defer.
}

/**
 * Transpiled files are kept in node_modules/.cache/bff-platform-ts/, named by a hash of the sucrase
 * version, its options and the file's path and content: an edited file gets a new entry, and an
 * unchanged one skips sucrase entirely (it is not even loaded). Entries are written to a temporary
 * name and renamed, so parallel processes (mocha's workers) never read a partial file. Without a
 * writable cache directory, files are transpiled every time. Old entries are left in place (a few
 * KB per edit); removing the directory clears them.
 */
const TRANSFORMS = ["typescript", "imports"];
const CACHE_DIR = join(__dirname, "..", "node_modules", ".cache", "bff-platform-ts");
let sucrase;
let cacheSalt;

function transpile(source, filename) {
    sucrase ??= require("sucrase");
    return sucrase.transform(source, { transforms: TRANSFORMS, filePath: filename }).code;
}

function cached(source, filename) {
    cacheSalt ??= JSON.stringify([require("sucrase/package.json").version, TRANSFORMS]);
    const key = createHash("sha256").update(cacheSalt).update("\0").update(filename).update("\0").update(source).digest("hex");
    const entry = join(CACHE_DIR, `${key}.js`);
    try {
        return readFileSync(entry, "utf8");
    } catch {
        // Not cached yet.
    }
    const code = transpile(source, filename);
    try {
        mkdirSync(CACHE_DIR, { recursive: true });
        const temporary = `${entry}.${process.pid}.tmp`;
        writeFileSync(temporary, code);
        renameSync(temporary, entry);
    } catch {
        // A read-only or missing node_modules: run without the cache.
    }
    return code;
}

Module._extensions[".ts"] = function compileTypeScript(module, filename) {
    const source = readFileSync(filename, "utf8");
    module._compile(process.env.BFF_TS_CACHE === "0" ? transpile(source, filename) : cached(source, filename), filename);
};

// `npm run mutate [-- <scope> ...]`: StrykerJS over components/, one scope per run. A scope is a
// folder (`shared`), one file (`shared/quantity.ts`) or several joined with commas (one run, one
// dry run); default: every folder, one after the other.
// Each scope has its own incremental file under reports/mutation/<scope>/, so a rerun only tests
// the mutants of changed code or changed tests. Runs at low priority (stryker.config.mjs), then
// prints the score per folder over every report found.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(import.meta.dirname, "..", "..");
const components = join(root, "components");
const allFolders = readdirSync(components, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
const args = process.argv.slice(2);
const summaryOnly = args.includes("--summary");
const scopes = args.filter((arg) => arg !== "--summary");
for (const scope of scopes.flatMap((s) => s.split(","))) {
    if (!existsSync(join(components, scope)) || !allFolders.includes(scope.split("/")[0])) {
        console.error(`mutate: "${scope}" is neither a folder nor a file of components/ (folders: ${allFolders.join(", ")})`);
        process.exit(2);
    }
}

let failed = false;
if (!summaryOnly) {
    for (const scope of scopes.length > 0 ? scopes : allFolders) {
        console.log(`== mutate components/${scope}`);
        const result = spawnSync("nice", ["-n", "10", join(root, "node_modules", ".bin", "stryker"), "run", "stryker.config.mjs"], {
            cwd: root,
            stdio: "inherit",
            env: {
                ...process.env,
                STRYKER_SCOPE: scope,
                NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --require ${join(import.meta.dirname, "mocha12-cli.cjs")}`.trim(),
            },
        });
        failed ||= result.status !== 0;
    }
}

/** How much newer than mutation.json an incremental file is when its run was interrupted (both are written at a run's end). */
const PARTIAL_AFTER_MS = 60_000;

/**
 * The result of every scope under reports/mutation/, newest last: its mutation.json, or its
 * incremental file when that holds a run that was interrupted. A complete run writes both files
 * at its end; an interrupted one rewrites only the incremental file, with the mutants tested so
 * far (core MutationTestReportHelper: "Saved a partial incremental report ... after an unexpected
 * interrupt"), and a rerun of the scope continues from it.
 */
function reports(dir) {
    if (!existsSync(dir)) {
        return [];
    }
    const found = readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? reports(join(dir, entry.name)) : []));
    const complete = join(dir, "mutation.json");
    const incremental = join(dir, "stryker-incremental.json");
    const mtime = (file) => (existsSync(file) ? statSync(file).mtimeMs : -Infinity);
    if (existsSync(incremental) && mtime(incremental) - mtime(complete) > PARTIAL_AFTER_MS) {
        found.push({ file: incremental, partial: true });
    } else if (existsSync(complete)) {
        found.push({ file: complete, partial: false });
    }
    return found.sort((a, b) => mtime(a.file) - mtime(b.file));
}

// The newest result of every mutated file, whichever scope measured it.
const files = new Map();
const partialFiles = new Set();
for (const { file, partial } of reports(join(root, "reports", "mutation"))) {
    for (const [path, entry] of Object.entries(JSON.parse(readFileSync(file, "utf8")).files)) {
        const key = relative(root, join(root, path));
        files.set(key, entry.mutants);
        if (partial) {
            partialFiles.add(key);
        } else {
            partialFiles.delete(key);
        }
    }
}

// Stryker's definition (https://stryker-mutator.io/docs/mutation-testing-elements/mutant-states-and-metrics/):
// score = detected / valid, detected = killed + timeout, valid = detected + survived + no coverage.
// Ignored and compile errors are outside the score. Ignored mutants are either static (unless
// STRYKER_STATIC=1) or judged equivalent in the code, with a `// Stryker disable next-line
// <mutator>: <reason>` comment (https://stryker-mutator.io/docs/stryker-js/disable-mutants/).
const STATIC_REASON = /^Static mutant/;

/** Whether a module's code is nothing but `export ... from` lines (comments aside). */
function onlyReexports(source) {
    return source
        .replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "")
        .split(/[;\n]/)
        .map((statement) => statement.trim())
        .filter((statement) => statement !== "")
        .every((statement) => /^export (\*|\{[^}]*\})( as \w+)? from ["'][^"']+["']$/.test(statement));
}
const rows = [];
const listed = { Survived: [], NoCoverage: [], equivalent: [] };
for (const folder of allFolders) {
    const measured = [...files.keys()].filter((path) => path.startsWith(`components/${folder}/`));
    if (measured.length === 0) {
        continue;
    }
    // Files that only re-export (index.ts, shared/aws.ts) have nothing to mutate, so no report.
    const total = readdirSync(join(components, folder)).filter(
        (name) => name.endsWith(".ts") && !onlyReexports(readFileSync(join(components, folder, name), "utf8")),
    ).length;
    const counts = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, equivalent: 0, static: 0, CompileError: 0 };
    for (const path of measured) {
        for (const mutant of files.get(path)) {
            const where = `${path}:${mutant.location.start.line} ${mutant.mutatorName}`;
            if (mutant.status === "Ignored") {
                const kind = STATIC_REASON.test(mutant.statusReason ?? "") ? "static" : "equivalent";
                counts[kind] += 1;
                if (kind === "equivalent") {
                    listed.equivalent.push(`${where}: ${mutant.statusReason}`);
                }
                continue;
            }
            counts[mutant.status] = (counts[mutant.status] ?? 0) + 1;
            if (mutant.status in listed) {
                listed[mutant.status].push(`${where}: ${String(mutant.replacement).replace(/\s+/g, " ").slice(0, 80)}`);
            }
        }
    }
    const detected = counts.Killed + counts.Timeout;
    const valid = detected + counts.Survived + counts.NoCoverage;
    const score = valid === 0 ? "-" : `${((100 * detected) / valid).toFixed(1)}%`;
    const partial = measured.filter((path) => partialFiles.has(path)).length;
    rows.push([
        folder,
        `${measured.length}/${total}${partial > 0 ? ` (${partial} from an interrupted run)` : ""}`,
        score,
        detected,
        counts.Survived,
        counts.NoCoverage,
        counts.equivalent,
        counts.static,
        counts.CompileError,
    ]);
}
const header = ["folder", "files", "score", "killed", "survived", "no coverage", "equivalent", "static", "compile errors"];
const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => String(row[i]).length)));
const line = (cells) => cells.map((cell, i) => String(cell).padEnd(widths[i])).join("  ");
console.log(`\nmutation score per folder (newest result of each file under reports/mutation/)\n${line(header)}`);
for (const row of rows) {
    console.log(line(row));
}
for (const [title, entries] of [
    ["judged equivalent (disabled in the code, with the reason)", listed.equivalent],
    ["survived", listed.Survived],
    ["not covered by any test", listed.NoCoverage],
]) {
    if (entries.length > 0) {
        console.log(`\n${title}:\n${entries.map((entry) => `  ${entry}`).join("\n")}`);
    }
}
process.exit(failed ? 1 : 0);

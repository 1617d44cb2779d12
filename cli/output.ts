/**
 * Where synth writes. It replaces its output directory as a whole (so that a removed object does
 * not linger as a stale file), which is only safe for a directory synth itself wrote: each output
 * holds a marker file, and an existing `--out` without it is refused, whatever it holds. The new
 * output is written into a temporary sibling directory and swapped in with renames, so a run that
 * fails (or is killed) leaves the previous output whole.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "fs";
import { randomBytes } from "crypto";
import { basename, dirname, join, relative, resolve, sep } from "path";
import { UserError } from "./user-error";

/** The marker file in every synth output directory. */
export const MARKER_FILE = ".bff-synth";

/** The marker's first line: what makes a directory an earlier synth output. */
export const MARKER_LINE = "bff-platform synth output";

const MARKER_TEXT =
    `${MARKER_LINE}\n` +
    "This directory was written by `npm run synth`; the next run into it replaces it as a whole.\n" +
    "Without this file, synth refuses to write here.\n";

/** Whether `dir` is `other` or one of its parents. */
function contains(dir: string, other: string): boolean {
    const path = relative(dir, other);
    return path === "" || (!path.startsWith(`..${sep}`) && path !== ".." && !path.startsWith(sep));
}

/** What synth wrote before it wrote a marker: exactly these entries at the top of its directory. */
const UNMARKED_OUTPUT = ["manifests", "report.md", "resources.json"];

/**
 * An output of a synth from before the marker: nothing at the top but `manifests/`, `report.md`
 * and `resources.json`, so that `out/<stack>` of an existing checkout is still replaced.
 */
function isUnmarkedSynthOutput(dir: string): boolean {
    return readdirSync(dir).sort().join("\n") === UNMARKED_OUTPUT.join("\n") && lstatSync(join(dir, "manifests")).isDirectory();
}

/**
 * Refuses an output directory synth must not replace: one that holds `keep` (the project, the
 * working directory), a non-directory, a symbolic link, or an existing directory without the marker.
 */
export function checkOutputDirectory(out: string, keep: string[], shownAs = out): void {
    const target = resolve(out);
    const refuse = (why: string) => new UserError([`refusing --out ${shownAs}: ${why}`]);
    for (const dir of keep.map((d) => resolve(d))) {
        if (contains(target, dir)) {
            throw refuse(`it contains ${dir}, and synth replaces its output directory as a whole`);
        }
    }
    if (!existsSync(target)) {
        return;
    }
    const stat = lstatSync(target);
    if (stat.isSymbolicLink()) {
        throw refuse("it is a symbolic link; give the directory it points to");
    }
    if (!stat.isDirectory()) {
        throw refuse("it exists and is not a directory");
    }
    const marker = join(target, MARKER_FILE);
    const firstLine = existsSync(marker) ? readFileSync(marker, "utf8").split("\n")[0] : undefined;
    if (firstLine !== MARKER_LINE && !isUnmarkedSynthOutput(target)) {
        throw refuse(
            `it exists and is not an earlier synth output (no ${MARKER_FILE} marker); synth replaces its output directory ` +
                "as a whole, so give a new directory or one synth wrote",
        );
    }
}

/** Whether a process with this id runs (signal 0 only checks; EPERM means it exists). */
function isRunning(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}

/** Removes what a killed synth left beside `target`: its own staging names, of processes gone. */
function removeLeftovers(target: string): void {
    const own = new RegExp(`^\\.${basename(target).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.synth-(?:new|old)-(\\d+)-[0-9a-f]{8}$`);
    for (const name of readdirSync(dirname(target))) {
        const pid = own.exec(name)?.[1];
        if (pid !== undefined && !isRunning(Number(pid))) {
            rmSync(join(dirname(target), name), { recursive: true, force: true });
        }
    }
}

/**
 * Writes `files` (relative path -> content) and the marker into `out`, replacing an earlier synth
 * output there: the files go into a temporary sibling first, which is then renamed into place.
 */
export function writeOutput(out: string, files: Map<string, string>, keep: string[] = [process.cwd()]): void {
    checkOutputDirectory(out, keep);
    const target = resolve(out);
    const parent = dirname(target);
    mkdirSync(parent, { recursive: true });
    removeLeftovers(target);
    // mkdtemp would create the directory with mode 0700; this one gets the usual mode (umask applies).
    const staging = join(parent, `.${basename(target)}.synth-new-${process.pid}-${randomBytes(4).toString("hex")}`);
    mkdirSync(staging);
    try {
        for (const [path, content] of files) {
            const file = join(staging, path);
            mkdirSync(dirname(file), { recursive: true });
            writeFileSync(file, content);
        }
        writeFileSync(join(staging, MARKER_FILE), MARKER_TEXT);
    } catch (error) {
        rmSync(staging, { recursive: true, force: true });
        throw error;
    }
    const previous = existsSync(target) ? `${staging.replace(/synth-new-/, "synth-old-")}` : undefined;
    if (previous !== undefined) {
        renameSync(target, previous);
    }
    try {
        renameSync(staging, target);
    } catch (error) {
        if (previous !== undefined) {
            renameSync(previous, target);
        }
        rmSync(staging, { recursive: true, force: true });
        throw error;
    }
    if (previous !== undefined) {
        rmSync(previous, { recursive: true, force: true });
    }
}

/**
 * Reads `Pulumi.<stack>.yaml` into the flat config map the Pulumi engine hands a program
 * (`{"bff-platform:services": "<json>"}`), exactly as `pulumi up` would, minus decryption:
 * `secure:` values cannot be decrypted without the stack's secrets provider, so they become a
 * placeholder and are listed so that synth can say which ones.
 *
 * The Pulumi CLI reads stack files with gopkg.in/yaml.v3 (pulumi/pulumi
 * `sdk/go/common/encoding/marshal.go`, `yamlMarshaler.Unmarshal`, called by
 * `workspace.LoadProjectStackBytes`), which resolves YAML merge keys (`<<: *defaults`, or a list of
 * aliases): keys written in the mapping win over merged ones, and among several merged mappings the
 * first wins (go-yaml v3.0.1 `decode.go`, `merge`). The `yaml` package's `merge` option implements
 * the same rule, so merge keys are accepted here too. yaml.v3 also refuses duplicate keys, as this
 * reader does.
 */
import { readdirSync, readFileSync } from "fs";
import { basename } from "path";
import { parseDocument, ScalarTag } from "yaml";
import { UserError } from "./user-error";

/** What a secure value reads as offline. Never a real secret, and obvious in any output. */
export const SECRET_PLACEHOLDER = "offline-placeholder-for-secret";

/** Top-level keys of a stack file (pulumi/pulumi `sdk/go/common/workspace/project.go`, `ProjectStack`). */
const STACK_FILE_KEYS = ["config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"];

/**
 * A stack file that cannot be read: missing, not YAML, or not shaped like a stack file. `problems`
 * holds one line per mistake, each starting with the file name (and `:line:column` where known).
 */
export class StackFileError extends UserError {
    constructor(problems: string[]) {
        super(problems);
        this.name = "StackFileError";
    }
}

export interface StackFile {
    /** Namespaced key -> value, objects as JSON (the engine's wire format). */
    configMap: Record<string, string>;
    /** Namespaced keys holding at least one secure value. */
    secretKeys: string[];
    /** Paths (`key` or `key.a[0].b`) whose secure value was replaced by the placeholder. */
    placeholders: string[];
}

function isSecure(value: unknown): value is { secure: string } {
    return (
        value !== null &&
        typeof value === "object" &&
        !Array.isArray(value) &&
        Object.keys(value).length === 1 &&
        typeof (value as { secure?: unknown }).secure === "string"
    );
}

/** Replaces nested `{secure: ...}` values with the placeholder, recording their paths. */
function replaceSecure(value: unknown, path: string, found: string[]): unknown {
    if (isSecure(value)) {
        found.push(path);
        return SECRET_PLACEHOLDER;
    }
    if (Array.isArray(value)) {
        return value.map((item, i) => replaceSecure(item, `${path}[${i}]`, found));
    }
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(
            Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, replaceSecure(v, `${path}.${k}`, found)]),
        );
    }
    return value;
}

function isMapping(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Integers as yaml.v3 reads them where YAML 1.2's core schema differs: it drops `_` and parses with
 * Go's `strconv.ParseInt(plain, 0, 64)`, so `0755` is octal 493 and `1_000` is 1000 (go-yaml
 * v3.0.1 `resolve.go`, "Octals from the 1.1 spec, spelled as 0777, are still decoded by default in
 * v3"). Checked before the core schema's tags.
 */
const GO_YAML_INTS: ScalarTag[] = [
    {
        tag: "tag:yaml.org,2002:int",
        default: true,
        test: /^[-+]?0[0-7_]*[0-7][0-7_]*$/,
        resolve: (text: string) => (text.startsWith("-") ? -1 : 1) * parseInt(text.replace(/^[-+]/, "").replace(/_/g, ""), 8),
    },
    {
        tag: "tag:yaml.org,2002:int",
        default: true,
        test: /^[-+]?[0-9][0-9_]*_[0-9_]*$/,
        resolve: (text: string) => Number(text.replace(/_/g, "")),
    },
];

/** The YAML document of a stack file as plain data; syntax errors as `file:line:column: message`. */
function readYaml(text: string, fileName: string): unknown {
    const document = parseDocument(text, {
        merge: true,
        uniqueKeys: true,
        prettyErrors: true,
        customTags: (tags) => [...GO_YAML_INTS, ...tags],
    });
    if (document.errors.length > 0) {
        // The first error only: the parser's later errors mostly follow from it (a tab on one line
        // makes every later line look misindented).
        const [error] = document.errors;
        const at = error.linePos?.[0];
        // The message's first line, without the " at line L, column C:" the position already says.
        const message = error.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
        const more = document.errors.length - 1;
        throw new StackFileError([
            `${fileName}${at === undefined ? "" : `:${at.line}:${at.col}`}: YAML syntax error: ${message}` +
                (more === 0 ? "" : ` (and ${more} more error${more === 1 ? "" : "s"} after it, which may follow from this one)`),
        ]);
    }
    try {
        return document.toJS({ maxAliasCount: 1000 });
    } catch (error) {
        // toJS fails on a merge key whose value is not a mapping (or list of mappings), which yaml.v3
        // refuses too ("map merge requires map or sequence of maps as the value").
        throw new StackFileError([`${fileName}: ${(error as Error).message} (a "<<" merge key takes a mapping or a list of mappings)`]);
    }
}

/** Parses the text of a stack file; `project` qualifies keys written without a namespace. */
export function parseStackFile(text: string, project: string, fileName = "stack file"): StackFile {
    const document = readYaml(text, fileName);
    if (!isMapping(document)) {
        const got = document === null || document === undefined ? "an empty document" : Array.isArray(document) ? "a list" : "a scalar";
        throw new StackFileError([`${fileName}: a stack file is a mapping with a "config:" key, got ${got}`]);
    }
    const problems = Object.keys(document)
        .filter((key) => !STACK_FILE_KEYS.includes(key))
        .map((key) => `${fileName}: unknown top-level key "${key}" (a stack file has: ${STACK_FILE_KEYS.join(", ")})`);
    if (document.environment !== undefined) {
        problems.push(`${fileName}: "environment" imports Pulumi ESC environments, which synth cannot open offline`);
    }
    if (document.config === undefined || document.config === null) {
        problems.push(`${fileName}: no "config:" mapping: the stack's settings go under "config:" (see Pulumi.dev.yaml)`);
    } else if (!isMapping(document.config)) {
        problems.push(
            `${fileName}: "config" must be a mapping of keys to values, got ${Array.isArray(document.config) ? "a list" : "a scalar"}`,
        );
    }
    if (problems.length > 0) {
        throw new StackFileError(problems);
    }
    const configMap: Record<string, string> = {};
    const secretKeys: string[] = [];
    const placeholders: string[] = [];
    for (const [rawKey, rawValue] of Object.entries(document.config as Record<string, unknown>)) {
        const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
        const found: string[] = [];
        const value = replaceSecure(rawValue, key, found);
        if (found.length > 0) {
            secretKeys.push(key);
            placeholders.push(...found);
        }
        configMap[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return { configMap, secretKeys: secretKeys.sort(), placeholders: placeholders.sort() };
}

const STACK_FILE = /^Pulumi\.(.+)\.yaml$/;

/** The stacks of a project directory: every `Pulumi.<stack>.yaml` (the project's `Pulumi.yaml` aside), sorted. */
export function stackNames(projectDir: string): string[] {
    return readdirSync(projectDir)
        .map((name) => STACK_FILE.exec(name)?.[1])
        .filter((name): name is string => name !== undefined)
        .sort();
}

/** Reads and parses a stack file; errors name the file by its base name (`Pulumi.dev.yaml`). */
export function readStackFile(path: string, project: string): StackFile {
    return parseStackFile(readFileSync(path, "utf8"), project, basename(path));
}

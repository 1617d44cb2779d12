/**
 * Reads the stack configuration from the Pulumi runtime (the same map `pulumi up` and the mock
 * runtime of synth and tests provide), validates it, and fails once with every problem listed.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { PROJECT } from "./defaults";
import { StackConfig, stackConfigSchema } from "./schema";
import { resolveServiceExtends } from "./service";

/**
 * A configuration mistake. It extends Pulumi's RunError so that `pulumi up` prints the message
 * without a stack trace; `problems` holds one line per mistake.
 */
export class ConfigError extends pulumi.RunError {
    readonly problems: string[];
    constructor(problems: string[]) {
        super(
            `The stack configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
        this.problems = problems;
    }
}

/** A validated stack configuration plus which of its top-level keys were set as secrets. */
export interface LoadedConfig {
    config: StackConfig;
    /** AWS region of the stack (`aws:region`, the AWS provider's own key). */
    region: string;
    /** Top-level keys (without namespace) whose values are secrets. */
    secretKeys: string[];
}

/** Formats a zod path as `services[3].routes[0].host`. */
export function formatPath(path: readonly PropertyKey[]): string {
    return path.map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`)).join("");
}

/** Allowed keys of the object schema found by following `path` through arrays, records and wrappers. */
function allowedKeysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
    let current: z.core.$ZodType | undefined = schema;
    const unwrap = (s: z.core.$ZodType): z.core.$ZodType => {
        const def = s._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
        if (def.innerType !== undefined) {
            return unwrap(def.innerType);
        }
        if (def.type === "pipe" && def.in !== undefined) {
            return unwrap(def.in);
        }
        return s;
    };
    for (const part of path) {
        if (current === undefined) {
            return [];
        }
        const def = unwrap(current)._zod.def as {
            type: string;
            shape?: Record<string, z.core.$ZodType>;
            element?: z.core.$ZodType;
            valueType?: z.core.$ZodType;
        };
        if (def.type === "object") {
            current = def.shape?.[String(part)];
        } else if (def.type === "array") {
            current = def.element;
        } else if (def.type === "record") {
            current = def.valueType;
        } else {
            return [];
        }
    }
    const def = current === undefined ? undefined : (unwrap(current)._zod.def as { type: string; shape?: object });
    return def?.type === "object" && def.shape !== undefined ? Object.keys(def.shape) : [];
}

/** Levenshtein distance, for "did you mean" on unknown keys. */
function distance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let previous = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const current = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
            previous = current;
        }
    }
    return row[b.length];
}

function suggestion(key: string, allowed: string[]): string {
    const best = allowed
        .map((candidate) => ({ candidate, d: distance(key, candidate) }))
        .sort((x, y) => x.d - y.d || (x.candidate < y.candidate ? -1 : 1))[0];
    return best !== undefined && best.d <= Math.max(2, Math.floor(key.length / 3)) ? `did you mean "${best.candidate}"? ` : "";
}

function describeType(value: unknown): string {
    return value === null
        ? "null"
        : Array.isArray(value)
          ? "a list"
          : typeof value === "object"
            ? "an object"
            : `${typeof value} ${JSON.stringify(value)}`;
}

/** Valued at `path` in the raw input, for messages that show what the user wrote. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
    let current: unknown = input;
    for (const part of path) {
        if (current === null || typeof current !== "object") {
            return undefined;
        }
        current = (current as Record<PropertyKey, unknown>)[part];
    }
    return current;
}

/** One line per problem: `bff-platform:<path>: <what is wrong> (<what is allowed>)`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], input: unknown): string[] {
    const lines: string[] = [];
    const at = (path: readonly PropertyKey[]) => `${PROJECT}:${formatPath(path)}`;
    for (const issue of issues) {
        switch (issue.code) {
            case "unrecognized_keys": {
                const allowed = allowedKeysAt(stackConfigSchema, issue.path);
                for (const key of issue.keys) {
                    lines.push(`${at([...issue.path, key])}: unknown key; ${suggestion(key, allowed)}allowed keys: ${allowed.join(", ")}`);
                }
                break;
            }
            case "invalid_type": {
                const value = valueAt(input, issue.path);
                lines.push(
                    value === undefined
                        ? `${at(issue.path)}: is required (expected ${issue.expected})`
                        : `${at(issue.path)}: must be ${issue.expected === "array" ? "a list" : `a ${issue.expected}`}, got ${describeType(value)}`,
                );
                break;
            }
            case "too_small":
                lines.push(
                    `${at(issue.path)}: ${
                        issue.origin === "array"
                            ? `must have at least ${issue.minimum} item${issue.minimum === 1 ? "" : "s"}`
                            : issue.origin === "string"
                              ? `must not be shorter than ${issue.minimum} characters`
                              : `must be at least ${issue.minimum}, got ${String(valueAt(input, issue.path))}`
                    }${issue.message.startsWith("must") ? ` (${issue.message})` : ""}`,
                );
                break;
            case "too_big":
                lines.push(
                    `${at(issue.path)}: ${
                        issue.origin === "array"
                            ? `must have at most ${issue.maximum} items`
                            : `must be at most ${issue.maximum}, got ${String(valueAt(input, issue.path))}`
                    }`,
                );
                break;
            case "invalid_value":
                if (valueAt(input, issue.path) === undefined) {
                    lines.push(`${at(issue.path)}: is required; allowed values: ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`);
                    break;
                }
                lines.push(
                    `${at(issue.path)}: ${JSON.stringify(valueAt(input, issue.path))} is not allowed; allowed values: ${issue.values
                        .map((v) => JSON.stringify(v))
                        .join(", ")}`,
                );
                break;
            case "invalid_format":
                lines.push(
                    `${at(issue.path)}: ${JSON.stringify(valueAt(input, issue.path))} ${
                        issue.message.startsWith("must") ? issue.message : `is not a valid ${issue.format}`
                    }`,
                );
                break;
            default:
                lines.push(`${at(issue.path)}: ${issue.message}`);
        }
    }
    // One line per problem, in a stable order: zod may report the same problem through two routes.
    return [...new Set(lines)];
}

/**
 * Drops a problem of a service that it only inherited through `extends` (the value is absent from
 * its own entry) when its base reports the same problem: every problem is listed once, at the
 * entry a user has to change.
 */
function withoutInheritedRepeats(issues: readonly z.core.$ZodIssue[], rawServices: unknown): z.core.$ZodIssue[] {
    if (!Array.isArray(rawServices)) {
        return [...issues];
    }
    const indexByName = new Map<unknown, number>(rawServices.map((s, i) => [(s as { name?: unknown })?.name, i]));
    const key = (index: number, rest: readonly PropertyKey[], message: string) => `${index}|${rest.map(String).join(".")}|${message}`;
    const reported = new Set(
        issues
            .filter((i) => i.path[0] === "services" && typeof i.path[1] === "number")
            .map((i) => key(i.path[1] as number, i.path.slice(2), i.message)),
    );
    return issues.filter((issue) => {
        if (issue.path[0] !== "services" || typeof issue.path[1] !== "number") {
            return true;
        }
        const own = rawServices[issue.path[1]] as Record<string, unknown> | undefined;
        const base = indexByName.get(own?.extends);
        if (base === undefined || valueAt(own, issue.path.slice(2)) !== undefined) {
            return true;
        }
        return !reported.has(key(base, issue.path.slice(2), issue.message));
    });
}

/** Keys of the top-level schema whose value is a plain string (every other value is JSON in Pulumi's config map). */
const STRING_KEYS = new Set(["environment", "appNamespace"]);

/**
 * Validates a Pulumi config map (`{"bff-platform:services": "<json>", "aws:region": "..."}`).
 * Keys of other namespaces (aws:, kubernetes:) belong to providers and are left alone.
 * Throws {@link ConfigError} listing every problem.
 */
export function parseStackConfig(configMap: Record<string, string>, secretKeys: readonly string[] = []): LoadedConfig {
    const prefix = `${PROJECT}:`;
    const input: Record<string, unknown> = {};
    const problems: string[] = [];
    for (const fullKey of Object.keys(configMap).sort()) {
        if (!fullKey.startsWith(prefix)) {
            continue;
        }
        const key = fullKey.slice(prefix.length);
        const raw = configMap[fullKey];
        if (STRING_KEYS.has(key)) {
            input[key] = raw;
            continue;
        }
        try {
            input[key] = JSON.parse(raw);
        } catch {
            // A bare word for a structured key: let the schema say what it expected.
            input[key] = raw;
        }
    }
    const region = configMap["aws:region"];
    if (region === undefined) {
        problems.push("aws:region: is required (e.g. pulumi config set aws:region ap-northeast-1)");
    } else if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
        problems.push(`aws:region: "${region}" is not an AWS region name (e.g. ap-northeast-1)`);
    }
    // `extends` is resolved on the raw entries, so that the merged service is what gets validated.
    const rawServices = input.services;
    const brokenExtends = new Set<unknown>();
    input.services = resolveServiceExtends(rawServices, (path, message) => {
        brokenExtends.add(path[1]);
        problems.push(`${PROJECT}:${formatPath(path)}: ${message}`);
    });
    const result = stackConfigSchema.safeParse(input);
    if (!result.success) {
        // A service whose `extends` failed lacks what it meant to inherit: its one problem is said already.
        const issues = result.error.issues.filter((i) => !(i.path[0] === "services" && brokenExtends.has(i.path[1])));
        problems.push(...formatIssues(withoutInheritedRepeats(issues, rawServices), input));
    }
    if (problems.length > 0 || !result.success) {
        throw new ConfigError(problems);
    }
    return {
        config: result.data,
        region: region as string,
        secretKeys: secretKeys
            .filter((k) => k.startsWith(prefix))
            .map((k) => k.slice(prefix.length))
            .sort(),
    };
}

/** Reads and validates the configuration of the running stack (real engine or mocks). */
export function loadStackConfig(): LoadedConfig {
    const configMap = pulumi.runtime.allConfig();
    // isConfigSecret is part of the SDK runtime but missing from its type declarations.
    const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (key: string) => boolean };
    const secretKeys = Object.keys(configMap).filter((k) => runtimeConfig.isConfigSecret?.(k) === true);
    return parseStackConfig(configMap, secretKeys);
}

/**
 * Reads the stack configuration from the Pulumi runtime (the same map `pulumi up` and the mock
 * runtime of synth and tests provide), validates it, and fails once with every problem listed.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { checkAcrossSections, ParsedList, ParsedSections } from "./checks";
import { PROJECT } from "./defaults";
import { KNOWN_NAMESPACES } from "./namespaces";
import { closest, formatPath, suggestion } from "./paths";
import { GlobalLimitConfig, globalLimitSchema, rateLimitsEnvelopeSchema } from "./rate-limits";
import { LIST_SECTIONS, SECTION_SCHEMAS, StackConfig, stackConfigSchema } from "./schema";
import { checkSecrets } from "./secrets";
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

function unwrap(s: z.core.$ZodType): z.core.$ZodType {
    const def = s._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
    if (def.innerType !== undefined) {
        return unwrap(def.innerType);
    }
    if (def.type === "pipe" && def.in !== undefined) {
        return unwrap(def.in);
    }
    return s;
}

/** The schema found by following `path` through objects, arrays, records and wrappers. */
function schemaAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): z.core.$ZodType | undefined {
    let current: z.core.$ZodType | undefined = schema;
    for (const part of path) {
        if (current === undefined) {
            return undefined;
        }
        const def = unwrap(current)._zod.def as {
            type: string;
            shape?: Record<string, z.core.$ZodType>;
            element?: z.core.$ZodType;
            valueType?: z.core.$ZodType;
        };
        // A record's values, or undefined for any other schema, which ends the walk.
        current = def.type === "object" ? def.shape?.[String(part)] : def.type === "array" ? def.element : def.valueType;
    }
    return current === undefined ? undefined : unwrap(current);
}

/** Allowed keys of the object schema at `path`. */
function allowedKeysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
    const def = schemaAt(schema, path)?._zod.def as { type: string; shape?: object } | undefined;
    return def?.type === "object" && def.shape !== undefined ? Object.keys(def.shape) : [];
}

/** `min..max` of the number schema at `path` when it has both bounds (a weight: `0..100`). */
function numberRangeAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string | undefined {
    const found = schemaAt(schema, path) as { minValue?: number | null; maxValue?: number | null } | undefined;
    const [min, max] = [found?.minValue, found?.maxValue];
    return typeof min === "number" &&
        typeof max === "number" &&
        Math.abs(min) < Number.MAX_SAFE_INTEGER &&
        Math.abs(max) < Number.MAX_SAFE_INTEGER
        ? `${min}..${max}`
        : undefined;
}

/** How a message names an expected type where "a <type>" would not read: zod's `array` is a YAML list. */
const EXPECTED: Record<string, string> = { array: "a list", object: "an object" };

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

/**
 * What is wrong with a list, string or number out of its bounds, with what was given: its length,
 * or its value and the range when the schema has both bounds. A schema's own reason ("must list
 * at least two availability zones: ...") follows in parentheses.
 */
function outOfBounds(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig, value: unknown, range: string | undefined): string {
    const small = issue.code === "too_small";
    const bound = Number(small ? issue.minimum : issue.maximum);
    const length = (value as { length?: unknown } | undefined)?.length;
    const what =
        issue.origin === "array"
            ? `must have at ${small ? "least" : "most"} ${bound} item${bound === 1 ? "" : "s"}, got ${String(length)}`
            : issue.origin === "string"
              ? `${JSON.stringify(value)} is ${String(length)} characters long, ${small ? "shorter" : "longer"} than the ${bound} ${small ? "required" : "allowed"}`
              : range !== undefined
                ? `${String(value)} is out of range ${range}`
                : `must be at ${small ? "least" : "most"} ${bound}, got ${String(value)}`;
    return issue.message.startsWith("must") ? `${what} (${issue.message})` : what;
}

/**
 * One line per problem: `bff-platform:<path>: <what is wrong> (<what is allowed>)`, list entries
 * named from `input` (the configuration as written). `schema` (default: the stack's) gives the
 * allowed keys and number ranges the lines name.
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], input: unknown, schema: z.core.$ZodType = stackConfigSchema): string[] {
    const lines: string[] = [];
    const at = (path: readonly PropertyKey[]) => `${PROJECT}:${formatPath(path, input)}`;
    const key = (path: readonly PropertyKey[]) => path.map(String).join("\u0000");
    // A misspelt key says "did you mean"; the key it meant is then missing, but that is the same problem.
    const meant = new Set<string>();
    for (const issue of issues) {
        if (issue.code === "unrecognized_keys") {
            const allowed = allowedKeysAt(schema, issue.path);
            for (const unknown of issue.keys) {
                const best = closest(unknown, allowed);
                if (best !== undefined && valueAt(input, [...issue.path, best]) === undefined) {
                    meant.add(key([...issue.path, best]));
                }
            }
        }
    }
    for (const issue of issues) {
        if ((issue.code === "invalid_type" || issue.code === "invalid_value") && meant.has(key(issue.path))) {
            continue;
        }
        switch (issue.code) {
            case "unrecognized_keys": {
                const allowed = allowedKeysAt(schema, issue.path);
                for (const key of issue.keys) {
                    const allowedText = allowed.length > 0 ? `allowed keys: ${allowed.join(", ")}` : "this mapping takes no keys";
                    lines.push(`${at([...issue.path, key])}: unknown key; ${suggestion(key, allowed)}${allowedText}`);
                }
                break;
            }
            case "invalid_type": {
                const value = valueAt(input, issue.path);
                lines.push(
                    value === undefined
                        ? `${at(issue.path)}: is required (expected ${issue.expected})`
                        : `${at(issue.path)}: must be ${EXPECTED[issue.expected] ?? `a ${issue.expected}`}, got ${describeType(value)}`,
                );
                break;
            }
            case "too_small":
            case "too_big":
                lines.push(`${at(issue.path)}: ${outOfBounds(issue, valueAt(input, issue.path), numberRangeAt(schema, issue.path))}`);
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

type SectionKey = keyof typeof SECTION_SCHEMAS;
const SECTION_KEYS = Object.keys(SECTION_SCHEMAS) as SectionKey[];
/** What a stack must set at least. */
const REQUIRED_SECTIONS = ["environment", "cluster", "nodePools", "hosts", "services", "delivery"];

/** What parseStackConfig knows about secrets. */
export interface SecretOptions {
    /** Namespaced top-level keys holding a secret (`bff-platform:services`): what the engine tells a program. */
    secretKeys?: readonly string[];
    /**
     * Namespaced paths of the secret values (`bff-platform:services[3].env.API_KEY`), known when
     * the stack file is read offline (`StackFile.placeholders`); makes secret errors name the field.
     */
    secretPaths?: readonly string[];
}

function custom(path: (string | number)[], message: string): z.core.$ZodIssue {
    return { code: "custom", path, message, input: undefined } as z.core.$ZodIssue;
}

function prefixed(issues: readonly z.core.$ZodIssue[], prefix: (string | number)[]): z.core.$ZodIssue[] {
    return issues.map((issue) => ({ ...issue, path: [...prefix, ...issue.path] }) as z.core.$ZodIssue);
}

/** Parses a list section entry by entry, so that one bad entry leaves the others usable. */
function parseList(key: keyof typeof LIST_SECTIONS, raw: unknown, issues: z.core.$ZodIssue[]): ParsedList<unknown> | undefined {
    const { item, min } = LIST_SECTIONS[key];
    if (!Array.isArray(raw)) {
        const whole = SECTION_SCHEMAS[key].safeParse(raw);
        if (!whole.success) {
            issues.push(...prefixed(whole.error.issues, [key]));
            return undefined;
        }
        return { items: whole.data as unknown[], complete: true };
    }
    const list: ParsedList<unknown> = { items: [], complete: raw.length >= min };
    if (raw.length < min) {
        // Worded like the schema's own bounds (formatIssues): "must have at least 1 item, got 0".
        issues.push({
            code: "too_small",
            origin: "array",
            minimum: min,
            inclusive: true,
            path: [key],
            message: "",
            input: raw,
        } as z.core.$ZodIssue);
    }
    raw.forEach((entry, i) => {
        const result = (item as z.ZodType).safeParse(entry);
        if (result.success) {
            list.items[i] = result.data;
        } else {
            list.items[i] = undefined;
            list.complete = false;
            issues.push(...prefixed(result.error.issues, [key, i]));
        }
    });
    return list;
}

/** Parses `rateLimits` with each global limit on its own, so that one bad limit leaves the others checked. */
function parseRateLimits(raw: unknown, issues: z.core.$ZodIssue[], parsed: ParsedSections): void {
    const envelope = rateLimitsEnvelopeSchema.safeParse(raw ?? {});
    if (!envelope.success) {
        issues.push(...prefixed(envelope.error.issues, ["rateLimits"]));
        return;
    }
    const global = envelope.data.global;
    if (global === undefined) {
        parsed.rateLimits = {};
        return;
    }
    const rawLimits = global.limits;
    const entries = { items: [] as (GlobalLimitConfig | undefined)[], complete: true, raw: rawLimits };
    rawLimits.forEach((limit, i) => {
        const result = globalLimitSchema.safeParse(limit);
        entries.items[i] = result.success ? result.data : undefined;
        if (!result.success) {
            entries.complete = false;
            issues.push(...prefixed(result.error.issues, ["rateLimits", "global", "limits", i]));
        }
    });
    parsed.rateLimitEntries = entries;
    parsed.rateLimits = { global: { ...global, limits: entries.items.filter((l): l is GlobalLimitConfig => l !== undefined) } };
}

/**
 * Validates a Pulumi config map (`{"bff-platform:services": "<json>", "aws:region": "..."}`) of
 * the stack `stack`. Every section, and every entry of a list, is parsed on its own, then the
 * rules across entries and sections run on whatever parsed, so that one run lists every problem.
 * Keys of other namespaces are checked against the keys their providers read.
 * Throws {@link ConfigError} listing every problem.
 */
export function parseStackConfig(configMap: Record<string, string>, stack: string, secrets: SecretOptions = {}): LoadedConfig {
    const prefix = `${PROJECT}:`;
    const input: Record<string, unknown> = {};
    const lines: string[] = [];
    const issues: z.core.$ZodIssue[] = [];
    /** Sections a misspelt key probably meant: their absence is that key's problem, said once. */
    const meant = new Set<string>();
    const keys = Object.keys(configMap).sort();
    const present = new Set(keys);
    const namespaces = Object.keys(KNOWN_NAMESPACES);
    for (const fullKey of keys) {
        const colon = fullKey.indexOf(":");
        // A key without namespace is the project's, as `pulumi config set` stores it.
        const namespace = colon < 0 ? PROJECT : fullKey.slice(0, colon);
        const key = fullKey.slice(colon + 1);
        if (namespace === PROJECT) {
            if (!(SECTION_KEYS as string[]).includes(key)) {
                const best = closest(key, SECTION_KEYS);
                if (best !== undefined && !present.has(`${prefix}${best}`)) {
                    meant.add(best);
                }
                issues.push(custom([key], `unknown key; ${suggestion(key, SECTION_KEYS)}allowed keys: ${SECTION_KEYS.join(", ")}`));
                continue;
            }
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
            continue;
        }
        if (!(namespace in KNOWN_NAMESPACES)) {
            const best = closest(namespace, namespaces);
            if (best === PROJECT && (SECTION_KEYS as string[]).includes(key) && !present.has(`${prefix}${key}`)) {
                meant.add(key);
            }
            lines.push(
                `${fullKey}: unknown config namespace "${namespace}"; ${best === undefined ? "" : `did you mean "${best}:${key}"? `}known namespaces: ${namespaces.join(", ")}`,
            );
            continue;
        }
        const known = KNOWN_NAMESPACES[namespace];
        if (known !== undefined && !known.includes(key)) {
            const best = closest(key, known);
            if (best !== undefined && !present.has(`${namespace}:${best}`)) {
                meant.add(`${namespace}:${best}`);
            }
            lines.push(
                `${fullKey}: unknown key of the ${namespace} namespace (the ${namespace} provider reads no such key)${best === undefined ? "" : `; did you mean "${namespace}:${best}"?`}`,
            );
        }
    }
    const region = configMap["aws:region"];
    if (region === undefined && !meant.has("aws:region")) {
        lines.push("aws:region: is required (e.g. pulumi config set aws:region ap-northeast-1)");
    } else if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
        lines.push(`aws:region: "${region}" is not an AWS region name (e.g. ap-northeast-1)`);
    }
    const noProjectKeys = !keys.some((k) => k.startsWith(prefix)) && meant.size === 0;
    if (noProjectKeys) {
        lines.push(
            `${PROJECT}: the configuration has no ${prefix} keys; a stack needs at least ${REQUIRED_SECTIONS.map((k) => prefix + k).join(", ")} (see the configuration reference in README.md)`,
        );
    }

    // `extends` is resolved on the raw entries, so that the merged service is what gets validated.
    const rawServices = input.services;
    const brokenExtends = new Set<unknown>();
    input.services = resolveServiceExtends(rawServices, (path, message) => {
        brokenExtends.add(path[1]);
        issues.push(custom(path, message));
    });

    const parsed: ParsedSections = {};
    const parsedValues: Record<string, unknown> = {};
    for (const key of SECTION_KEYS) {
        if (meant.has(key) || (noProjectKeys && input[key] === undefined)) {
            continue;
        }
        if (key === "rateLimits") {
            parseRateLimits(input.rateLimits, issues, parsed);
            if (parsed.rateLimits !== undefined && parsed.rateLimitEntries?.complete !== false) {
                parsedValues.rateLimits = parsed.rateLimits;
            }
            continue;
        }
        if (key in LIST_SECTIONS) {
            const list = parseList(key as keyof typeof LIST_SECTIONS, input[key], issues);
            if (list !== undefined) {
                (parsed as Record<string, unknown>)[key] = list;
            }
            continue;
        }
        const result = SECTION_SCHEMAS[key].safeParse(input[key]);
        if (result.success) {
            parsedValues[key] = result.data;
            (parsed as Record<string, unknown>)[key] = result.data;
        } else {
            issues.push(...prefixed(result.error.issues, [key]));
        }
    }
    const report = (path: (string | number)[], message: string) => issues.push(custom(path, message));
    checkAcrossSections(parsed, input, stack, report, (path) => formatPath(path, input));
    checkSecrets(secrets.secretKeys ?? [], secrets.secretPaths, report);

    // A service whose `extends` failed lacks what it meant to inherit: its one problem is said already.
    const kept = issues.filter(
        (i) => !(i.path[0] === "services" && brokenExtends.has(i.path[1]) && !(i.path.length === 3 && i.path[2] === "extends")),
    );
    const problems = [...lines, ...formatIssues(withoutInheritedRepeats(kept, rawServices), input)];
    if (problems.length > 0) {
        throw new ConfigError(problems);
    }
    const config = { ...parsedValues } as Record<string, unknown>;
    for (const key of Object.keys(LIST_SECTIONS)) {
        config[key] = (parsed as Record<string, ParsedList<unknown> | undefined>)[key]?.items;
    }
    return {
        config: config as StackConfig,
        region: region as string,
        secretKeys: (secrets.secretKeys ?? [])
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
    return parseStackConfig(configMap, pulumi.getStack(), { secretKeys });
}

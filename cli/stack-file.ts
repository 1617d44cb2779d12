/**
 * Reads `Pulumi.<stack>.yaml` into the flat config map the Pulumi engine hands a program
 * (`{"bff-platform:services": "<json>"}`), exactly as `pulumi up` would, minus decryption:
 * `secure:` values cannot be decrypted without the stack's secrets provider, so they become a
 * placeholder and are listed so that synth can say which ones.
 */
import { readFileSync } from "fs";
import { parse } from "yaml";

/** What a secure value reads as offline. Never a real secret, and obvious in any output. */
export const SECRET_PLACEHOLDER = "offline-placeholder-for-secret";

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

/** Parses the text of a stack file; `project` qualifies keys written without a namespace. */
export function parseStackFile(text: string, project: string, fileName = "stack file"): StackFile {
    const document = (parse(text) ?? {}) as { config?: Record<string, unknown> };
    if (document.config !== undefined && (document.config === null || typeof document.config !== "object")) {
        throw new Error(`${fileName}: "config" must be a mapping`);
    }
    const configMap: Record<string, string> = {};
    const secretKeys: string[] = [];
    const placeholders: string[] = [];
    for (const [rawKey, rawValue] of Object.entries(document.config ?? {})) {
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

export function readStackFile(path: string, project: string): StackFile {
    return parseStackFile(readFileSync(path, "utf8"), project, path);
}

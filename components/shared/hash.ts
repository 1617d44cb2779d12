/**
 * Content hashes for pod-template annotations (docs/design.md §1): when a ConfigMap's data changes,
 * the annotation changes and the pods roll. The handbook used md4, which OpenSSL 3 no longer
 * provides; sha256 is available everywhere.
 */
import { createHash } from "crypto";

/** Pod-template annotation that carries the hash of the ConfigMaps a workload mounts. */
export const CONTENT_HASH_ANNOTATION = "dependency.config-map.content-hash";

/** JSON with object keys sorted at every level, so equal data always serialises the same way. */
export function canonicalJson(value: unknown): string {
    return JSON.stringify(value, (_key, v: unknown) => {
        if (v !== null && typeof v === "object" && !Array.isArray(v)) {
            return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
        }
        return v;
    });
}

/** Hex sha256 of the canonical JSON of `value` (strings are hashed as their JSON form too). */
export function contentHash(value: unknown): string {
    return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

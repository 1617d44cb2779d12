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
            const record = v as Record<string, unknown>;
            // Array.prototype.sort without a comparator orders strings by UTF-16 code units, as `<` does.
            const keys = Object.keys(record).sort();
            return Object.fromEntries(keys.map((key) => [key, record[key]]));
        }
        return v;
    });
}

/** Hex sha256 of the canonical JSON of `value` (strings are hashed as their JSON form too). */
export function contentHash(value: unknown): string {
    return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

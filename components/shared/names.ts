/**
 * Kubernetes name rules, checked while generating instead of being found at apply time
 * (docs/design.md §1: "metadata.name longer than 63 characters" is the handbook's own example).
 *
 * Every check returns a sentence describing the problem, or `undefined` when the value is fine,
 * so that callers can collect all problems before failing once.
 */

/** Limits that Kubernetes enforces on names and label values. */
export const NAME_LIMITS = {
    /** RFC 1123 label: Service, Namespace, container and port names. */
    dns1123Label: 63,
    /** RFC 1123 subdomain: most object names (ConfigMap, Deployment, Rollout, ...). */
    dns1123Subdomain: 253,
    /** CronJob names: the controller appends an 11-character suffix to build Job names. */
    cronJob: 52,
    /** Label values (and the name part of a label key). */
    labelValue: 63,
} as const;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** The kinds of name Kubernetes distinguishes, each with its own pattern and length. */
export type NameKind = "dns1123Label" | "dns1123Subdomain" | "cronJob" | "labelValue";

const DESCRIPTIONS: Record<NameKind, string> = {
    dns1123Label: "lowercase letters, digits and '-', starting and ending with a letter or digit",
    dns1123Subdomain: "lowercase letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit",
    cronJob: "lowercase letters, digits and '-', starting and ending with a letter or digit",
    labelValue: "letters, digits, '-', '_' and '.', starting and ending with a letter or digit (or empty)",
};

const PATTERNS: Record<NameKind, RegExp> = {
    dns1123Label: DNS1123_LABEL,
    dns1123Subdomain: DNS1123_SUBDOMAIN,
    cronJob: DNS1123_LABEL,
    labelValue: LABEL_VALUE,
};

/** Returns what is wrong with `value` as a name of the given kind, or `undefined`. */
export function checkName(kind: NameKind, value: string): string | undefined {
    const limit = NAME_LIMITS[kind];
    const problems: string[] = [];
    if (value.length === 0 && kind !== "labelValue") {
        return `must not be empty (allowed: ${DESCRIPTIONS[kind]}, at most ${limit} characters)`;
    }
    if (value.length > limit) {
        problems.push(`is ${value.length} characters long, more than the limit of ${limit}`);
    }
    if (!PATTERNS[kind].test(value)) {
        problems.push(`has characters or a shape Kubernetes rejects (allowed: ${DESCRIPTIONS[kind]})`);
    }
    return problems.length === 0 ? undefined : `"${value}" ${problems.join(" and ")}`;
}

/** Thrown when generated code builds a name Kubernetes would reject: a bug in a component, not user input. */
export class InvalidNameError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "InvalidNameError";
    }
}

/**
 * Returns `value` if it is a valid name of `kind`, and throws otherwise. Components use this for
 * names they derive (`<app>-canary`), so that a derived name that grows past a limit fails at
 * generation with the object it was meant for.
 */
export function assertName(kind: NameKind, value: string, what: string): string {
    const problem = checkName(kind, value);
    if (problem !== undefined) {
        throw new InvalidNameError(`${what}: ${problem}`);
    }
    return value;
}

/** Joins parts with '-' (skipping empty ones) and checks the result as a DNS-1123 label. */
export function childName(what: string, ...parts: (string | undefined)[]): string {
    return assertName("dns1123Label", parts.filter((p) => p !== undefined && p !== "").join("-"), what);
}

/**
 * A version as a part of a Kubernetes name: lowercase, every run of characters names reject
 * (`.`, `+`, `_`, capitals) becomes one '-', no '-' at either end: `2.15.0-RC.1+build_7` ->
 * `2-15-0-rc-1-build-7`.
 */
export function versionNamePart(version: string): string {
    // The first replace leaves single dashes only.
    return version
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-|-$/g, "");
}

/** The upload Job of one release's static files: `<service>-static-upload-<version>` (at most 63 characters). */
export function staticUploadJobName(service: string, version: string): string {
    return `${service}-static-upload-${versionNamePart(version)}`;
}

/** The ServiceAccount of a service's upload Jobs; its EKS Pod Identity association names it. */
export function staticUploadServiceAccount(service: string): string {
    return `${service}-static-upload`;
}

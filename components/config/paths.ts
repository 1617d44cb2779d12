/**
 * Key paths as users read them: `bff-platform:services[pc-web].replicas`. Entries of a list that
 * has names are shown by name; by index where the entry has no usable name, shares it with
 * another entry, or the name itself is the problem (`services[2].name`).
 */

/** Lists whose entries have a name, and the key that holds it. */
const NAMED_LISTS: Record<string, string> = {
    services: "name",
    nodePools: "name",
    hosts: "name",
    gateways: "name",
    limits: "name",
    backends: "name",
    jobs: "name",
};

/** A name that reads unambiguously between brackets. */
const SHOWABLE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function entryName(list: unknown, index: number, key: string): string | undefined {
    if (!Array.isArray(list)) {
        return undefined;
    }
    // A primitive has no such property either; null and a list are read as unnamed.
    const nameOf = (entry: unknown) => (Array.isArray(entry) ? undefined : (entry as Record<string, unknown> | null)?.[key]);
    const name = nameOf(list[index]);
    if (typeof name !== "string" || !SHOWABLE.test(name)) {
        return undefined;
    }
    return list.filter((entry) => nameOf(entry) === name).length === 1 ? name : undefined;
}

/**
 * Formats a path from the root of the project's configuration, reading entry names from `input`
 * (the configuration as written): `["services", 3, "replicas"]` -> `services[pc-web].replicas`.
 */
export function formatPath(path: readonly PropertyKey[], input?: unknown): string {
    let current: unknown = input;
    let text = "";
    path.forEach((part, i) => {
        if (typeof part === "number") {
            const listKey = path[i - 1];
            const nameKey = typeof listKey === "string" ? NAMED_LISTS[listKey] : undefined;
            const nameIsTheProblem = path[i + 1] === nameKey && i + 2 === path.length;
            const name = nameKey === undefined || nameIsTheProblem ? undefined : entryName(current, part, nameKey);
            text += `[${name ?? part}]`;
        } else {
            text += i === 0 ? String(part) : `.${String(part)}`;
        }
        current = current !== null && typeof current === "object" ? (current as Record<PropertyKey, unknown>)[part] : undefined;
    });
    return text;
}

/** Parses `services[3].env.API_KEY` (the stack-file reader's secret paths) into its parts. */
export function parsePath(text: string): (string | number)[] {
    const parts: (string | number)[] = [];
    for (const match of text.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
        parts.push(match[2] !== undefined ? Number(match[2]) : match[1]);
    }
    return parts;
}

/** Levenshtein distance, case-insensitive, for "did you mean". */
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

/** The allowed key closest to `key`, when it is close enough to be a typo. */
export function closest(key: string, allowed: readonly string[]): string | undefined {
    // Closest first, then alphabetical.
    const order = (x: { candidate: string; d: number }, y: { candidate: string; d: number }) =>
        // Stryker disable next-line EqualityOperator: equivalent, the candidates are distinct keys, never equal.
        x.d - y.d || (x.candidate < y.candidate ? -1 : 1);
    const best = allowed.map((candidate) => ({ candidate, d: distance(key, candidate) })).sort(order)[0];
    return best !== undefined && best.d <= Math.max(2, Math.floor(key.length / 3)) ? best.candidate : undefined;
}

/** `did you mean "services"? ` or nothing. */
export function suggestion(key: string, allowed: readonly string[]): string {
    const best = closest(key, allowed);
    return best === undefined ? "" : `did you mean "${best}"? `;
}

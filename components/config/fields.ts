/**
 * Field types shared by the sections of the stack configuration: Kubernetes names, quantities,
 * versions, image repositories, resources; and the reporting helpers of cross-field checks.
 */
import { z } from "zod";
import { checkMemoryQuantity, checkName, checkQuantity, NAME_LIMITS, NameKind, parseCpuMillis, parseMemoryBytes } from "../shared";

/** A string that must be a Kubernetes name of the given kind; the message names the rule. */
export function kubeName(kind: NameKind, maxLength: number = NAME_LIMITS[kind]) {
    return z.string().superRefine((value, ctx) => {
        const problem = checkName(kind, value);
        if (problem !== undefined) {
            ctx.addIssue({ code: "custom", message: problem });
        } else if (value.length > maxLength) {
            ctx.addIssue({
                code: "custom",
                message: `"${value}" is ${value.length} characters long, more than the ${maxLength} allowed here`,
            });
        }
    });
}

/** Any Kubernetes quantity (HPA metric targets): "250m", "1.5", "2k". */
export const quantity = z.string().superRefine((value, ctx) => {
    const problem = checkQuantity(value);
    if (problem !== undefined) {
        ctx.addIssue({ code: "custom", message: problem });
    }
});

/** What is wrong with a container resource amount: not a quantity, or negative (the API server refuses negative requests and limits). */
function resourceProblem(check: (value: string) => string | undefined, value: string): string | undefined {
    return check(value) ?? (value.trim().startsWith("-") ? `"${value}" is negative` : undefined);
}

function resourceQuantity(check: (value: string) => string | undefined) {
    return z.string().superRefine((value, ctx) => {
        const problem = resourceProblem(check, value);
        if (problem !== undefined) {
            ctx.addIssue({ code: "custom", message: problem });
        }
    });
}

/** CPU: cores or millicores ("250m", "1.5"). */
export const cpuQuantity = resourceQuantity(checkQuantity);
/** Memory: whole bytes ("512Mi", "1Gi", "1G"); "512m" (thousandths of a byte) is refused. */
export const memoryQuantity = resourceQuantity(checkMemoryQuantity);

/** A duration as Istio and Argo Rollouts write them: "500ms", "10s", "5m", "1h". */
export const duration = z.string().regex(/^\d+(ms|s|m|h)$/, { error: 'must be a duration such as "500ms", "10s" or "5m"' });

export const positiveInt = z.number().int().min(1);
export const nonNegativeInt = z.number().int().min(0);
export const percent = z.number().int().min(1).max(100);

/** Image tags are versions people read in reviews and Datadog tags: never `latest`. */
export const version = z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/, {
        error: "must be an image tag of at most 63 letters, digits, '_', '.' and '-' (it is also a label value)",
    })
    .refine((v) => v !== "latest", { error: '"latest" is not a version: pin the release you deploy' });

/** Repository without tag or digest: the tag comes from `version`. */
export const imageRepository = z.string().regex(/^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._/-][a-z0-9]+)*)*$/, {
    error: "must be an image repository without tag or digest (e.g. 123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/frontend/pc-web); the tag comes from `version`",
});

const resourceMap = z.strictObject({ cpu: cpuQuantity, memory: memoryQuantity });
const limitMap = z.strictObject({ cpu: cpuQuantity.optional(), memory: memoryQuantity });

/**
 * Container requests and limits; limits.cpu may be left out on purpose (no CPU throttling).
 * Requests may not exceed limits (the API server refuses such a pod) and requests.cpu must be
 * above zero (the HPA's utilization and the capacity figures divide by it).
 */
export const resourcesSchema = z.strictObject({ requests: resourceMap, limits: limitMap }).superRefine((resources, ctx) => {
    const { requests, limits } = resources;
    const report = (path: string[], message: string) => ctx.addIssue({ code: "custom", path, message });
    // The fields report their own problems (a negative amount included); compare only amounts without one.
    const fine = (check: (value: string) => string | undefined, ...values: (string | undefined)[]) =>
        values.every((value) => value === undefined || resourceProblem(check, value) === undefined);
    const memoryOk = fine(checkMemoryQuantity, requests.memory, limits.memory);
    const cpuOk = fine(checkQuantity, requests.cpu, limits.cpu);
    if (memoryOk && parseMemoryBytes(requests.memory) > parseMemoryBytes(limits.memory)) {
        report(["requests", "memory"], `${requests.memory} is above limits.memory ${limits.memory}`);
    }
    if (cpuOk && limits.cpu !== undefined && parseCpuMillis(requests.cpu) > parseCpuMillis(limits.cpu)) {
        report(["requests", "cpu"], `${requests.cpu} is above limits.cpu ${limits.cpu}`);
    }
    if (cpuOk && parseCpuMillis(requests.cpu) <= 0) {
        report(["requests", "cpu"], `${requests.cpu} is not above zero: the HPA and the capacity figures divide by it`);
    }
});
export type ResourcesConfig = z.output<typeof resourcesSchema>;

/** Reports one problem at a path from the root of the stack configuration. */
export type Report = (path: (string | number)[], message: string) => void;

/** The problem of a reference to a host that `hosts` does not name. */
export function unknownHost(host: string, hostNames: ReadonlySet<string>): string {
    return `"${host}" is not a name in hosts (${hostNames.size === 0 ? "no host is defined" : `known hosts: ${[...hostNames].join(", ")}`})`;
}

/**
 * Reports every entry of a raw list whose `key` repeats an earlier entry's, at `<listPath>[i].<key>`.
 * It reads the raw entries, so a duplicate is found even when another field of an entry is wrong.
 */
export function checkUnique(report: Report, items: unknown, key: string, listPath: (string | number)[]): void {
    if (!Array.isArray(items)) {
        return;
    }
    const seen = new Map<unknown, number>();
    const listName = listPath.filter((p) => typeof p === "string").at(-1);
    items.forEach((item, index) => {
        const value = isRecord(item) ? item[key] : undefined;
        if (typeof value !== "string") {
            return;
        }
        const first = seen.get(value);
        if (first !== undefined) {
            report([...listPath, index, key], `"${value}" is already the ${key} of ${listName}[${first}]; ${key}s must be unique`);
        } else {
            seen.set(value, index);
        }
    });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The string values of `key` in the entries of a raw list: what other sections may refer to, even where an entry has other problems. */
export function rawValues(items: unknown, key: string): Set<string> {
    const values = new Set<string>();
    if (Array.isArray(items)) {
        for (const item of items) {
            if (isRecord(item) && typeof item[key] === "string") {
                values.add(item[key]);
            }
        }
    }
    return values;
}

/* ------------------------------------------------------------------ cron */

/**
 * The fields of a CronJob schedule as Kubernetes parses it: `cron.ParseStandard` of
 * github.com/robfig/cron/v3 (pkg/apis/batch/validation): five fields, day of week 0-6 (7 is
 * refused), month and day names case-insensitive, `?` like `*` in the two day fields.
 */
const CRON_FIELDS = [
    { name: "minute", min: 0, max: 59 },
    { name: "hour", min: 0, max: 23 },
    { name: "day of month", min: 1, max: 31, question: true },
    {
        name: "month",
        min: 1,
        max: 12,
        names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        first: 1,
    },
    { name: "day of week", min: 0, max: 6, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"], first: 0, question: true },
] as const;

/** Macros robfig/cron accepts and the Kubernetes CronJob documentation lists. */
const CRON_MACROS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

function cronValue(field: (typeof CRON_FIELDS)[number], text: string): number | string {
    if (/^\d+$/.test(text)) {
        return Number(text);
    }
    const index = "names" in field ? (field.names as readonly string[]).indexOf(text.toLowerCase()) : -1;
    return index >= 0
        ? index + ("first" in field ? field.first : 0)
        : `"${text}" is not a number${"names" in field ? " or a name (" + field.names.join(", ") + ")" : ""}`;
}

/** What is wrong with one field of a cron schedule, or `undefined`. */
function cronFieldProblem(field: (typeof CRON_FIELDS)[number], text: string): string | undefined {
    for (const part of text.split(",")) {
        const [range, step, extra] = part.split("/");
        if (extra !== undefined || (step !== undefined && !/^\d+$/.test(step)) || step === "0") {
            return `"${part}" has a step that is not a positive number`;
        }
        if (range === "*" || ("question" in field && range === "?")) {
            continue;
        }
        const bounds = range.split("-");
        if (bounds.length > 2 || bounds.some((b) => b === "")) {
            return `"${part}" is not a value, a range a-b, * or a step`;
        }
        const values = bounds.map((b) => cronValue(field, b));
        const wrong = values.find((v) => typeof v === "string");
        if (wrong !== undefined) {
            return wrong as string;
        }
        const [low, high = low] = values as number[];
        if (low < field.min || high > field.max) {
            return `${low < field.min ? low : high} is outside ${field.min}-${field.max}`;
        }
        if (low > high) {
            return `"${range}" starts after it ends`;
        }
    }
    return undefined;
}

/** Every problem of a CronJob schedule, one sentence each (empty when Kubernetes accepts it). */
export function cronProblems(schedule: string): string[] {
    const trimmed = schedule.trim();
    if (/^(CRON_)?TZ=/.test(trimmed)) {
        return ["sets a time zone inside the schedule, which Kubernetes refuses (spec.timeZone is the field for it)"];
    }
    if (trimmed.startsWith("@")) {
        return CRON_MACROS.includes(trimmed)
            ? []
            : [`"${trimmed}" is not a schedule macro Kubernetes documents (${CRON_MACROS.join(", ")})`];
    }
    const fields = trimmed.split(/\s+/);
    if (fields.length !== 5) {
        return [
            `has ${fields.length} field${fields.length === 1 ? "" : "s"}; a CronJob schedule has 5: minute hour day-of-month month day-of-week (e.g. "*/5 * * * *")`,
        ];
    }
    return CRON_FIELDS.flatMap((field, i) => {
        const problem = cronFieldProblem(field, fields[i]);
        return problem === undefined ? [] : [`${field.name} field ${problem}`];
    });
}

/** A CronJob schedule, checked field by field the way the Kubernetes API server parses it. */
export const cronSchedule = z.string().superRefine((value, ctx) => {
    const problems = cronProblems(value);
    if (problems.length > 0) {
        ctx.addIssue({ code: "custom", message: `"${value}" ${problems.join("; ")}` });
    }
});

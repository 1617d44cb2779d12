/**
 * The `rateLimits` and `backends` sections (docs/design.md §5), and the rules that make the global
 * limits consistent with the rest of the configuration: every limit must be a descriptor the
 * ratelimit service accepts (positive, known unit, unique, an RE2 regex), and must not let
 * through more than the services it reaches can serve without scaling out, or than the backends
 * behind them can take.
 */
import { RE2 } from "re2-wasm";
import { z } from "zod";
import { globalLimitCeiling } from "../shared";
import { RATE_LIMIT_DEFAULTS } from "./defaults";
import { checkUnique, kubeName, positiveInt, Report } from "./fields";
import type { GatewayConfig } from "./gateway";
import { capacityWithoutScaleOut, type ServiceConfig } from "./service";

/** Seconds per unit of a descriptor's `rate_limit` (the units envoyproxy/ratelimit reads). */
export const UNIT_SECONDS = { second: 1, minute: 60, hour: 3600, day: 86400 } as const;
export type RateLimitUnit = keyof typeof UNIT_SECONDS;

export const globalLimitSchema = z
    .strictObject({
        /** Unique; also the descriptor value of a `pathRegex` limit (`header_match: <name>`). */
        name: kubeName("dns1123Label"),
        /** Request path (`PATH` descriptor), counted with or without a query string; a path with `?` counts only that exact `:path`. */
        path: z
            .string()
            .regex(/^\/\S*$/, { error: "must be a request path starting with '/', without spaces" })
            .optional(),
        /** RE2 regular expression that must match the whole `:path` (`header_value_match`), e.g. `/watch/(lv\d+)`. */
        pathRegex: z.string().min(1).optional(),
        unit: z.enum(Object.keys(UNIT_SECONDS) as [RateLimitUnit, ...RateLimitUnit[]]),
        requestsPerUnit: positiveInt,
    })
    .superRefine((limit, ctx) => {
        if ((limit.path === undefined) === (limit.pathRegex === undefined)) {
            ctx.addIssue({ code: "custom", message: "set exactly one of path and pathRegex" });
            return;
        }
        if (limit.pathRegex !== undefined) {
            const problem = re2Problem(limit.pathRegex) ?? pathRegexProblem(limit.pathRegex);
            if (problem !== undefined) {
                ctx.addIssue({ code: "custom", path: ["pathRegex"], message: `${JSON.stringify(limit.pathRegex)} ${problem}` });
            }
        }
    });

const elasticacheSchema = z.strictObject({
    /** Node type of the replication group. */
    nodeType: z
        .string()
        .regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, { error: "must be an ElastiCache node type such as cache.m7g.large" })
        .default(RATE_LIMIT_DEFAULTS.elasticache.nodeType),
    /** Nodes of the replication group: one primary and replicas in other AZs; two or more enable automatic failover. */
    numCacheClusters: z.number().int().min(1).max(6).default(RATE_LIMIT_DEFAULTS.elasticache.numCacheClusters),
});

/** The `rateLimits` section with `limit` as the schema of each limit. */
function rateLimitsShape<Limit extends z.ZodType>(limit: Limit) {
    return z.strictObject({
        global: z
            .strictObject({
                /** ratelimit service domain. */
                domain: kubeName("dns1123Label"),
                /** Let traffic through when the ratelimit service is down; local limits still protect. */
                failureModeDeny: z.boolean().default(false),
                /** Time the gateway waits for the ratelimit service, e.g. "50ms". */
                timeout: z
                    .string()
                    .regex(/^\d+(ms|s)$/, { error: 'must be a duration such as "50ms" or "1s"' })
                    .default("50ms"),
                limits: z.array(limit).min(1),
                /** In-cluster Redis (dev) or ElastiCache (production). */
                redis: z.enum(["inCluster", "elasticache"]).default("inCluster"),
                /** ElastiCache settings (`redis: elasticache` only). */
                elasticache: elasticacheSchema.optional(),
                /** Namespace of the ratelimit service and its in-cluster Redis. */
                namespace: kubeName("dns1123Label").default(RATE_LIMIT_DEFAULTS.namespace),
                /** ratelimit pods; a PodDisruptionBudget keeps all but one during drains. */
                replicas: positiveInt.default(RATE_LIMIT_DEFAULTS.replicas),
            })
            .optional(),
    });
}

export const rateLimitsSchema = rateLimitsShape(globalLimitSchema);
/** The section with each limit left unchecked: the loader then parses every limit on its own. */
export const rateLimitsEnvelopeSchema = rateLimitsShape(z.unknown());

export const backendSchema = z.strictObject({
    name: kubeName("dns1123Label"),
    /** Requests per second this backend can take (docs/design.md §5: caps the global limit). */
    maxRps: z.number().positive(),
});

export type RateLimitsConfig = z.output<typeof rateLimitsSchema>;
export type GlobalRateLimitConfig = NonNullable<RateLimitsConfig["global"]>;
export type GlobalLimitConfig = GlobalRateLimitConfig["limits"][number];
export type ElastiCacheConfig = z.output<typeof elasticacheSchema>;
export type BackendConfig = z.output<typeof backendSchema>;

/** The rest of the configuration the global limits are checked against. */
export interface RateLimitContext {
    services: ServiceConfig[];
    gateways: GatewayConfig[];
    /** EKS cluster name: the ElastiCache replication group is named after it. */
    clusterName?: string;
}

/** ElastiCache replication group id of a cluster's ratelimit Redis (at most 40 characters). */
export function replicationGroupId(clusterName: string): string {
    return `${clusterName}-ratelimit`;
}

/** The ElastiCache settings of a global limit config, defaults filled in. */
export function elasticacheOf(global: GlobalRateLimitConfig): ElastiCacheConfig {
    return global.elasticache ?? elasticacheSchema.parse({});
}

/* ------------------------------------------------------------------ regexes */

/** RE2's complaint about `regex` as a sentence, or `undefined` when RE2 (Envoy's `safe_regex` engine) compiles it. */
export function re2Problem(regex: string): string | undefined {
    try {
        new RE2(regex, "u");
        return undefined;
    } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        // "Invalid regular expression: /(?=x)/u: invalid perl operator: (?=" -> the part after the pattern.
        return `is not an RE2 regular expression (Envoy's safe_regex): ${message.slice(message.lastIndexOf("/u: ") >= 0 ? message.lastIndexOf("/u: ") + 4 : 0)}`;
    }
}

/**
 * The regex's characters outside escapes and character classes, from `from` on, each with the
 * group depth after it (a `(` counts itself, a `)` is outside its group).
 */
function* structure(regex: string, from = 0): Generator<{ index: number; char: string; depth: number }> {
    let depth = 0;
    let inClass = false;
    for (let i = from; i < regex.length; i++) {
        const c = regex[i];
        if (c === "\\") {
            i++;
        } else if (inClass) {
            inClass = c !== "]";
        } else if (c === "[") {
            inClass = true;
        } else {
            depth += c === "(" ? 1 : c === ")" ? -1 : 0;
            yield { index: i, char: c, depth };
        }
    }
}

/** Index of the `)` closing the group opened at `open`; undefined when it is not closed. */
function closingParen(regex: string, open: number): number | undefined {
    // The group's own "(" is at depth 1: the first character back at depth 0 is its ")".
    for (const { index, depth } of structure(regex, open)) {
        if (depth === 0) {
            return index;
        }
    }
    return undefined;
}

/** The top-level alternatives of a regex (`a|(b|c)` -> `a`, `(b|c)`). */
function alternatives(regex: string): string[] {
    const parts: string[] = [];
    let start = 0;
    for (const { index, char, depth } of structure(regex)) {
        if (char === "|" && depth === 0) {
            parts.push(regex.slice(start, index));
            start = index + 1;
        }
    }
    return [...parts, regex.slice(start)];
}

/**
 * The characters a whole match of `regex` may start with, when they are plain literals; undefined
 * when that cannot be told without running the regex (a class, `.`, an optional first part).
 */
function firstCharacters(regex: string): Set<string> | undefined {
    const result = new Set<string>();
    for (let branch of alternatives(regex)) {
        branch = branch.startsWith("^") ? branch.slice(1) : branch;
        if (branch.startsWith("(")) {
            const close = closingParen(branch, 0);
            if (close === undefined || /^[?*{]/.test(branch.slice(close + 1))) {
                return undefined;
            }
            // After flags or a named group's "(?" ("(?i)", "(?P<name>"), the inner text starts with
            // "?", a metacharacter: its start is not told.
            const first = firstCharacters(branch.slice(branch.startsWith("(?:") ? 3 : 1, close));
            if (first === undefined) {
                return undefined;
            }
            first.forEach((c) => result.add(c));
            continue;
        }
        const prefix = literalPrefix(branch);
        if (prefix === "") {
            return undefined;
        }
        result.add(prefix[0]);
    }
    return result;
}

/**
 * Why a regex can never match a request path, or `undefined`. Envoy matches it against the whole
 * `:path`, which always starts with "/": a regex whose every alternative starts with another
 * literal (`watch/.*`) never limits anything.
 */
export function pathRegexProblem(regex: string): string | undefined {
    const first = firstCharacters(regex);
    if (first === undefined || first.has("/")) {
        return undefined;
    }
    return `can never match a request path: Envoy matches it against the whole :path, which starts with "/", and every match of this regex starts with ${[...first].map((c) => JSON.stringify(c)).join(" or ")}${alternatives(regex).length === 1 ? ` (did you mean ${JSON.stringify(`/${regex.replace(/^\^/, "")}`)}?)` : ""}`;
}

/** Whether RE2 matches `regex` against the whole of `value`, as Envoy's header `safe_regex` does. */
export function re2FullMatch(regex: string, value: string): boolean {
    return new RE2(`^(?:${regex})$`, "u").test(value);
}

const META = new Set([..."\\.[](){}*+?|^$"]);

/**
 * The literal text every string the regex matches (as a whole) starts with: `/watch/(lv\d+)` ->
 * `/watch/`. Stops at the first character that is not a plain literal; a literal followed by `?`,
 * `*` or `{` may be absent and is left out. A top-level alternation has no common prefix.
 */
export function literalPrefix(regex: string): string {
    if (alternatives(regex).length > 1) {
        return "";
    }
    let prefix = "";
    let i = regex.startsWith("^") ? 1 : 0;
    while (i < regex.length) {
        let literal: string;
        let next: number;
        if (regex[i] === "\\") {
            const escaped = regex[i + 1];
            // \d, \w, \b, \p{..}, \x41...: a class or an escape we do not decode; punctuation is itself.
            if (escaped === undefined || /[A-Za-z0-9]/.test(escaped)) {
                break;
            }
            literal = escaped;
            next = i + 2;
        } else if (META.has(regex[i])) {
            break;
        } else {
            literal = regex[i];
            next = i + 1;
        }
        const quantifier = regex[next];
        if (quantifier === "?" || quantifier === "*" || quantifier === "{") {
            break;
        }
        // A `+` after it is a metacharacter: the literal is kept once, and the loop stops there.
        prefix += literal;
        i = next;
    }
    return prefix;
}

/* ------------------------------------------------------------------ capacity */

/** Requests per second a limit lets through on average. */
export function limitRps(limit: Pick<GlobalLimitConfig, "unit" | "requestsPerUnit">): number {
    return limit.requestsPerUnit / UNIT_SECONDS[limit.unit];
}

/** A service whose requests a global limit counts, with its capacity without scale-out. */
export interface CoveredService {
    name: string;
    /** Hosts on which the limited requests reach it. */
    hosts: string[];
    /** Pods at the HPA maximum (or the fixed replica count). */
    pods: number;
    triggerRpsPerPod?: number;
    /** capacityWithoutScaleOut, when the service declares `capacity`. */
    maxRps?: number;
}

/** What a global limit allows, what it reaches, and the ceiling of docs/design.md §5. */
export interface GlobalLimitCapacity {
    limit: GlobalLimitConfig;
    /** Average requests per second the limit lets through. */
    rps: number;
    covered: CoveredService[];
    /** Sum of the covered services' capacity without scale-out; undefined when none declares `capacity`. */
    bffRps?: number;
    /** The smallest declared backend. */
    backend?: BackendConfig;
    /** min(bffRps, backend); undefined when neither is known. */
    ceiling?: number;
}

/** Route owners per host: `[pathPrefix, service]`. */
function ownersByHost(services: ServiceConfig[]): Map<string, [string, string][]> {
    const byHost = new Map<string, [string, string][]>();
    for (const service of services) {
        for (const route of service.routes) {
            byHost.set(route.host, [...(byHost.get(route.host) ?? []), [route.pathPrefix, service.name]]);
        }
    }
    return byHost;
}

/** Owner of the longest route prefix of `path` (how the host routes order prefixes). */
function ownerOf(owners: [string, string][], path: string): string | undefined {
    let best: [string, string] | undefined;
    for (const owner of owners) {
        if (path.startsWith(owner[0]) && (best === undefined || owner[0].length > best[0].length)) {
            best = owner;
        }
    }
    return best?.[1];
}

/**
 * The services a global limit's requests can reach, on the hosts of the gateways that enforce it.
 * The descriptors carry no host, so one counter spans every host. An exact `path` reaches the
 * owner of its longest route prefix on each host. A `pathRegex` matches whole paths that start
 * with its literal prefix L: they reach the owner of L's longest route prefix and every service
 * whose route prefix starts with L. Preview and mirror targets only see part (or a copy) of their
 * owner's traffic and are not counted.
 */
export function coveredServices(limit: GlobalLimitConfig, services: ServiceConfig[], gateways: GatewayConfig[]): CoveredService[] {
    const servedHosts = [...new Set(gateways.flatMap((g) => g.hosts))].sort();
    const byHost = ownersByHost(services);
    const hostsOf = new Map<string, string[]>();
    const add = (service: string | undefined, host: string) => {
        if (service !== undefined && !(hostsOf.get(service) ?? []).includes(host)) {
            hostsOf.set(service, [...(hostsOf.get(service) ?? []), host]);
        }
    };
    for (const host of servedHosts) {
        const owners = byHost.get(host) ?? [];
        if (limit.path !== undefined) {
            add(ownerOf(owners, limit.path), host);
        } else if (limit.pathRegex !== undefined) {
            const prefix = literalPrefix(limit.pathRegex);
            add(ownerOf(owners, prefix), host);
            owners.filter(([p]) => p.startsWith(prefix)).forEach(([, service]) => add(service, host));
        }
    }
    return services
        .filter((s) => hostsOf.has(s.name))
        .map((s) => {
            const capacity = capacityWithoutScaleOut(s);
            return {
                name: s.name,
                hosts: hostsOf.get(s.name) as string[],
                pods: s.hpa?.maxReplicas ?? s.replicas ?? 1,
                triggerRpsPerPod: capacity?.triggerRpsPerPod,
                maxRps: capacity?.maxRps,
            };
        });
}

/**
 * docs/design.md §5: the global limit = min(what the BFFs it reaches serve without scaling out, what
 * the backends can take). Services without `capacity` figures are left out of the sum (their
 * capacity is unknown, not zero); the backend side uses the smallest declared backend.
 */
export function globalLimitCapacity(
    limit: GlobalLimitConfig,
    context: Pick<RateLimitContext, "services" | "gateways">,
    backends: BackendConfig[],
): GlobalLimitCapacity {
    const covered = coveredServices(limit, context.services, context.gateways);
    const known = covered.filter((c) => c.maxRps !== undefined);
    const bffRps = known.length === 0 ? undefined : known.reduce((sum, c) => sum + (c.maxRps as number), 0);
    const backend = backends.length === 0 ? undefined : backends.reduce((min, b) => (b.maxRps < min.maxRps ? b : min));
    const ceiling = bffRps !== undefined ? globalLimitCeiling(bffRps, backend?.maxRps) : backend !== undefined ? backend.maxRps : undefined;
    return { limit, rps: limitRps(limit), covered, bffRps, backend, ceiling };
}

/** A number of requests per second as people write it: at most two decimals. */
export function formatRps(rps: number): string {
    return String(Math.round(rps * 100) / 100);
}

/** "480 rps (pc-watch 40 pods × 6 rps + sp-watch 40 pods × 6 rps)" */
export function describeBffCapacity(capacity: GlobalLimitCapacity): string {
    const known = capacity.covered.filter((c) => c.maxRps !== undefined);
    const terms = known.map((c) => `${c.name} ${c.pods} pods × ${formatRps(c.triggerRpsPerPod as number)} rps`).join(" + ");
    return `${formatRps(capacity.bffRps ?? 0)} rps (${terms})`;
}

/* ------------------------------------------------------------------ checks */

/** What a limit's descriptor is, for duplicate detection and messages. */
function descriptorOf(limit: GlobalLimitConfig): { field: "path" | "pathRegex"; text: string } | undefined {
    if (limit.path !== undefined) {
        return { field: "path", text: `PATH ${limit.path}` };
    }
    return limit.pathRegex === undefined ? undefined : { field: "pathRegex", text: `regex ${limit.pathRegex}` };
}

/**
 * Rules across the global limits and with the rest of the configuration. `context` holds the
 * sections they are checked against, each `undefined` when it did not parse in full (a rule that
 * needs it is skipped: its section's own problems are reported, and a partial list would make the
 * capacity ceiling wrong).
 */
export function checkRateLimits(
    rateLimits: RateLimitsConfig | undefined,
    entries: { items: readonly (GlobalLimitConfig | undefined)[]; complete: boolean; raw: unknown } | undefined,
    backends: BackendConfig[] | undefined,
    rawBackends: unknown,
    report: Report,
    context: Partial<RateLimitContext>,
): void {
    checkUnique(report, rawBackends, "name", ["backends"]);
    const global = rateLimits?.global;
    if (global === undefined || entries === undefined) {
        return;
    }
    const at = (...rest: (string | number)[]) => ["rateLimits", "global", ...rest];
    checkUnique(report, entries.raw, "name", at("limits"));
    const seen = new Map<string, string>();
    entries.items.forEach((limit, l) => {
        if (limit === undefined) {
            return;
        }
        const descriptor = descriptorOf(limit);
        if (descriptor === undefined || (limit.path !== undefined && limit.pathRegex !== undefined)) {
            return;
        }
        const first = seen.get(descriptor.text);
        if (first !== undefined) {
            report(
                at("limits", l, descriptor.field),
                `limits the same requests (${descriptor.text}) as limit ${first}: envoyproxy/ratelimit refuses a duplicate descriptor, and two counters for one path would each let the full rate through`,
            );
        } else {
            seen.set(descriptor.text, limit.name);
        }
    });
    if (global.elasticache !== undefined && global.redis !== "elasticache") {
        report(at("elasticache"), `applies to redis "elasticache" only (redis is "${global.redis}")`);
    }
    if (context.gateways !== undefined && context.gateways.length === 0) {
        report(
            at(),
            "needs an ingress gateway: global limits are enforced by the gateway's Envoy (EnvoyFilters on its pods); add a gateways entry",
        );
    }
    if (global.redis === "elasticache" && context.clusterName !== undefined) {
        const id = replicationGroupId(context.clusterName);
        if (id.length > 40 || id.includes("--")) {
            report(
                at("redis"),
                `the ElastiCache replication group would be named "${id}" (${id.length} characters), which ElastiCache refuses (at most 40 characters, no "--"): shorten cluster.name`,
            );
        }
    }
    const { services, gateways } = context;
    if (services === undefined || gateways === undefined || backends === undefined || !entries.complete) {
        return;
    }
    (entries.items as GlobalLimitConfig[]).forEach((limit, l) => {
        if (descriptorOf(limit) === undefined || (limit.path !== undefined && limit.pathRegex !== undefined)) {
            return;
        }
        if (
            limit.pathRegex !== undefined &&
            (re2Problem(limit.pathRegex) !== undefined || pathRegexProblem(limit.pathRegex) !== undefined)
        ) {
            return;
        }
        const capacity = globalLimitCapacity(limit, { services, gateways }, backends);
        if (capacity.ceiling === undefined || capacity.rps <= capacity.ceiling) {
            return;
        }
        const parts: string[] = [];
        if (capacity.bffRps !== undefined) {
            parts.push(`BFF capacity without scale-out ${describeBffCapacity(capacity)}`);
        }
        if (capacity.backend !== undefined) {
            parts.push(`smallest backend ${capacity.backend.name} ${formatRps(capacity.backend.maxRps)} rps`);
        }
        report(
            at("limits", l, "requestsPerUnit"),
            `${limit.requestsPerUnit} per ${limit.unit} (${formatRps(capacity.rps)} rps) is above the ceiling of ${formatRps(capacity.ceiling)} rps = ` +
                `${parts.length === 1 ? parts[0] : `min(${parts.join(", ")})`}: ` +
                "lower the limit, or raise the HPA maximum or the backend capacity",
        );
    });
}

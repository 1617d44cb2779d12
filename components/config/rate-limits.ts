/** The `rateLimits` and `backends` sections (SYSTEM.md §5). */
import { z } from "zod";
import { checkUnique, kubeName, positiveInt, Report } from "./fields";

const globalLimitSchema = z.strictObject({
    /** Descriptor name, unique. */
    name: kubeName("dns1123Label"),
    /** Exact request path (`:path` descriptor). */
    path: z.string().startsWith("/").optional(),
    /** RE2 regular expression on the path (`header_value_match`), e.g. `/watch/(lv\d+)`. */
    pathRegex: z.string().min(1).optional(),
    unit: z.enum(["second", "minute", "hour", "day"]),
    requestsPerUnit: positiveInt,
});

export const rateLimitsSchema = z.strictObject({
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
            limits: z.array(globalLimitSchema).min(1),
            /** In-cluster Redis (dev) or ElastiCache (production). */
            redis: z.enum(["inCluster", "elasticache"]).default("inCluster"),
        })
        .optional(),
});

export const backendSchema = z.strictObject({
    name: kubeName("dns1123Label"),
    /** Requests per second this backend can take (SYSTEM.md §5: caps the global limit). */
    maxRps: z.number().positive(),
});

export type RateLimitsConfig = z.output<typeof rateLimitsSchema>;
export type BackendConfig = z.output<typeof backendSchema>;

export function checkRateLimits(rateLimits: RateLimitsConfig, backends: BackendConfig[], report: Report): void {
    checkUnique(report, backends, "name", ["backends"]);
    const limits = rateLimits.global?.limits ?? [];
    checkUnique(report, limits, "name", ["rateLimits", "global", "limits"]);
    limits.forEach((limit, l) => {
        if ((limit.path === undefined) === (limit.pathRegex === undefined)) {
            report(["rateLimits", "global", "limits", l], "set exactly one of path and pathRegex");
        }
    });
}

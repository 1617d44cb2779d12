/**
 * One list of limits, two views of it (docs/design.md §5): the route actions the gateway's Envoy runs
 * to build a descriptor for each request, and the descriptors the ratelimit service counts. Both
 * are derived from the same {@link RateLimitRule} of each configured limit, so an action and its
 * descriptor cannot drift apart.
 *
 * - `path`: the action `header_value_match {descriptor_key: PATH, descriptor_value: <path>}` sends
 *   `(PATH, <path>)` for the requests whose `:path` is that path, with or without a query string
 *   ({@link envoyExactPathMatch}); the descriptor `PATH: <path>` limits them. A `path` that has a
 *   query itself (`/api/search?q=top`) counts only that exact `:path`. One action per limit.
 * - `pathRegex`: the action `header_value_match` sends `(header_match, <limit name>)` for the
 *   requests whose `:path` matches the RE2 regex followed by an optional path tail and query
 *   string ({@link envoyPathRegex}); the descriptor `header_match: <name>` limits them. One action
 *   per limit.
 *
 * Envoy appends a `header_value_match` entry only when the headers match (expect_match defaults to
 * true), so a request no limit names sends no descriptor and costs no counter.
 */
import { GlobalLimitConfig, GlobalRateLimitConfig } from "../config";

/** Descriptor key of a `path` limit (the handbook's name). */
export const PATH_DESCRIPTOR_KEY = "PATH";
/** Descriptor key Envoy gives every `header_value_match` entry. */
export const HEADER_MATCH_DESCRIPTOR_KEY = "header_match";

/** One entry of a descriptor: what the gateway sends and the ratelimit service matches. */
export interface DescriptorEntry {
    key: string;
    value: string;
}

/** A configured limit with the descriptor entry it limits and the action that produces the entry. */
export interface RateLimitRule {
    limit: GlobalLimitConfig;
    entry: DescriptorEntry;
    /** An Envoy `config.route.v3.RateLimit.Action`. */
    action: Record<string, unknown>;
}

/** RE2's metacharacters; each escaped stands for itself (RE2 syntax: `\*` is a "literal *, for any punctuation character *"). */
const RE2_META = /[\\.+*?()|[\]{}^$]/g;

/**
 * How Envoy recognizes the requests of a `path` limit in `:path`, which carries the query string
 * (Envoy's `HeaderMatcher` on `:path` sees the request line's target). A path without `?` matches
 * itself followed by an optional query, `<path>(?:\?.*)?` with the path's metacharacters
 * escaped: `/` counts `/` and `/?ref=x` (a query must not slip past the limit) but not `/a` or `//`.
 * A path with a query is matched exactly, as written.
 */
export function envoyExactPathMatch(path: string): { exact: string } | { safe_regex: { regex: string } } {
    return path.includes("?") ? { exact: path } : { safe_regex: { regex: `${path.replace(RE2_META, "\\$&")}(?:\\?.*)?` } };
}

/**
 * The regex Envoy matches against the whole `:path` for a `pathRegex` limit. Envoy's
 * `string_match.safe_regex` must match the entire value (envoy/type/matcher/v3/regex.proto:
 * "The regex match string. The string must be supported by the configured engine. The regex is
 * matched against the full string, not as a partial match"), and `:path` carries the query string,
 * so `/watch/(lv\d+)` alone misses `/watch/lv1?ref=x` and `/watch/lv1/`. The configured regex is
 * therefore followed by an optional tail after a `/` and an optional query:
 * `(?:<regex>)(?:/[^?]*)?(?:\?.*)?`. `/watch/lv1x` still does not match (no `/` before the tail).
 */
export function envoyPathRegex(pathRegex: string): string {
    return `(?:${pathRegex})(?:/[^?]*)?(?:\\?.*)?`;
}

/**
 * Why a `pathRegex` cannot tolerate a tail or a query even so, or `undefined`: an end anchor (`$`,
 * `\z`) ends the match before them, and a literal `?` means the regex matches the query itself.
 */
export function pathRegexWarning(pathRegex: string): string | undefined {
    // Escaped characters other than \z and \? are plain literals: drop them before looking.
    // Stryker disable next-line StringLiteral: equivalent, any replacement without "$" or "\" reads the same.
    const bare = pathRegex.replace(/\\([^z?])/g, "");
    if (/\$|\\z/.test(bare)) {
        return `${JSON.stringify(pathRegex)} ends with an anchor: requests with a path tail or a query string (/x/ or /x?ref=y) are not counted`;
    }
    if (bare.includes("\\?")) {
        return `${JSON.stringify(pathRegex)} matches a query string itself: requests with other or reordered query parameters may not be counted`;
    }
    return undefined;
}

/** The rules of a global limit config, in config order. */
export function rateLimitRules(global: GlobalRateLimitConfig): RateLimitRule[] {
    return global.limits.map((limit) => {
        const path = limit.path;
        const entry =
            path === undefined ? { key: HEADER_MATCH_DESCRIPTOR_KEY, value: limit.name } : { key: PATH_DESCRIPTOR_KEY, value: path };
        // `string_match.safe_regex` (Envoy >= 1.19) replaces the handbook's deprecated
        // `safe_regex_match`; RE2 is the only engine, so no `google_re2` either. A regex must match
        // the whole :path, query included: see envoyPathRegex and envoyExactPathMatch.
        const stringMatch =
            path === undefined ? { safe_regex: { regex: envoyPathRegex(limit.pathRegex as string) } } : envoyExactPathMatch(path);
        return {
            limit,
            entry,
            action: {
                header_value_match: {
                    // A path limit's `descriptor_key` (config.route.v3.RateLimit.Action.HeaderValueMatch in
                    // the Envoy of the Istio we install: "The key to use in the descriptor entry. Defaults
                    // to ``header_match``") keeps the handbook's `PATH: <path>` descriptor, so the
                    // ratelimit service's configuration and its Redis counters are those of the
                    // handbook's `request_headers` action, which sent the whole :path and so let
                    // `/?x=1` past a limit on `/`. A regex limit keeps Envoy's default key.
                    ...(path === undefined ? {} : { descriptor_key: entry.key }),
                    descriptor_value: entry.value,
                    headers: [{ name: ":path", string_match: stringMatch }],
                },
            },
        };
    });
}

/** The ratelimit service's configuration file (`config.yaml`): domain and descriptors. */
export function descriptorsConfig(global: GlobalRateLimitConfig): Record<string, unknown> {
    return {
        domain: global.domain,
        descriptors: rateLimitRules(global).map(({ limit, entry }) => ({
            key: entry.key,
            value: entry.value,
            rate_limit: { unit: limit.unit, requests_per_unit: limit.requestsPerUnit },
        })),
    };
}

/**
 * The route `rate_limits` of the gateway's virtual hosts: one rate limit configuration per limit,
 * each with its one action (a configuration yields its descriptor when its action applies).
 */
export function routeRateLimits(global: GlobalRateLimitConfig): { actions: Record<string, unknown>[] }[] {
    return rateLimitRules(global).map(({ action }) => ({ actions: [action] }));
}

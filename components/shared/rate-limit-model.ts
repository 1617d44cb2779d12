/**
 * Models of the two local limiters (docs/design.md §5), request by request, so that tests and the
 * benchmark can compare what real nginx does with what it should do, and the report can show
 * what a burst does to a pod.
 *
 * nginx `limit_req` (ngx_http_limit_req_module): "excess" grows by one request per request and
 * drains at the rate; a request whose excess would pass `burst` is rejected (and does not count);
 * one whose excess passes `delay` waits (excess - delay) / rate.
 * envoy `local_ratelimit`: a bucket of `maxTokens`, refilled with `tokensPerFill` every
 * `fillIntervalMs`; a request without a token is rejected, none waits.
 */

export interface Outcome {
    accepted: boolean;
    /** Time the request waits in the limiter before reaching the app, in ms. */
    delayMs: number;
}

export interface LeakyBucket {
    requestsPerSecond: number;
    burst: number;
    /** Requests of a burst forwarded without waiting; nginx's default is 0 (all wait). */
    delay?: number;
}

/** nginx's leaky bucket, on arrival times in ms (sorted). */
export function leakyBucket(arrivalsMs: number[], limit: LeakyBucket): Outcome[] {
    const rate = limit.requestsPerSecond * 1000; // milli-requests per second, as nginx keeps it
    let excess = 0;
    let last: number | undefined;
    return arrivalsMs.map((now) => {
        if (last === undefined) {
            last = now;
            excess = 0;
            return { accepted: true, delayMs: 0 };
        }
        const elapsed = Math.max(0, now - last);
        const next = Math.max(0, excess - (rate * elapsed) / 1000 + 1000);
        if (next > limit.burst * 1000) {
            return { accepted: false, delayMs: 0 };
        }
        excess = next;
        last = now;
        const free = (limit.delay ?? 0) * 1000;
        // Stryker disable next-line EqualityOperator: equivalent, at excess = free both give 0.
        return { accepted: true, delayMs: excess > free ? ((excess - free) * 1000) / rate : 0 };
    });
}

export interface TokenBucket {
    maxTokens: number;
    tokensPerFill: number;
    fillIntervalMs: number;
}

/** envoy's token bucket, on arrival times in ms (sorted); the bucket starts full. */
export function tokenBucket(arrivalsMs: number[], limit: TokenBucket): Outcome[] {
    let tokens = limit.maxTokens;
    let lastFill = arrivalsMs[0] ?? 0;
    return arrivalsMs.map((now) => {
        // Whole intervals since the last fill (arrivals are sorted: never negative).
        const fills = Math.floor((now - lastFill) / limit.fillIntervalMs);
        tokens = Math.min(limit.maxTokens, tokens + fills * limit.tokensPerFill);
        lastFill += fills * limit.fillIntervalMs;
        if (tokens >= 1) {
            tokens -= 1;
            return { accepted: true, delayMs: 0 };
        }
        return { accepted: false, delayMs: 0 };
    });
}

/** Arrival times of `count` requests sent evenly at `perSecond`, starting at 0. */
export function evenArrivals(perSecond: number, seconds: number): number[] {
    const count = Math.round(perSecond * seconds);
    return Array.from({ length: count }, (_, i) => (i * 1000) / perSecond);
}

/** Counts of an outcome list: accepted at once, accepted after waiting, rejected. */
export function summarize(outcomes: Outcome[]): { immediate: number; delayed: number; rejected: number; maxDelayMs: number } {
    const accepted = outcomes.filter((o) => o.accepted);
    return {
        immediate: accepted.filter((o) => o.delayMs === 0).length,
        delayed: accepted.filter((o) => o.delayMs > 0).length,
        rejected: outcomes.length - accepted.length,
        maxDelayMs: Math.max(0, ...accepted.map((o) => o.delayMs)),
    };
}

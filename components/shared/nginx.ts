/**
 * nginx's leaky bucket (`limit_req`), one rendering for every nginx this program configures (the
 * gateway sidecar and the services' rate-limiter sidecars), so the same settings mean the same.
 */

/** A leaky bucket: `burst` requests wait in the queue; the first `delay` of them are not delayed. */
export interface NginxLeakyBucket {
    burst: number;
    /** Omitted: every request above the rate waits (nginx's default, the handbook's queueing). */
    delay?: number;
}

/** The `limit_req` and `limit_req_status` directives of a location using zone `zone`. */
export function limitReqDirectives(zone: string, limit: NginxLeakyBucket): string[] {
    const delay = limit.delay === undefined ? "" : ` delay=${limit.delay}`;
    return [`limit_req zone=${zone} burst=${limit.burst}${delay};`, "limit_req_status 429;"];
}

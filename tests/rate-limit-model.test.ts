import assert from "node:assert/strict";
import { evenArrivals, leakyBucket, summarize, tokenBucket } from "../components/shared";

describe("local rate limit models (docs/design.md §5)", () => {
    const burst70 = Array.from({ length: 70 }, () => 0);

    it("nginx at 70 requests in one instant, 10 r/s, burst 50, delay 10: 11 at once, 40 queued up to 4 s, 19 rejected", () => {
        const outcomes = leakyBucket(burst70, { requestsPerSecond: 10, burst: 50, delay: 10 });
        assert.deepEqual(summarize(outcomes), { immediate: 11, delayed: 40, rejected: 19, maxDelayMs: 4000 });
        // Queued requests leave FIFO, one every 100 ms.
        const delays = outcomes.filter((o) => o.accepted && o.delayMs > 0).map((o) => o.delayMs);
        assert.deepEqual(delays.slice(0, 3), [100, 200, 300]);
    });

    it("envoy at the same burst, bucket 50 refilled 10/s: 50 pass at once, 20 rejected, none waits", () => {
        const outcomes = tokenBucket(burst70, { maxTokens: 50, tokensPerFill: 10, fillIntervalMs: 1000 });
        assert.deepEqual(summarize(outcomes), { immediate: 50, delayed: 0, rejected: 20, maxDelayMs: 0 });
    });

    it("nginx under a sustained 70 r/s: the queue fills, then the rate passes and the rest is rejected", () => {
        const outcomes = leakyBucket(evenArrivals(70, 3), { requestsPerSecond: 10, burst: 50, delay: 10 });
        const { immediate, delayed, rejected } = summarize(outcomes);
        // 1 + 50 (queue) + 10 r/s drained over ~3 s.
        assert.ok(Math.abs(immediate + delayed - 81) <= 1, `${immediate + delayed} accepted`);
        assert.equal(immediate + delayed + rejected, 210);
    });

    it("lets everything through below the rate", () => {
        assert.equal(summarize(leakyBucket(evenArrivals(5, 2), { requestsPerSecond: 10, burst: 0 })).rejected, 0);
        assert.equal(summarize(tokenBucket(evenArrivals(5, 2), { maxTokens: 10, tokensPerFill: 10, fillIntervalMs: 1000 })).rejected, 0);
    });

    it("envoy refills whole intervals from the last fill, never above the bucket size", () => {
        const limit = { maxTokens: 2, tokensPerFill: 1, fillIntervalMs: 100 };
        const arrivals = [0, 0, 0, 99, 100, 250, 299, 300, 1000, 1000, 1000];
        assert.deepEqual(
            tokenBucket(arrivals, limit).map((o) => o.accepted),
            [true, true, false, false, true, true, false, true, true, true, false],
        );
        // The first interval starts at the first request, not at 0.
        assert.deepEqual(
            tokenBucket([1050, 1050, 1050, 1100], limit).map((o) => o.accepted),
            [true, true, false, false],
        );
        // Two tokens per fill.
        assert.deepEqual(
            tokenBucket([0, 0, 0, 100, 100, 100], { maxTokens: 2, tokensPerFill: 2, fillIntervalMs: 100 }).map((o) => o.accepted),
            [true, true, false, true, true, false],
        );
    });

    it("delays every queued request when no delay is set (nginx's default)", () => {
        const { immediate, delayed } = summarize(leakyBucket([0, 0, 0], { requestsPerSecond: 10, burst: 5 }));
        assert.deepEqual([immediate, delayed], [1, 2]);
    });
});

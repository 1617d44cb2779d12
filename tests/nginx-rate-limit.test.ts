/**
 * The rendered nginx limiter with Debian's nginx (installed by .ci/run), on loopback, against the
 * behaviour SYSTEM.md §5 describes and the request-by-request model of it.
 */
import assert from "node:assert/strict";
import { leakyBucket, summarize } from "../components/shared";
import { RunningLimiter, sendAt, startRateLimiter } from "../tools/bench-rate-limit";

const HANDBOOK = { requestsPerSecond: 10, burst: 50, delay: 10 };

describe("nginx leaky-bucket limiter, for real", function () {
    this.timeout(60_000);
    let limiter: RunningLimiter | undefined;

    afterEach(async () => {
        await limiter?.stop();
        limiter = undefined;
    });

    it("passes the rendered configuration through nginx -t and forwards requests", async () => {
        limiter = await startRateLimiter(HANDBOOK);
        const [answer] = await sendAt(limiter.port, [0]);
        assert.equal(answer.status, 200);
        assert.match(limiter.conf, /limit_req zone=pod burst=50 delay=10;/);
        assert.match(limiter.conf, /limit_req_status 429;/);
    });

    it("at 70 requests in one instant: about 11 forwarded at once, 40 queued FIFO up to 4 s, 19 answered 429", async () => {
        limiter = await startRateLimiter(HANDBOOK);
        const answers = await sendAt(
            limiter.port,
            Array.from({ length: 70 }, () => 0),
        );
        const ok = answers.filter((a) => a.status === 200).map((a) => a.latencyMs);
        const rejected = answers.filter((a) => a.status === 429);
        const model = summarize(
            leakyBucket(
                Array.from({ length: 70 }, () => 0),
                HANDBOOK,
            ),
        );
        // Tolerance: requests land on nginx over a few ms, during which the bucket drains a little.
        assert.ok(Math.abs(rejected.length - model.rejected) <= 3, `429s: measured ${rejected.length}, model ${model.rejected}`);
        assert.equal(ok.length + rejected.length, 70, "every request got an answer");
        const immediate = ok.filter((ms) => ms < 90).length;
        assert.ok(Math.abs(immediate - model.immediate) <= 3, `immediate: measured ${immediate}, model ${model.immediate}`);
        const slowest = Math.max(...ok);
        assert.ok(slowest > 3500 && slowest < 4700, `the last queued request waited ${slowest.toFixed(0)} ms (model ${model.maxDelayMs})`);
        // 429s are answered at once, not after queueing.
        assert.ok(Math.max(...rejected.map((r) => r.latencyMs)) < 500);
        // FIFO at the rate: the queued answers are spread about 100 ms apart.
        const queued = ok.filter((ms) => ms >= 90).sort((a, b) => a - b);
        const spacing = (queued[queued.length - 1] - queued[0]) / (queued.length - 1);
        assert.ok(spacing > 80 && spacing < 120, `queued answers ${spacing.toFixed(0)} ms apart`);
    });

    it("under a sustained 70 r/s for 2 s: the queue, then the configured rate, gets through", async () => {
        limiter = await startRateLimiter(HANDBOOK);
        const arrivals = Array.from({ length: 140 }, (_, i) => (i * 1000) / 70);
        const answers = await sendAt(limiter.port, arrivals);
        const accepted = answers.filter((a) => a.status === 200).length;
        const model = summarize(leakyBucket(arrivals, HANDBOOK));
        const expected = model.immediate + model.delayed;
        assert.ok(Math.abs(accepted - expected) <= Math.ceil(expected * 0.1), `accepted: measured ${accepted}, model ${expected} (±10%)`);
        assert.equal(answers.filter((a) => a.status !== 200 && a.status !== 429).length, 0, "nothing but 200 and 429");
    });
});

/**
 * The rendered nginx limiter with Debian's nginx (installed by .ci/run), on loopback, against the
 * behaviour docs/design.md §5 describes and the request-by-request model of it.
 */
import assert from "node:assert/strict";
import { leakyBucket, summarize } from "../components/shared";
import { request, RunningLimiter, sendAt, startRateLimiter } from "../harness/rate-limiter";

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
        // What nginx let through and when, seen by the upstream (client-side latencies also hold the
        // connection set-up, which a loaded machine stretches): the ones not delayed arrive together,
        // the queued ones one per 100 ms after them.
        const arrivals = limiter.arrivalsMs.map((t) => t - limiter!.arrivalsMs[0]).sort((a, b) => a - b);
        assert.equal(arrivals.length, ok.length, "every 200 reached the upstream once");
        const immediate = arrivals.filter((t) => t < 80).length;
        assert.ok(Math.abs(immediate - model.immediate) <= 3, `not delayed: measured ${immediate}, model ${model.immediate}`);
        const last = arrivals[arrivals.length - 1];
        assert.ok(
            last > 3500 && last < 4700,
            `the last queued request reached the app after ${last.toFixed(0)} ms (model ${model.maxDelayMs})`,
        );
        const queued = arrivals.filter((t) => t >= 80);
        const spacing = (queued[queued.length - 1] - queued[0]) / (queued.length - 1);
        assert.ok(spacing > 80 && spacing < 120, `queued requests reached the app ${spacing.toFixed(0)} ms apart`);
        // 429s are answered at once, not after queueing.
        assert.ok(Math.max(...rejected.map((r) => r.latencyMs)) < 1000);
    });

    it("answers the liveness probe itself, on its health port, while the bucket is full", async () => {
        limiter = await startRateLimiter(HANDBOOK);
        // 70 at once: a 4 s queue and 429s on the service port while the probes run.
        const flood = sendAt(
            limiter.port,
            Array.from({ length: 70 }, () => 0),
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
        for (let i = 0; i < 20; i++) {
            // 204 comes from nginx itself (the upstream answers 200), at once, not after the queue.
            const probe = await request(limiter.healthPort, 2000, "/healthz");
            assert.equal(probe.status, 204);
            assert.ok(probe.latencyMs < 500, `answered in ${probe.latencyMs.toFixed(0)} ms, not queued`);
        }
        assert.equal((await request(limiter.healthPort, 2000, "/")).status, 404, "nothing else on the health port");
        const answers = await flood;
        assert.ok(answers.filter((a) => a.status === 429).length >= 15, "the service port was limited meanwhile");
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

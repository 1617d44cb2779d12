/**
 * Benchmark of the services' nginx leaky-bucket limiter: acceptance at multiples of its rate on
 * real nginx, against the request-by-request model (`npm run bench`).
 */
import { evenArrivals, LeakyBucket, leakyBucket, summarize } from "../components/shared";
import { sendAt, startRateLimiter } from "../harness/rate-limiter";

export interface AcceptanceRow {
    multiple: number;
    offeredRps: number;
    sent: number;
    measuredAccepted: number;
    modelAccepted: number;
}

/** Acceptance of the limiter at `multiples` of its rate, each for `seconds`, against the model. */
export async function acceptanceAtMultiples(limit: LeakyBucket, multiples: number[], seconds: number): Promise<AcceptanceRow[]> {
    const rows: AcceptanceRow[] = [];
    for (const multiple of multiples) {
        const limiter = await startRateLimiter(limit);
        try {
            const arrivals = evenArrivals(limit.requestsPerSecond * multiple, seconds);
            const measured = await sendAt(limiter.port, arrivals);
            const model = summarize(leakyBucket(arrivals, limit));
            rows.push({
                multiple,
                offeredRps: limit.requestsPerSecond * multiple,
                sent: arrivals.length,
                measuredAccepted: measured.filter((m) => m.status === 200).length,
                modelAccepted: model.immediate + model.delayed,
            });
        } finally {
            await limiter.stop();
        }
    }
    return rows;
}

/** Prints the acceptance table of the handbook's limiter (10 r/s, burst 50, delay 10). */
export async function benchRateLimiter(seconds = 3): Promise<void> {
    const limit = { requestsPerSecond: 10, burst: 50, delay: 10 };
    console.log(
        `\nbench: nginx leaky-bucket limiter (rate ${limit.requestsPerSecond} r/s, burst ${limit.burst}, delay ${limit.delay}), ` +
            `real nginx on loopback, ${seconds} s per load, requests sent evenly`,
    );
    const rows = await acceptanceAtMultiples(limit, [2, 7, 20], seconds);
    console.log("| load | offered rps | sent | accepted (measured) | accepted (model) | acceptance measured | acceptance model |");
    console.log("|-----:|------------:|-----:|--------------------:|-----------------:|--------------------:|-----------------:|");
    for (const r of rows) {
        const pct = (n: number) => `${((100 * n) / r.sent).toFixed(1)}%`;
        console.log(
            `| ${r.multiple}× | ${r.offeredRps} | ${r.sent} | ${r.measuredAccepted} | ${r.modelAccepted} | ${pct(r.measuredAccepted)} | ${pct(r.modelAccepted)} |`,
        );
    }
}

if (require.main === module) {
    benchRateLimiter().then(
        () => process.exit(0),
        (error) => {
            console.error(error);
            process.exit(1);
        },
    );
}

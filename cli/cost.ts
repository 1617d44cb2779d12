/**
 * A monthly cost estimate of a stack for report.md: nodes at their minimum and maximum counts,
 * the EKS control plane, ElastiCache and NAT gateways. CloudFront, S3, data transfer and load
 * balancers are usage-based and left out (named in the report).
 *
 * Prices come from one table, with its date and region: AWS list prices (USD per hour, Linux,
 * ap-northeast-1) as of 2026-11, rounded. Spot prices are typical prices of that month: they move
 * hourly and per availability zone, so a spot estimate is a guide, not a quote. Check
 * https://aws.amazon.com/ec2/pricing/ before a budget decision; an instance type missing here is
 * named in the report instead of guessed.
 */
import { natGatewayCount, RATE_LIMIT_DEFAULTS, StackConfig } from "../components/config";
import { INTERFACE_ENDPOINTS } from "../components/network";

export const PRICES = {
    date: "2026-11",
    region: "ap-northeast-1",
    hoursPerMonth: 730,
    /** USD per hour: on-demand list price, and a typical spot price. */
    ec2: {
        "c5.large": { onDemand: 0.107, spot: 0.038 },
        "c5.xlarge": { onDemand: 0.214, spot: 0.076 },
        "c6a.large": { onDemand: 0.0963, spot: 0.035 },
        "c6a.xlarge": { onDemand: 0.1926, spot: 0.07 },
        "c6i.large": { onDemand: 0.107, spot: 0.039 },
        "c6i.xlarge": { onDemand: 0.214, spot: 0.078 },
        "c6i.2xlarge": { onDemand: 0.428, spot: 0.156 },
        "c6i.4xlarge": { onDemand: 0.856, spot: 0.312 },
        "m6i.large": { onDemand: 0.124, spot: 0.045 },
        "m6i.xlarge": { onDemand: 0.248, spot: 0.09 },
    } as Record<string, { onDemand: number; spot: number }>,
    /** ElastiCache node, USD per hour. */
    elasticache: { "cache.m7g.large": 0.206, "cache.r7g.large": 0.274 } as Record<string, number>,
    /** EKS control plane (standard support), USD per hour. */
    eksControlPlane: 0.1,
    /** NAT gateway, USD per hour (data processing is usage-based). */
    natGateway: 0.062,
    /** VPC interface endpoint, USD per hour per availability zone (data processing is usage-based). */
    vpcInterfaceEndpoint: 0.014,
} as const;

export interface CostLine {
    item: string;
    min: number;
    max: number;
    note: string;
}

export interface CostEstimate {
    lines: CostLine[];
    min: number;
    max: number;
    /** Instance or node types without a price in the table. */
    unpriced: string[];
}

/**
 * The estimate of a stack: `natGateways` counts the NAT gateways the stack creates (default: those
 * of `network`, none when the network is not ours).
 */
export function estimateMonthlyCost(config: StackConfig, natGateways = natGatewayCount(config.network)): CostEstimate {
    const hours = PRICES.hoursPerMonth;
    const lines: CostLine[] = [
        { item: "EKS control plane", min: PRICES.eksControlPlane * hours, max: PRICES.eksControlPlane * hours, note: "standard support" },
    ];
    const unpriced: string[] = [];
    for (const pool of config.nodePools) {
        // A pool of several types is priced at its most expensive one: the estimate errs high.
        const prices = pool.instanceTypes.map((t) => PRICES.ec2[t]);
        if (prices.some((p) => p === undefined)) {
            unpriced.push(...pool.instanceTypes.filter((t) => PRICES.ec2[t] === undefined));
            continue;
        }
        const hourly = Math.max(...prices.map((p) => (pool.capacityType === "SPOT" ? p.spot : p.onDemand)));
        const scheduleNote = config.schedule === undefined ? "" : "; before the night schedule, which stops them outside working hours";
        lines.push({
            item: `node pool ${pool.name} (${pool.instanceTypes.join(", ")}, ${pool.capacityType.toLowerCase().replace("_", "-")})`,
            min: hourly * hours * pool.minSize,
            max: hourly * hours * pool.maxSize,
            note: `${pool.minSize}..${pool.maxSize} nodes${scheduleNote}`,
        });
    }
    const global = config.rateLimits.global;
    // Without an elasticache block the component uses its defaults (cache.m7g.large × 2).
    const cache = global?.redis === "elasticache" ? (global.elasticache ?? RATE_LIMIT_DEFAULTS.elasticache) : undefined;
    if (cache !== undefined) {
        const price = PRICES.elasticache[cache.nodeType];
        if (price === undefined) {
            unpriced.push(cache.nodeType);
        } else {
            const monthly = price * hours * cache.numCacheClusters;
            lines.push({
                item: `ElastiCache ${cache.nodeType} × ${cache.numCacheClusters}`,
                min: monthly,
                max: monthly,
                note: "rate-limit counters",
            });
        }
    }
    if (natGateways > 0) {
        const monthly = PRICES.natGateway * hours * natGateways;
        lines.push({ item: `NAT gateway × ${natGateways}`, min: monthly, max: monthly, note: "plus data processed" });
    }
    const zones = config.network?.create === true ? (config.network.availabilityZones?.length ?? 0) : 0;
    if (zones > 0) {
        const monthly = PRICES.vpcInterfaceEndpoint * hours * INTERFACE_ENDPOINTS.length * zones;
        lines.push({
            item: `VPC interface endpoints × ${INTERFACE_ENDPOINTS.length} in ${zones} AZs`,
            min: monthly,
            max: monthly,
            note: `${INTERFACE_ENDPOINTS.join(", ")}; plus data processed (the S3 gateway endpoint is free)`,
        });
    }
    return {
        lines,
        min: lines.reduce((s, l) => s + l.min, 0),
        max: lines.reduce((s, l) => s + l.max, 0),
        unpriced: [...new Set(unpriced)].sort(),
    };
}

const usd = (value: number) => `$${Math.round(value).toLocaleString("en-US")}`;

/** The report.md section of the estimate, with the budget line when the stack sets one. */
export function costSection(config: StackConfig): string[] {
    const estimate = estimateMonthlyCost(config);
    const lines = [
        "## Monthly cost estimate",
        "",
        `Prices: AWS list prices in ${PRICES.region} as of ${PRICES.date} (cli/cost.ts), ${PRICES.hoursPerMonth} hours a month. ` +
            "Usage-based and not included: CloudFront, S3, data transfer, load balancers, CloudWatch.",
        "",
        "| item | at minimum | at maximum | note |",
        "| --- | ---: | ---: | --- |",
        ...estimate.lines.map((l) => `| ${l.item} | ${usd(l.min)} | ${usd(l.max)} | ${l.note} |`),
        `| **total** | **${usd(estimate.min)}** | **${usd(estimate.max)}** | |`,
    ];
    if (estimate.unpriced.length > 0) {
        lines.push("", `Not priced (no entry in the table): ${estimate.unpriced.join(", ")}.`);
    }
    const warning = budgetWarning(config);
    if (warning !== undefined) {
        lines.push("", `**${warning}**`);
    }
    return [...lines, ""];
}

/** A sentence when the estimate at maximum node counts exceeds `cost.monthlyBudgetUsd`. */
export function budgetWarning(config: StackConfig): string | undefined {
    const budget = config.cost.monthlyBudgetUsd;
    if (budget === undefined) {
        return undefined;
    }
    const { max } = estimateMonthlyCost(config);
    return max > budget
        ? `over budget: up to ${usd(max)} a month at maximum node counts, budget ${usd(budget)} (cost.monthlyBudgetUsd)`
        : undefined;
}

/**
 * Kubernetes resource quantities ("500m", "1.5", "128Mi", "1G", "2e3"), parsed exactly.
 *
 * CPU is kept in integer millicores and memory in integer bytes, both rounded up the way the
 * API server rounds them, so that sums over hundreds of pods do not drift (0.1 + 0.2 !== 0.3).
 */

const BINARY_SUFFIXES: Record<string, bigint> = {
    Ki: 1n << 10n,
    Mi: 1n << 20n,
    Gi: 1n << 30n,
    Ti: 1n << 40n,
    Pi: 1n << 50n,
    Ei: 1n << 60n,
};
/** Decimal suffixes as powers of ten. */
const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** An exact rational number of base units: numerator / denominator. */
interface Rational {
    numerator: bigint;
    denominator: bigint;
}

/** Thrown for a string that is not a Kubernetes quantity. */
export class QuantityError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "QuantityError";
    }
}

/** Returns what is wrong with `text` as a quantity, or `undefined` when it parses. */
export function checkQuantity(text: string): string | undefined {
    return QUANTITY.test(String(text).trim())
        ? undefined
        : `"${text}" is not a Kubernetes quantity (examples: 250m, 1, 1.5, 512Mi, 2Gi, 1G)`;
}

/**
 * Returns what is wrong with `text` as a memory quantity, or `undefined`. The API server accepts
 * any quantity, but memory is counted in whole bytes: `512m` is 0.512 bytes (a slip for `512Mi`),
 * which the kubelet rounds up to a 1-byte limit and the container is OOM-killed at start.
 */
export function checkMemoryQuantity(text: string): string | undefined {
    const problem = checkQuantity(text);
    if (problem !== undefined) {
        return problem;
    }
    const { numerator, denominator } = parseRational(text);
    if (numerator % denominator !== 0n) {
        return `"${text}" is not a whole number of bytes (${text.endsWith("m") ? `the suffix m means thousandths; did you mean "${text.slice(0, -1)}Mi"?` : "memory is counted in bytes"}; e.g. 512Mi, 1Gi)`;
    }
    return undefined;
}

function parseRational(text: string): Rational {
    const match = QUANTITY.exec(String(text).trim());
    if (match === null) {
        throw new QuantityError(checkQuantity(text) as string);
    }
    const [, sign, number, suffix = ""] = match;
    const [whole, fraction = ""] = number.split(".");
    // The pattern has a digit in `whole` or in `fraction`.
    const digits = BigInt(whole + fraction);
    let numerator = sign === "-" ? -digits : digits;
    let denominator = 10n ** BigInt(fraction.length);
    if (suffix in BINARY_SUFFIXES) {
        numerator *= BINARY_SUFFIXES[suffix];
    } else {
        const exponent = suffix in DECIMAL_SUFFIXES ? DECIMAL_SUFFIXES[suffix] : Number(suffix.slice(1));
        // Stryker disable next-line EqualityOperator: equivalent, at 0 both branches multiply by 10^0.
        if (exponent >= 0) {
            numerator *= 10n ** BigInt(exponent);
        } else {
            denominator *= 10n ** BigInt(-exponent);
        }
    }
    return { numerator, denominator };
}

function ceilDiv(numerator: bigint, denominator: bigint): bigint {
    const quotient = numerator / denominator;
    return numerator % denominator > 0n ? quotient + 1n : quotient;
}

/** CPU quantity in millicores, rounded up to the next millicore ("0.1" -> 100, "250m" -> 250). */
export function parseCpuMillis(text: string): number {
    const { numerator, denominator } = parseRational(text);
    return Number(ceilDiv(numerator * 1000n, denominator));
}

/** Memory quantity in bytes, rounded up to the next byte ("128Mi" -> 134217728, "1G" -> 1e9). */
export function parseMemoryBytes(text: string): number {
    const { numerator, denominator } = parseRational(text);
    return Number(ceilDiv(numerator, denominator));
}

/** Canonical CPU quantity: whole cores as "2", anything else in millicores as "1500m". */
export function formatCpu(millis: number): string {
    return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/** Canonical memory quantity: the largest binary suffix that divides exactly ("1536Mi", "2Gi"). */
export function formatMemory(bytes: number): string {
    for (const suffix of ["Ei", "Pi", "Ti", "Gi", "Mi", "Ki"]) {
        const unit = Number(BINARY_SUFFIXES[suffix]);
        if (bytes !== 0 && bytes % unit === 0) {
            return `${bytes / unit}${suffix}`;
        }
    }
    return String(bytes);
}

/** Human figures for reports: "2.5 cores", "1.50 GiB". */
export function describeCpu(millis: number): string {
    return `${(millis / 1000).toFixed(millis % 1000 === 0 ? 0 : millis % 100 === 0 ? 1 : 3)} cores`;
}

export function describeMemory(bytes: number): string {
    const gib = bytes / 2 ** 30;
    return gib >= 1 ? `${gib.toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

/** CPU and memory of one container or pod, in exact units. */
export interface ResourceAmount {
    cpuMillis: number;
    memoryBytes: number;
}

export const ZERO: ResourceAmount = { cpuMillis: 0, memoryBytes: 0 };

export function addResources(...amounts: ResourceAmount[]): ResourceAmount {
    return amounts.reduce((sum, a) => ({ cpuMillis: sum.cpuMillis + a.cpuMillis, memoryBytes: sum.memoryBytes + a.memoryBytes }), ZERO);
}

export function scaleResources(amount: ResourceAmount, factor: number): ResourceAmount {
    return { cpuMillis: amount.cpuMillis * factor, memoryBytes: amount.memoryBytes * factor };
}

/** Parses a `{cpu, memory}` map as found in `resources.requests`; missing entries count as zero. */
export function parseResources(map: { cpu?: string; memory?: string } | undefined): ResourceAmount {
    return {
        cpuMillis: map?.cpu === undefined ? 0 : parseCpuMillis(map.cpu),
        memoryBytes: map?.memory === undefined ? 0 : parseMemoryBytes(map.memory),
    };
}

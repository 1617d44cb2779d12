/**
 * The address plan of a network this stack creates, as a pure function (tested with literal CIDRs).
 *
 * The VPC is cut into eight equal blocks. AZ number i gets block i as its private subnet (nodes and,
 * with the VPC CNI, every pod take their addresses there: the big ones); the last block is cut into
 * eight again, and AZ i gets piece i of it as its public subnet (load balancers and NAT gateways
 * only). A /16 gives /19 private subnets (8,187 usable addresses) and /22 public ones; six AZs fit.
 * AWS reserves five addresses per subnet
 * (https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html).
 */

export interface SubnetPlan {
    availabilityZone: string;
    privateCidr: string;
    publicCidr: string;
}

function toNumber(address: string): number {
    return address.split(".").reduce((sum, octet) => sum * 256 + Number(octet), 0);
}

function toAddress(value: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** The private and public subnet of each AZ, in the order given. */
export function subnetPlan(cidr: string, availabilityZones: string[]): SubnetPlan[] {
    const [address, prefixText] = cidr.split("/");
    const prefix = Number(prefixText);
    const base = toNumber(address);
    const block = 2 ** (32 - prefix - 3);
    const piece = block / 8;
    if (availabilityZones.length > 7 || piece < 16) {
        throw new Error(`subnetPlan: ${cidr} cannot hold ${availabilityZones.length} AZs (the config allows /16../22 and 2..6 AZs)`);
    }
    return availabilityZones.map((availabilityZone, i) => ({
        availabilityZone,
        privateCidr: `${toAddress(base + i * block)}/${prefix + 3}`,
        publicCidr: `${toAddress(base + 7 * block + i * piece)}/${prefix + 6}`,
    }));
}

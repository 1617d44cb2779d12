/**
 * Network layer: the VPC of a stack with `network.create: true` (components/network), or nothing:
 * then `cluster.vpcId` and `cluster.privateSubnetIds` name a network owned elsewhere.
 */
import * as pulumi from "@pulumi/pulumi";
import { LoadedConfig } from "../components/config";
import { Network } from "../components/network";
import { STACK_TAGS } from "./cluster";

/** Where the cluster and the ElastiCache group go. */
export interface NetworkLayer {
    vpcId: pulumi.Input<string>;
    privateSubnetIds: pulumi.Input<string>[];
    /** The created network, when this stack owns it. */
    network?: Network;
}

export function createNetworkLayer({ config, region }: LoadedConfig): NetworkLayer {
    const settings = config.network;
    if (settings?.create !== true || settings.cidr === undefined || settings.availabilityZones === undefined) {
        // The config schema requires both ids without network.create.
        return { vpcId: config.cluster.vpcId ?? "", privateSubnetIds: config.cluster.privateSubnetIds ?? [] };
    }
    const network = new Network("network", {
        cidr: settings.cidr,
        availabilityZones: settings.availabilityZones,
        natGateways: settings.natGateways,
        clusterName: config.cluster.name,
        region,
        tags: STACK_TAGS(config.environment),
    });
    return { vpcId: network.vpcId, privateSubnetIds: network.privateSubnetIds, network };
}

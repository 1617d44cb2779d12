/** Cluster layer: the EKS cluster, its node pools and the provider every later layer uses. */
import * as pulumi from "@pulumi/pulumi";
import { EksCluster } from "../components/cluster";
import { LoadedConfig } from "../components/config";

/** Tags on every AWS resource of the stack. */
export const STACK_TAGS = (environment: string) => ({ environment, "managed-by": "pulumi", project: "bff-platform" });

/** `subnetIds`: the private subnets of a network this stack creates; default `cluster.privateSubnetIds`. */
export function createClusterLayer({ config, region }: LoadedConfig, subnetIds?: pulumi.Input<string>[]): EksCluster {
    return new EksCluster(config.cluster.name, {
        cluster: config.cluster,
        nodePools: config.nodePools,
        region,
        subnetIds,
        tags: STACK_TAGS(config.environment),
    });
}

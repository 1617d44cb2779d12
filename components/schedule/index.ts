/**
 * The night stop of a dev/QA stack (`bff-platform:schedule:NightSchedule`): scheduled actions on
 * each node group's Auto Scaling group set minimum, maximum and desired size to 0 at `stopCron`
 * and back to the pool's configured sizes at `startCron`, in `timeZone`.
 *
 * Why this does not fight the Cluster Autoscaler: the autoscaler only moves the desired size
 * between the group's minimum and maximum (https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/cloudprovider/aws/README.md);
 * with a maximum of 0 it cannot start a node at night, and in the morning it works within the
 * restored bounds. Data stores (ElastiCache, RDS) are not touched. Refused for production.
 */
import { aws } from "../shared";
import * as pulumi from "@pulumi/pulumi";
import { NodePoolConfig, ScheduleConfig } from "../config";

export interface NightScheduleArgs {
    schedule: ScheduleConfig;
    /** The pools, each with its node group. */
    pools: { pool: NodePoolConfig; nodeGroup: aws.eks.NodeGroup }[];
}

export class NightSchedule extends pulumi.ComponentResource {
    constructor(name: string, args: NightScheduleArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bff-platform:schedule:NightSchedule", name, {}, opts);
        const { schedule } = args;
        for (const { pool, nodeGroup } of args.pools) {
            // A managed node group has one Auto Scaling group, known once the group exists.
            const autoscalingGroupName = nodeGroup.resources.apply((resources) => resources[0].autoscalingGroups[0].name);
            const action = (suffix: string, recurrence: string, sizes: { minSize: number; maxSize: number; desiredCapacity: number }) =>
                new aws.autoscaling.Schedule(
                    `${name}-${pool.name}-${suffix}`,
                    {
                        scheduledActionName: `${pool.name}-${suffix}`,
                        autoscalingGroupName,
                        recurrence,
                        timeZone: schedule.timeZone,
                        ...sizes,
                    },
                    { parent: this },
                );
            action("stop", schedule.stopCron, { minSize: 0, maxSize: 0, desiredCapacity: 0 });
            action("start", schedule.startCron, { minSize: pool.minSize, maxSize: pool.maxSize, desiredCapacity: pool.desiredSize });
        }
        this.registerOutputs({});
    }
}

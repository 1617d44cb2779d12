/**
 * AWS Load Balancer Controller (aws/eks-charts `stable/aws-load-balancer-controller`): the ALB/NLB
 * in front of the gateways. Given the cluster name, region and VPC, it never asks the instance
 * metadata service. Its identity carries the controller's published policy.
 * Value keys from the chart's values.yaml: `clusterName`, `region`, `vpcId`, `serviceAccount.name`,
 * `replicaCount`, `nodeSelector`, `resources`.
 */
import * as pulumi from "@pulumi/pulumi";
import { AWS_LOAD_BALANCER_CONTROLLER_POLICY } from "./aws-load-balancer-controller-policy";
import { AddonModule, addonNodeSelector, resources, workload } from "./contract";

export const AWS_LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT = "aws-load-balancer-controller";

export interface AwsLoadBalancerControllerValues {
    clusterName: string;
    region: string;
    vpcId: pulumi.Input<string>;
    serviceAccount: { name: string };
    replicaCount: number;
    nodeSelector: Record<string, string>;
    resources: ReturnType<typeof resources>;
}

export const awsLoadBalancerController: AddonModule = {
    name: "awsLoadBalancerController",
    // Its webhook injects readiness gates into pods of labelled namespaces; cert-manager is not
    // needed (the chart generates its own webhook certificate by default).
    dependsOn: [],
    provides: ["elbv2.k8s.aws/*"],
    schedule: "addonNodes",
    values(ctx) {
        const controller = workload("awsLoadBalancerController", "aws-load-balancer-controller");
        const values: AwsLoadBalancerControllerValues = {
            clusterName: ctx.config.cluster.name,
            region: ctx.region,
            vpcId: ctx.vpcId,
            serviceAccount: { name: AWS_LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT },
            replicaCount: controller.replicas as number,
            nodeSelector: addonNodeSelector(ctx),
            resources: resources(controller),
        };
        return [values];
    },
    identity: { serviceAccount: AWS_LOAD_BALANCER_CONTROLLER_SERVICE_ACCOUNT, policy: () => AWS_LOAD_BALANCER_CONTROLLER_POLICY },
};
